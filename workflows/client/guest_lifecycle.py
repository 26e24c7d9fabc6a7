"""Starting, cancelling and asking GuestLifecycleWorkflows (`guest-lifecycle:{user_id}`, one per
guest): the AssignmentWorkflow's hooks (through activities), an access review's
disableAndDeleteUserApplyAction, an administrator enabling a blocked guest."""

from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from foyer.settings import get_settings
from foyer.workflows.client.failures import unavailable
from foyer.workflows.guest_lifecycle import GuestLifecycleWorkflow
from foyer.workflows.messages.guest_lifecycle import (
    CancelLifecycle, GuestLifecycleInput, LifecycleStatus, guest_lifecycle_workflow_id,
)


async def start_lifecycle(client: Client, data: GuestLifecycleInput, task_queue: str | None = None) -> bool:
    """Block the guest now and schedule their deletion (`data.delete_after`). One per guest: when
    one already runs it is left as it is (its schedule stands). True when this call started it."""
    try:
        await client.start_workflow(GuestLifecycleWorkflow.run, data, id=guest_lifecycle_workflow_id(data.user_id),
                                    task_queue=task_queue or get_settings().task_queue)
    except WorkflowAlreadyStartedError:
        return False
    except RPCError as error:
        raise unavailable(error) from error
    return True


async def cancel_lifecycle(client: Client, user_id: str, cancellation: CancelLifecycle) -> bool:
    """Unblock the guest and delete nothing. False when no lifecycle runs for them."""
    handle = client.get_workflow_handle_for(GuestLifecycleWorkflow.run, guest_lifecycle_workflow_id(user_id))
    try:
        await handle.signal(GuestLifecycleWorkflow.cancel, cancellation)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND or "already completed" in str(error):
            return False
        raise unavailable(error) from error
    return True


async def lifecycle_status(client: Client, user_id: str) -> LifecycleStatus | None:
    """Where the guest's latest lifecycle stands (None: never started, or no longer kept)."""
    handle = client.get_workflow_handle_for(GuestLifecycleWorkflow.run, guest_lifecycle_workflow_id(user_id))
    try:
        return await handle.query(GuestLifecycleWorkflow.current)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise unavailable(error) from error
