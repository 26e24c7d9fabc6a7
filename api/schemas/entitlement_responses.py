"""Response shapes of entitlement management (`/v1.0/identityGovernance/entitlementManagement/`),
as Graph v1.0 names them: accessPackageCatalog, accessPackageResource(Request), accessPackage with
its resourceRoleScopes, accessPackageAssignmentPolicy, connectedOrganization,
accessPackageAssignmentRequest, accessPackageAssignment, approval with its stages, and
accessPackageAssignmentRequestWorkflowExtension. Properties Foyer adds are prefixed `foyer`.

Every property is optional (GraphResource): `$select` and references ({"id": …}) send a subset.
Subject sets, questions and settings are stored as the policy body gave them once checked
(api.schemas.entitlement); their shapes here name every property those checks let through."""

from typing import Any

from foyer.api.schemas import Collection, GraphResource, iso
from foyer.models.entitlement import Catalog


# --- catalogs and resources ---------------------------------------------------------------------

class AccessPackageCatalog(GraphResource):
    id: str | None = None
    display_name: str | None = None
    description: str | None = None
    catalog_type: str | None = None
    state: str | None = None
    is_externally_visible: bool | None = None
    created_date_time: str | None = None
    modified_date_time: str | None = None
    foyer_owner_ids: list[str] | None = None


def catalog_body(catalog: Catalog) -> dict:
    return {
        "id": catalog.id,
        "displayName": catalog.display_name,
        "description": catalog.description,
        "catalogType": catalog.catalog_type,
        "state": catalog.state,
        "isExternallyVisible": catalog.is_externally_visible,
        "createdDateTime": iso(catalog.created_date_time),
        "modifiedDateTime": iso(catalog.modified_date_time),
        "foyerOwnerIds": catalog.owner_ids,
    }


class AccessPackageResource(GraphResource):
    id: str | None = None
    display_name: str | None = None
    origin_id: str | None = None
    origin_system: str | None = None
    created_date_time: str | None = None
    roles: list["AccessPackageResourceRole"] | None = None
    catalog: AccessPackageCatalog | None = None


class AccessPackageResourceRole(GraphResource):
    id: str | None = None
    origin_id: str | None = None
    display_name: str | None = None
    origin_system: str | None = None
    resource: AccessPackageResource | None = None


AccessPackageResource.model_rebuild()


class AccessPackageResourceRequest(GraphResource):
    id: str | None = None
    request_type: str | None = None
    state: str | None = None
    justification: str | None = None
    created_date_time: str | None = None
    resource: AccessPackageResource | None = None
    catalog: AccessPackageCatalog | None = None


# --- access packages ----------------------------------------------------------------------------

class AccessPackageResourceScope(GraphResource):
    id: str | None = None
    origin_id: str | None = None
    origin_system: str | None = None
    is_root_scope: bool | None = None


class AccessPackageResourceRoleScope(GraphResource):
    id: str | None = None
    role: AccessPackageResourceRole | None = None
    scope: AccessPackageResourceScope | None = None


class AccessPackage(GraphResource):
    id: str | None = None
    display_name: str | None = None
    description: str | None = None
    is_hidden: bool | None = None
    created_date_time: str | None = None
    modified_date_time: str | None = None
    catalog: AccessPackageCatalog | None = None
    resource_role_scopes: list[AccessPackageResourceRoleScope] | None = None


class IncompatibleGroup(GraphResource):
    """A directory group whose members may not have the access package (Graph's group)."""

    id: str | None = None
    display_name: str | None = None
    description: str | None = None


# --- assignment policies ------------------------------------------------------------------------

class SubjectSet(GraphResource):
    """Graph's subjectSet; `@odata.type` says which (singleUser, groupMembers, ...)."""

    user_id: str | None = None
    group_id: str | None = None
    connected_organization_id: str | None = None
    manager_level: int | None = None
    description: str | None = None
    is_backup: bool | None = None


class ExpirationPattern(GraphResource):
    type: str | None = None
    end_date_time: str | None = None
    duration: str | None = None


