"""The way back from a guest's own identity provider (foyer.usecases.federated_sign_in):

- GET /federation/oidc/callback: an OpenID provider's answer (code, state). The state must be the
  one this browser's cookie holds; the code is exchanged and the ID token verified.
- POST /federation/saml/acs: a SAML IdP's response (HTTP-POST binding, RelayState = the state).
  A cross-site POST carries no SameSite=Lax cookie, so the response is verified here and the browser
  sent on to /federation/complete, where its cookie is checked.
- GET /federation/complete: carries out what the round trip was for, once — redeem the invitation
  (its workflow's `redeem` Update), sign in, or continue a sign-up.
- GET /federation/saml/metadata/{organization_id}: Foyer's SAML service provider metadata, for
  partners to configure their IdP with.
"""

from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from foyer import sessions
from foyer.api.deps import SessionDep, TemporalDep
from foyer.api.pages.deps import (
    FEDERATION_COOKIE, FEDERATION_COOKIE_PATH, SIGN_UP_FEDERATION_COOKIE, federation_refused, page,
)
from foyer.errors import Refused
from foyer.models.directory import Organization
from foyer.models.invitation import Invitation
from foyer.usecases import federated_sign_in, federation_saml, sign_in_policy
from foyer.usecases.federation import FederationRefused
from foyer.workflows.client import invitations as invitation_client
from foyer.workflows.messages.invitation import RedeemRequest

router = APIRouter(prefix="/federation", tags=["pages"], include_in_schema=False)
LOST = FederationRefused("browserMismatch", "This sign-in was started in another browser, or it took too "
                         "long. Start again from the page you came from.")


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _bound(request: Request, state: str | None) -> bool:
    return bool(state) and request.cookies.get(FEDERATION_COOKIE) == state


@router.get("/oidc/callback", response_model=None)
async def oidc_callback(request: Request, session: SessionDep, client: TemporalDep, state: str = "",
                        code: str = "", error: str = "", error_description: str = ""):
    if refused := federated_sign_in.provider_error(error, error_description):
        # The person cancelled, or the provider refused them (some providers leave out the state
        # then): nothing to verify, nothing changes.
        return federation_refused(refused, status=403)
    if not _bound(request, state):
        return federation_refused(LOST, status=400)
    try:
        attempt = await federated_sign_in.verify_oidc_answer(session, state, code)
    except FederationRefused as refused:
        return federation_refused(refused, status=503 if refused.code == "providerUnavailable" else 403)
    return await _complete(request, session, client, state, attempt)


@router.post("/saml/acs", response_model=None)
async def saml_acs(session: SessionDep, SAMLResponse: str = Form(""), RelayState: str = Form("")):
    try:
        await federated_sign_in.verify_saml_answer(session, RelayState, SAMLResponse)
    except FederationRefused as refused:
        return federation_refused(refused, status=403)
    return RedirectResponse(f"/federation/complete?{urlencode({'state': RelayState})}", status_code=303)


@router.get("/complete", response_model=None)
async def complete(request: Request, session: SessionDep, client: TemporalDep, state: str = ""):
    if not _bound(request, state):
        return federation_refused(LOST, status=400)
    try:
        attempt = await federated_sign_in.verified_attempt(session, state)
    except FederationRefused as refused:
        return federation_refused(refused, status=400)
    return await _complete(request, session, client, state, attempt)


async def _complete(request: Request, session, client, state: str, attempt):
    # A partner organization's person: this organization's inbound settings for that partner first.
    org = await session.get(Organization, attempt.organization_id)
    if why := await sign_in_policy.partner_arrival_refusal(session, org, attempt, _client_ip(request)):
        return page("message", status=403, headline=f"{org.display_name} does not allow this", explanation=why,
                    link=None)
    if attempt.purpose == "redeem":
        response = await _redeem(session, client, attempt)
    elif attempt.purpose == "signIn":
        try:
            user = await federated_sign_in.sign_in(session, attempt)
        except FederationRefused as refused:
            return federation_refused(refused, link="/signin", link_text="Back to sign-in")
        response = RedirectResponse(sessions.safe_next(attempt.next_url), status_code=303)
        sessions.set_session_cookie(response, user.id, idp=attempt.issuer, context_id=attempt.id)
    else:
        response = RedirectResponse(f"/signup/{attempt.user_flow_id}/federated", status_code=303)
        # The sign-up page reads the verified attempt through this cookie (path /signup).
        response.set_cookie(SIGN_UP_FEDERATION_COOKIE, state, max_age=15 * 60, httponly=True, samesite="lax",
                            secure=sessions.cookie_secure(), path="/signup")
    if response.status_code == 303:
        response.delete_cookie(FEDERATION_COOKIE, path=FEDERATION_COOKIE_PATH)
    return response


async def _redeem(session, client, attempt):
    invitation = await session.get(Invitation, attempt.invitation_id)
    if invitation is None:
        return federation_refused(FederationRefused("notPending", "This invitation no longer exists."), status=410)
    if refused := await federated_sign_in.redemption_refusal(session, attempt, invitation):
        return federation_refused(refused)
    await session.close()
    try:
        outcome = await invitation_client.redeem(client, invitation.workflow_id, RedeemRequest(
            link_token_hash=invitation.link_token_hash, federation_attempt_id=attempt.id))
    except Refused as error:
        if error.transient:
            return page("message", status=503, headline="The service is busy",
                        explanation="Try again in a moment.", link=None)
        return page("message", status=error.status, headline="This invitation can no longer be redeemed",
                    explanation=error.message, link=None)
    if outcome.outcome == "redeemed":
        response = RedirectResponse(outcome.redirect_url, status_code=303)
        sessions.set_session_cookie(response, outcome.user_id or invitation.user_id, idp=attempt.issuer,
                                    context_id=attempt.id)
        return response
    if outcome.outcome == "identityRefused":
        return federation_refused(FederationRefused("identityRefused", outcome.message or "Refused."))
    return page("message", status=409, headline="This invitation can no longer be redeemed",
                explanation="It was redeemed, replaced or withdrawn a moment ago.", link=None)


@router.get("/saml/metadata/{organization_id}")
async def saml_metadata(organization_id: str, session: SessionDep) -> Response:
    if await session.get(Organization, organization_id) is None:
        return HTMLResponse("Not found", status_code=404)
    return Response(federation_saml.sp_metadata_xml(organization_id), media_type="application/samlmetadata+xml")
