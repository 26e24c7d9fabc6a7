"""`/v1.0/auditLogs/directoryAudits`: the audit trail in Graph's directoryAudit shape, newest first.

`correlationId` (also `foyerWorkflowId`) is the id of the workflow that did the work, when one
did; `$filter` takes activityDisplayName, category, result, activityDateTime, foyerWorkflowId,
correlationId and targetResourceId (Foyer's flat stand-in for Graph's
`targetResources/any(t: t/id eq '…')`).

`/v1.0/auditLogs/signIns`: the OpenID Provider's sign-ins, successful or not, in Graph's signIn
shape, newest first; `$filter` takes userId, userPrincipalName, appId, createdDateTime (ge/le),
isInteractive and status/errorCode (eq/ne: 0 is a success). Written by the provider, read here.
"""

import json

from fastapi import Request
from sqlmodel import or_

from foyer.api.deps import GlobalAdminCaller, OrganizationDep, SessionDep
from foyer.api.graph import GraphRouter
from foyer.api.odata import collection, list_page
from foyer.api.schemas import audit as shapes
from foyer.api.schemas import iso
from foyer.models.audit import AuditRecord
from foyer.models.openid import SignInLog

router = GraphRouter(prefix="/v1.0/auditLogs", tags=["auditLogs"])

AUDIT_FIELDS = {
    "id": "id", "category": "category", "activityDisplayName": "activity_display_name",
    "activityDateTime": "activity_date_time", "result": "result",
    "correlationId": "workflow_id", "foyerWorkflowId": "workflow_id",
    "targetResourceId": "target_id", "initiatedByUserId": "initiated_by_id",
}


def _detail_value(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def audit_body(row: AuditRecord) -> dict:
    if row.initiated_by_id or row.initiated_by_name:
        initiated_by = {"user": {"id": row.initiated_by_id, "displayName": row.initiated_by_name},
                        "app": None}
    else:  # the system itself (an invitation expiring, say)
        initiated_by = {"user": None, "app": {"displayName": "Foyer", "appId": None}}
    targets = []
    if row.target_id or row.target_display_name or row.target_type:
        targets.append({"id": row.target_id, "displayName": row.target_display_name,
                        "type": row.target_type})
    return {
        "id": row.id,
        "category": row.category,
        "correlationId": row.workflow_id,
        "foyerWorkflowId": row.workflow_id,
        "activityDisplayName": row.activity_display_name,
        "activityDateTime": iso(row.activity_date_time),
        "loggedByService": "Foyer",
        "initiatedBy": initiated_by,
        "targetResources": targets,
        "result": row.result,
        "resultReason": row.result_reason or "",
        "additionalDetails": [{"key": k, "value": _detail_value(v)} for k, v in (row.details or {}).items()],
    }


@router.get("/directoryAudits", response_model=shapes.DirectoryAuditCollection)
async def list_directory_audits(request: Request, caller: GlobalAdminCaller, session: SessionDep,
                                org: OrganizationDep) -> dict:
    page = await list_page(
        request, session, AuditRecord, AUDIT_FIELDS,
        where=[or_(AuditRecord.organization_id == org.id, AuditRecord.organization_id.is_(None))],
        default_order=("activity_date_time", "id"), default_desc=True)
    return collection(request, page, audit_body)


SIGN_IN_FIELDS = {
    "id": "id", "createdDateTime": "created_date_time", "userId": "user_id",
    "userPrincipalName": "user_principal_name", "appId": "app_id", "isInteractive": "is_interactive",
    "status/errorCode": "error_code", "clientAppUsed": "client_app_used",
}


# appliedConditionalAccessPolicy.result members after unknownFutureValue ("evolvable"): Graph
# answers them only to a client that sends `Prefer: include-unknown-enum-members`, and
# unknownFutureValue to the others, whose SDKs would not know them.
EVOLVABLE_RESULTS = ("reportOnlySuccess", "reportOnlyFailure", "reportOnlyNotApplied", "reportOnlyInterrupted")


def wants_unknown_enum_members(request: Request) -> bool:
    return any("include-unknown-enum-members" in value.lower() for value in request.headers.getlist("prefer"))


def _applied(policy: dict, evolvable: bool) -> dict:
    if not evolvable and policy.get("result") in EVOLVABLE_RESULTS:
        return {**policy, "result": "unknownFutureValue"}
    return dict(policy)


def sign_in_body(row: SignInLog, evolvable: bool = False) -> dict:
    return {
        "id": row.id,
        "createdDateTime": iso(row.created_date_time),
        "userId": row.user_id,
        "userPrincipalName": row.user_principal_name,
        "userDisplayName": row.user_display_name,
        "appId": row.app_id,
        "appDisplayName": row.app_display_name,
        "ipAddress": row.ip_address,
        "clientAppUsed": row.client_app_used,
        "isInteractive": row.is_interactive,
        "status": {"errorCode": row.error_code, "failureReason": row.failure_reason,
                   "additionalDetails": None},
        "conditionalAccessStatus": row.conditional_access_status,
        "appliedConditionalAccessPolicies": [_applied(p, evolvable)
                                             for p in row.applied_conditional_access_policies or []],
    }


@router.get("/signIns", response_model=shapes.SignInCollection)
async def list_sign_ins(request: Request, caller: GlobalAdminCaller, session: SessionDep,
                        org: OrganizationDep) -> dict:
    page = await list_page(request, session, SignInLog, SIGN_IN_FIELDS,
                           where=[SignInLog.organization_id == org.id],
                           default_order=("created_date_time", "id"), default_desc=True)
    evolvable = wants_unknown_enum_members(request)
    return collection(request, page, lambda row: sign_in_body(row, evolvable))
