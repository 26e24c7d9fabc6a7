"""Activities of the email one-time-passcode sign-in to Foyer's pages. Each is safe to retry.

Every address asked about gets a challenge row, known or not, so the page, its status and the
rate limits are the same whether or not the address belongs to someone; only an enabled member,
or a guest who accepted their invitation, gets a code and a mail.

Code requests are limited as foyer.rules.codes says (per address and client, and a ceiling per
address that a known browser passes). The counters are the rows themselves (in the database, so
several API processes share them). The page checks a typed code itself
(foyer.usecases.sign_in.record_sign_in_code_attempt); `verify_sign_in_code` reads what it recorded.
"""

from datetime import datetime, timedelta

from sqlmodel import select
from temporalio import activity

from foyer.activities import mail
from foyer import security
from foyer.db import session_scope
from foyer.rules.codes import CODE_LIFETIME, MAX_WRONG_TRIES, code_limit
from foyer.rules.sign_in import may_sign_in
from foyer.templating import render_mail
from foyer.usecases.sign_in import code_hash
from foyer.models.base import utcnow
from foyer.models.directory import Organization, User
from foyer.models.sign_in import SignInChallenge
from foyer.workflows.messages.sign_in import CodeChecked, CodeIssued, IssueCodeInput, VerifyCodeInput

HOURLY_LIMIT = "Too many codes were asked for this address in the last hour. Try again later."
RESEND_LIMIT = ("A code was asked for this address less than a minute ago. Check your mail, "
                "or wait a minute before asking again.")


def mail_key(challenge_id: str) -> str:
    return f"signin:{challenge_id}"


async def find_user(session, organization_id: str, email: str) -> User | None:
    return (await session.exec(select(User).where(
        User.organization_id == organization_id, User.mail == email.strip().lower()))).first()


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
