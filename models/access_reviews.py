"""Access reviews (Graph's accessReviewScheduleDefinition, accessReviewInstance and
accessReviewInstanceDecisionItem, under identityGovernance/accessReviews).

A definition says what is reviewed (scope), by whom (reviewers, fallbackReviewers) and how
(settings: duration, recurrence, default decision, auto-apply, recommendations, apply actions);
its recurrence is a Temporal Schedule (access-review-schedule:{definition id}). Each occurrence
makes one instance per resource (one group, one app, one access package; one per group for an
instanceEnumerationScope), each run by its own AccessReviewWorkflow
(access-review:{instance id}). The instance's decisions are rows here, one per person in scope
when it started: reviewers write them through the API and the pages, the workflow reads them at
the end (the workflow's history never holds them, so a review of thousands stays small).
"""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from foyer.models.base import json_field, new_id, utc_field


class AccessReviewDefinition(SQLModel, table=True):
    __tablename__ = "access_review_definitions"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    display_name: str
    description_for_admins: str | None = None
    description_for_reviewers: str | None = None
    # userIdentity of who created it: {"id", "displayName", "userPrincipalName"}
    created_by: dict = json_field(dict)
    # accessReviewScope (accessReviewQueryScope, accessReviewInactiveUsersQueryScope, ...), as sent.
    scope: dict = json_field(dict)
    instance_enumeration_scope: dict | None = json_field(dict)
    # [accessReviewReviewerScope {query, queryType, queryRoot}]; [] is a self-review.
    reviewers: list[dict] = json_field()
    fallback_reviewers: list[dict] = json_field()
    # accessReviewScheduleSettings, as Graph writes it.
    settings: dict = json_field(dict)
    # NotStarted, InProgress, Completed (stopped, or its recurrence ended).
    status: str = "NotStarted"
    created_date_time: datetime = utc_field(default_now=True, nullable=False)
    last_modified_date_time: datetime | None = utc_field()


class AccessReviewInstance(SQLModel, table=True):
    __tablename__ = "access_review_instances"
    __table_args__ = (UniqueConstraint("definition_id", "occurrence", "resource_id"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    definition_id: str = Field(foreign_key="access_review_definitions.id", index=True, ondelete="CASCADE")
    # Which occurrence of the definition's recurrence (1, 2, ...): with the resource, the business key.
    occurrence: int = 1
    # What this instance reviews: a group, an application or an access package (its id and kind),
    # or "" for a directory-wide scope (inactive guests).
    resource_id: str = ""
    resource_type: str = ""
    resource_display_name: str | None = None
    # The concrete scope of this instance (the definition's, with the resource filled in).
    scope: dict = json_field(dict)
    # The reviewers' user ids, resolved when the instance started ([] for a self-review).
    reviewer_ids: list[str] = json_field()
    start_date_time: datetime = utc_field(nullable=False)
    end_date_time: datetime = utc_field(nullable=False, index=True)
    # NotStarted, InProgress, Completing, Completed (Graph's accessReviewInstance status strings)
    status: str = Field(default="NotStarted", index=True)
    workflow_id: str = ""
    applied_date_time: datetime | None = utc_field()


class AccessReviewDecision(SQLModel, table=True):
    __tablename__ = "access_review_decisions"
    __table_args__ = (UniqueConstraint("instance_id", "principal_id"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    instance_id: str = Field(foreign_key="access_review_instances.id", index=True, ondelete="CASCADE")
    # The person whose access is reviewed (a user id), and what they have (the instance's
    # resource, or for an access package the assignment's id).
    principal_id: str = Field(index=True)
    principal_display_name: str | None = None
    principal_user_principal_name: str | None = None
    access_id: str | None = None
    # NotReviewed, Approve, Deny, DontKnow
    decision: str = Field(default="NotReviewed", index=True)
    justification: str | None = None
    # Approve, Deny, NoInfoAvailable: from lastSuccessfulSignInDateTime (or the redemption, for one
    # who never signed in) against the look-back, when the instance started.
    recommendation: str = "NoInfoAvailable"
    last_sign_in_date_time: datetime | None = utc_field()
    reviewed_by_id: str | None = None
    reviewed_by_display_name: str | None = None
    reviewed_date_time: datetime | None = utc_field()
    applied_by_id: str | None = None
    applied_date_time: datetime | None = utc_field()
    # New, AppliedSuccessfully, AppliedWithUnknownFailure, AppliedSuccessfullyButObjectNotFound,
    # ApplyNotSupported
    apply_result: str = "New"
