"""Starting and steering SignInWorkflows: used by the sign-in page. Every failure is raised as
`Refused`: `invalidRequest` for an address the workflow will not take, `signInEnded` when the
attempt has ended (locked, used, older than 15 minutes, or never existed), a transient 5xx when
the workflow service did not answer."""

from temporalio.client import (
    Client, WithStartWorkflowOperation, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from foyer.errors import Refused
from foyer.settings import get_settings
from foyer.workflows.client.failures import refusal, refused_or_failed, run_closed
from foyer.workflows.messages.sign_in import (
    CodeChecked, CodeIssued, CodeRequest, SignInInput, VerifyRequest, sign_in_workflow_id,
)
from foyer.workflows.sign_in import SignInWorkflow

# The SignInWorkflow's own refusal, besides the shared table (foyer.errors.REFUSAL_STATUS).
EXTRA_STATUS = {"signInEnded": 409}
UPDATE_ERRORS = (WorkflowUpdateFailedError, RPCError, WorkflowUpdateRPCTimeoutOrCancelledError)


def _ended() -> Refused:
    return Refused("signInEnded", "this sign-in attempt has ended; ask for a new code", status_hint=409)


async def request_code(client: Client, challenge_id: str, organization_id: str,
                       request: CodeRequest) -> CodeIssued:
    """Start the attempt's workflow with its code request (update-with-start: one new run per
    challenge). The answer is the same whether or not the address belongs to someone."""
    operation = WithStartWorkflowOperation(
        SignInWorkflow.run, SignInInput(challenge_id=challenge_id, organization_id=organization_id),
        id=sign_in_workflow_id(challenge_id), task_queue=get_settings().task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
    try:
        return await client.execute_update_with_start_workflow(
            SignInWorkflow.request_code, request, start_workflow_operation=operation)
    except UPDATE_ERRORS as error:
        raise refusal(error, also=EXTRA_STATUS) or refused_or_failed(error) from error


async def verify(client: Client, challenge_id: str) -> CodeChecked:
    """Sign in with the challenge whose code the page recorded as accepted
    (foyer.usecases.sign_in.record_sign_in_code_attempt)."""
    handle = client.get_workflow_handle_for(SignInWorkflow.run, sign_in_workflow_id(challenge_id))
    try:
        return await handle.execute_update(SignInWorkflow.verify, VerifyRequest())
    except UPDATE_ERRORS as error:
        if run_closed(error):
            raise _ended() from error
        raise refusal(error, also=EXTRA_STATUS) or refused_or_failed(error) from error
