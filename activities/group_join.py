"""Activities of requests to join a group (GroupJoinRequestWorkflow, `group-join:{group}:{user}`).
Each is safe to retry: the row is inserted under the request's id, a decision already applied is
not applied again (the member already added is not added twice), audit records carry keys."""

from temporalio import activity

from foyer.activities.store import audit
from foyer.db import get_sessionmaker, writing
from foyer.errors import Refused
from foyer.models.base import utcnow
from foyer.models.directory import Group, GroupJoinRequest, GroupMember, Organization, User
from foyer.usecases.group_join import join_refusal
from foyer.usecases.groups import add_member
from foyer.workflows.messages.group_join import (
    ApplyJoinDecisionInput, GroupJoinInput, RecordedJoin, group_join_workflow_id,
)


def _target(group: Group | None, group_id: str) -> dict:
    return {"category": "GroupManagement", "target_type": "Group", "target_id": group_id,
            "target_name": group.display_name if group else None}


@activity.defn
async def record_group_join_request(data: GroupJoinInput) -> RecordedJoin:
    """Check that the person may ask (the organization's switch, who they are, the group) and
    write the pending row and its audit record; or say why not."""
    async with writing(), get_sessionmaker()() as session:
        if await session.get(GroupJoinRequest, data.request_id) is not None:
            return RecordedJoin()
        org = await session.get(Organization, data.organization_id)
        group = await session.get(Group, data.group_id)
        user = await session.get(User, data.user_id)
        if org is None or group is None or user is None:
            return RecordedJoin(refusal="the group or the person no longer exists")
        if refusal := await join_refusal(session, org, group, user):
            return RecordedJoin(refusal=refusal)
        session.add(GroupJoinRequest(id=data.request_id, organization_id=org.id, group_id=group.id,
                                     user_id=user.id, justification=data.justification,
                                     workflow_id=group_join_workflow_id(group.id, user.id)))
        await audit(session, key=f"group-join:{data.request_id}:requested", activity="Request to join group",
                    organization_id=org.id, actor_id=user.id, actor_name=user.display_name,
                    workflow_id=group_join_workflow_id(group.id, user.id), **_target(group, group.id),
                    details={"requestId": data.request_id, "justification": data.justification or ""})
        await session.commit()
    return RecordedJoin()


@activity.defn
async def apply_group_join_decision(data: ApplyJoinDecisionInput) -> str:
    """Approve (the person becomes a member, audited "Add member to group" as acting for the
    request) or deny; the row records who decided. Returns the request's state."""
    decision = data.decision
    async with writing(), get_sessionmaker()() as session:
        row = await session.get(GroupJoinRequest, data.request_id)
        if row is None:  # the group or the person was deleted meanwhile (the row went with them)
            return "cancelled"
        if row.state != "pending":
            return row.state
        group = await session.get(Group, row.group_id)
        user = await session.get(User, row.user_id)
        if group is None or user is None:
            return "cancelled"
        actor = {"actor_id": decision.decided_by_id, "actor_name": decision.decided_by_name}
        approve = decision.decision == "approve"
        if approve and await session.get(GroupMember, (row.group_id, row.user_id)) is None:
            try:
                await add_member(session, row.organization_id, group, user, actor=actor, capacity=decision.capacity)
            except Refused as refused:
                if refused.code != "Request_BadRequest":  # already a member: added concurrently
                    raise
            row = await session.get(GroupJoinRequest, data.request_id)
        row.state = "approved" if approve else "denied"
        row.decided_by_id = decision.decided_by_id
        row.decided_date_time = utcnow()
        session.add(row)
        await audit(session, key=f"group-join:{row.id}:decided",
                    activity="Approve request to join group" if approve else "Deny request to join group",
                    organization_id=row.organization_id, workflow_id=row.workflow_id, **actor,
                    **_target(group, row.group_id),
                    details={"requestId": row.id, "userId": row.user_id, "actingAs": decision.capacity})
        await session.commit()
        return row.state


@activity.defn
async def expire_group_join_request(request_id: str) -> None:
    async with writing(), get_sessionmaker()() as session:
        row = await session.get(GroupJoinRequest, request_id)
        if row is None or row.state != "pending":
            return
        row.state = "expired"
        row.decided_date_time = utcnow()
        session.add(row)
        group = await session.get(Group, row.group_id)
        await audit(session, key=f"group-join:{row.id}:expired", activity="Request to join group expired",
                    organization_id=row.organization_id, workflow_id=row.workflow_id,
                    **_target(group, row.group_id), result="failure", reason="no owner answered in time",
                    details={"requestId": row.id, "userId": row.user_id})
        await session.commit()


ALL = [record_group_join_request, apply_group_join_decision, expire_group_join_request]
