"""Activities of self-service sign-up (SignUpWorkflow, `signup:{sign_up_id}`). Each is safe to
retry: rows are upserted under the sign-up id, audit records and mails carry idempotency keys.

The one-time passcode reuses sign-in's machinery: a SignInChallenge row (id `signup-<id>`, so no
sign-in attempt can ever reach it; it has no user, so it can never sign anyone in) holds the keyed
digest, and the code limits are the same ones sign-in counts (foyer.rules.codes).

An address that already belongs to a user is answered exactly as a new one (finding: account
enumeration): the same state, page and limits, and the same work (a challenge row, a rendered mail
in the outbox under the same key, delivered by the same workflow step). Only the mail differs: "you
already have an account; sign in here" instead of a code. Its challenge has no code (code_hash
None), so every code typed for it fails as a wrong code does and the attempt goes nowhere.
"""

from sqlmodel import col, select
from temporalio import activity

from foyer.activities import mail
from foyer.activities.sign_in import find_user, rate_limited
from foyer.activities.store import audit, insert_ignore
from foyer import policy, security
from foyer.db import session_scope
from foyer.rules.codes import CODE_LIFETIME, MAX_WRONG_TRIES
from foyer.settings import get_settings
from foyer.sign_up_forms import USER_COLUMNS
from foyer.templating import render_mail
from foyer.usecases.invitations import grant_memberships
from foyer.usecases import federated_sign_in
from foyer.usecases.sign_up import EMAIL_OTP, challenge_id, snapshot_flow, user_flow
from foyer.models.base import utcnow
from foyer.models.directory import Organization, User
from foyer.models.enums import ExternalUserState, UserType
from foyer.models.sign_in import SignInChallenge
from foyer.models.sign_up import SignUp
from foyer.workflows.messages.sign_up import (
    CheckCodeInput, CodeVerdict, GuestInput, SignUpMailInput, SignUpStarted, SignUpStep, StartSignUpInput,
    sign_up_workflow_id,
)

def code_key(sign_up_id: str) -> str:
    return f"signup-code:{sign_up_id}"


async def sign_up_refusal(session, org: Organization, email: str) -> str | None:
    """Self-service sign-up policy (on/off, domain lists) as the organization has it now, and the
    one-time passcode the page offers as the only way to prove an address."""
    refusal = await policy.sign_up_allowed(session, org.id, email)
    if refusal is None and not org.email_otp_enabled:
        refusal = "one-time passcodes are turned off for this organization"
    return refusal


