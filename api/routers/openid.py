"""Foyer as the OpenID Provider of the organization's applications, at Entra's paths (the tenant
id is the organization's id): discovery, JWKS, authorize, token, logout and userinfo. Thin: the
protocol lives in foyer.usecases.openid_* and foyer.usecases.signing_keys."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer import sessions
from foyer.api.deps import SessionDep
from foyer.api.errors import not_found
from foyer.models.directory import Organization
from foyer.templating import render
from foyer.usecases import openid_authorize, openid_tokens
from foyer.usecases.openid_claims import discovery
from foyer.usecases.openid_clients import client_credentials
from foyer.usecases.openid_tokens import OAuthError
from foyer.usecases.signing_keys import JWKS_MAX_AGE_SECONDS, published_keys

router = APIRouter(tags=["openid"], include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def _tenant(session: AsyncSession, tenant_id: str) -> Organization | None:
    return await session.get(Organization, tenant_id)


def _page(outcome: openid_authorize.Outcome) -> Response:
    if outcome.location:
        response: Response = RedirectResponse(outcome.location, status_code=outcome.status)
    else:
        response = HTMLResponse(render("pages/message.html", me=None, error=None, notice=None,
                                       headline=outcome.headline, explanation=outcome.explanation,
                                       link=outcome.link, link_text=outcome.link_text),
                                status_code=outcome.status)
    if outcome.clear_session:
        response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    return response


def _oauth_error(error: OAuthError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers={**NO_STORE, **error.headers})


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/{tenant_id}/v2.0/.well-known/openid-configuration")
async def openid_configuration(tenant_id: str, session: SessionDep) -> JSONResponse:
    if await _tenant(session, tenant_id) is None:
        raise not_found(f"tenant {tenant_id}")
    return JSONResponse(discovery(tenant_id), headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE_SECONDS}"})


@router.get("/{tenant_id}/discovery/v2.0/keys")
async def keys(tenant_id: str, session: SessionDep) -> JSONResponse:
    if await _tenant(session, tenant_id) is None:
        raise not_found(f"tenant {tenant_id}")
    return JSONResponse({"keys": await published_keys()},
                        headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE_SECONDS}"})


@router.get("/{tenant_id}/oauth2/v2.0/authorize")
async def authorize(tenant_id: str, request: Request, session: SessionDep) -> Response:
    org = await _tenant(session, tenant_id)
    if org is None:
        return _page(openid_authorize.Outcome(status=404, headline="Sign-in could not continue",
                                              explanation="This organization does not exist (unknown tenant)."))
    outcome = await openid_authorize.authorize(
        session, org, dict(request.query_params), path=request.url.path,
        session_cookie=request.cookies.get(sessions.SESSION_COOKIE), ip_address=_client_ip(request))
    return _page(outcome)


@router.post("/{tenant_id}/oauth2/v2.0/token")
async def token(tenant_id: str, request: Request, session: SessionDep) -> JSONResponse:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    credentials = client_credentials(request.headers.get("authorization"), form.get("client_id"),
                                     form.get("client_secret"))
    try:
        answer = await openid_tokens.exchange(session, tenant_id, form, credentials, ip_address=_client_ip(request))
    except OAuthError as error:
        return _oauth_error(error)
    return JSONResponse(answer, headers=NO_STORE)


@router.api_route("/{tenant_id}/oauth2/v2.0/logout", methods=["GET", "POST"])
async def logout(tenant_id: str, request: Request, session: SessionDep) -> Response:
    org = await _tenant(session, tenant_id)
    if org is None:
        return _page(openid_authorize.Outcome(status=404, headline="Sign-out could not continue",
                                              explanation="This organization does not exist (unknown tenant)."))
    params = dict(request.query_params)
    if request.method == "POST":
        params.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
    hint = params.get("id_token_hint")
    hinted = await openid_tokens.foyer_claims(org, hint, allow_expired=True) if hint else None
    return _page(await openid_authorize.logout(session, org, params, hinted))


@router.api_route("/{tenant_id}/openid/userinfo", methods=["GET", "POST"])
async def userinfo(tenant_id: str, request: Request, session: SessionDep) -> JSONResponse:
    org = await _tenant(session, tenant_id)
    if org is None:
        return _oauth_error(OAuthError("invalid_tenant", f"Tenant {tenant_id} does not exist.", status=404))
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    try:
        answer = await openid_tokens.userinfo(session, org, bearer if scheme.lower() == "bearer" else None)
    except OAuthError as error:
        return _oauth_error(error)
    return JSONResponse(answer, headers=NO_STORE)
