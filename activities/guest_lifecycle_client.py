"""The external-user lifecycle's activities that are Temporal clients: deleting a governed guest
through the one "delete user" operation (it ends their workflows first), and the
AssignmentWorkflow's hooks that start or cancel a guest's lifecycle. The workflows name them by
their names (workflows/messages/guest_lifecycle.py): importing them would import the workflow
client, a cycle. Each is safe to retry: deleting a user already gone answers "gone", starting a
lifecycle already running is a no-op, a guest no longer blocked is not restored twice."""

from temporalio import activity
from temporalio.client import Client

from foyer.db import get_sessionmaker, reading, writing
from foyer.errors import Refused
from foyer.models.directory import User
from foyer.usecases import guest_lifecycle as lifecycle
from foyer.workflows.client.directory import delete_user
from foyer.workflows.client.guest_lifecycle import cancel_lifecycle, start_lifecycle
from foyer.workflows.messages.guest_lifecycle import (
    DELETE_GOVERNED_GUEST, END_LIFECYCLE_ON_ASSIGNMENT, START_LIFECYCLE_IF_LAST, AssignmentEndedInput,
    CancelLifecycle, DeleteGuestInput, LifecycleStep, UnblockGuestInput,
)


class GuestLifecycleClient:
    """The activities that are Temporal clients: deleting a user ends their workflows first (the
    one "delete user" operation), and the assignment hooks start or cancel lifecycles."""

    def __init__(self, client: Client):
        self.client = client

    @activity.defn(name=DELETE_GOVERNED_GUEST)
    async def delete_governed_guest(self, data: DeleteGuestInput) -> LifecycleStep:
        """Delete the guest through workflows.client.directory.delete_user (pending invitations
        revoked, open requests canceled, assignments removed by their workflows, then the user and
        what hangs off them), audited "Delete user" with this workflow's id. A guest no longer
        blocked by the lifecycle (restored meanwhile) is not deleted."""
        async with reading() as session:
            if not await lifecycle.lifecycle_blocked(session, data.user_id):
                found = await session.get(User, data.user_id)
                return LifecycleStep(state="gone" if found is None else "skipped")
        async with get_sessionmaker()() as session:
            try:
                await delete_user(self.client, session, data.organization_id, data.user_id, actor={
                    "actor_name": lifecycle.LIFECYCLE_ACTOR, "workflow_id": data.workflow_id})
            except Refused as refused:
                if refused.status == 404:
                    return LifecycleStep(state="gone")
                raise
        return LifecycleStep(state="done")

    @activity.defn(name=START_LIFECYCLE_IF_LAST)
    async def start_lifecycle_if_last(self, data: AssignmentEndedInput) -> bool:
        """After an assignment was removed or expired: when it was a governed guest's last one,
        start their lifecycle per the organization's setting now. True when one was started."""
        if (data.request_id or "").startswith("user-deleted:"):
            return False  # the user is being deleted: nothing to block
        async with reading() as session:
            plan = await lifecycle.lifecycle_after_last_assignment(session, data.target_id, data.workflow_id)
        if plan is None:
            return False
        return await start_lifecycle(self.client, plan, task_queue=activity.info().task_queue)

    @activity.defn(name=END_LIFECYCLE_ON_ASSIGNMENT)
    async def end_lifecycle_on_assignment(self, data: AssignmentEndedInput) -> bool:
        """After an assignment was delivered: a guest the lifecycle blocked is restored (the
        `cancel` signal to their lifecycle; directly when no lifecycle runs any more)."""
        async with reading() as session:
            if not await lifecycle.lifecycle_blocked(session, data.target_id):
                return False
        reason = f"new access package assignment {data.assignment_id}"
        if await cancel_lifecycle(self.client, data.target_id, CancelLifecycle(reason=reason)):
            return True
        async with writing(), get_sessionmaker()() as session:
            await lifecycle.unblock_guest(session, UnblockGuestInput(
                organization_id=data.organization_id, user_id=data.target_id, reason=reason,
                workflow_id=data.workflow_id), key=f"{data.workflow_id}:unblock")
        return True

