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


# --- sign-ins (/v1.0/auditLogs/signIns) -------------------------------------------------------


class SignInStatus(GraphResource):
    """0 for success; otherwise Entra's AADSTS number and why."""
    error_code: int | None = None
    failure_reason: str | None = None
    additional_details: str | None = None


class AppliedConditionalAccessPolicy(GraphResource):
    id: str | None = None
    display_name: str | None = None
    enforced_grant_controls: list[str] | None = None
    enforced_session_controls: list[str] | None = None
    result: str | None = None


class SignIn(GraphResource):
    id: str | None = None
    created_date_time: str | None = None
    user_id: str | None = None
    user_principal_name: str | None = None
    user_display_name: str | None = None
    app_id: str | None = None
    app_display_name: str | None = None
    ip_address: str | None = None
    client_app_used: str | None = None
    is_interactive: bool | None = None
    status: SignInStatus | None = None
    conditional_access_status: str | None = None
    applied_conditional_access_policies: list[AppliedConditionalAccessPolicy] | None = None


SignInCollection = Collection[SignIn]
