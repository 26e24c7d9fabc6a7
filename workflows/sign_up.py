"""SignUpWorkflow: one self-service sign-up attempt through a user flow, id `signup:{sign_up_id}`.

Started by the page with the Update `request_code` (update-with-start, as sign-in is): the policy
and flow checks, then an 8-digit code mailed — or, for an address already in the directory, a mail
saying so and pointing to sign-in, with no code that works (the page cannot tell the two apart).
The page checks a typed code against the database (so it never enters history); `verify` then acts
on what was recorded and runs the flow's `postFederationSignup` API
connector; `submit_attributes` (validated against the flow's attribute assignments) runs
`postAttributeCollection`. Up to here the attempt lives an hour at most.

Then the durable part, as the flow configures it: identity verification (the verifier may answer
Pending; the workflow waits until its timeout for the signed callback, the Update
`verification_result`), and approval (`pendingApproval`: the external approval system is told,
approvers are mailed and reminded every `reminderInterval`, the Update `decide` records a
decision, the timeout denies). Approve (or no approval) → the guest is created and welcomed;
deny → the person is mailed, nothing is created. Every step writes the SignUp row and an audit
record. A long approval wait continues as new every REMINDERS_PER_RUN reminders (or when Temporal
suggests it), carrying what it needs.
"""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from foyer.activities import api_connectors
    from foyer.activities import sign_up as acts
    from foyer.durations import parse_duration
    from foyer.rules.emails import is_email_address
    from foyer.sign_up_forms import check, overwrite
    from foyer.workflows.messages.sign_up import (
        CheckCodeInput, ConnectorCall, ConnectorOutcome, GuestInput, SignUpAttributes, SignUpCarried,
        SignUpCodeRequest, SignUpDecision, SignUpFlow, SignUpInput, SignUpMailInput, SignUpStatus, SignUpStep,
        SignUpVerification, StartSignUpInput,
    )
    from foyer.workflows.messages.sign_in import VerifyRequest
    from foyer.workflows.retries import DB_RETRY, DB_TIMEOUT, MAIL_RETRY

# Before the durable steps: the code, the form and the connectors take an hour at most.
LIFETIME = timedelta(hours=1)
MAIL_TIMEOUT = timedelta(seconds=30)
CODE_MAIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30),
                              maximum_attempts=6)
# The person is waiting: a connector is called once; the activity turns any failure into block.
CONNECTOR_RETRY = RetryPolicy(maximum_attempts=1)
CONNECTOR_TIMEOUT = timedelta(minutes=2)
DEFAULT_VERIFICATION_TIMEOUT = "P1D"
DEFAULT_APPROVAL_TIMEOUT = "P14D"
# A long approval wait continues as new after this many reminders in one run (or sooner, when
# Temporal suggests it): each run's history stays small however long the wait and however often
# approvers are reminded. The next run carries the deadline and the reminders already sent.
REMINDERS_PER_RUN = 10
ENDED = ("completed", "denied", "blocked", "expired", "existingUser", "refused", "tooManyRequests")
# Where a submission's Update may return: the person's next page.
SETTLED = ("collectingAttributes", "verifying", "pendingApproval", *ENDED)
REFUSED = {"existingUser": "existingUser", "notAllowed": "refused", "flowNotFound": "refused",
           "tooManyRequests": "tooManyRequests"}
BLOCKED_MESSAGE = "We can't complete your sign-up right now. Please try again later."