@activity.defn
async def start_sign_up(data: StartSignUpInput) -> SignUpStarted:
    """Policy and flow checks, the code limits, the sign-up row, and the mail in the outbox: a code
    for a new address; for one that already belongs to a user, a pointer to sign-in instead."""
    now = utcnow()
    email = data.email.strip().lower()
    workflow_id = sign_up_workflow_id(data.sign_up_id)
    async with session_scope() as session:
        org = await session.get(Organization, data.organization_id)
        flow = await user_flow(session, org, data.user_flow_id) if org else None
        if flow is not None and not data.federation_attempt_id and EMAIL_OTP not in flow.identity_provider_ids:
            flow = None  # a code sign-up through a flow that offers no passcode
        if flow is None:
            return SignUpStarted(outcome="flowNotFound", message="This sign-up page does not exist.")
        refusal = await sign_up_refusal(session, org, email)
        if data.federation_attempt_id and refusal is None:
            return await _start_federated(session, data, org, flow, email, now)
        outcome = "notAllowed" if refusal else None
        known = await find_user(session, org.id, email) is not None if outcome is None else False
        existing = await session.get(SignInChallenge, challenge_id(data.sign_up_id))
        if outcome is None and existing is None:
            refusal = await rate_limited(session, email, now, data.client, data.known_device)
            outcome = "tooManyRequests" if refusal else None
        state = "codeSent" if outcome is None else "blocked"
        await insert_ignore(session, SignUp, [SignUp(
            id=data.sign_up_id, organization_id=org.id, user_flow_id=flow.id, email=email, state=state,
            reason=refusal, workflow_id=workflow_id, created_date_time=now,
            updated_date_time=now).model_dump()], ["id"])
        # The audit (administrators only) says what the person is not told.
        await audit(session, key=f"signup:{data.sign_up_id}:start", category="SelfServiceSignUp",
                    activity="Start self-service sign-up", organization_id=org.id,
                    actor_name=email, target_type="SignUp", target_id=data.sign_up_id,
                    target_name=email, result="success" if outcome is None and not known else "failure",
                    reason=outcome or ("existingUser" if known else None), workflow_id=workflow_id,
                    details={"userFlowId": flow.id})
        if outcome is not None:
            return SignUpStarted(outcome=outcome, message=refusal)
        if existing is None:
            code = security.new_passcode()
            minutes = int(CODE_LIFETIME.total_seconds() // 60)
            session.add(SignInChallenge(
                id=challenge_id(data.sign_up_id), organization_id=org.id, email=email, client=data.client,
                # No code for a known address: nothing can be typed that works.
                code_hash=None if known else security.passcode_hash(challenge_id(data.sign_up_id), code),
                expires_date_time=now + CODE_LIFETIME, created_date_time=now))
            if known:
                subject, text, html = render_mail(
                    "sign_up_existing", organization=org.display_name,
                    signin_url=f"{get_settings().public_url.rstrip('/')}/signin")
            else:
                subject, text, html = render_mail(
                    "sign_up_code", code=code, organization=org.display_name, minutes=minutes)
            await mail.enqueue(session, key=code_key(data.sign_up_id), to=[email], subject=subject,
                               text=text, html=html, sensitive=True)
        return SignUpStarted(outcome="issued", flow=await snapshot_flow(session, org, flow),
                             mail_key=code_key(data.sign_up_id))


async def _start_federated(session, data: StartSignUpInput, org: Organization, flow, email: str,
                           now) -> SignUpStarted:
    """A sign-up whose address the person's own identity provider vouched for: no code is mailed;
    the challenge is recorded as passed, so the workflow's `verify` moves on at once. Someone who
    already has an account is told so (they proved the address: nothing is given away)."""
    workflow_id = sign_up_workflow_id(data.sign_up_id)
    row = await session.get(SignUp, data.sign_up_id)
    if row is not None and row.identities:  # a retry of this activity, after it committed
        return SignUpStarted(outcome="issued", flow=await snapshot_flow(session, org, flow), identities=row.identities)
    attempt = await federated_sign_in.attempt_for_sign_up(session, data.federation_attempt_id, flow.id)
    if attempt is not None and attempt.provider_id not in flow.identity_provider_ids:
        attempt = None  # the flow stopped offering this provider meanwhile
    refused = (await federated_sign_in.address_refusal(session, attempt, email) if attempt is not None
               else federated_sign_in.FederationRefused("unknownState", "Start again."))
    if refused is not None:
        # The answer enters the workflow's history: no address in it.
        return SignUpStarted(outcome="notAllowed",
                             message="Your identity provider's answer cannot be used for this sign-up. Start again.")
    if await find_user(session, org.id, email) is not None:
        return SignUpStarted(outcome="existingUser", message="You already have an account here. Sign in instead.")
    identities = [federated_sign_in.identity_entry(attempt)]
    attempt.consumed_date_time = now
    session.add(attempt)
    await insert_ignore(session, SignUp, [SignUp(
        id=data.sign_up_id, organization_id=org.id, user_flow_id=flow.id, email=email, state="codeSent",
        identities=identities, workflow_id=workflow_id, created_date_time=now,
        updated_date_time=now).model_dump()], ["id"])
    session.add(SignInChallenge(
        id=challenge_id(data.sign_up_id), organization_id=org.id, email=email, client=data.client,
        # Passed already; no code that could be typed exists.
        code_hash=security.passcode_hash(challenge_id(data.sign_up_id), security.new_passcode() + "x"),
        consumed_date_time=now, expires_date_time=now + CODE_LIFETIME, created_date_time=now))
    await audit(session, key=f"signup:{data.sign_up_id}:start", category="SelfServiceSignUp",
                activity="Start self-service sign-up", organization_id=org.id, actor_name=email,
                target_type="SignUp", target_id=data.sign_up_id, target_name=email, result="success",
                workflow_id=workflow_id, details={"userFlowId": flow.id, "identityProvider": attempt.issuer})
    return SignUpStarted(outcome="issued", flow=await snapshot_flow(session, org, flow), identities=identities)


@activity.defn
async def deliver_sign_up_mail(key: str) -> None:
    await mail.deliver(key)


@activity.defn
async def check_sign_up_code(data: CheckCodeInput) -> CodeVerdict:
    """What the page recorded for the sign-up's code (read-only: retries answer the same). The
    limits win over an earlier acceptance."""
    now = utcnow()
    async with session_scope() as session:
        challenge = await session.get(SignInChallenge, challenge_id(data.sign_up_id))
        if challenge is None or challenge.code_hash is None:
            return CodeVerdict(outcome="codeLocked", attempts_left=0)
        if challenge.failed_attempts >= MAX_WRONG_TRIES:
            return CodeVerdict(outcome="codeLocked", attempts_left=0)
        if challenge.consumed_date_time is not None:
            return CodeVerdict(outcome="verified")
        if challenge.expires_date_time <= now:
            return CodeVerdict(outcome="codeExpired")
        return CodeVerdict(outcome="wrongCode", attempts_left=MAX_WRONG_TRIES - challenge.failed_attempts)


@activity.defn
async def record_sign_up_step(data: SignUpStep) -> None:
    """The read model row follows the workflow; one audit record per step (keyed, retry-safe)."""
    async with session_scope() as session:
        row = await session.get(SignUp, data.sign_up_id, with_for_update=True)
        if row is not None:
            for field in ("state", "attributes", "verification_reference", "reason",
                          "decided_by_id", "decided_by_name"):
                value = getattr(data, field)
                if value is not None:
                    setattr(row, field, value)
            row.updated_date_time = utcnow()
            session.add(row)
        await audit(session, key=f"signup:{data.sign_up_id}:{data.step}", category="SelfServiceSignUp",
                    activity=data.activity, organization_id=data.organization_id,
                    actor_id=data.decided_by_id, actor_name=data.decided_by_name or (row.email if row else None),
                    target_type="SignUp", target_id=data.sign_up_id,
                    target_name=row.email if row else None, result=data.result, reason=data.reason,
                    workflow_id=sign_up_workflow_id(data.sign_up_id),
                    details={"step": data.step, "state": data.state, **data.details})


@activity.defn
async def create_sign_up_guest(data: GuestInput) -> str:
    """The guest, once: Accepted, identity recorded, attributes on their columns (the rest in
    custom_attributes), in the flow's applications; the welcome mail queued in the same
    transaction and sent after it."""
    now = utcnow()
    flow = data.flow
    async with session_scope() as session:
        sign_up = await session.get(SignUp, data.sign_up_id, with_for_update=True)
        user = await session.get(User, sign_up.user_id) if sign_up.user_id else None
        if user is None:
            user = await find_user(session, flow.organization_id, sign_up.email)
        if user is None:
            attributes = dict(data.attributes if data.attributes is not None else sign_up.attributes or {})
            columns = {USER_COLUMNS[k]: str(v) for k, v in attributes.items() if k in USER_COLUMNS}
            custom = {k: v for k, v in attributes.items() if k not in USER_COLUMNS}
            user = User(
                organization_id=flow.organization_id, mail=sign_up.email,
                display_name=columns.pop("display_name", None) or sign_up.email, **columns,
                user_principal_name=policy.guest_user_principal_name(sign_up.email, flow.organization_domain),
                user_type=UserType.guest, external_user_state=ExternalUserState.accepted,
                external_user_state_change_date_time=now, creation_type="SelfServiceSignUp",
                identities=sign_up.identities or [{"signInType": "emailAddress", "issuer": flow.organization_domain,
                                                   "issuerAssignedId": sign_up.email}],
                custom_attributes=custom, created_date_time=now)
            session.add(user)
            await session.flush()
        sign_up.user_id = user.id
        sign_up.state = "completed"
        if data.attributes is not None:
            sign_up.attributes = data.attributes
        sign_up.updated_date_time = now
        session.add(sign_up)
        await grant_memberships(session, user.id, [], flow.application_ids)
        await audit(session, key=f"signup:{data.sign_up_id}:guest", category="UserManagement",
                    activity="Add user (self-service sign-up)", organization_id=flow.organization_id,
                    actor_name=sign_up.email, target_type="User", target_id=user.id,
                    target_name=sign_up.email, workflow_id=sign_up_workflow_id(data.sign_up_id),
                    details={"signUpId": data.sign_up_id, "userFlowId": flow.id,
                             "applications": flow.application_ids})
        await _enqueue(session, SignUpMailInput(sign_up_id=data.sign_up_id, kind="welcome", flow=flow),
                       sign_up, user.display_name)
        user_id = user.id
    await mail.deliver(mail_key(data.sign_up_id, "welcome"))
    return user_id


def mail_key(sign_up_id: str, kind: str, number: int = 0) -> str:
    return f"signup-{kind}:{sign_up_id}:{number}"


async def _enqueue(session, data: SignUpMailInput, sign_up: SignUp, name: str | None = None) -> bool:
    flow = data.flow
    base = get_settings().public_url.rstrip("/")
    context = {"organization": flow.organization_name, "flow": flow.display_name or flow.id,
               "email": sign_up.email, "person": name or sign_up.email, "reason": data.reason,
               "signin_url": f"{base}/signin", "signup_url": f"{base}/signup/{flow.id}",
               "approval_url": f"{base}/approvals/signups/{sign_up.id}",
               "reminder": data.kind == "approvalReminder", "attributes": sign_up.attributes or {}}
    if data.kind in ("approvalNotice", "approvalReminder"):
        approver_ids = list((flow.approval or {}).get("approverIds") or [])
        to = sorted({m for m in (await session.exec(select(User.mail).where(
            col(User.id).in_(approver_ids), User.account_enabled == True))).all() if m})  # noqa: E712
        template = "sign_up_approval"
    else:
        to, template = [sign_up.email], f"sign_up_{data.kind}"
    if not to:
        return False
    subject, text, html = render_mail(template, **context)
    await mail.enqueue(session, key=mail_key(data.sign_up_id, data.kind, data.number), to=to,
                       subject=subject, text=text, html=html)
    return True


@activity.defn
async def mail_sign_up(data: SignUpMailInput) -> None:
    """Denied / expired / unverified to the person, notice / reminder to the approvers: once each."""
    async with session_scope() as session:
        sign_up = await session.get(SignUp, data.sign_up_id)
        queued = sign_up is not None and await _enqueue(session, data, sign_up)
    if queued:
        await mail.deliver(mail_key(data.sign_up_id, data.kind, data.number))


ALL = [start_sign_up, deliver_sign_up_mail, check_sign_up_code, record_sign_up_step,
       create_sign_up_guest, mail_sign_up]
