"""Sign-up decisions and verification outcomes, sent to a SignUpWorkflow as Updates; shared by
the Graph-shaped API (approvers, external systems' callbacks) and the approval page.

A workflow that has already ended answers from the SignUp row: the same decision as the one
recorded is accepted again (200, the recorded decision); anything else is 409.
"""

from datetime import datetime

from sqlmodel import col, select
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import GraphError, refusal
from foyer.db import reading
from models.audit import AuditRecord
from models.sign_up import SignUp, UserFlow
from workflows.messages import SignUpDecision, SignUpStatus, SignUpVerification, sign_up_workflow_id
from workflows.sign_up import SignUpWorkflow

DECIDED = {"completed": "approve", "denied": "deny"}
EXTRA_STATUS = {"signUpNotPending": 409, "invalidAttributes": 400, "signUpEnded": 409}


def failure(error: BaseException) -> GraphError:
    found = refusal(error)
    if found is not None:
        return found
    seen, cause = 0, error
    while cause is not None and seen < 10:
        kind = getattr(cause, "type", None)
        if kind in EXTRA_STATUS:
            return GraphError(EXTRA_STATUS[kind], kind, str(getattr(cause, "message", cause)))
        cause, seen = cause.__cause__, seen + 1
    return GraphError(503, "serviceUnavailable", "the sign-up could not be reached; try again")


def _closed(error: BaseException) -> bool:
    return isinstance(error, RPCError) and error.status in (RPCStatusCode.NOT_FOUND,
                                                            RPCStatusCode.FAILED_PRECONDITION) \
        or "already completed" in str(error)


async def _row(sign_up_id: str) -> SignUp | None:
    async with reading() as session:
        row = await session.get(SignUp, sign_up_id)
        return SignUp.model_validate(row.model_dump()) if row else None


def approver_ids(flow: UserFlow | None) -> list[str]:
    return list(((flow.approval if flow else None) or {}).get("approverIds") or [])


async def flows_approved_by(session, organization_id: str, user_id: str | None) -> list[UserFlow]:
    """The organization's user flows that name this user among their approvers: the sign-ups a
    non-administrator may list, read and decide are those of these flows."""
    flows = (await session.exec(select(UserFlow).where(UserFlow.organization_id == organization_id))).all()
    return [f for f in flows if user_id and user_id in approver_ids(f)]


async def waiting_for(session, organization_id: str, user_id: str) -> list[dict]:
    """The sign-ups waiting for this approver's decision (pendingApproval, in flows naming them),
    oldest first, each with its flow and its approval deadline (recorded by the workflow when the
    wait opened, in the `pendingApproval` step's audit record)."""
    flows = {f.id: f for f in await flows_approved_by(session, organization_id, user_id)}
    if not flows:
        return []
    rows = (await session.exec(select(SignUp).where(
        SignUp.organization_id == organization_id, SignUp.state == "pendingApproval",
        col(SignUp.user_flow_id).in_(list(flows))).order_by(SignUp.created_date_time))).all()
    keys = {f"signup:{r.id}:pendingApproval": r.id for r in rows}
    opened = (await session.exec(select(AuditRecord).where(
        col(AuditRecord.idempotency_key).in_(list(keys))))).all() if keys else []
    deadlines = {}
    for record in opened:
        raw = (record.details or {}).get("deadline")
        if raw:
            deadlines[keys[record.idempotency_key]] = datetime.fromisoformat(raw)
    return [{"sign_up": r, "flow": flows[r.user_flow_id], "deadline": deadlines.get(r.id)} for r in rows]


async def decide(client: Client, sign_up_id: str, decision: SignUpDecision) -> SignUpStatus:
    handle = client.get_workflow_handle_for(SignUpWorkflow.run, sign_up_workflow_id(sign_up_id))
    try:
        return await handle.execute_update(SignUpWorkflow.decide, decision)
    except (WorkflowUpdateFailedError, RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
        if not _closed(error):
            raise failure(error) from error
    row = await _row(sign_up_id)
    recorded = DECIDED.get(row.state) if row else None
    if recorded is None:
        raise GraphError(409, "signUpNotPending", "this sign-up is not waiting for approval")
    if recorded != decision.decision:
        raise GraphError(409, "conflictingDecision", f"this sign-up was already decided: {recorded}")
    return SignUpStatus(state=row.state, decision=recorded, user_id=row.user_id, message=row.reason)


async def record_verification(client: Client, sign_up_id: str, result: SignUpVerification) -> SignUpStatus:
    handle = client.get_workflow_handle_for(SignUpWorkflow.run, sign_up_workflow_id(sign_up_id))
    try:
        return await handle.execute_update(SignUpWorkflow.verification_result, result)
    except (WorkflowUpdateFailedError, RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
        if _closed(error):
            raise GraphError(409, "signUpNotPending", "this sign-up is no longer waiting") from error
        raise failure(error) from error


def graph_shape(row: SignUp) -> dict:
    return {
        "id": row.id, "userFlowId": row.user_flow_id, "email": row.email, "state": row.state,
        "attributes": row.attributes or {}, "verificationReference": row.verification_reference,
        "userId": row.user_id, "reason": row.reason,
        "decidedBy": {"id": row.decided_by_id, "displayName": row.decided_by_name} if row.decided_by_id else None,
        "createdDateTime": row.created_date_time.isoformat().replace("+00:00", "Z"),
        "lastModifiedDateTime": row.updated_date_time.isoformat().replace("+00:00", "Z"),
    }
