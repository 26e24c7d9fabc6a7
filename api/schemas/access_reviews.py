"""Response shapes of identityGovernance/accessReviews: accessReviewScheduleDefinition,
accessReviewInstance and accessReviewInstanceDecisionItem (foyer.usecases.access_reviews builds
them). Identities (createdBy, principal, reviewedBy, appliedBy) are Graph's userIdentity objects;
scopes, reviewers and settings are answered as stored, in Graph's shape."""

from foyer.api.schemas import Collection, GraphResource


class AccessReviewScheduleDefinition(GraphResource):
    id: str | None = None
    display_name: str | None = None
    description_for_admins: str | None = None
    description_for_reviewers: str | None = None
    created_by: dict | None = None
    created_date_time: str | None = None
    last_modified_date_time: str | None = None
    status: str | None = None
    scope: dict | None = None
    instance_enumeration_scope: dict | None = None
    reviewers: list[dict] | None = None
    fallback_reviewers: list[dict] | None = None
    additional_notification_recipients: list[dict] | None = None
    settings: dict | None = None


class AccessReviewInstance(GraphResource):
    id: str | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None
    status: str | None = None
    scope: dict | None = None
    reviewers: list[dict] | None = None
    fallback_reviewers: list[dict] | None = None


class AccessReviewInstanceDecisionItem(GraphResource):
    id: str | None = None
    access_review_id: str | None = None
    decision: str | None = None
    recommendation: str | None = None
    justification: str | None = None
    principal: dict | None = None
    resource: dict | None = None
    reviewed_by: dict | None = None
    reviewed_date_time: str | None = None
    applied_by: dict | None = None
    applied_date_time: str | None = None
    apply_result: str | None = None


AccessReviewScheduleDefinitionCollection = Collection[AccessReviewScheduleDefinition]
AccessReviewInstanceCollection = Collection[AccessReviewInstance]
AccessReviewInstanceDecisionItemCollection = Collection[AccessReviewInstanceDecisionItem]
