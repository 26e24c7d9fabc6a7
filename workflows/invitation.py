"""InvitationWorkflow: one per (organization, email address).

Its id is the business key `invitation:{organization_id}:{address key}` (a stable digest of the
address: ids carry no personal data; see `invitation_workflow_id`), so inviting one address twice
reaches the same workflow: the second invitation supersedes the first (fresh link, the old one
stops working) instead of making a second guest. It records the guest, mails the invitation,
reminds, expires the link at the invitation's deadline, hands out passcodes and redeems.
Decisions that need an answer (invite, request a passcode, redeem, revoke) are Updates.
Nothing secret enters its history: the link id is drawn inside `record_invitation` and stays in
the invitation row (the workflow holds the link token's digest), and a typed passcode is checked
by the page against the database (`record_passcode_attempt`) before `redeem` is asked.
"""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from foyer.workflows.messages.invitation import (
        CarriedState, InvitationEventInput, InvitationMailInput, InvitationSpec, InvitationStatus,
        InvitationWorkflowInput, InviteResult, IssuePasscodeInput, PasscodeIssued, PasscodeRequest,
        RecordInvitationInput, RedeemFederatedInput, RedeemInput, RedeemOutcome, RedeemRequest, RevokeRequest,
    )
    from foyer.workflows.retries import DB_RETRY, DB_TIMEOUT, HEARTBEAT_TIMEOUT, MAIL_RETRY
    from foyer.activities import invitations as acts

MAIL_TIMEOUT = timedelta(seconds=60)
FIRST_INVITE_WAIT = timedelta(minutes=10)
PASSCODE_MAIL_TIMEOUT = timedelta(seconds=20)
PASSCODE_MAIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=4)


