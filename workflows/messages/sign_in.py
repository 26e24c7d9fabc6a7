"""The sign-in process's contract: the SignInWorkflow's input, Updates, query and results, its
activities' inputs and outputs, and its business-key workflow id."""

import hashlib
from datetime import datetime

from pydantic import BaseModel


def sign_in_workflow_id(challenge_id: str) -> str:
    # The challenge is the browser's cookie: the id shows only its digest.
    return f"signin:{hashlib.sha256(challenge_id.encode()).hexdigest()[:32]}"


# --- the workflow's input, Updates, query and results ---------------------------------------

class SignInInput(BaseModel):
    challenge_id: str
    organization_id: str


class CodeRequest(BaseModel):
    email: str
    client: str | None = None  # foyer.security.client_key of the browser asking: codes are limited per client
    known_device: bool = False  # the browser holds a valid known-device cookie for this address


class VerifyRequest(BaseModel):
    """Sent once the page has recorded the attempt in the database (the code checked there):
    the workflow acts on what was recorded, so the code never enters history. Histories recorded
    before carry a `code` field, which is ignored. (The SignUpWorkflow's `verify` takes it too.)"""


class SignInStatus(BaseModel):
    state: str  # new | codeSent | signedIn | locked | refused | expired
    user_id: str | None = None


# --- activity payloads ----------------------------------------------------------------------

class IssueCodeInput(BaseModel):
    challenge_id: str
    organization_id: str
    email: str
    client: str | None = None
    known_device: bool = False


class CodeIssued(BaseModel):
    """`issue_sign_in_code`'s result; also the `request_code` Update's."""

    # issued (whether or not the address is known: the caller cannot tell) | tooManyRequests
    outcome: str
    message: str | None = None
    mail_key: str | None = None  # set only when a mail waits in the outbox
    expires_at: datetime | None = None


class VerifyCodeInput(BaseModel):
    # No code: the page checked it (`record_sign_in_code_attempt`); this acts on what was recorded.
    challenge_id: str


class CodeChecked(BaseModel):
    # signedIn | wrongCode | codeLocked | codeExpired | unknownChallenge
    # (and, from `record_sign_in_code_attempt` only, accepted)
    outcome: str
    user_id: str | None = None
    attempts_left: int | None = None
