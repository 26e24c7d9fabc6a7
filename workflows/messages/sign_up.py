"""The self-service sign-up process's contract: the SignUpWorkflow's input, Updates, query and
results, its activities' inputs and outputs (the API connector call among them), and its
business-key workflow id."""

from datetime import datetime

from pydantic import BaseModel

# The `verify` Update takes the sign-in process's VerifyRequest (workflows.messages.sign_in).


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
    identities: list[dict] | None = None


class SignUpCodeRequest(BaseModel):
    email: str
    client: str | None = None  # as CodeRequest's
    known_device: bool = False
    # Set when the person signed up at their own identity provider: the verified round trip
    # (foyer.usecases.federated_sign_in) proves the address instead of a mailed code.
    federation_attempt_id: str | None = None


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


# --- activity payloads ----------------------------------------------------------------------

class StartSignUpInput(BaseModel):
    sign_up_id: str
    organization_id: str
    user_flow_id: str
    email: str
    client: str | None = None
    known_device: bool = False
    federation_attempt_id: str | None = None


class SignUpStarted(BaseModel):
    # issued (a code, or for an address already in the directory the "you have an account" mail:
    # the caller cannot tell) | notAllowed | flowNotFound | tooManyRequests. (existingUser: only
    # in histories of runs from before, which told the page.)
    outcome: str
    message: str | None = None
    flow: SignUpFlow | None = None
    mail_key: str | None = None
    # A federated sign-up's identities (Graph's objectIdentity), for the API connectors' requests.
    identities: list[dict] | None = None


class CheckCodeInput(BaseModel):
    # No code: the page checked it (`record_sign_up_code_attempt`); this reads what was recorded.
    sign_up_id: str


class CodeVerdict(BaseModel):
    # verified | wrongCode | codeLocked | codeExpired (and, from the page's check only, accepted)
    outcome: str
    attempts_left: int | None = None


class SignUpStep(BaseModel):
    """One step of a sign-up: the read model row's new state and its audit record."""
    sign_up_id: str
    organization_id: str
    step: str  # the audit's key part and display: e.g. "codeVerified", "blocked", "approved"
    activity: str  # audit display name
    state: str | None = None
    attributes: dict | None = None
    verification_reference: str | None = None
    reason: str | None = None
    decided_by_id: str | None = None
    decided_by_name: str | None = None
    result: str = "success"
    details: dict = {}


class GuestInput(BaseModel):
    sign_up_id: str
    flow: SignUpFlow
    # The accepted attributes, from the workflow: the row's copy is written by the
    # attributesSubmitted step, which may still be running when the guest is created.
    attributes: dict | None = None


class SignUpMailInput(BaseModel):
    sign_up_id: str
    # welcome | denied | expired | unverified | approvalNotice | approvalReminder
    kind: str
    flow: SignUpFlow
    number: int = 0  # which reminder (keys a mail per reminder)
    reason: str | None = None
