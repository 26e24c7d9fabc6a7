"""Starting and steering AccessRequestWorkflows: used by the API, the pages, campaigns, tests and
benchmarks. The two use cases of a request are here, once each: `submit_request` (ask for an
access package) and `decide_stage` (an approver's decision); both check the database first
(foyer.usecases.access) and leave the last word to the workflow's Update and its validator."""

import asyncio

from temporalio.client import (
    Client, WithStartWorkflowOperation, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError,
)
from sqlmodel import col, select
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from foyer.db import reading
from foyer.errors import Refused
from foyer.settings import get_settings
from foyer.usecases.access import check_request_references, open_stage_workflow
from foyer.models.entitlement import Assignment, AssignmentRequest
from foyer.models.enums import LIVE_ASSIGNMENT_STATES, OPEN_REQUEST_STATES
from foyer.workflows.access_request import AccessRequestWorkflow
from foyer.workflows.assignment import AssignmentWorkflow
from foyer.workflows.client.failures import refusal, unavailable, workflow_failed
from foyer.workflows.messages.access import (
    AccessRequestInput, AccessRequestSpec, CancelRequest, Decision, DecisionResult, RequestPlan, RequestStatus,
    ResumeRequest, access_request_workflow_id,
)
from foyer.workflows.messages.assignment import RemoveSignal, assignment_workflow_id


def _failure(error: Exception) -> Refused:
    if isinstance(error, WorkflowUpdateFailedError):
        return refusal(error) or workflow_failed(error)
    # An Update sent to a workflow that has closed answers NOT_FOUND ("workflow execution
    # already completed"): the request is no longer open.
    if isinstance(error, RPCError) and (error.status == RPCStatusCode.NOT_FOUND
                                        or "not found" in str(error).lower()):
        return Refused("requestNotPending", "the request is no longer open", status_hint=409)
    return unavailable(error)


FINAL_STATES = {"delivered", "partiallyDelivered", "deliveryFailed", "denied", "canceled"}


async def _closing(client: Client, workflow_id: str, spec: AccessRequestSpec) -> bool:
    """Whether the request workflow holding this id is closed or about to close: its state is
    final, or the directory already records no open request for the package and person (the
    workflow has written its outcome and is between that write and its own state change)."""
    async with reading() as session:
        still_open = (await session.exec(select(AssignmentRequest.id).where(
            AssignmentRequest.access_package_id == spec.access_package_id,
            AssignmentRequest.target_id == spec.target_id,
            col(AssignmentRequest.state).in_(OPEN_REQUEST_STATES)))).first()
    if still_open is None:
        return True
    handle = client.get_workflow_handle_for(AccessRequestWorkflow.run, workflow_id)
    try:
        description = await handle.describe()
        if description.status is None or description.status.name != "RUNNING":
            return True
        return (await handle.query(AccessRequestWorkflow.current)).state in FINAL_STATES
    except RPCError:
        return True  # it closed between the two calls: try again


async def submit_request(client: Client, spec: AccessRequestSpec) -> RequestPlan:
    """The one way to ask for an access package (Graph's POST assignmentRequests, the My Access
    page, a campaign row, the bench and the tests): check that the request names things of its
    organization, then Update-with-start the (package, target) request workflow, whose `submit`
    Update and record_request activity check the policy. An open request for the same package
    and person answers 409 pendingRequestExists."""
    async with reading() as session:
        await check_request_references(session, spec)
    workflow_id = access_request_workflow_id(spec.access_package_id, spec.target_id)
    attempts = 8
    for attempt in range(attempts):
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
            if found is not None and found.code == "pendingRequestExists" and attempt < attempts - 1:
                # Either a real open request, or the last one finishing this instant (its state
                # already final, its run not yet closed): look again.
                if not await _closing(client, workflow_id, spec):
                    raise found from error
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            raise _failure(error) from error
        except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
            raise _failure(error) from error
    raise Refused("pendingRequestExists", "a request for this access package is open")