@workflow.defn
class InvitationWorkflow:
    def __init__(self) -> None:
        self.status = InvitationStatus(state="new")
        self.spec: InvitationSpec | None = None
        self.reminders_at: list[datetime] = []
        self.mail_due: list[InvitationMailInput] = []
        self.lock = asyncio.Lock()

    @workflow.run
    async def run(self, data: InvitationWorkflowInput) -> InvitationStatus:
        if data.carried is not None:
            self.status = data.carried.status
            self.spec = data.carried.spec
            self.reminders_at = list(data.carried.reminders_at)
            self.mail_due = list(data.carried.mail_due)
        try:
            await workflow.wait_condition(lambda: self.status.state != "new", timeout=FIRST_INVITE_WAIT)
        except asyncio.TimeoutError:
            # The first invitation was refused (policy, unknown user…): nothing to look after.
            return self.status
        while self.status.state == "pending":
            if workflow.info().is_continue_as_new_suggested():
                # Many passcode requests over a long lifetime: keep each run's history small.
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(InvitationWorkflowInput(
                    organization_id=data.organization_id, email=data.email,
                    carried=CarriedState(status=self.status, spec=self.spec,
                                         reminders_at=self.reminders_at, mail_due=self.mail_due)))
            while self.mail_due:
                await self._send(self.mail_due.pop(0))
            if self.status.state != "pending":
                break
            now = workflow.now()
            if now >= self.status.expires_at:
                await self._expire()
                break
            if self.reminders_at and now >= self.reminders_at[0]:
                self.reminders_at.pop(0)
                self.status.reminders_sent += 1
                if self.spec and self.spec.send_invitation_message:
                    self.mail_due.append(InvitationMailInput(
                        invitation_id=self.status.invitation_id, kind="reminder",
                        sequence=self.status.reminders_sent))
                continue
            wake = min([self.status.expires_at, *self.reminders_at[:1]])
            current = self.status.invitation_id
            try:
                await workflow.wait_condition(
                    lambda: bool(self.mail_due) or self.status.state != "pending"
                    or self.status.invitation_id != current,
                    timeout=max(wake - now, timedelta(seconds=1)),
                )
            except asyncio.TimeoutError:
                pass
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    async def _send(self, request: InvitationMailInput) -> None:
        await workflow.execute_activity(
            acts.send_invitation_mail, request, start_to_close_timeout=MAIL_TIMEOUT,
            heartbeat_timeout=HEARTBEAT_TIMEOUT, retry_policy=MAIL_RETRY)

    async def _expire(self) -> None:
        await workflow.execute_activity(
            acts.expire_invitation,
            InvitationEventInput(invitation_id=self.status.invitation_id,
                                 workflow_id=workflow.info().workflow_id),
            start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
        self.status.state = "expired"

    # --- updates ------------------------------------------------------------------------------

    @workflow.update
    async def invite(self, spec: InvitationSpec) -> InviteResult:
        async with self.lock:
            # Local: the update (and so POST /invitations) is answered in the same workflow task.
            recorded = await workflow.execute_local_activity(
                acts.record_invitation,
                RecordInvitationInput(spec=spec, workflow_id=workflow.info().workflow_id,
                                      issued_at=workflow.now()),
                start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
            self.spec = spec
            self.status = InvitationStatus(
                state="redeemed" if recorded.status == "Completed" else "pending",
                invitation_id=recorded.invitation_id, user_id=recorded.user_id,
                expires_at=recorded.expires_at,
                link_token_hash=recorded.link_token_hash,
            )
            self.reminders_at = list(recorded.reminders_at)
            if recorded.outbox_key:
                queued = InvitationMailInput(invitation_id=recorded.invitation_id, outbox_key=recorded.outbox_key)
                if recorded.status == "Completed":
                    # The run ends right away: mail now rather than from the main loop.
                    await self._send(queued)
                else:
                    self.mail_due.append(queued)
            return InviteResult(invitation_id=recorded.invitation_id, user_id=recorded.user_id,
                                status=recorded.status)

    @invite.validator
    def _validate_invite(self, spec: InvitationSpec) -> None:
        if self.status.state not in ("new", "pending"):
            # The run is finishing; the API retries and reaches the next run.
            raise ApplicationError("this invitation run has ended", type="runEnded")

    @workflow.update
    async def request_passcode(self, request: PasscodeRequest) -> PasscodeIssued:
        return await workflow.execute_activity(
            acts.issue_passcode,
            IssuePasscodeInput(invitation_id=self.status.invitation_id, challenge_id=request.challenge_id,
                               client=request.client),
            # Someone is waiting at the page: give up after a short while rather than hang.
            schedule_to_close_timeout=PASSCODE_MAIL_TIMEOUT, retry_policy=PASSCODE_MAIL_RETRY)

    @request_passcode.validator
    def _validate_passcode_request(self, request: PasscodeRequest) -> None:
        self._check_link(request.link_token_hash)

    @workflow.update
    async def redeem(self, request: RedeemRequest) -> RedeemOutcome:
        # One redemption at a time: of two concurrent attempts on one link, exactly one wins.
        async with self.lock:
            if self.status.state != "pending":
                return RedeemOutcome(outcome="notPending")
            # A request's kind of proof decides the activity; requests in recorded histories all
            # carry a passcode challenge, so they replay the same commands.
            if request.federation_attempt_id:
                outcome = await workflow.execute_activity(
                    acts.redeem_with_federated_identity,
                    RedeemFederatedInput(invitation_id=self.status.invitation_id,
                                         federation_attempt_id=request.federation_attempt_id,
                                         workflow_id=workflow.info().workflow_id),
                    start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
            else:
                outcome = await workflow.execute_activity(
                    acts.redeem_with_passcode,
                    RedeemInput(invitation_id=self.status.invitation_id, challenge_id=request.challenge_id,
                                workflow_id=workflow.info().workflow_id),
                    start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
            if outcome.outcome == "redeemed":
                self.status.state = "redeemed"
            return outcome

    @redeem.validator
    def _validate_redeem(self, request: RedeemRequest) -> None:
        self._check_link(request.link_token_hash)

    @workflow.update
    async def revoke(self, request: RevokeRequest) -> InvitationStatus:
        async with self.lock:
            if self.status.state == "pending":
                await workflow.execute_activity(
                    acts.revoke_invitation,
                    InvitationEventInput(invitation_id=self.status.invitation_id,
                                         workflow_id=workflow.info().workflow_id,
                                         actor_id=request.actor_id, actor_name=request.actor_name,
                                         reason=request.reason),
                    start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
                self.status.state = "revoked"
            return self.status

    @revoke.validator
    def _validate_revoke(self, request: RevokeRequest) -> None:
        if self.status.state != "pending":
            raise ApplicationError("the invitation is not pending", type="invitationNotPending")
        if request.invitation_id and request.invitation_id != self.status.invitation_id:
            raise ApplicationError("the invitation was superseded by a newer one",
                                   type="invitationNotPending")

    def _check_link(self, link_token_hash: str) -> None:
        if self.status.state != "pending" or link_token_hash != self.status.link_token_hash:
            raise ApplicationError("this invitation link is no longer valid", type="linkNotValid")

    @workflow.query
    def current(self) -> InvitationStatus:
        return self.status

