"""What goes into and comes out of each workflow: inputs, Update/signal arguments, results,
queries, and the business-key workflow ids.

Kept out of the workflow modules on purpose: the sandbox re-executes a workflow's own module for
every run, and rebuilding these pydantic models each time cost measurable CPU per invitation.
Workflows import this module through `imports_passed_through`, so it is loaded once.
"""

import hashlib
from datetime import datetime

from pydantic import BaseModel

from activities.invitations import InvitationMailInput, InvitationSpec



# --- Invitation -------------------------------------------------------------------------

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


class InvitationWorkflowInput(BaseModel):
    organization_id: str
    email: str
    # Set only when a run continues as new: the state the next run picks up.
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
    challenge_id: str


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


# --- Access requests --------------------------------------------------------------------

def access_request_workflow_id(access_package_id: str, target_id: str) -> str:
    return f"access-request:{access_package_id}:{target_id}"


class AccessRequestInput(BaseModel):
    access_package_id: str
    target_id: str


class Decision(BaseModel):
    stage_id: str
    approver_id: str
    approver_name: str | None = None
    review_result: str  # Approve | Deny
    justification: str | None = None


class DecisionResult(BaseModel):
    stage_id: str
    review_result: str
    request_state: str


class CancelRequest(BaseModel):
    by_user_id: str | None = None
    by_admin: bool = False


class ResumeRequest(BaseModel):
    """A custom extension's callback: go on, or deny."""

    instance_id: str
    state: str  # continue | deny


class RequestStatus(BaseModel):
    state: str
    request_id: str | None = None
    stage_index: int | None = None
    stage_id: str | None = None
    approver_ids: list[str] = []
    escalated: bool = False
    assignment_id: str | None = None


# --- Assignments ------------------------------------------------------------------------

def assignment_workflow_id(assignment_id: str) -> str:
    return f"assignment:{assignment_id}"


class ExtendSignal(BaseModel):
    request_id: str
    end_at: datetime | None
    request_workflow_id: str | None = None


class RemoveSignal(BaseModel):
    request_id: str
    request_workflow_id: str | None = None


class AssignmentStatus(BaseModel):
    state: str
    end_at: datetime | None
    notices_sent: list[str]


# --- Sign-in ----------------------------------------------------------------------------

def sign_in_workflow_id(challenge_id: str) -> str:
    # The challenge is the browser's cookie: the id shows only its digest.
    return f"signin:{hashlib.sha256(challenge_id.encode()).hexdigest()[:32]}"


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
    before carry a `code` field, which is ignored."""


class SignInStatus(BaseModel):
    state: str  # new | codeSent | signedIn | locked | refused | expired
    user_id: str | None = None


# --- Campaigns ------------------------------------------------------------------------------

def campaign_workflow_id(campaign_id: str) -> str:
    return f"campaign:{campaign_id}"


class CampaignInput(BaseModel):
    campaign_id: str
    concurrency: int = 20
    rate_per_minute: int = 600
    # Carried across continue-as-new: rows up to here have been started.
    after_row: int = 0
    paused: bool = False
    retry_failed: bool = False


class CampaignStatus(BaseModel):
    state: str  # running | paused | canceled | completed
    after_row: int
    in_flight: int
    started_this_run: int


# --- Self-service sign-up -------------------------------------------------------------------

def sign_up_workflow_id(sign_up_id: str) -> str:
    return f"signup:{sign_up_id}"


class ConnectorCall(BaseModel):
    """One call of an API connector (activity `call_api_connector`)."""

    connector_id: str
    # postFederationSignup | postAttributeCollection (Entra's steps), or Foyer's durable steps:
    # identityVerification | approvalRequested
    step: str
    sign_up_id: str
    user_flow_id: str
    # Entra's request body: email, identities, displayName, givenName, surname, the other
    # collected attributes, extension_<appId>_<name> custom attributes, ui_locales, client_id.
    payload: dict


class ConnectorOutcome(BaseModel):
    """What the connector decided. The activity never raises for a connector's failure: a timeout,
    an error status or a body that is not Entra's contract becomes `block` (fail closed), with
    `detail` saying why for the audit log and a generic `user_message` for the page."""

    action: str  # continue | block | validationError | pending
    user_message: str | None = None
    attributes: dict = {}  # values to overwrite on continue (only attributes the flow collects)
    reference: str | None = None  # a pending verification's reference at the verifier
    status_code: int | None = None
    detail: str = ""


# --- SignUpWorkflow ------------------------------------------------------------------------

class SignUpFlow(BaseModel):
    """What the workflow needs of its user flow, taken once when the code is asked for (a flow
    edited later does not change an attempt under way)."""

    id: str
    organization_id: str
    organization_name: str
    organization_domain: str
    display_name: str | None = None
    identity_provider_ids: list[str] = []
    # userAttributeAssignments, each with `dataType` added (string | int64 | boolean).
    assignments: list[dict] = []
    application_ids: list[str] = []
    post_federation_signup_connector_id: str | None = None
    post_attribute_collection_connector_id: str | None = None
    identity_verification: dict | None = None  # {"apiConnectorId", "timeout"}
    approval: dict | None = None  # {"approverIds", "apiConnectorId", "timeout", "reminderInterval"}


class SignUpInput(BaseModel):
    sign_up_id: str
    organization_id: str
    user_flow_id: str
    # Set only when a long approval wait continues as new: where the next run picks up.
    carried: "SignUpCarried | None" = None


class SignUpCarried(BaseModel):
    flow: SignUpFlow
    email: str
    attributes: dict
    approval_deadline: datetime
    reminders_sent: int


class SignUpCodeRequest(BaseModel):
    email: str
    client: str | None = None  # as CodeRequest's
    known_device: bool = False


class SignUpAttributes(BaseModel):
    values: dict  # attribute id → str | list[str] as the form posted them


class SignUpDecision(BaseModel):
    decision: str  # approve | deny
    reason: str | None = None
    actor_id: str
    actor_name: str
    # approver: a person in Foyer (must be one of the flow's approvers unless an administrator);
    # connector: the flow's external approval system, authenticated by its signature.
    via: str = "approver"
    is_admin: bool = False


class SignUpVerification(BaseModel):
    outcome: str  # verified | failed
    reference: str | None = None
    message: str | None = None


class SignUpStatus(BaseModel):
    # started | codeSent | collectingAttributes | verifying | pendingApproval | completed | denied
    # | blocked | expired, plus the page-only answers existingUser | refused | tooManyRequests
    state: str
    message: str | None = None  # for the person: a connector's userMessage, a refusal, a reason
    field_errors: dict[str, str] = {}
    attributes: dict = {}
    attempts_left: int | None = None
    user_id: str | None = None
    decision: str | None = None  # approve | deny, once decided
    verification: str | None = None  # verified | failed, once the verifier answered


SignUpInput.model_rebuild()
