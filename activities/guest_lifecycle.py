"""Activities of the external-user lifecycle (GuestLifecycleWorkflow, `guest-lifecycle:{user}`):
blocking and unblocking a guest. Each is safe to retry: it looks at the user's lifecycle marks
first. The ones that are Temporal clients (deleting, the AssignmentWorkflow's hooks) are in
activities/guest_lifecycle_client.py."""

from temporalio import activity

from foyer.db import get_sessionmaker, writing
from foyer.usecases import guest_lifecycle as lifecycle
from foyer.workflows.messages.guest_lifecycle import BlockGuestInput, LifecycleStep, UnblockGuestInput


@activity.defn
async def block_guest(data: BlockGuestInput) -> LifecycleStep:
    async with writing(), get_sessionmaker()() as session:
        return await lifecycle.block_guest(session, data, run_id=activity.info().workflow_run_id)


@activity.defn
async def unblock_guest(data: UnblockGuestInput) -> LifecycleStep:
    async with writing(), get_sessionmaker()() as session:
        return await lifecycle.unblock_guest(
            session, data, key=f"{data.workflow_id}:{activity.info().workflow_run_id}:unblock")


ALL = [block_guest, unblock_guest]