@workflow.defn
class SignUpWorkflow:
    @workflow.init
    def __init__(self, data: SignUpInput) -> None:
        self.sign_up_id = data.sign_up_id
        self.organization_id = data.organization_id
        self.user_flow_id = data.user_flow_id
        self.lock = asyncio.Lock()
        self.mail_due: list[str] = []
        carried = data.carried
        self.flow: SignUpFlow | None = carried.flow if carried else None
        self.email = carried.email if carried else ""
        self.status = SignUpStatus(state="pendingApproval" if carried else "started",
                                   attributes=carried.attributes if carried else {})
        self.accepted = carried is not None  # attributes accepted: the durable part may begin
        self.decision: SignUpDecision | None = None
        self.verification: SignUpVerification | None = None
        self.verification_open = False
        self.approval_deadline = carried.approval_deadline if carried else None
        self.reminders_sent = carried.reminders_sent if carried else 0
        self.reminders_before_run = self.reminders_sent
        # A federated sign-up's identities (its provider's issuer and subject); else the email's.
        self.identities: list[dict] | None = carried.identities if carried else None

    # --- the run -------------------------------------------------------------------------

    @workflow.run
    async def run(self, data: SignUpInput) -> SignUpStatus:
        if data.carried is None:
            await self._until_attributes_accepted()
            if self.status.state not in ENDED and self.flow.identity_verification:
                await self._identity_verification()
            if self.status.state not in ENDED and self.flow.approval:
                await self._open_approval()
        if self.status.state == "pendingApproval":
            await self._wait_for_decision()
        if self.status.state not in ENDED:
            await self._create_guest()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    async def _until_attributes_accepted(self) -> None:
        deadline = workflow.now() + LIFETIME
        while not self.accepted and self.status.state not in ENDED:
            while self.mail_due:
                key = self.mail_due.pop(0)
                try:
                    await workflow.execute_activity(acts.deliver_sign_up_mail, key,
                                                    start_to_close_timeout=MAIL_TIMEOUT,
                                                    retry_policy=CODE_MAIL_RETRY)
                except ActivityError:
                    workflow.logger.warning("sign-up code mail %s could not be delivered", key)
            remaining = deadline - workflow.now()
            if remaining <= timedelta(0):
                break
            try:
                await workflow.wait_condition(
                    lambda: bool(self.mail_due) or self.accepted or self.status.state in ENDED,
                    timeout=remaining)
            except asyncio.TimeoutError:
                break
        if not self.accepted and self.status.state not in ENDED:
            async with self.lock:
                if not self.accepted and self.status.state not in ENDED:
                    self.status.state = "expired"
                    self.status.message = "This sign-up took longer than an hour. Start again."
                    if self.flow is not None:  # a code was sent: there is a row to end
                        await self._record("expired", "Sign-up expired before the form was sent",
                                           state="expired", reason=self.status.message, result="failure")

    async def _identity_verification(self) -> None:
        settings = self.flow.identity_verification or {}
        self.verification_open = True
        outcome = await self._connector(settings.get("apiConnectorId"), "identityVerification")
        if outcome.action == "continue":
            self.verification = self.verification or SignUpVerification(outcome="verified")
        elif outcome.action == "pending" and self.verification is None:
            timeout = parse_duration(settings.get("timeout") or DEFAULT_VERIFICATION_TIMEOUT)
            await self._record("verifying", "Identity verification pending", state="verifying",
                               verification_reference=outcome.reference,
                               details={"reference": outcome.reference})
            self.status.state = "verifying"  # after the row: the page's answer is already readable
            try:
                await workflow.wait_condition(lambda: self.verification is not None, timeout=timeout)
            except asyncio.TimeoutError:
                self.verification_open = False
                self.status.state = "expired"
                self.status.message = "Your identity could not be verified in time."
                await self._record("verificationExpired", "Identity verification expired",
                                   state="expired", reason=self.status.message, result="failure")
                await self._mail("expired")
                return
        elif outcome.action != "pending":
            self.verification_open = False
            await self._block(outcome, "verificationBlocked")
            return
        self.verification_open = False
        verdict = self.verification
        if verdict.outcome != "verified":
            self.status.state = "blocked"
            self.status.message = verdict.message or "Your identity could not be verified."
            await self._record("verificationFailed", "Identity verification failed", state="blocked",
                               reason=self.status.message, result="failure",
                               verification_reference=verdict.reference)
            # The verifying page promises a mail if the verification cannot be completed.
            await self._mail("unverified", reason=self.status.message)
            return
        self.status.verification = "verified"
        await self._record("verified", "Identity verified", verification_reference=verdict.reference,
                           details={"reference": verdict.reference})
        if self.status.state == "verifying":
            self.status.state = "submitted"

    async def _open_approval(self) -> None:
        settings = self.flow.approval or {}
        timeout = parse_duration(settings.get("timeout") or DEFAULT_APPROVAL_TIMEOUT)
        self.approval_deadline = workflow.now() + timeout
        await self._record("pendingApproval", "Sign-up waits for approval", state="pendingApproval",
                           details={"deadline": self.approval_deadline.isoformat()})
        self.status.state = "pendingApproval"
        if settings.get("apiConnectorId"):
            # Fire and forget: a system that cannot be told is audited; a human may still decide.
            outcome = await self._connector(settings["apiConnectorId"], "approvalRequested")
            if outcome.action not in ("continue", "pending"):
                await self._record("approvalRequestFailed", "External approval system not reached",
                                   result="failure", reason=outcome.detail or outcome.user_message)
        await self._mail("approvalNotice")

    async def _wait_for_decision(self) -> None:
        settings = self.flow.approval or {}
        timeout = parse_duration(settings.get("timeout") or DEFAULT_APPROVAL_TIMEOUT)
        interval = parse_duration(settings["reminderInterval"]) if settings.get("reminderInterval") else None
        opened = self.approval_deadline - timeout
        while self.decision is None:
            now = workflow.now()
            if now >= self.approval_deadline:
                self.decision = SignUpDecision(decision="deny", actor_id="foyer", actor_name="Foyer",
                                               via="timeout", reason="No decision was made in time.")
                break
            wake = self.approval_deadline
            reminder_at = opened + interval * (self.reminders_sent + 1) if interval else None
            if reminder_at is not None and reminder_at < wake:
                wake = reminder_at
            try:
                await workflow.wait_condition(lambda: self.decision is not None, timeout=wake - now)
            except asyncio.TimeoutError:
                pass
            if self.decision is None and reminder_at is not None \
                    and workflow.now() >= reminder_at and workflow.now() < self.approval_deadline:
                self.reminders_sent += 1
                await self._mail("approvalReminder", number=self.reminders_sent)
                if workflow.info().is_continue_as_new_suggested() \
                        or self.reminders_sent - self.reminders_before_run >= REMINDERS_PER_RUN:
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    if self.decision is None:
                        workflow.continue_as_new(SignUpInput(
                            sign_up_id=self.sign_up_id, organization_id=self.organization_id,
                            user_flow_id=self.flow.id, carried=SignUpCarried(
                                flow=self.flow, email=self.email, attributes=self.status.attributes,
                                approval_deadline=self.approval_deadline,
                                reminders_sent=self.reminders_sent, identities=self.identities)))
        decision = self.decision
        self.status.decision = decision.decision
        if decision.decision == "approve":
            self.status.state = "submitted"
            await self._record("approved", "Approve self-service sign-up", reason=decision.reason,
                               decided_by_id=decision.actor_id, decided_by_name=decision.actor_name,
                               details={"via": decision.via})
            return
        self.status.state = "denied"
        self.status.message = decision.reason
        await self._record("denied", "Deny self-service sign-up", state="denied", reason=decision.reason,
                           decided_by_id=decision.actor_id, decided_by_name=decision.actor_name,
                           result="failure", details={"via": decision.via})
        await self._mail("denied", reason=decision.reason)

    async def _create_guest(self) -> None:
        user_id = await workflow.execute_activity(
            acts.create_sign_up_guest, GuestInput(sign_up_id=self.sign_up_id, flow=self.flow,
                                                   attributes=self.status.attributes),
            start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
        self.status.user_id = user_id
        self.status.state = "completed"

    # --- the person's steps ----------------------------------------------------------------

    @workflow.update
    async def request_code(self, request: SignUpCodeRequest) -> SignUpStatus:
        async with self.lock:
            started = await workflow.execute_activity(
                acts.start_sign_up, StartSignUpInput(
                    sign_up_id=self.sign_up_id, organization_id=self.organization_id,
                    user_flow_id=self.user_flow_id, email=request.email, client=request.client,
                    known_device=request.known_device, federation_attempt_id=request.federation_attempt_id),
                start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
            if started.outcome != "issued":
                self.status.state = REFUSED.get(started.outcome, "refused")
                self.status.message = started.message
                return self.status
            self.flow = started.flow
            self.identities = started.identities
            self.email = request.email.strip().lower()
            self.status.state = "codeSent"
            if started.mail_key:
                self.mail_due.append(started.mail_key)
            return self.status

    @request_code.validator
    def _validate_request_code(self, request: SignUpCodeRequest) -> None:
        if self.status.state != "started":
            raise ApplicationError("a code was already asked for in this sign-up", type="signUpEnded")
        if not is_email_address(request.email):
            raise ApplicationError("enter an email address", type="invalidRequest")

    @workflow.update
    async def verify(self, request: VerifyRequest) -> SignUpStatus:
        async with self.lock:
            if self.status.state != "codeSent":
                return self.status
            verdict = await workflow.execute_activity(
                acts.check_sign_up_code, CheckCodeInput(sign_up_id=self.sign_up_id),
                start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
            if verdict.outcome == "wrongCode":
                self.status.attempts_left = verdict.attempts_left
                return self.status.model_copy(update={"message": "That code is not right."})
            if verdict.outcome != "verified":
                self.status.state = "expired"
                self.status.message = ("That code has expired." if verdict.outcome == "codeExpired"
                                       else "Too many wrong tries for this code.") + " Start again."
                await self._record("codeLocked", "Sign-up code refused", state="expired",
                                   reason=self.status.message, result="failure")
                return self.status
            self.status.attempts_left = None
            connector_id = self.flow.post_federation_signup_connector_id
            if connector_id:
                outcome = await self._connector(connector_id, "postFederationSignup")
                if outcome.action != "continue":  # validationError means nothing here: block
                    await self._block(outcome, "postFederationSignupBlocked")
                    return self.status
            self.status.state = "collectingAttributes"
            await self._record("codeVerified", "Sign-up email verified", state="collectingAttributes")
            return self.status

    @verify.validator
    def _validate_verify(self, request: VerifyRequest) -> None:
        if self.status.state != "codeSent":
            raise ApplicationError("this sign-up is past its code", type="signUpEnded")

    @workflow.update
    async def submit_attributes(self, submission: SignUpAttributes) -> SignUpStatus:
        async with self.lock:
            if self.status.state != "collectingAttributes":
                return self.status
            values, _ = check(self.flow.assignments, submission.values)
            connector_id = self.flow.post_attribute_collection_connector_id
            if connector_id:
                outcome = await self._connector(connector_id, "postAttributeCollection", values)
                if outcome.action == "validationError":
                    self.status.attributes = values
                    return self.status.model_copy(update={"message": outcome.user_message})
                if outcome.action != "continue":
                    self.status.attributes = values
                    await self._block(outcome, "postAttributeCollectionBlocked")
                    return self.status
                values = overwrite(self.flow.assignments, values, outcome.attributes)
            self.status.attributes = values
            self.status.message = None
            self.status.state = "submitted"
            self.accepted = True
            await self._record("attributesSubmitted", "Sign-up attributes collected", attributes=values)
        await workflow.wait_condition(lambda: self.status.state in SETTLED)
        return self.status

    @submit_attributes.validator
    def _validate_submit(self, submission: SignUpAttributes) -> None:
        if self.status.state != "collectingAttributes":
            raise ApplicationError("this sign-up is not waiting for its form", type="signUpEnded")
        _, errors = check(self.flow.assignments, submission.values)
        if errors:
            raise ApplicationError("some fields need correcting", {"fieldErrors": errors},
                                   type="invalidAttributes")

    # --- external systems and approvers ------------------------------------------------------

    @workflow.update
    async def verification_result(self, result: SignUpVerification) -> SignUpStatus:
        if self.verification is None:
            self.verification = result
        return self.status.model_copy(update={"verification": self.verification.outcome})

    @verification_result.validator
    def _validate_verification(self, result: SignUpVerification) -> None:
        if result.outcome not in ("verified", "failed"):
            raise ApplicationError("outcome must be verified or failed", type="invalidRequest")
        if self.verification is not None:
            if self.verification.outcome != result.outcome:
                raise ApplicationError(f"the verification was already recorded as "
                                       f"{self.verification.outcome}", type="conflictingDecision")
            return
        # The verifier may answer before the workflow has read its Pending: keep the answer.
        if not self.verification_open:
            raise ApplicationError("this sign-up is not waiting for a verification",
                                   type="signUpNotPending")

    @workflow.update
    async def decide(self, decision: SignUpDecision) -> SignUpStatus:
        if self.decision is None:
            self.decision = decision
        return self.status.model_copy(update={"decision": self.decision.decision})

    @decide.validator
    def _validate_decide(self, decision: SignUpDecision) -> None:
        if decision.decision not in ("approve", "deny"):
            raise ApplicationError("decision must be approve or deny", type="invalidRequest")
        settings = (self.flow.approval if self.flow else None) or {}
        if decision.via == "connector":
            if not settings.get("apiConnectorId"):
                raise ApplicationError("this flow has no external approval system", type="notAnApprover")
        elif not decision.is_admin and decision.actor_id not in (settings.get("approverIds") or []):
            raise ApplicationError("you are not an approver of this sign-up", type="notAnApprover")
        if self.decision is not None:
            if self.decision.decision != decision.decision:
                raise ApplicationError(f"this sign-up was already decided: {self.decision.decision}",
                                       type="conflictingDecision")
            return
        if self.status.state != "pendingApproval":
            raise ApplicationError("this sign-up is not waiting for approval", type="signUpNotPending")

    @workflow.query
    def status(self) -> SignUpStatus:
        return self.status

    # --- helpers ----------------------------------------------------------------------------

    def _payload(self, attributes: dict | None = None) -> dict:
        return {"email": self.email,
                "identities": self.identities or [{"signInType": "emailAddress", "issuer": self.flow.organization_domain,
                                                   "issuerAssignedId": self.email}],
                **(attributes if attributes is not None else self.status.attributes),
                "ui_locales": "en-US", "client_id": self.flow.id}

    async def _connector(self, connector_id: str | None, step: str,
                         attributes: dict | None = None) -> ConnectorOutcome:
        if not connector_id:
            return ConnectorOutcome(action="block", user_message=BLOCKED_MESSAGE,
                                    detail=f"no API connector configured for {step}")
        try:
            return await workflow.execute_activity(
                api_connectors.call_api_connector, ConnectorCall(
                    connector_id=connector_id, step=step, sign_up_id=self.sign_up_id,
                    user_flow_id=self.flow.id, payload=self._payload(attributes)),
                result_type=ConnectorOutcome, start_to_close_timeout=CONNECTOR_TIMEOUT,
                retry_policy=CONNECTOR_RETRY)
        except ActivityError as error:
            return ConnectorOutcome(action="block", user_message=BLOCKED_MESSAGE,
                                    detail=f"the connector call failed: {error.cause or error}")

    async def _block(self, outcome: ConnectorOutcome, step: str) -> None:
        self.status.state = "blocked"
        self.status.message = outcome.user_message or BLOCKED_MESSAGE
        await self._record(step, "Sign-up blocked", state="blocked", reason=self.status.message,
                           result="failure", details={"detail": outcome.detail})

    async def _record(self, step: str, activity: str, **fields) -> None:
        await workflow.execute_activity(
            acts.record_sign_up_step, SignUpStep(
                sign_up_id=self.sign_up_id, organization_id=self.organization_id, step=step,
                activity=activity, **fields),
            start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)

    async def _mail(self, kind: str, number: int = 0, reason: str | None = None) -> None:
        try:
            await workflow.execute_activity(
                acts.mail_sign_up, SignUpMailInput(sign_up_id=self.sign_up_id, kind=kind, flow=self.flow,
                                                   number=number, reason=reason),
                start_to_close_timeout=MAIL_TIMEOUT, retry_policy=MAIL_RETRY)
        except ActivityError:
            workflow.logger.warning("sign-up mail %s for %s could not be delivered", kind, self.sign_up_id)
