"""The authorization endpoint (authorization code flow with PKCE) and RP-initiated logout.

Who the person is comes from Foyer's session cookie (foyer.sessions, made by the email one-time
passcode sign-in page); its issue time is `auth_time`. Who may have a token is app_access's
decision, then the organization's policies' (foyer.usecases.sign_in_policy: cross-tenant access
settings and Conditional Access), which may block, ask for a second factor (/mfa, then back
here) or for a new sign-in; the `amr` of the code says what was done. A request whose client or
redirect URI is unknown never redirects (an error page); every later error goes back to the
registered redirect URI with `error` and `state`.

A refused person (not assigned, disabled, invitation not redeemed) sees a page that says why,
with a "Return to <app>" link that carries error=access_denied and the reason to the app's
redirect URI: the person reads why first, and the app learns it when they go back.
"""

import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer import sessions
from foyer.db import writing
from foyer.models.directory import Application, Organization, User
from foyer.models.openid import AuthorizationCode
from foyer.security import sha256
from foyer.usecases.app_access import app_access
from foyer.usecases import sign_in_policy
from foyer.usecases.openid_claims import SUPPORTED_SCOPES
from foyer.rules import redirect_uris
from foyer.usecases.openid_clients import UNKNOWN_CLIENT, find_client, is_public_redirect
from foyer.usecases.sign_in_log import record_sign_in

CODE_LIFETIME = timedelta(minutes=5)
VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")
# Set on the way to the sign-in page for prompt=login: the session must be newer than this.
LOGIN_AFTER = "foyer_login_after"

# Entra's AADSTS numbers for what the authorization endpoint refuses (the sign-in log's errorCode).
REDIRECT_URI_NOT_REGISTERED = 50011
INVALID_REQUEST = 900144
INVALID_SCOPE = 70011
PKCE_REQUIRED = 9002325
LOGIN_REQUIRED = 50058


@dataclass
class Outcome:
    """What the endpoint answers: a redirect (`location`), or a page (`headline`, `explanation`,
    optionally a `link` back to the app) with `status`."""
    location: str | None = None
    status: int = 200
    headline: str = ""
    explanation: str = ""
    link: str | None = None
    link_text: str | None = None
    clear_session: bool = False
    extra: dict = field(default_factory=dict)


def with_query(uri: str, params: dict) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}" if query else uri


def _error_page(status: int, explanation: str, headline: str = "Sign-in could not continue") -> Outcome:
    return Outcome(status=status, headline=headline, explanation=explanation)


def _issued_at(data: sessions.SessionData) -> datetime:
    return data.expires_at - sessions.SESSION_LIFETIME