def _accepted_then_closed(error: Exception) -> bool:
    """The Update passed its validator and its handler ran, but the workflow closed before the
    handler returned (AccessRequestWorkflow.run does not wait for its handlers): what the Update
    asked for took effect, only its answer was lost."""
    cause = getattr(error, "cause", None)
    return isinstance(error, WorkflowUpdateFailedError) and \
        getattr(cause, "type", None) == "AcceptedUpdateCompletedWorkflow"


async def _state_after(handle) -> RequestStatus | None:
    try:
        return await handle.query(AccessRequestWorkflow.current)
    except Exception:  # noqa: BLE001 - only for the answer; the change itself is done
        return None


async def decide_stage(client: Client, decision: Decision, *, request_id: str | None = None,
                       organization_id: str | None = None) -> DecisionResult:
    """The one way an approver decides a stage (Graph's PATCH …/stages/{id}, the approval page,
    the bench and the tests): find the open stage's request workflow (404 for a stage of another
    request or organization, 409 stageAlreadyDecided once decided), then send its `decide`
    Update, whose validator has the last word."""
    async with reading() as session:
        workflow_id = await open_stage_workflow(session, decision.stage_id, request_id=request_id,
                                                organization_id=organization_id)
    handle = client.get_workflow_handle_for(AccessRequestWorkflow.run, workflow_id)
    try:
        return await handle.execute_update(AccessRequestWorkflow.decide, decision)
    except (WorkflowUpdateFailedError, RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
        if _accepted_then_closed(error):
            status = await _state_after(handle)
            return DecisionResult(stage_id=decision.stage_id, review_result=decision.review_result,
                                  request_state=status.state if status else "unknown")
        raise _failure(error) from error


async def cancel(client: Client, workflow_id: str, request: CancelRequest) -> RequestStatus:
    """The request workflow's `cancel` Update: only while it waits for approval (409
    requestNotCancelable otherwise), only by its requestor or an administrator."""
    handle = client.get_workflow_handle_for(AccessRequestWorkflow.run, workflow_id)
    try:
        return await handle.execute_update(AccessRequestWorkflow.cancel, request)
    except (WorkflowUpdateFailedError, RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
        if _accepted_then_closed(error):
            return await _state_after(handle) or RequestStatus(state="canceled")
        raise _failure(error) from error


# A request decided, canceled or closed between the listing and the cancel.
CLOSED_MEANWHILE = {"requestNotCancelable", "requestNotPending"}


async def resume(client: Client, workflow_id: str, request: ResumeRequest) -> None:
    """A custom extension's callback: the request workflow's `resume` Update."""
    handle = client.get_workflow_handle_for(AccessRequestWorkflow.run, workflow_id)
    try:
        await handle.execute_update(AccessRequestWorkflow.resume, request)
    except WorkflowUpdateFailedError as error:
        raise refusal(error) or workflow_failed(error) from error
    except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
        raise Refused("notWaitingForResume", "the request is no longer waiting") from error


async def end_access_of(client: Client, session, user_id: str) -> tuple[int, int]:
    """A deleted user keeps no access and no open request: cancel what waits for approval and
    have every live assignment's workflow take its access back. Returns (canceled, removed)."""
    requests = (await session.exec(select(AssignmentRequest.workflow_id).where(
        AssignmentRequest.target_id == user_id, AssignmentRequest.state == "pendingApproval"))).all()
    assignments = (await session.exec(select(Assignment.id).where(
        Assignment.target_id == user_id, col(Assignment.state).in_(LIVE_ASSIGNMENT_STATES)))).all()
    canceled = 0
    for workflow_id in requests:
        try:
            await cancel(client, workflow_id, CancelRequest(by_admin=True))
            canceled += 1
        except Refused as error:
            if error.code not in CLOSED_MEANWHILE:
                raise
    for assignment_id in assignments:
        handle = client.get_workflow_handle_for(AssignmentWorkflow.run, assignment_workflow_id(assignment_id))
        try:
            await handle.signal(AssignmentWorkflow.remove, RemoveSignal(request_id=f"user-deleted:{user_id}"))
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:  # not found: it ended meanwhile
                raise _failure(error) from error
    return canceled, len(assignments)
