"""Starting and steering InvitationWorkflows: used by the API, the redemption page, campaigns,
tests and benchmarks. Every failure is raised as `Refused`."""

import asyncio

from temporalio.client import (
    Client, WithStartWorkflowOperation, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from foyer.errors import Refused
from foyer.settings import get_settings
from foyer.workflows.client.failures import refusal, refused_or_failed, unavailable, workflow_failed
from foyer.workflows.invitation import InvitationWorkflow
from foyer.workflows.messages.invitation import (
    CarriedState, InvitationSpec, InvitationStatus, InvitationWorkflowInput, InviteResult, PasscodeIssued,
    PasscodeRequest, RecordedInvitation, RedeemOutcome, RedeemRequest, RevokeRequest, invitation_workflow_id,
)


async def invite_guest(client: Client, spec: InvitationSpec) -> InviteResult:
    """Invite a guest: the one way, for `POST /v1.0/invitations` (and its resend), a campaign row
    (activities.campaigns) and bench. Update-with-start on the address's InvitationWorkflow: one
    workflow per address, however many times (or how concurrently) it is invited; the workflow
    records the invitation (the `record_invitation` activity: the guest, the row, its link, its
    mail and audit record, with the rules checked again there), then keeps its timers. Refusals
    come back as `Refused` with the Graph code."""
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
            raise found or workflow_failed(error) from error
        except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
            raise temporal_unavailable(error) from error
    raise Refused("conflict", "the invitation is changing concurrently; retry", status_hint=409)


async def start_holding(client: Client, spec: InvitationSpec, recorded: RecordedInvitation) -> bool:
    """Start the address's InvitationWorkflow with the invitation already recorded (a campaign's
    batch path records many in one transaction); False when a run for the address exists (the
    one-row path, `invite_guest`, then hands the invitation to it)."""
    try:
        await client.start_workflow(
            InvitationWorkflow.run,
            InvitationWorkflowInput(organization_id=spec.organization_id, email=spec.email, carried=CarriedState(
                status=InvitationStatus(state="pending", invitation_id=recorded.invitation_id,
                                        user_id=recorded.user_id, expires_at=recorded.expires_at,
                                        link_token_hash=recorded.link_token_hash),
                spec=spec, reminders_at=recorded.reminders_at)),
            id=invitation_workflow_id(spec.organization_id, spec.email),
            task_queue=get_settings().task_queue, id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
        return True
    except WorkflowAlreadyStartedError:
        return False


def temporal_unavailable(error: Exception) -> Refused:
    if isinstance(error, RPCError) and error.status == RPCStatusCode.NOT_FOUND:
        return Refused("invitationNotPending", "the invitation's workflow has ended")
    return unavailable(error)


async def revoke(client: Client, workflow_id: str, request: RevokeRequest) -> InvitationStatus:
    handle = client.get_workflow_handle_for(InvitationWorkflow.run, workflow_id)
    try:
        return await handle.execute_update(InvitationWorkflow.revoke, request)
    except WorkflowUpdateFailedError as error:
        raise refusal(error) or workflow_failed(error) from error
    except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
        raise temporal_unavailable(error) from error


async def request_passcode(client: Client, workflow_id: str, request: PasscodeRequest) -> PasscodeIssued:
    """Mail a one-time passcode for the redemption page's challenge. `linkNotValid` for a link
    the workflow no longer honours; the code limits' and the policy's refusals keep their codes;
    the workflow service not answering is transient (5xx)."""
    handle = client.get_workflow_handle_for(InvitationWorkflow.run, workflow_id)
    try:
        return await handle.execute_update(InvitationWorkflow.request_passcode, request)
    except (WorkflowUpdateFailedError, RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
        raise refused_or_failed(error) from error


async def redeem(client: Client, workflow_id: str, request: RedeemRequest) -> RedeemOutcome:
    """Redeem with the challenge whose code the page recorded as accepted
    (foyer.usecases.redemption.record_passcode_attempt). Refusals as for `request_passcode`."""
    handle = client.get_workflow_handle_for(InvitationWorkflow.run, workflow_id)
    try:
        return await handle.execute_update(InvitationWorkflow.redeem, request)
    except (WorkflowUpdateFailedError, RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
        raise refused_or_failed(error) from error
