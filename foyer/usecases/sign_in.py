"""Sign-in use cases shared by the sign-in page and the sign-in activities: the code's digest,
and the page's half of a code check."""

from foyer import security
from foyer.db import session_scope
from foyer.rules.codes import MAX_WRONG_TRIES
from foyer.rules.sign_in import may_sign_in
from foyer.models.base import utcnow
from foyer.models.directory import User
from foyer.models.sign_in import SignInChallenge
from foyer.workflows.messages.sign_in import CodeChecked


def code_purpose(challenge_id: str) -> str:
    return f"signin:{challenge_id}"


def code_hash(challenge_id: str, code: str) -> str:
    return security.passcode_hash(code_purpose(challenge_id), code)


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
            code_purpose(challenge_id), code.strip(), challenge.code_hash)
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
