"""Redeeming an invitation with a one-time passcode: the checks the redemption page and the
workflow's `redeem_with_passcode` activity share, and the page's half of a code check."""

from foyer import security
from foyer.db import session_scope
from foyer.rules.codes import MAX_WRONG_TRIES
from foyer.models.base import utcnow
from foyer.models.enums import InvitationState
from foyer.models.invitation import Invitation, Passcode
from foyer.workflows.messages.invitation import RedeemOutcome

# A hundred wrong codes in a row lock the invitation itself (each code locks after five).
ADDRESS_LOCK_AFTER_FAILURES = 100


async def locked_attempt(session, invitation_id: str, challenge_id: str):
    """The invitation and the passcode of one attempt, both locked: (invitation, passcode, None),
    or the outcome when either is missing or they do not belong together."""
    invitation = await session.get(Invitation, invitation_id, with_for_update=True)
    if invitation is None:
        return None, None, RedeemOutcome(outcome="notPending")
    passcode = await session.get(Passcode, challenge_id, with_for_update=True)
    if passcode is None or passcode.invitation_id != invitation.id:
        return invitation, None, RedeemOutcome(outcome="unknownChallenge")
    return invitation, passcode, None


def attempt_ended(invitation: Invitation, passcode: Passcode) -> RedeemOutcome | None:
    """What ends every attempt, checked by the page (`record_passcode_attempt`) and again by the
    workflow's activity (`redeem_with_passcode`): no longer pending, the address locked after a
    hundred wrong codes, the code locked after five."""
    if invitation.state != InvitationState.pending:
        return RedeemOutcome(outcome="notPending")
    if invitation.consecutive_passcode_failures >= ADDRESS_LOCK_AFTER_FAILURES:
        return RedeemOutcome(outcome="addressLocked")
    if passcode.failed_attempts >= MAX_WRONG_TRIES:
        return RedeemOutcome(outcome="codeLocked", attempts_left=0)
    return None


async def record_passcode_attempt(invitation_id: str, challenge_id: str, code: str) -> RedeemOutcome:
    """The redemption page's half of a code check, done against the database so that the code
    never enters Temporal's history: a matching code marks the passcode accepted
    (`consumed_date_time`), a wrong one counts against the code (five tries) and the address (a
    hundred in a row). Both rows are locked, so concurrent attempts cannot count past a limit.
    Only on `accepted` does the page ask the workflow to redeem (`redeem_with_passcode`), which
    redeems only a challenge recorded here as accepted."""
    now = utcnow()
    async with session_scope() as session:
        invitation, passcode, missing = await locked_attempt(session, invitation_id, challenge_id)
        if missing:
            return missing
        matches = security.passcode_matches(challenge_id, code.strip(), passcode.code_hash)
        if invitation.state == InvitationState.redeemed and passcode.consumed_date_time and matches:
            return RedeemOutcome(outcome="accepted")  # the workflow answers a repeat
        if ended := attempt_ended(invitation, passcode):
            return ended
        if passcode.consumed_date_time is None and passcode.expires_date_time <= now:
            return RedeemOutcome(outcome="codeExpired")
        if matches:
            # Accepted once; a repeat (the redeem Update failed, the form was sent twice) is
            # accepted again: the workflow redeems one invitation once.
            passcode.consumed_date_time = passcode.consumed_date_time or now
            session.add(passcode)
            return RedeemOutcome(outcome="accepted")
        passcode.failed_attempts += 1
        invitation.consecutive_passcode_failures += 1
        session.add(passcode)
        session.add(invitation)
        left = MAX_WRONG_TRIES - passcode.failed_attempts
        if invitation.consecutive_passcode_failures >= ADDRESS_LOCK_AFTER_FAILURES:
            return RedeemOutcome(outcome="addressLocked", attempts_left=0)
        return RedeemOutcome(outcome="wrongCode" if left > 0 else "codeLocked", attempts_left=left)
