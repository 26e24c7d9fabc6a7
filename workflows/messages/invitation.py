"""The invitation process's contract: the InvitationWorkflow's input, Updates, query and results,
its activities' inputs and outputs, and its business-key workflow id."""

import hashlib
from datetime import datetime

from pydantic import BaseModel, Field


def address_key(organization_id: str, email: str) -> str:
    """A stable stand-in for an address in workflow ids: workflow ids are listed by the Web UI and
    kept in the visibility store, so they carry no personal data. Unkeyed on purpose: it must
    stay the same when FOYER_SECRET_KEY is rotated (the id is the invitation's business key)."""
    return hashlib.sha256(f"{organization_id}:{email.strip().lower()}".encode()).hexdigest()[:32]


def invitation_workflow_id(organization_id: str, email: str) -> str:
    """The address's InvitationWorkflow, for starting it (update-with-start). Code that acts on an
    existing invitation (revoke, passcode, redeem, user deletion) goes by the id recorded in the
    invitation row instead, so runs started under the earlier id, `invitation:{org}:{address}`,
    are still found for their own invitation; a new invitation to such an address starts a run
    under this id and supersedes theirs."""
    return f"invitation:{organization_id}:{address_key(organization_id, email)}"


# --- activity payloads ----------------------------------------------------------------------

class InvitationSpec(BaseModel):
    """Everything one invitation needs; built by the API from a Graph `invitation` body. The
    argument of the `invite` Update and of `record_invitation`."""

    invitation_id: str
    organization_id: str
    email: str
    # No link id: record_invitation draws it and keeps it in the row only, so nothing in history
    # is enough to rebuild the redemption link. (Histories recorded before carry `link_id`; it is
    # ignored.)
    proposed_user_id: str
    invite_redirect_url: str
    invited_by_id: str | None = None
    invited_by_name: str | None = None
    # The inviter's role (models.enums.Role); None when unknown, which grants no pre-assignment.
    invited_by_role: str | None = None
    invited_user_display_name: str | None = None
    invited_user_type: str = "Guest"
    send_invitation_message: bool = False
    customized_message_body: str | None = None
    message_language: str | None = None
    cc_recipients: list[dict] = Field(default_factory=list)
    reset_redemption: bool = False
    reset_user_id: str | None = None
    group_ids: list[str] = Field(default_factory=list)
    application_ids: list[str] = Field(default_factory=list)
    lifetime: str | None = None  # ISO 8601; the organization's default when absent


class RecordInvitationInput(BaseModel):
    spec: InvitationSpec
    workflow_id: str
    issued_at: datetime


class RecordedInvitation(BaseModel):
    invitation_id: str
    user_id: str
    # Graph's invitation status: PendingAcceptance, or Completed for an address already redeemed.
    status: str
    expires_at: datetime
    reminders_at: list[datetime] = Field(default_factory=list)
    # The digest the browser's link must match (the token itself never enters history).
    link_token_hash: str
    # The invitation mail, queued in the same transaction when sendInvitationMessage is set.
    outbox_key: str | None = None


class InvitationMailInput(BaseModel):
    invitation_id: str
    kind: str = "invitation"  # invitation | reminder
    sequence: int = 0
    # Set when the message is already in the outbox (the invitation itself): just deliver it.
    outbox_key: str | None = None


class InvitationEventInput(BaseModel):
    invitation_id: str
    workflow_id: str
    actor_id: str | None = None
    actor_name: str | None = None
    reason: str | None = None


class IssuePasscodeInput(BaseModel):
    invitation_id: str
    challenge_id: str
    client: str | None = None


class PasscodeIssued(BaseModel):
    expires_at: datetime


class RedeemInput(BaseModel):
    # No code: the page checked it (`record_passcode_attempt`); this acts on what was recorded.
    invitation_id: str
    challenge_id: str
    workflow_id: str


class RedeemFederatedInput(BaseModel):
    """Redeem with a round trip to the guest's own identity provider that the page verified
    (foyer.usecases.federated_sign_in): the attempt's id (random; never the state) is the proof."""
    invitation_id: str
    federation_attempt_id: str
    workflow_id: str


class RedeemOutcome(BaseModel):
    # redeemed | wrongCode | codeExpired | codeLocked | addressLocked | notPending | unknownChallenge
    # | identityRefused (a federated identity that does not fit the invitation: `message` says why)
    # (and, from `record_passcode_attempt` only, accepted)
    outcome: str
    redirect_url: str | None = None
    user_id: str | None = None
    attempts_left: int | None = None
    message: str | None = None


# --- the workflow's input, Updates, query and results ---------------------------------------

class InvitationWorkflowInput(BaseModel):
    organization_id: str
    email: str
    # The state the run picks up: set when a run continues as new, and by a campaign's batch
    # path, which records the invitation first and starts the run with it.
    carried: "CarriedState | None" = None


class InviteResult(BaseModel):
    invitation_id: str
    user_id: str
    status: str  # PendingAcceptance | Completed


class PasscodeRequest(BaseModel):
    link_token_hash: str
    challenge_id: str
    client: str | None = None  # foyer.security.client_key of the browser asking: codes are limited per client


class RedeemRequest(BaseModel):
    """The page has already checked the code against the database (`record_passcode_attempt`):
    the code itself never enters history. (Histories recorded before carry a `code` field, which
    is ignored.)"""
    link_token_hash: str
    challenge_id: str = ""
    # Set instead of challenge_id when the guest signed in at their own identity provider.
    federation_attempt_id: str | None = None


class RevokeRequest(BaseModel):
    invitation_id: str | None = None  # None: whatever invitation is current
    actor_id: str | None = None
    actor_name: str | None = None
    reason: str | None = None


class InvitationStatus(BaseModel):
    state: str  # new | pending | redeemed | expired | revoked
    invitation_id: str | None = None
    user_id: str | None = None
    expires_at: datetime | None = None
    reminders_sent: int = 0
    link_token_hash: str | None = None


class CarriedState(BaseModel):
    status: InvitationStatus
    spec: InvitationSpec | None = None
    reminders_at: list[datetime] = []
    mail_due: list[InvitationMailInput] = []


InvitationWorkflowInput.model_rebuild()
