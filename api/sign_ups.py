"""Who approves which sign-ups, and a sign-up's Graph shape: shared by the Graph-shaped API and
the approval page. (Decisions and verification outcomes go to the workflow through
workflows.client.sign_ups.)"""

from datetime import datetime

from sqlmodel import col, select

from foyer.models.audit import AuditRecord
from foyer.models.sign_up import SignUp, UserFlow


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


def graph_shape(row: SignUp) -> dict:
    return {
        "id": row.id, "userFlowId": row.user_flow_id, "email": row.email, "state": row.state,
        "attributes": row.attributes or {}, "verificationReference": row.verification_reference,
        "userId": row.user_id, "reason": row.reason,
        "decidedBy": {"id": row.decided_by_id, "displayName": row.decided_by_name} if row.decided_by_id else None,
        "createdDateTime": row.created_date_time.isoformat().replace("+00:00", "Z"),
        "lastModifiedDateTime": row.updated_date_time.isoformat().replace("+00:00", "Z"),
    }
