"""Starting and steering AccessRequestWorkflows from the API (and from tests and benchmarks)."""

import asyncio

from temporalio.client import (
    Client, WithStartWorkflowOperation, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from activities.access import AccessRequestSpec, RequestPlan
from api.errors import GraphError, refusal
from foyer.settings import get_settings
from workflows.access_request import (
    AccessRequestInput, AccessRequestWorkflow, Decision, DecisionResult, access_request_workflow_id,
)


def _failure(error: Exception) -> GraphError:
    if isinstance(error, WorkflowUpdateFailedError):
        return refusal(error) or GraphError(502, "workflowFailed", str(error.cause or error))
    if isinstance(error, RPCError) and "not found" in str(error).lower():
        return GraphError(409, "requestNotPending", "the request is no longer open")
    return GraphError(503, "serviceUnavailable", f"the workflow service did not answer: {error}",
                      headers={"Retry-After": "5"})


async def submit(client: Client, spec: AccessRequestSpec) -> RequestPlan:
    """Update-with-start on the (package, target) request workflow. An open request for the same
    package and person answers 409 pendingRequestExists."""
    workflow_id = access_request_workflow_id(spec.access_package_id, spec.target_id)
    for attempt in range(3):
        operation = WithStartWorkflowOperation(
            AccessRequestWorkflow.run,
            AccessRequestInput(access_package_id=spec.access_package_id, target_id=spec.target_id),
            id=workflow_id, task_queue=get_settings().task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
        try:
            return await client.execute_update_with_start_workflow(
                AccessRequestWorkflow.submit, spec, start_workflow_operation=operation)
        except WorkflowUpdateFailedError as error:
            found = refusal(error)
            if found is not None and found.code == "pendingRequestExists" and attempt < 2:
                # Either a real open request, or the last one finishing this instant: look again.
                status = await client.get_workflow_handle(workflow_id).describe()
                if status.status is not None and status.status.name == "RUNNING":
                    raise found from error
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            raise _failure(error) from error
        except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
            raise _failure(error) from error
    raise GraphError(409, "pendingRequestExists", "a request for this access package is open")


async def decide(client: Client, workflow_id: str, decision: Decision) -> DecisionResult:
    handle = client.get_workflow_handle_for(AccessRequestWorkflow.run, workflow_id)
    try:
        return await handle.execute_update(AccessRequestWorkflow.decide, decision)
    except (WorkflowUpdateFailedError, RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
        raise _failure(error) from error
