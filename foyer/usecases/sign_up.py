"""Sign-up use cases shared by the sign-up activities and pages."""

from sqlmodel import select

from foyer import security
from foyer.db import session_scope
from foyer.rules.codes import MAX_WRONG_TRIES
from foyer.models.base import utcnow
from foyer.models.directory import Organization
from foyer.models.sign_in import SignInChallenge
from foyer.models.sign_up import UserFlow, UserFlowAttribute
from foyer.workflows.messages.sign_up import CodeVerdict, SignUpFlow

EMAIL_OTP = "EmailOtpSignup-OAUTH"


def challenge_id(sign_up_id: str) -> str:
    """The sign-up's SignInChallenge row: its own id space, so no sign-in attempt can reach it."""
    return f"signup-{sign_up_id}"


async def user_flow(session, org: Organization, flow_id: str) -> UserFlow | None:
    """The organization's user flow, or None: the page shows it, the workflow starts from it. It
    offers the email one-time passcode (EMAIL_OTP), identity providers of the organization (their
    ids: foyer.models.federation), or both."""
    flow = await session.get(UserFlow, flow_id)
    if flow is None or flow.organization_id != org.id or not flow.identity_provider_ids:
        return None
    return flow


async def email_otp_flow(session, org: Organization, flow_id: str) -> UserFlow | None:
    """The user flow, if it offers sign-up with an email one-time passcode."""
    flow = await user_flow(session, org, flow_id)
    return flow if flow is not None and EMAIL_OTP in flow.identity_provider_ids else None


async def snapshot_flow(session, org: Organization, flow: UserFlow) -> SignUpFlow:
    """What a SignUpWorkflow keeps of its user flow, taken once per attempt."""
    custom = {a.id: a.data_type for a in (await session.exec(select(UserFlowAttribute).where(
        UserFlowAttribute.organization_id == org.id))).all()}
    assignments = []
    for assignment in flow.user_attribute_assignments or []:
        key = (assignment.get("userAttribute") or {}).get("id") or assignment.get("id")
        assignments.append({**assignment, "dataType": custom.get(key, "string")})
    return SignUpFlow(
        id=flow.id, organization_id=org.id, organization_name=org.display_name,
        organization_domain=org.primary_domain, display_name=flow.display_name,
        identity_provider_ids=list(flow.identity_provider_ids or []), assignments=assignments,
        application_ids=list(flow.application_ids or []),
        post_federation_signup_connector_id=flow.post_federation_signup_connector_id,
        post_attribute_collection_connector_id=flow.post_attribute_collection_connector_id,
        identity_verification=flow.identity_verification, approval=flow.approval)


async def record_sign_up_code_attempt(sign_up_id: str, code: str) -> CodeVerdict:
    """The sign-up page's half of a code check, done against the database so that the code never
    enters Temporal's history: a matching code marks the challenge accepted (`consumed_date_time`),
    a wrong one counts (five lock the code). The row is locked, so concurrent attempts cannot
    count past the limit. The page then sends the workflow's `verify` Update (unless the code was
    merely wrong), and `check_sign_up_code` tells the workflow what was recorded."""
    now = utcnow()
    key = challenge_id(sign_up_id)
    async with session_scope() as session:
        challenge = await session.get(SignInChallenge, key, with_for_update=True)
        if challenge is None:
            return CodeVerdict(outcome="codeLocked", attempts_left=0)
        if challenge.failed_attempts >= MAX_WRONG_TRIES:
            return CodeVerdict(outcome="codeLocked", attempts_left=0)
        if challenge.consumed_date_time is None and challenge.expires_date_time <= now:
            return CodeVerdict(outcome="codeExpired")
        # No code (an address already in the directory): every code is a wrong code.
        if challenge.code_hash is not None and security.passcode_matches(key, code.strip(), challenge.code_hash):
            # A repeat (the Update failed, the form was sent twice) is accepted again; the
            # workflow moves past the code once.
            challenge.consumed_date_time = challenge.consumed_date_time or now
            session.add(challenge)
            return CodeVerdict(outcome="accepted")
        challenge.failed_attempts += 1
        session.add(challenge)
        left = MAX_WRONG_TRIES - challenge.failed_attempts
        return CodeVerdict(outcome="wrongCode" if left > 0 else "codeLocked", attempts_left=left)
