"""Activities of the email one-time-passcode sign-in to Foyer's pages. Each is safe to retry.

Every address asked about gets a challenge row, known or not, so the page, its status and the
rate limits are the same whether or not the address belongs to someone; only an enabled member,
or a guest who accepted their invitation, gets a code and a mail.

Code requests are limited per (address, client) — one a minute, five an hour — and per address
by a higher ceiling, CODES_PER_ADDRESS_PER_HOUR, that a browser known for the address (it
completed a code for it before: foyer.sessions.DEVICE_COOKIE) passes. So a stranger cannot use
the limits to stop the owner getting codes, and brute force stays bounded: five tries a code.
The counters are the rows themselves (in the database, so several API processes share them).
"""

from datetime import datetime, timedelta

from sqlmodel import select
from temporalio import activity

from activities import mail
from foyer import security
from foyer.db import session_scope
from foyer.templating import render_mail
from models.base import utcnow
from models.directory import Organization, User
from models.enums import ExternalUserState, UserType
from models.sign_in import SignInChallenge
from workflows.messages.sign_in import CodeChecked, CodeIssued, IssueCodeInput, VerifyCodeInput

CODE_LIFETIME = timedelta(minutes=10)
MAX_WRONG_TRIES = 5
CODES_PER_HOUR = 5  # per address and client
RESEND_INTERVAL = timedelta(seconds=60)  # per address and client
CODES_PER_ADDRESS_PER_HOUR = 30  # from all clients together; a known device passes it
HOURLY_LIMIT = "Too many codes were asked for this address in the last hour. Try again later."
RESEND_LIMIT = ("A code was asked for this address less than a minute ago. Check your mail, "
                "or wait a minute before asking again.")


def mail_key(challenge_id: str) -> str:
    return f"signin:{challenge_id}"


def code_hash(challenge_id: str, code: str) -> str:
    return security.passcode_hash(f"signin:{challenge_id}", code)


def may_sign_in(user: User | None) -> bool:
    """Members, and guests who redeemed their invitation; never a disabled account."""
    if user is None or not user.account_enabled:
        return False
    if user.user_type == UserType.member:
        return True
    return user.user_type == UserType.guest and user.external_user_state == ExternalUserState.accepted


async def find_user(session, organization_id: str, email: str) -> User | None:
    return (await session.exec(select(User).where(
        User.organization_id == organization_id, User.mail == email.strip().lower()))).first()


def code_limit(recent: list[tuple[datetime, str | None]], client: str | None, known_device: bool,
               now: datetime) -> str | None:
    """"hourly" or "resend" when one more code may not be sent now, else None. `recent`: the
    (created, client) of the address's code requests in the last hour. Shared with redemption."""
    mine = [created for created, asker in recent if asker == client]
    if len(mine) >= CODES_PER_HOUR:
        return "hourly"
    if any(created > now - RESEND_INTERVAL for created in mine):
        return "resend"
    if not known_device and len(recent) >= CODES_PER_ADDRESS_PER_HOUR:
        return "hourly"
    return None


async def rate_limited(session, email: str, now: datetime, client: str | None = None,
                       known_device: bool = False) -> str | None:
    """Why this address may not get another code now (for this client), if it may not. Counts
    every challenge of the address (sign-in and self-service sign-up share the table, so they
    share the limits)."""
    recent = (await session.exec(select(SignInChallenge.created_date_time, SignInChallenge.client).where(
        SignInChallenge.email == email,
        SignInChallenge.created_date_time > now - timedelta(hours=1)))).all()
    limit = code_limit([(created, asker) for created, asker in recent], client, known_device, now)
    return {"hourly": HOURLY_LIMIT, "resend": RESEND_LIMIT}.get(limit)


