"""The external-user lifecycle's database steps (entitlement management's
externalUserLifecycleAction, an access review's disableAndDeleteUserApplyAction): who is governed
and loses their last assignment, blocking a guest and unblocking them. Each is safe to repeat:
what is already done is not done again, nor audited twice. The GuestLifecycleWorkflow
(`guest-lifecycle:{user_id}`) holds the wait between block and delete; deleting goes through the
one "delete user" operation (workflows.client.directory.delete_user)."""

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer.audit import audit
from foyer.durations import parse_duration
from foyer.models.directory import Organization, User
from foyer.models.entitlement import Assignment
from foyer.models.enums import LIVE_ASSIGNMENT_STATES, UserType
from foyer.usecases.openid_tokens import revoke_user_refresh_tokens
from foyer.workflows.messages.guest_lifecycle import (
    LAST_ASSIGNMENT_REMOVED, BlockGuestInput, GuestLifecycleInput, LifecycleStep, UnblockGuestInput,
)

ACTIONS = ("none", "blockSignIn", "blockSignInAndDelete")
LIFECYCLE_ACTOR = "Entitlement management (external user lifecycle)"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


async def has_live_assignment(session: AsyncSession, user_id: str) -> bool:
    return (await session.exec(select(Assignment.id).where(
        Assignment.target_id == user_id, col(Assignment.state).in_(LIVE_ASSIGNMENT_STATES)))).first() is not None


async def lifecycle_after_last_assignment(session: AsyncSession, user_id: str,
                                          started_by: str | None) -> GuestLifecycleInput | None:
    """The lifecycle to start for a user whose assignment just ended, per their organization's
    setting at this moment; None when there is none: the user is gone, not a guest, not governed
    (they existed before their first assignment), still holds a live assignment, is already
    blocked by the lifecycle, or the organization's action is `none`."""
    user = await session.get(User, user_id)
    if user is None or user.user_type != UserType.guest or not user.governed_by_entitlement:
        return None
    if user.lifecycle_blocked_date_time is not None or await has_live_assignment(session, user_id):
        return None
    org = await session.get(Organization, user.organization_id)
    action = org.external_user_lifecycle_action if org else "none"
    if action not in ("blockSignIn", "blockSignInAndDelete"):
        return None
    return GuestLifecycleInput(
        organization_id=user.organization_id, user_id=user.id, reason=LAST_ASSIGNMENT_REMOVED,
        delete_after=org.duration_until_external_user_deleted_after_blocked
        if action == "blockSignInAndDelete" else None, started_by=started_by)


async def block_guest(session: AsyncSession, data: BlockGuestInput, *, run_id: str) -> LifecycleStep:
    """Disable the account (its refresh tokens revoked in the same transaction), mark when it was
    blocked and when it will be deleted, audit "Block user" with the workflow id; commit."""
    user = await session.get(User, data.user_id)
    if user is None or user.organization_id != data.organization_id:
        return LifecycleStep(state="gone")
    blocked_at = datetime.fromisoformat(data.blocked_at.replace("Z", "+00:00"))
    deletion = blocked_at + parse_duration(data.delete_after) if data.delete_after else None
    if user.lifecycle_blocked_date_time is not None and not user.account_enabled:
        return LifecycleStep(state="skipped", deletion_date_time=_iso(user.scheduled_deletion_date_time))
    if data.reason == LAST_ASSIGNMENT_REMOVED and await has_live_assignment(session, user.id):
        return LifecycleStep(state="assigned")  # a new assignment arrived since the last one ended
    user.account_enabled = False
    user.lifecycle_blocked_date_time = blocked_at
    user.scheduled_deletion_date_time = deletion
    session.add(user)
    await revoke_user_refresh_tokens(session, user.id, "blocked by the external user lifecycle", now=blocked_at)
    await audit(session, key=f"{data.workflow_id}:{run_id}:block", category="UserManagement",
                activity="Block user", organization_id=user.organization_id, actor_name=LIFECYCLE_ACTOR,
                target_type="User", target_id=user.id, target_name=user.user_principal_name,
                workflow_id=data.workflow_id, reason=data.reason,
                details={"reason": data.reason, "startedBy": data.started_by or "",
                         "scheduledDeletionDateTime": _iso(deletion) or ""})
    await session.commit()
    return LifecycleStep(state="done", deletion_date_time=_iso(deletion))


async def unblock_guest(session: AsyncSession, data: UnblockGuestInput, *, key: str | None) -> LifecycleStep:
    """Enable the account and clear the lifecycle's marks (a new assignment, an administrator
    restoring them); audit "Unblock user"; commit. A user not blocked by the lifecycle is left."""
    user = await session.get(User, data.user_id)
    if user is None or user.organization_id != data.organization_id:
        return LifecycleStep(state="gone")
    if user.lifecycle_blocked_date_time is None:
        return LifecycleStep(state="skipped")
    user.account_enabled = True
    user.lifecycle_blocked_date_time = None
    user.scheduled_deletion_date_time = None
    session.add(user)
    await audit(session, key=key, category="UserManagement", activity="Unblock user",
                organization_id=user.organization_id, actor_id=data.by_id,
                actor_name=None if data.by_id else LIFECYCLE_ACTOR, target_type="User", target_id=user.id,
                target_name=user.user_principal_name, workflow_id=data.workflow_id, reason=data.reason,
                details={"reason": data.reason})
    await session.commit()
    return LifecycleStep(state="done")


async def lifecycle_blocked(session: AsyncSession, user_id: str) -> bool:
    user = await session.get(User, user_id)
    return user is not None and user.lifecycle_blocked_date_time is not None
