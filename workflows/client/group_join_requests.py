"""Starting and deciding GroupJoinRequestWorkflows, for My Groups. Every failure is raised as
`Refused`. Who may decide is asked before (foyer.usecases.ownership.require_manager)."""

import uuid

from temporalio.client import (
    Client, WithStartWorkflowOperation, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from foyer.errors import Refused
from foyer.settings import get_settings
from foyer.workflows.client.failures import refusal, run_closed, unavailable, workflow_failed
from foyer.workflows.group_join_request import GroupJoinRequestWorkflow
from foyer.workflows.messages.group_join import (
    DEFAULT_EXPIRES_AFTER, GroupJoinInput, JoinDecision, JoinStatus, group_join_workflow_id,
)

EXTRA_STATUS = {"requestNotPending": 409}
UPDATE_ERRORS = (WorkflowUpdateFailedError, RPCError, WorkflowUpdateRPCTimeoutOrCancelledError)


def _failure(error: BaseException) -> Refused:
    found = refusal(error, also=EXTRA_STATUS)
    if found is not None:
        return found
    if isinstance(error, WorkflowUpdateFailedError):
        return workflow_failed(error)
    return unavailable(error)


async def request_to_join(client: Client, organization_id: str, group_id: str, user_id: str,
                          justification: str | None = None,
                          expires_after: str = DEFAULT_EXPIRES_AFTER) -> JoinStatus:
    """Open the (group, person) request (update-with-start: one open request per pair; asking again
    while one is open answers with that one). `pendingRequestExists` when one is already open;
    `requestNotAllowed` when the workflow refused to record it."""
    data = GroupJoinInput(request_id=str(uuid.uuid4()), organization_id=organization_id, group_id=group_id,
                          user_id=user_id, justification=justification, expires_after=expires_after)
    operation = WithStartWorkflowOperation(
        GroupJoinRequestWorkflow.run, data, id=group_join_workflow_id(group_id, user_id),
        task_queue=get_settings().task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    try:
        status = await client.execute_update_with_start_workflow(
            GroupJoinRequestWorkflow.opened, start_workflow_operation=operation)
    except UPDATE_ERRORS as error:
        raise _failure(error) from error
    if status.state == "refused":
        raise Refused("requestNotAllowed", status.message or "this request may not be made")
    if status.request_id != data.request_id:
        raise Refused("pendingRequestExists", "you already asked to join this group; wait for its owners")
    return status


async def decide(client: Client, workflow_id: str, decision: JoinDecision) -> JoinStatus:
    """Approve or deny; `requestNotPending` (409) when the request has ended (expired, decided)."""
    handle = client.get_workflow_handle_for(GroupJoinRequestWorkflow.run, workflow_id)
    try:
        return await handle.execute_update(GroupJoinRequestWorkflow.decide, decision)
    except UPDATE_ERRORS as error:
        if run_closed(error):
            raise Refused("requestNotPending", "this request is no longer waiting for a decision",
                          status_hint=409) from error
        raise _failure(error) from error


async def status(client: Client, workflow_id: str) -> JoinStatus:
    try:
        return await client.get_workflow_handle_for(GroupJoinRequestWorkflow.run, workflow_id).query(
            GroupJoinRequestWorkflow.current)
    except RPCError as error:
        raise _failure(error) from error