@activity.defn
async def issue_sign_in_code(data: IssueCodeInput) -> CodeIssued:
    """Record the challenge and, for a user who may sign in, mint a code and put its mail in the
    outbox (the workflow delivers it afterwards, so a known address answers no slower)."""
    now = utcnow()
    email = data.email.strip().lower()
    async with session_scope() as session:
        existing = await session.get(SignInChallenge, data.challenge_id)
        if existing is None:
            limited = await rate_limited(session, email, now, data.client, data.known_device)
            if limited:
                return CodeIssued(outcome="tooManyRequests", message=limited)
            user = await find_user(session, data.organization_id, email)
            existing = SignInChallenge(
                id=data.challenge_id, organization_id=data.organization_id, email=email,
                client=data.client, expires_date_time=now + CODE_LIFETIME, created_date_time=now)
            if may_sign_in(user):
                code = security.new_passcode()
                existing.user_id = user.id
                existing.code_hash = code_hash(data.challenge_id, code)
                org = await session.get(Organization, data.organization_id)
                subject, text, html = render_mail(
                    "sign_in_code", code=code, organization=org.display_name if org else "Foyer",
                    display_name=user.display_name or email,
                    minutes=int(CODE_LIFETIME.total_seconds() // 60))
                await mail.enqueue(session, key=mail_key(data.challenge_id), to=[email],
                                   subject=subject, text=text, html=html, sensitive=True)
            session.add(existing)
        return CodeIssued(outcome="issued", expires_at=existing.expires_date_time,
                          mail_key=mail_key(data.challenge_id) if existing.code_hash else None)


@activity.defn
async def deliver_sign_in_mail(key: str) -> None:
    await mail.deliver(key)


async def record_sign_in_code_attempt(challenge_id: str, code: str) -> CodeChecked:
    """The sign-in page's half of a code check, done against the database so that the code never
    enters Temporal's history: a matching code of a user who may sign in marks the challenge
    accepted (`consumed_date_time`), anything else counts as a wrong try (five lock the code).
    The row is locked, so concurrent attempts cannot count past the limit. Only on `accepted`
    does the page send the workflow's `verify` Update, which signs in only a challenge recorded
    here as accepted — once: the workflow ends when it has."""
    now = utcnow()
    async with session_scope() as session:
        challenge = await session.get(SignInChallenge, challenge_id, with_for_update=True)
        if challenge is None:
            return CodeChecked(outcome="unknownChallenge")
        if challenge.failed_attempts >= MAX_WRONG_TRIES:
            return CodeChecked(outcome="codeLocked", attempts_left=0)
        if challenge.consumed_date_time is None and challenge.expires_date_time <= now:
            return CodeChecked(outcome="codeExpired")
        matches = challenge.code_hash is not None and security.passcode_matches(
            f"signin:{challenge_id}", code.strip(), challenge.code_hash)
        user = await session.get(User, challenge.user_id) if matches else None
        if matches and may_sign_in(user):
            # A repeat (the Update failed, the form was sent twice) is accepted again; the
            # workflow signs in once.
            challenge.consumed_date_time = challenge.consumed_date_time or now
            session.add(challenge)
            return CodeChecked(outcome="accepted", user_id=user.id)
        challenge.failed_attempts += 1
        session.add(challenge)
        left = MAX_WRONG_TRIES - challenge.failed_attempts
        return CodeChecked(outcome="wrongCode" if left > 0 else "codeLocked", attempts_left=left)


@activity.defn
async def verify_sign_in_code(data: VerifyCodeInput) -> CodeChecked:
    """Sign in with a challenge whose code the page accepted (`record_sign_in_code_attempt`).
    Read-only, so retries answer the same; the limits win over an earlier acceptance."""
    async with session_scope() as session:
        challenge = await session.get(SignInChallenge, data.challenge_id)
        if challenge is None:
            return CodeChecked(outcome="unknownChallenge")
        if challenge.failed_attempts >= MAX_WRONG_TRIES:
            return CodeChecked(outcome="codeLocked", attempts_left=0)
        if challenge.consumed_date_time is None:
            # No matching code was recorded for this challenge.
            return CodeChecked(outcome="unknownChallenge", attempts_left=0)
        user = await session.get(User, challenge.user_id) if challenge.user_id else None
        if not may_sign_in(user):  # disabled since the code was accepted
            return CodeChecked(outcome="codeLocked", attempts_left=0)
        return CodeChecked(outcome="signedIn", user_id=user.id)


ALL = [issue_sign_in_code, deliver_sign_in_mail, verify_sign_in_code]