def verifier_matches(verifier: str | None, challenge: str | None) -> bool:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) == challenge (authlib computes it)."""
    if not verifier or not challenge or not VERIFIER.match(verifier):
        return False
    return hmac.compare_digest(create_s256_code_challenge(verifier), challenge)


async def authorize(session: AsyncSession, org: Organization, params: dict[str, str], *, path: str,
                    session_cookie: str | None, ip_address: str | None,
                    now: datetime | None = None) -> Outcome:
    now = now or datetime.now(timezone.utc)
    data = sessions.read(session_cookie, now)
    user = await session.get(User, data.user_id) if data else None
    if user is not None and user.organization_id != org.id:
        user = None

    async def failed(app: Application | None, code: int, reason: str,
                     decision: sign_in_policy.SignInDecision | None = None) -> None:
        # Every failure is in the sign-in log, with the person when the browser is signed in.
        record_sign_in(session, organization_id=org.id, user=user, app=app, interactive=True,
                       error_code=code, failure_reason=reason, ip_address=ip_address, now=now,
                       conditional_access=decision.log_fields() if decision else None)
        async with writing():
            await session.commit()

    app = await find_client(session, org.id, params.get("client_id"))
    if app is None:
        await failed(None, UNKNOWN_CLIENT, "Application not found in this organization.")
        return _error_page(400, "The application asking you to sign in is not registered in this organization "
                                "(unknown client_id).")
    redirect_uri = params.get("redirect_uri") or ""
    if not redirect_uris.is_registered(app, redirect_uri):
        await failed(app, REDIRECT_URI_NOT_REGISTERED, "The redirect URI is not registered for the application.")
        return _error_page(400, f"The address {app.display_name} asked to send you back to is not one it "
                                "registered (redirect_uri). Foyer does not send you there.")
    state = params.get("state")

    async def back(error: str, description: str, code: int = INVALID_REQUEST) -> Outcome:
        await failed(app, code, description)
        return Outcome(status=303, location=with_query(redirect_uri, {
            "error": error, "error_description": f"AADSTS{code}: {description}", "state": state}))

    if params.get("response_type") != "code":
        return await back("unsupported_response_type", "Only response_type=code is supported.")
    if params.get("response_mode") not in (None, "", "query"):
        return await back("invalid_request", "Only response_mode=query is supported.")
    scopes = (params.get("scope") or "").split()
    if "openid" not in scopes:
        return await back("invalid_scope", "The openid scope is required.", INVALID_SCOPE)
    scope = " ".join(s for s in dict.fromkeys(scopes) if s in SUPPORTED_SCOPES)
    challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
    if challenge:
        if (method or "plain") != "S256":
            return await back("invalid_request", "code_challenge_method must be S256 (plain is refused).")
        if not CHALLENGE.match(challenge):
            return await back("invalid_request", "code_challenge is not a BASE64URL SHA-256 digest.")
    elif method:
        return await back("invalid_request", "code_challenge_method without code_challenge.")
    elif is_public_redirect(app, redirect_uri):
        return await back("invalid_request", "A public client (spa or publicClient redirect URI) must use PKCE "
                                             "(code_challenge with code_challenge_method=S256).", PKCE_REQUIRED)
    max_age = params.get("max_age")
    if max_age not in (None, "") and not max_age.isdigit():
        return await back("invalid_request", "max_age must be a number of seconds.")

    prompt = set((params.get("prompt") or "").split())
    auth_time = _issued_at(data) if data else None
    fresh_after = params.get(LOGIN_AFTER)
    needs_sign_in = (user is None or "login" in prompt
                     or (max_age not in (None, "") and auth_time is not None
                         and (now - auth_time).total_seconds() > int(max_age))
                     or (fresh_after and fresh_after.isdigit() and auth_time is not None
                         and auth_time.timestamp() < int(fresh_after)))
    if needs_sign_in:
        if "none" in prompt:
            return await back("login_required", "The person is not signed in to Foyer.", LOGIN_REQUIRED)
        forced = "login" in prompt or bool(fresh_after) or user is not None
        onward = {k: v for k, v in params.items() if k != "prompt"}
        if forced and LOGIN_AFTER not in onward:
            onward[LOGIN_AFTER] = str(int(now.timestamp()))
        signin = {"next": with_query(path, onward), "login_hint": params.get("login_hint") or None,
                  "prompt": "login" if forced else None}
        return Outcome(status=303, location=with_query("/signin", signin))

    assert user is not None and auth_time is not None
    access = await app_access(session, user, app)
    async def refused(error_code: int, reason: str, decision=None) -> Outcome:
        # The person reads why on a page; the app learns it when they go back (or at once, silently).
        await failed(app, error_code, reason, decision)
        returned = with_query(redirect_uri, {"error": "access_denied",
                                             "error_description": f"AADSTS{error_code}: {reason}", "state": state})
        if "none" in prompt:
            return Outcome(status=303, location=returned)
        return Outcome(status=403, headline=f"You can't sign in to {app.display_name}", explanation=reason,
                       link=returned, link_text=f"Return to {app.display_name}", extra={"error_code": error_code})

    if not access.allowed:
        return await refused(access.error_code, access.reason)

    # The organization's policies: cross-tenant access settings, then Conditional Access.
    decision = await sign_in_policy.decide(session, org, user, data, app, now)
    if decision.outcome in ("mfa", "reauthenticate") and "none" in prompt:
        # A silent request cannot prompt: the app must send the person through interactively.
        return await back("interaction_required", decision.reason, decision.error_code)
    if decision.outcome == "mfa":
        # Logged as Entra logs an interrupted sign-in; the second factor, then back here.
        await failed(app, decision.error_code, decision.reason, decision)
        back_here = with_query(path, params)
        return Outcome(status=303, location=with_query("/mfa", {"next": back_here,
                                                              "strength": decision.required_strength}))
    if decision.outcome == "reauthenticate":
        onward = {**{k: v for k, v in params.items() if k != "prompt"}, LOGIN_AFTER: str(int(now.timestamp()))}
        return Outcome(status=303, location=with_query("/signin", {"next": with_query(path, onward),
                                                                   "prompt": "login"}))
    if decision.outcome == "block":
        return await refused(decision.error_code, decision.reason, decision)

    code = secrets.token_urlsafe(32)
    session.add(AuthorizationCode(
        code_hash=sha256(code), application_id=app.id, user_id=user.id, redirect_uri=redirect_uri,
        scope=scope, nonce=params.get("nonce") or None, code_challenge=challenge or None,
        code_challenge_method="S256" if challenge else None, auth_time=auth_time,
        amr=decision.amr, idp=data.idp,
        expires_date_time=now + CODE_LIFETIME, created_date_time=now))
    record_sign_in(session, organization_id=org.id, user=user, app=app, interactive=True,
                   ip_address=ip_address, now=now, conditional_access=decision.log_fields())
    async with writing():  # on SQLite, this process's writes queue in order (foyer.db.writing)
        await session.commit()
    return Outcome(status=303, location=with_query(redirect_uri, {"code": code, "state": state}))


async def logout(session: AsyncSession, org: Organization, params: dict[str, str],
                 hinted: dict | None) -> Outcome:
    """RP-initiated logout: end the Foyer session (the cookie) and go back to
    post_logout_redirect_uri when it is registered for the app named by id_token_hint (its aud)
    or client_id; an unregistered one is never followed."""
    client_id = (hinted or {}).get("aud") or params.get("client_id")
    app: Application | None = await find_client(session, org.id, client_id) if client_id else None
    target = params.get("post_logout_redirect_uri")
    signed_out = Outcome(status=200, headline="You are signed out",
                         explanation="Your Foyer session on this browser has ended.",
                         link="/signin", link_text="Sign in again", clear_session=True)
    if params.get("id_token_hint") and hinted is None:
        return Outcome(status=400, headline="Sign-out could not continue",
                       explanation="The id_token_hint was not issued by this organization.")
    if not target:
        return signed_out
    if app is None or not redirect_uris.is_registered(app, target):
        return Outcome(status=400, headline="You are signed out",
                       explanation="Your Foyer session on this browser has ended, but the address the "
                                   "application asked to return to is not registered, so Foyer does not "
                                   "send you there.", clear_session=True)
    return Outcome(status=303, location=with_query(target, {"state": params.get("state")}), clear_session=True)
