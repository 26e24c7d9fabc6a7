"""Entitlement management: catalogs of resources, access packages, their assignment policies,
requests, approval stages, assignments and connected organizations (Graph's shapes, stored with
the policy sub-objects as JSON so Graph's nesting survives a round trip)."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from foyer.models.base import json_field, new_id, utc_field


class Catalog(SQLModel, table=True):
    __tablename__ = "catalogs"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    display_name: str
    description: str | None = None
    catalog_type: str = "userManaged"
    state: str = "published"  # published | unpublished
    is_externally_visible: bool = True
    owner_ids: list[str] = json_field()  # users who own the catalog
    created_date_time: datetime = utc_field(default_now=True, nullable=False)
    modified_date_time: datetime = utc_field(default_now=True, nullable=False)


class CatalogResource(SQLModel, table=True):
    """A group, application or site added to a catalog, with the roles it offers."""

    __tablename__ = "catalog_resources"
    __table_args__ = (UniqueConstraint("catalog_id", "origin_system", "origin_id"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    catalog_id: str = Field(foreign_key="catalogs.id", index=True, ondelete="CASCADE")
    origin_system: str  # AadGroup | AadApplication | SharePointOnline
    origin_id: str
    display_name: str
    # [{"originId": "Member", "displayName": "Member"}, …]
    roles: list[dict] = json_field()
    created_date_time: datetime = utc_field(default_now=True, nullable=False)


class AccessPackage(SQLModel, table=True):
    __tablename__ = "access_packages"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    catalog_id: str = Field(foreign_key="catalogs.id", index=True)
    display_name: str
    description: str | None = None
    is_hidden: bool = False
    # [{"resourceId", "originSystem", "originId", "role"}]
    resource_role_scopes: list[dict] = json_field()
    incompatible_access_package_ids: list[str] = json_field()
    incompatible_group_ids: list[str] = json_field()
    created_date_time: datetime = utc_field(default_now=True, nullable=False)
    modified_date_time: datetime = utc_field(default_now=True, nullable=False)


class AssignmentPolicy(SQLModel, table=True):
    __tablename__ = "assignment_policies"

    id: str = Field(default_factory=new_id, primary_key=True)
    access_package_id: str = Field(foreign_key="access_packages.id", index=True, ondelete="CASCADE")
    display_name: str
    description: str | None = None
    allowed_target_scope: str = "notSpecified"
    specific_allowed_targets: list[dict] = json_field()
    expiration: dict = json_field(dict)
    requestor_settings: dict = json_field(dict)
    request_approval_settings: dict = json_field(dict)
    questions: list[dict] = json_field()
    custom_extension_stage_settings: list[dict] = json_field()
    created_date_time: datetime = utc_field(default_now=True, nullable=False)
    modified_date_time: datetime = utc_field(default_now=True, nullable=False)


class ConnectedOrganization(SQLModel, table=True):
    __tablename__ = "connected_organizations"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    display_name: str
    description: str | None = None
    # [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName", "displayName"}]
    identity_sources: list[dict] = json_field()
    state: str = "configured"  # configured | proposed
    internal_sponsor_ids: list[str] = json_field()
    external_sponsor_ids: list[str] = json_field()
    created_date_time: datetime = utc_field(default_now=True, nullable=False)


class AssignmentRequest(SQLModel, table=True):
    __tablename__ = "assignment_requests"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    request_type: str  # userAdd | userUpdate | userRemove | adminAdd | adminUpdate | adminRemove | systemRemove
    state: str = Field(default="submitted", index=True)
    status: str | None = None
    access_package_id: str = Field(foreign_key="access_packages.id", index=True)
    assignment_policy_id: str | None = Field(default=None, foreign_key="assignment_policies.id")
    requestor_id: str | None = Field(default=None, index=True)
    target_id: str = Field(index=True)
    assignment_id: str | None = Field(default=None, index=True)
    justification: str | None = None
    answers: list[dict] = json_field()
    schedule: dict = json_field(dict)
    workflow_id: str | None = Field(default=None, index=True)
    created_date_time: datetime = utc_field(default_now=True, nullable=False, index=True)
    completed_date_time: datetime | None = utc_field()


class ApprovalStage(SQLModel, table=True):
    """One approval stage of one request: who may decide, and what was decided."""

    __tablename__ = "approval_stages"
    __table_args__ = (UniqueConstraint("request_id", "stage_index"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    request_id: str = Field(foreign_key="assignment_requests.id", index=True, ondelete="CASCADE")
    stage_index: int
    display_name: str
    status: str = "NotStarted"  # NotStarted | InProgress | Completed | Expired
    review_result: str = "NotReviewed"  # NotReviewed | Approve | Deny
    approver_ids: list[str] = json_field()
    escalated: bool = False
    justification: str | None = None
    reviewed_by_id: str | None = None
    reviewed_by_name: str | None = None
    reviewed_date_time: datetime | None = utc_field()
    due_date_time: datetime | None = utc_field()


class Assignment(SQLModel, table=True):
    __tablename__ = "assignments"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    access_package_id: str = Field(foreign_key="access_packages.id", index=True)
    assignment_policy_id: str | None = Field(default=None, foreign_key="assignment_policies.id")
    target_id: str = Field(index=True)
    state: str = Field(default="delivering", index=True)
    status: str | None = None
    start_date_time: datetime | None = utc_field()
    end_date_time: datetime | None = utc_field(index=True)
    expired_date_time: datetime | None = utc_field()
    # Per resource role scope: {"resourceId", "role", "state": delivered|failed|removed, "error"}
    resource_states: list[dict] = json_field()
    workflow_id: str | None = Field(default=None, index=True)
    created_date_time: datetime = utc_field(default_now=True, nullable=False)


class CustomExtension(SQLModel, table=True):
    """A callout to an external system at a stage of a request or assignment (Graph's
    accessPackageCustomWorkflowExtension). Calls are signed with a secret derived from
    FOYER_SECRET_KEY and the extension id, so no secret is stored."""

    __tablename__ = "custom_extensions"

    id: str = Field(default_factory=new_id, primary_key=True)
    catalog_id: str = Field(foreign_key="catalogs.id", index=True, ondelete="CASCADE")
    display_name: str
    description: str | None = None
    target_url: str
    # ISO 8601; set: the request waits (up to this long) for the system to resume it.
    callback_timeout: str | None = None
    created_date_time: datetime = utc_field(default_now=True, nullable=False)


class CustomExtensionCall(SQLModel, table=True):
    """One callout: what was sent, and the resume it is waiting for (single use)."""

    __tablename__ = "custom_extension_calls"

    id: str = Field(primary_key=True)  # customExtensionStageInstanceId
    extension_id: str = Field(foreign_key="custom_extensions.id", index=True, ondelete="CASCADE")
    request_id: str | None = Field(default=None, index=True)
    assignment_id: str | None = Field(default=None, index=True)
    stage: str
    state: str = "sent"  # sent | failed | resumed | timedOut
    response_status: int | None = None
    error: str | None = None
    resumed_state: str | None = None
    created_date_time: datetime = utc_field(default_now=True, nullable=False)
    resumed_date_time: datetime | None = utc_field()