class AccessPackageAssignmentRequestorSettings(GraphResource):
    enable_targets_to_self_add_access: bool | None = None
    enable_targets_to_self_update_access: bool | None = None
    enable_targets_to_self_remove_access: bool | None = None
    allow_custom_assignment_schedule: bool | None = None
    enable_on_behalf_requestors_to_add_access: bool | None = None
    enable_on_behalf_requestors_to_update_access: bool | None = None
    enable_on_behalf_requestors_to_remove_access: bool | None = None
    on_behalf_requestors: list[SubjectSet] | None = None


class AccessPackageApprovalStage(GraphResource):
    duration_before_automatic_denial: str | None = None
    is_approver_justification_required: bool | None = None
    is_escalation_enabled: bool | None = None
    duration_before_escalation: str | None = None
    primary_approvers: list[SubjectSet] | None = None
    fallback_primary_approvers: list[SubjectSet] | None = None
    escalation_approvers: list[SubjectSet] | None = None
    fallback_escalation_approvers: list[SubjectSet] | None = None


class AccessPackageAssignmentApprovalSettings(GraphResource):
    is_approval_required_for_add: bool | None = None
    is_approval_required_for_update: bool | None = None
    is_requestor_justification_required: bool | None = None
    stages: list[AccessPackageApprovalStage] | None = None


class AccessPackageAnswerChoice(GraphResource):
    actual_value: str | None = None
    text: str | None = None
    # Localized texts as the policy's author gave them ({text, languageCode}).
    localizations: list[dict[str, Any]] | None = None


class AccessPackageQuestion(GraphResource):
    """accessPackageTextInputQuestion or accessPackageMultipleChoiceQuestion (`@odata.type`)."""

    id: str | None = None
    sequence: int | None = None
    text: str | None = None
    is_required: bool | None = None
    is_answer_editable: bool | None = None
    localizations: list[dict[str, Any]] | None = None
    is_single_line_question: bool | None = None
    regex_pattern: str | None = None
    choices: list[AccessPackageAnswerChoice] | None = None
    allows_multiple_selection: bool | None = None


class CustomExtensionStageSetting(GraphResource):
    id: str | None = None
    stage: str | None = None
    # The reference the policy's author gave ({"id": …}, perhaps with more of the extension).
    custom_extension: dict[str, Any] | None = None


class AccessPackageAssignmentPolicy(GraphResource):
    id: str | None = None
    display_name: str | None = None
    description: str | None = None
    access_package: AccessPackage | None = None
    allowed_target_scope: str | None = None
    specific_allowed_targets: list[SubjectSet] | None = None
    expiration: ExpirationPattern | None = None
    requestor_settings: AccessPackageAssignmentRequestorSettings | None = None
    request_approval_settings: AccessPackageAssignmentApprovalSettings | None = None
    questions: list[AccessPackageQuestion] | None = None
    custom_extension_stage_settings: list[CustomExtensionStageSetting] | None = None
    created_date_time: str | None = None
    modified_date_time: str | None = None


# --- connected organizations --------------------------------------------------------------------

class IdentitySource(GraphResource):
    """domainIdentitySource or externalDomainFederation (`@odata.type`)."""

    domain_name: str | None = None
    display_name: str | None = None
    issuer_uri: str | None = None


class ConnectedOrganization(GraphResource):
    id: str | None = None
    display_name: str | None = None
    description: str | None = None
    identity_sources: list[IdentitySource] | None = None
    state: str | None = None
    created_date_time: str | None = None
    foyer_internal_sponsor_ids: list[str] | None = None
    foyer_external_sponsor_ids: list[str] | None = None


class Sponsor(GraphResource):
    """An internal or external sponsor of a connected organization (Graph's user)."""

    id: str | None = None
    display_name: str | None = None
    mail: str | None = None
    user_principal_name: str | None = None
    user_type: str | None = None


# --- requests and assignments -------------------------------------------------------------------

class AccessPackageSubject(GraphResource):
    id: str | None = None
    object_id: str | None = None
    display_name: str | None = None
    email: str | None = None


class EntitlementManagementSchedule(GraphResource):
    start_date_time: str | None = None
    expiration: ExpirationPattern | None = None


class AnsweredQuestion(GraphResource):
    id: str | None = None


