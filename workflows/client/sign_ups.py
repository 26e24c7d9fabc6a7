"""Starting and steering SignUpWorkflows: the sign-up page's steps (the email step starts the
workflow with update-with-start, then the code, the form, the status), and decisions and
verification outcomes, shared by the Graph-shaped API (approvers, external systems' callbacks)
and the approval page. Every failure is raised as `Refused`.

A workflow that has already ended answers a decision from the SignUp row: the same decision as
the one recorded is accepted again (the recorded decision); anything else is refused (409).
"""

from temporalio.client import (
    Client, WithStartWorkflowOperation, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from foyer.db import reading
from foyer.errors import Refused
from foyer.settings import get_settings
from foyer.models.sign_up import SignUp
from foyer.workflows.client.failures import refusal, run_closed
from foyer.workflows.messages.sign_in import VerifyRequest
from foyer.workflows.messages.sign_up import (
    SignUpAttributes, SignUpCodeRequest, SignUpDecision, SignUpInput, SignUpStatus, SignUpVerification,
    sign_up_workflow_id,
)
from foyer.workflows.sign_up import SignUpWorkflow

DECIDED = {"completed": "approve", "denied": "deny"}
# The SignUpWorkflow's own refusals, besides the shared table (foyer.errors.REFUSAL_STATUS).
EXTRA_STATUS = {"signUpNotPending": 409, "invalidAttributes": 400, "signUpEnded": 409}
UPDATE_ERRORS = (WorkflowUpdateFailedError, RPCError, WorkflowUpdateRPCTimeoutOrCancelledError)


def failure(error: BaseException) -> Refused:
    return refusal(error, also=EXTRA_STATUS) or Refused(
        "serviceUnavailable", "the sign-up could not be reached; try again", status_hint=503)


def _handle(client: Client, sign_up_id: str):
    return client.get_workflow_handle_for(SignUpWorkflow.run, sign_up_workflow_id(sign_up_id))


async def request_code(client: Client, sign_up_id: str, organization_id: str, user_flow_id: str,
                       request: SignUpCodeRequest) -> SignUpStatus:
    """Start the sign-up's workflow with its email step (update-with-start: one new run per
    attempt). `invalidRequest` for an address the workflow will not take."""
    operation = WithStartWorkflowOperation(
        SignUpWorkflow.run, SignUpInput(sign_up_id=sign_up_id, organization_id=organization_id,
                                        user_flow_id=user_flow_id),
        id=sign_up_workflow_id(sign_up_id), task_queue=get_settings().task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
    try:
        return await client.execute_update_with_start_workflow(
            SignUpWorkflow.request_code, request, start_workflow_operation=operation)
    except UPDATE_ERRORS as error:
        raise failure(error) from error


async def verify(client: Client, sign_up_id: str) -> SignUpStatus:
    """Move past the code the page recorded as accepted (foyer.usecases.sign_up)."""
    try:
        return await _handle(client, sign_up_id).execute_update(SignUpWorkflow.verify, VerifyRequest())
    except UPDATE_ERRORS as error:
        raise failure(error) from error


async def submit_attributes(client: Client, sign_up_id: str, values: dict) -> SignUpStatus:
    """The form's values; `invalidAttributes` with `details["fieldErrors"]` when some need correcting."""
    try:
        return await _handle(client, sign_up_id).execute_update(
            SignUpWorkflow.submit_attributes, SignUpAttributes(values=values))
    except UPDATE_ERRORS as error:
        raise failure(error) from error


async def status(client: Client, workflow_id: str) -> SignUpStatus:
    """The running sign-up's status (its `status` query); `serviceUnavailable` when the run
    cannot be reached (the SignUp row then has the last word)."""
    try:
        return await client.get_workflow_handle_for(SignUpWorkflow.run, workflow_id).query(SignUpWorkflow.status)
    except RPCError as error:
        raise failure(error) from error


async def _row(sign_up_id: str) -> SignUp | None:
    async with reading() as session:
        row = await session.get(SignUp, sign_up_id)
        return SignUp.model_validate(row.model_dump()) if row else None


async def decide(client: Client, sign_up_id: str, decision: SignUpDecision) -> SignUpStatus:
    try:
        return await _handle(client, sign_up_id).execute_update(SignUpWorkflow.decide, decision)
    except UPDATE_ERRORS as error:
        if not run_closed(error):
            raise failure(error) from error
    row = await _row(sign_up_id)
    recorded = DECIDED.get(row.state) if row else None
    if recorded is None:
        raise Refused("signUpNotPending", "this sign-up is not waiting for approval", status_hint=409)
    if recorded != decision.decision:
        raise Refused("conflictingDecision", f"this sign-up was already decided: {recorded}")
    return SignUpStatus(state=row.state, decision=recorded, user_id=row.user_id, message=row.reason)


async def record_verification(client: Client, sign_up_id: str, result: SignUpVerification) -> SignUpStatus:
    try:
        return await _handle(client, sign_up_id).execute_update(SignUpWorkflow.verification_result, result)
    except UPDATE_ERRORS as error:
        if run_closed(error):
            raise Refused("signUpNotPending", "this sign-up is no longer waiting", status_hint=409) from error
        raise failure(error) from error
