"""SignInWorkflow: one email one-time-passcode sign-in attempt to Foyer's pages.

One per attempt, id `signin:{digest of the challenge id}`, short-lived: the Update `request_code`
records the challenge and (for a user who may sign in) mints and mails an 8-digit code; the page
checks a typed code against the database (`record_sign_in_code_attempt`, so the code never enters
history; five wrong tries lock it there) and, once a code is accepted, the Update `verify` signs
in. The run ends on success or after fifteen minutes. Only the code's keyed digest is stored.
"""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from foyer.activities import sign_in as acts
    from foyer.rules.emails import is_email_address
    from foyer.workflows.messages.sign_in import (
        CodeChecked, CodeIssued, CodeRequest, IssueCodeInput, SignInInput, SignInStatus, VerifyCodeInput,
        VerifyRequest,
    )

LIFETIME = timedelta(minutes=15)
DB_TIMEOUT = timedelta(seconds=30)
DB_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10),
                       maximum_attempts=10)
MAIL_TIMEOUT = timedelta(seconds=30)
# Someone is waiting for this mail: a few tries, then they ask for a new code.
MAIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30),
                         maximum_attempts=6)
ENDED = ("signedIn", "locked", "refused", "expired")


@workflow.defn
class SignInWorkflow:
    @workflow.init
    def __init__(self, data: SignInInput) -> None:
        # The code request arrives with the start (update-with-start) and may run before `run`.
        self.status = SignInStatus(state="new")
        self.mail_due: list[str] = []
        self.lock = asyncio.Lock()
        self.challenge_id = data.challenge_id
        self.organization_id = data.organization_id

    @workflow.run
    async def run(self, data: SignInInput) -> SignInStatus:
        deadline = workflow.now() + LIFETIME
        while self.status.state not in ENDED:
            while self.mail_due:
                key = self.mail_due.pop(0)
                try:
                    await workflow.execute_activity(
                        acts.deliver_sign_in_mail, key, start_to_close_timeout=MAIL_TIMEOUT,
                        retry_policy=MAIL_RETRY)
                except ActivityError:
                    workflow.logger.warning("sign-in code mail %s could not be delivered", key)
            remaining = deadline - workflow.now()
            if remaining <= timedelta(0):
                break
            try:
                await workflow.wait_condition(
                    lambda: bool(self.mail_due) or self.status.state in ENDED, timeout=remaining)
            except asyncio.TimeoutError:
                break
        if self.status.state not in ENDED:
            self.status.state = "expired"
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    @workflow.update
    async def request_code(self, request: CodeRequest) -> CodeIssued:
        async with self.lock:
            issued = await workflow.execute_activity(
                acts.issue_sign_in_code,
                IssueCodeInput(challenge_id=self.challenge_id, organization_id=self.organization_id,
                               email=request.email, client=request.client,
                               known_device=request.known_device),
                start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
            if issued.outcome != "issued":
                self.status.state = "refused"
                return issued
            self.status.state = "codeSent"
            if issued.mail_key:
                self.mail_due.append(issued.mail_key)
            # The answer never says whether a mail is on its way.
            return issued.model_copy(update={"mail_key": None})

    @request_code.validator
    def _validate_request_code(self, request: CodeRequest) -> None:
        if self.status.state != "new":
            raise ApplicationError("a code was already asked for in this sign-in attempt",
                                   type="signInEnded")
        if not is_email_address(request.email):
            raise ApplicationError("enter an email address", type="invalidRequest")

    @workflow.update
    async def verify(self, request: VerifyRequest) -> CodeChecked:
        # One check at a time: the wrong-try count cannot be raced past.
        async with self.lock:
            if self.status.state != "codeSent":
                return CodeChecked(outcome="codeLocked" if self.status.state == "locked" else "unknownChallenge",
                                   attempts_left=0)
            checked = await workflow.execute_activity(
                acts.verify_sign_in_code,
                VerifyCodeInput(challenge_id=self.challenge_id),
                start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
            if checked.outcome == "signedIn":
                self.status = SignInStatus(state="signedIn", user_id=checked.user_id)
            elif checked.outcome in ("codeLocked", "codeExpired", "unknownChallenge"):
                self.status.state = "locked"
            return checked

    @verify.validator
    def _validate_verify(self, request: VerifyRequest) -> None:
        if self.status.state != "codeSent":
            raise ApplicationError("this sign-in attempt has ended; ask for a new code",
                                   type="signInEnded")

    @workflow.query
    def current(self) -> SignInStatus:
        return self.status