class AccessPackageAnswer(GraphResource):
    """An answer as the request gave it: the question's id and the value (a list for a
    multiple-choice question that allows several)."""

    question: AnsweredQuestion | None = None
    answered_value: str | list[str] | None = None
    display_value: str | None = None


class FoyerResourceState(GraphResource):
    """What one resource role scope of an assignment came to."""

    resource_role_scope_id: str | None = None
    origin_system: str | None = None
    origin_id: str | None = None
    role: str | None = None
    state: str | None = None
    error: str | None = None


class AccessPackageAssignment(GraphResource):
    id: str | None = None
    state: str | None = None
    status: str | None = None
    schedule: EntitlementManagementSchedule | None = None
    expired_date_time: str | None = None
    target: AccessPackageSubject | None = None
    access_package: AccessPackage | None = None
    assignment_policy: AccessPackageAssignmentPolicy | None = None
    # In a request's `assignment`: which assignment it asks for.
    target_id: str | None = None
    access_package_id: str | None = None
    assignment_policy_id: str | None = None
    foyer_resource_states: list[FoyerResourceState] | None = None
    foyer_workflow_id: str | None = None


class AccessPackageAssignmentRequest(GraphResource):
    id: str | None = None
    request_type: str | None = None
    state: str | None = None
    status: str | None = None
    created_date_time: str | None = None
    completed_date_time: str | None = None
    justification: str | None = None
    answers: list[AccessPackageAnswer] | None = None
    schedule: EntitlementManagementSchedule | None = None
    requestor: AccessPackageSubject | None = None
    access_package: AccessPackage | None = None
    assignment: AccessPackageAssignment | None = None
    foyer_workflow_id: str | None = None


# --- approvals ----------------------------------------------------------------------------------

class Identity(GraphResource):
    id: str | None = None
    display_name: str | None = None


class AssignmentApprovalStage(GraphResource):
    """Graph's approvalStage: one stage of an access package request's approval."""

    id: str | None = None
    display_name: str | None = None
    assigned_to_me: bool | None = None
    review_result: str | None = None
    justification: str | None = None
    reviewed_by: Identity | None = None
    reviewed_date_time: str | None = None
    status: str | None = None
    foyer_due_date_time: str | None = None
    foyer_escalated: bool | None = None


class AssignmentApproval(GraphResource):
    """Graph's approval of an access package assignment request (its id is the request's)."""

    id: str | None = None
    stages: list[AssignmentApprovalStage] | None = None


# --- custom extensions --------------------------------------------------------------------------

class HttpRequestEndpoint(GraphResource):
    target_url: str | None = None


class CustomExtensionCallbackConfiguration(GraphResource):
    timeout_duration: str | None = None


class AccessPackageAssignmentRequestWorkflowExtension(GraphResource):
    id: str | None = None
    display_name: str | None = None
    description: str | None = None
    endpoint_configuration: HttpRequestEndpoint | None = None
    callback_configuration: CustomExtensionCallbackConfiguration | None = None
    created_date_time: str | None = None
    # Only in the answer to its creation: the secret that signs Foyer's calls and the callbacks.
    foyer_signing_secret: str | None = None


CatalogCollection = Collection[AccessPackageCatalog]
ResourceCollection = Collection[AccessPackageResource]
AccessPackageCollection = Collection[AccessPackage]
RoleScopeCollection = Collection[AccessPackageResourceRoleScope]
IncompatibleGroupCollection = Collection[IncompatibleGroup]
PolicyCollection = Collection[AccessPackageAssignmentPolicy]
ConnectedOrganizationCollection = Collection[ConnectedOrganization]
SponsorCollection = Collection[Sponsor]
RequestCollection = Collection[AccessPackageAssignmentRequest]
AssignmentCollection = Collection[AccessPackageAssignment]
ApprovalCollection = Collection[AssignmentApproval]
ApprovalStageCollection = Collection[AssignmentApprovalStage]
ExtensionCollection = Collection[AccessPackageAssignmentRequestWorkflowExtension]


class EntitlementManagementSettings(GraphResource):
    """Graph's entitlementManagementSettings (the singleton under identityGovernance/entitlementManagement)."""

    id: str | None = None
    external_user_lifecycle_action: str | None = None
    duration_until_external_user_deleted_after_blocked: str | None = None
