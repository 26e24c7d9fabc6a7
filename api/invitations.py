"""Starting and steering InvitationWorkflows: used by the API, campaigns, tests and benchmarks."""

import asyncio

from temporalio.client import (
    Client, WithStartWorkflowOperation, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from workflows.messages.invitation import InvitationSpec
from api.errors import GraphError, refusal
from foyer.settings import get_settings
from workflows.invitation import InvitationWorkflow
from workflows.messages import (
    InvitationStatus, InvitationWorkflowInput, InviteResult, RevokeRequest, invitation_workflow_id,
)


async def invite(client: Client, spec: InvitationSpec) -> InviteResult:
    """Update-with-start on the address's InvitationWorkflow: one workflow per address, however
    many times (or how concurrently) it is invited."""
    workflow_id = invitation_workflow_id(spec.organization_id, spec.email)
    for attempt in range(3):
        operation = WithStartWorkflowOperation(
            InvitationWorkflow.run,
            InvitationWorkflowInput(organization_id=spec.organization_id, email=spec.email),
            id=workflow_id, task_queue=get_settings().task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        try:
            return await client.execute_update_with_start_workflow(
                InvitationWorkflow.invite, spec, start_workflow_operation=operation)
        except WorkflowUpdateFailedError as error:
            found = refusal(error)
            if found is not None and found.code == "runEnded" and attempt < 2:
                # The previous run is just finishing; a moment later this starts a new one.
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            raise found or GraphError(502, "workflowFailed", str(error.cause or error)) from error
        except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
            raise temporal_unavailable(error) from error
    raise GraphError(409, "conflict", "the invitation is changing concurrently; retry")


def temporal_unavailable(error: Exception) -> GraphError:
    if isinstance(error, RPCError) and error.status == RPCStatusCode.NOT_FOUND:
        return GraphError(409, "invitationNotPending", "the invitation's workflow has ended")
    return GraphError(503, "serviceUnavailable", f"the workflow service did not answer: {error}",
                      headers={"Retry-After": "5"})


async def revoke(client: Client, workflow_id: str, request: RevokeRequest) -> InvitationStatus:
    handle = client.get_workflow_handle_for(InvitationWorkflow.run, workflow_id)
    try:
        return await handle.execute_update(InvitationWorkflow.revoke, request)
    except WorkflowUpdateFailedError as error:
        raise refusal(error) or GraphError(502, "workflowFailed", str(error.cause or error)) from error
    except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
        raise temporal_unavailable(error) from error
