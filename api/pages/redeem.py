"""Redemption pages: /redeem/{token} → consent → email one-time passcode → inviteRedirectUrl, or
→ consent → the guest's own identity provider (home realm discovery in the organization's
redemption order, foyer.usecases.federated_sign_in) → /federation/… → inviteRedirectUrl.

The page reads the directory to show the invitation; every step that changes anything (asking for
a code, redeeming) is an Update on the address's InvitationWorkflow. A typed code is checked here
against the database first (foyer.usecases.redemption's `record_passcode_attempt` counts wrong
tries), so that it never enters the workflow's history; only an accepted code leads to the `redeem`
Update (through workflows.client.invitations).
"""

import re
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import col, select

from foyer.api.deps import SessionDep, TemporalDep
from foyer.api.pages.deps import code_requester, federation_refused, to_identity_provider
from foyer import sessions
from foyer.errors import Refused
from foyer.security import accepted_link_token_hashes, new_challenge_id
from foyer.templating import allow_form_target, render
from foyer.usecases import federated_sign_in
from foyer.usecases.federation import FederationRefused
from foyer.usecases.redemption import ADDRESS_LOCK_AFTER_FAILURES, record_passcode_attempt
from foyer.models.base import utcnow
from foyer.models.directory import Application, Organization
from foyer.models.enums import InvitationState
from foyer.models.invitation import Invitation
from foyer.workflows.client import invitations as invitation_client
from foyer.workflows.messages.invitation import PasscodeRequest, RedeemRequest

router = APIRouter(prefix="/redeem", tags=["redemption"], include_in_schema=False)
CHALLENGE_COOKIE = "foyer_challenge"
# A host[:port] that can stand in a CSP source list as it is (nothing that could end a directive).
ORIGIN_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")

ENDED = {
    InvitationState.expired: ("This invitation has expired",
                              "Invitation links work for a limited time, and this one's time is up."),
    InvitationState.superseded: ("This invitation link was replaced",
                                 "A newer invitation was sent to this address; only the newest link works."),
    InvitationState.revoked: ("This invitation was withdrawn",
                              "The organization withdrew this invitation."),
    "missing": ("This invitation link is not valid",
                "The link is incomplete or was never issued. Check that you copied all of it."),
    "locked": ("This invitation is locked",
               "There were too many wrong codes for this address, so the invitation was locked."),
}


