"""Graph's directoryAudit (`/v1.0/auditLogs/directoryAudits`), with Foyer's `foyerWorkflowId`."""

from foyer.api.schemas import Collection, GraphResource


class UserIdentity(GraphResource):
    id: str | None = None
    display_name: str | None = None


class AppIdentity(GraphResource):
    display_name: str | None = None
    app_id: str | None = None


class AuditActivityInitiator(GraphResource):
    """Who did it: a user, or (user null) the app, Foyer itself (an invitation expiring, say)."""
    user: UserIdentity | None = None
    app: AppIdentity | None = None


class TargetResource(GraphResource):
    id: str | None = None
    display_name: str | None = None
    type: str | None = None


class KeyValue(GraphResource):
    key: str | None = None
    value: str | None = None


class DirectoryAudit(GraphResource):
    id: str | None = None
    category: str | None = None
    correlation_id: str | None = None
    foyer_workflow_id: str | None = None
    activity_display_name: str | None = None
    activity_date_time: str | None = None
    logged_by_service: str | None = None
    initiated_by: AuditActivityInitiator | None = None
    target_resources: list[TargetResource] | None = None
    result: str | None = None
    result_reason: str | None = None
    additional_details: list[KeyValue] | None = None


DirectoryAuditCollection = Collection[DirectoryAudit]
