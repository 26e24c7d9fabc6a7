"""Sign-up decisions and verification outcomes, sent to a SignUpWorkflow as Updates; shared by
the Graph-shaped API (approvers, external systems' callbacks) and the approval page.

A workflow that has already ended answers from the SignUp row: the same decision as the one
recorded is accepted again (the recorded decision); anything else is refused (409).
"""

from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from foyer.db import reading
from foyer.errors import Refused
from models.sign_up import SignUp
from workflows.client.failures import refusal
from workflows.messages.sign_up import SignUpDecision, SignUpStatus, SignUpVerification, sign_up_workflow_id
from workflows.sign_up import SignUpWorkflow

DECIDED = {"completed": "approve", "denied": "deny"}
# The SignUpWorkflow's own refusals, besides the shared table (foyer.errors.REFUSAL_STATUS).
EXTRA_STATUS = {"signUpNotPending": 409, "invalidAttributes": 400, "signUpEnded": 409}


def failure(error: BaseException) -> Refused:
    return refusal(error, also=EXTRA_STATUS) or Refused(
        "serviceUnavailable", "the sign-up could not be reached; try again", status_hint=503)


def _closed(error: BaseException) -> bool:
    return isinstance(error, RPCError) and error.status in (RPCStatusCode.NOT_FOUND,
                                                            RPCStatusCode.FAILED_PRECONDITION) \
        or "already completed" in str(error)


async def _row(sign_up_id: str) -> SignUp | None:
    async with reading() as session:
        row = await session.get(SignUp, sign_up_id)
        return SignUp.model_validate(row.model_dump()) if row else None


async def decide(client: Client, sign_up_id: str, decision: SignUpDecision) -> SignUpStatus:
    handle = client.get_workflow_handle_for(SignUpWorkflow.run, sign_up_workflow_id(sign_up_id))
    try:
        return await handle.execute_update(SignUpWorkflow.decide, decision)
    except (WorkflowUpdateFailedError, RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
        if not _closed(error):
            raise failure(error) from error
    row = await _row(sign_up_id)
    recorded = DECIDED.get(row.state) if row else None
    if recorded is None:
        raise Refused("signUpNotPending", "this sign-up is not waiting for approval", status_hint=409)
    if recorded != decision.decision:
        raise Refused("conflictingDecision", f"this sign-up was already decided: {recorded}")
    return SignUpStatus(state=row.state, decision=recorded, user_id=row.user_id, message=row.reason)


async def record_verification(client: Client, sign_up_id: str, result: SignUpVerification) -> SignUpStatus:
    handle = client.get_workflow_handle_for(SignUpWorkflow.run, sign_up_workflow_id(sign_up_id))
    try:
        return await handle.execute_update(SignUpWorkflow.verification_result, result)
    except (WorkflowUpdateFailedError, RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
        if _closed(error):
            raise Refused("signUpNotPending", "this sign-up is no longer waiting", status_hint=409) from error
        raise failure(error) from error