def _page(name: str, status: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(render(f"pages/{name}.html", **context), status_code=status)


async def _load(session, token: str) -> tuple[Invitation | None, Organization | None]:
    # The link may have been built under a previous key (mailed before a rotation) or under the
    # current one (a reminder after it): any token whose MAC verifies under an accepted key finds
    # the row. The workflow then gets the row's own hash, the one it was started with.
    hashes = accepted_link_token_hashes(token)
    if not hashes:
        return None, None
    invitation = (await session.exec(select(Invitation).where(
        Invitation.link_token_hash.in_(hashes)))).first()
    if invitation is None:
        return None, None
    await _allow_app_home_pages(session, invitation)
    return invitation, await session.get(Organization, invitation.organization_id)


def _allow_origin(url: str | None) -> None:
    target = urlsplit(url or "")
    host = target.netloc.rsplit("@", 1)[-1]
    if target.scheme in ("http", "https") and ORIGIN_HOST.fullmatch(host):
        allow_form_target(f"{target.scheme}://{host}")


async def _allow_app_home_pages(session, invitation: Invitation) -> None:
    """The apps an invitation shares: their home pages may be where the code form's redirect ends
    (an inviteRedirectUrl that is an app's direct link in My Apps, /myapps/{id}, sends on to the
    app's home page), and CSP form-action governs every hop of that redirect."""
    if not invitation.application_ids:
        return
    urls = (await session.exec(select(Application.home_page_url).where(
        col(Application.id).in_(invitation.application_ids)))).all()
    for url in urls:
        _allow_origin(url)


def _ended(reason: str, invitation: Invitation | None, org: Organization | None) -> HTMLResponse:
    headline, explanation = ENDED[reason]
    return _page("link_invalid", status=404 if reason == "missing" else 410, headline=headline,
                 explanation=explanation, inviter=invitation.invited_by_name if invitation else None,
                 organization=org.display_name if org else None)


def _unusable(invitation: Invitation | None, org: Organization | None) -> HTMLResponse | None:
    if invitation is None:
        return _ended("missing", None, None)
    if invitation.state == InvitationState.redeemed:
        return _page("message", status=410, headline="This invitation was already accepted",
                     explanation="Each invitation link works once. You already have access.",
                     link=invitation.invite_redirect_url, link_text="Continue to the application")
    if invitation.state != InvitationState.pending:
        return _ended(invitation.state, invitation, org)
    if invitation.consecutive_passcode_failures >= ADDRESS_LOCK_AFTER_FAILURES:
        return _ended("locked", invitation, org)
    if invitation.expires_date_time <= utcnow():
        # The workflow's timer fires on its own; the page need not wait for it.
        return _ended(InvitationState.expired, invitation, org)
    return None


def _consent_context(token: str, invitation: Invitation, org: Organization, **extra) -> dict:
    # The code form's answer redirects to inviteRedirectUrl: the page's form-action must allow it.
    _allow_origin(invitation.invite_redirect_url)
    return {"organization": org.display_name, "inviter": invitation.invited_by_name or org.display_name,
            "email": invitation.email, "privacy_url": org.privacy_statement_url,
            "action": f"/redeem/{token}", "error": None, "notice": None, "realm": None, **extra}


NO_METHOD = FederationRefused(
    "noSignInMethod", "This organization has no way for your address to sign in yet: no identity "
    "provider serves your domain and one-time passcodes are off. Ask the person who invited you.")


async def _realm(session, invitation: Invitation, org: Organization):
    # An invitation is redeemed where the address's domain signs in (its user is still pending).
    return await federated_sign_in.realm_for_address(session, org, invitation.email)


@router.get("/{token}")
async def show_invitation(token: str, session: SessionDep) -> HTMLResponse:
    invitation, org = await _load(session, token)
    if (ended := _unusable(invitation, org)) is not None:
        return ended
    realm = await _realm(session, invitation, org)
    if realm.protocol == "none":
        return federation_refused(NO_METHOD)
    return _page("redeem", **_consent_context(token, invitation, org, step="consent", realm=realm))


@router.post("/{token}/federated")
async def go_to_identity_provider(token: str, session: SessionDep, consent: str = Form("")) -> HTMLResponse:
    """Consent given: on to the identity provider home realm discovery chose for the address."""
    invitation, org = await _load(session, token)
    if (ended := _unusable(invitation, org)) is not None:
        return ended
    realm = await _realm(session, invitation, org)
    if realm.protocol not in ("oidc", "saml"):
        return _page("redeem", status=400, **_consent_context(token, invitation, org, step="consent", realm=realm))
    if consent != "yes":
        return _page("redeem", status=400, **_consent_context(
            token, invitation, org, step="consent", realm=realm, error="Accept the permissions to continue."))
    try:
        url, state = await federated_sign_in.begin(session, org, realm, "redeem", invitation_id=invitation.id,
                                                   login_hint=invitation.email)
    except FederationRefused as refused:
        # Never the passcode in its place: the redemption order sent this address to its provider.
        return federation_refused(refused, status=503)
    return to_identity_provider(url, state, realm.display_name, invitation.email)


@router.post("/{token}/passcode")
async def send_passcode(request: Request, token: str, session: SessionDep, client: TemporalDep,
                        consent: str = Form("")) -> HTMLResponse:
    invitation, org = await _load(session, token)
    if (ended := _unusable(invitation, org)) is not None:
        return ended
    realm = await _realm(session, invitation, org)
    if realm.protocol != "passcode":
        # Discovery sent this address to its own identity provider (or nowhere): no passcode.
        return _page("redeem", status=400 if realm.protocol != "none" else 403, **_consent_context(
            token, invitation, org, step="consent", realm=realm,
            error=None if realm.protocol != "none" else NO_METHOD.message))
    if consent != "yes":
        return _page("redeem", status=400, **_consent_context(
            token, invitation, org, step="consent", error="Accept the permissions to continue."))
    await session.close()
    challenge = new_challenge_id()
    try:
        await invitation_client.request_passcode(client, invitation.workflow_id, PasscodeRequest(
            link_token_hash=invitation.link_token_hash, challenge_id=challenge,
            client=code_requester(request, invitation.email)["client"]))
    except Refused as error:
        return _workflow_refused(error, token, invitation, org, step="consent")
    response = _page("redeem", **_consent_context(
        token, invitation, org, step="code", challenge=challenge,
        notice=f"We emailed a code to {invitation.email}."))
    response.set_cookie(CHALLENGE_COOKIE, challenge, max_age=600, httponly=True, samesite="lax",
                        path=f"/redeem/{token}")
    return response


@router.post("/{token}/verify", response_model=None)
async def verify_passcode(request: Request, token: str, session: SessionDep, client: TemporalDep,
                          challenge: str = Form(""), code: str = Form("")):
    invitation, org = await _load(session, token)
    if (ended := _unusable(invitation, org)) is not None:
        return ended
    await session.close()
    # The code is bound to the browser that asked for it: form and cookie must agree.
    if not challenge or request.cookies.get(CHALLENGE_COOKIE) != challenge:
        return _page("redeem", status=400, **_consent_context(
            token, invitation, org, step="consent",
            error="Your code request was not found in this browser. Ask for a new code."))
    code = "".join(code.split())
    if not code.isdigit():
        return _page("redeem", status=400, **_consent_context(
            token, invitation, org, step="code", challenge=challenge,
            error="Enter the digits from the email."))
    outcome = await record_passcode_attempt(invitation.id, challenge, code)
    if outcome.outcome == "accepted":
        try:
            outcome = await invitation_client.redeem(client, invitation.workflow_id, RedeemRequest(
                link_token_hash=invitation.link_token_hash, challenge_id=challenge))
        except Refused as error:
            return _workflow_refused(error, token, invitation, org, step="code", challenge=challenge)

    if outcome.outcome == "redeemed":
        response = RedirectResponse(outcome.redirect_url, status_code=303)
        response.delete_cookie(CHALLENGE_COOKIE, path=f"/redeem/{token}")
        sessions.remember_device(response, invitation.email)
        # The passcode proved the address as a sign-in would: the guest is signed in to Foyer, so
        # the apps they were invited to (Foyer's OpenID Provider) open without another code.
        sessions.set_session_cookie(response, outcome.user_id or invitation.user_id)
        return response
    if outcome.outcome == "addressLocked":
        return _ended("locked", invitation, org)
    if outcome.outcome == "notPending":
        return _page("message", status=409, headline="This invitation can no longer be redeemed",
                     explanation="It was redeemed, replaced or withdrawn a moment ago.", link=None)
    messages = {
        "wrongCode": f"That code is not right. {outcome.attempts_left} "
                     f"tr{'y' if outcome.attempts_left == 1 else 'ies'} left.",
        "codeLocked": "Too many wrong tries for this code. Ask for a new code.",
        "codeExpired": "That code has expired. Ask for a new code.",
        "unknownChallenge": "That code request was not found. Ask for a new code.",
    }
    step = "code" if outcome.outcome == "wrongCode" else "consent"
    return _page("redeem", status=400, **_consent_context(
        token, invitation, org, step=step, challenge=challenge,
        error=messages.get(outcome.outcome, "The code could not be checked. Ask for a new code.")))


def _workflow_refused(error: Refused, token, invitation, org, **context) -> HTMLResponse:
    if error.code == "linkNotValid":
        return _ended("missing", invitation, org)
    if error.transient:
        status, message = 503, "The service is busy. Try again in a moment."
    else:
        status, message = error.status, error.message
    return _page("redeem", status=status,
                 **_consent_context(token, invitation, org, error=message, **context))
