"""What Foyer's people-facing pages share: the signed-in user, CSRF checks, rendering."""

import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from foyer.api.deps import SessionDep
from foyer import sessions
from foyer.rules.sign_in import may_sign_in
from foyer.security import client_key
from foyer.templating import render
from foyer.usecases import sign_in_policy
from foyer.models.directory import Organization, User


def _here(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET" and target.endswith("/remove"):
        target = "/myaccess"  # a form post with no page of its own: come back to the list
    return target


class SignInRequired(HTTPException):
    """A 303 to the sign-in page, raised from the dependency (the app's HTTP error handler
    passes the Location header through, and browsers follow it). `again`: a new sign-in even
    though the browser has a session (Conditional Access's sign-in frequency ran out)."""

    def __init__(self, request: Request, again: bool = False):
        location = f"/signin?next={quote(_here(request), safe='')}" + ("&prompt=login" if again else "")
        super().__init__(status_code=303, detail="sign in first", headers={"Location": location})


class SecondFactorRequired(HTTPException):
    """A 303 to the second-factor page (foyer.api.pages.mfa), which comes back here."""

    def __init__(self, request: Request, strength: str):
        location = f"/mfa?next={quote(_here(request), safe='')}&strength={quote(strength, safe='')}"
        super().__init__(status_code=303, detail="a second factor first", headers={"Location": location})


class PageRefused(Exception):
    """A page that says why the person cannot go on (a policy refused them), answered instead of
    what they asked for; the session ends with it."""

    def __init__(self, headline: str, explanation: str, status: int = 403):
        super().__init__(explanation)
        self.headline, self.explanation, self.status = headline, explanation, status


AUTHORIZE_PATH = re.compile(r"^/[^/]+/oauth2/v2\.0/authorize$")


def onward(target: str) -> Response:
    """Where a form that finished a sign-in step (the passcode, a second factor) sends the
    browser: a redirect to `target`, except to the OpenID Provider's authorize step. That leads on
    to an app on another site, often through more sites (a partner organization's Foyer, then its
    app), and a form's redirects may reach only the sites its page's Content-Security-Policy
    (form-action) names, so the browser goes on from a page that refreshes to `target` instead."""
    if AUTHORIZE_PATH.match(urlsplit(target).path):
        return page("continue", url=target)
    return RedirectResponse(target, status_code=303)


def install_page_refusals(app) -> None:
    @app.exception_handler(PageRefused)
    async def _refused(_: Request, exc: PageRefused) -> HTMLResponse:
        response = page("message", status=exc.status, headline=exc.headline, explanation=exc.explanation,
                        link="/signin", link_text="Sign in again")
        response.delete_cookie(sessions.SESSION_COOKIE, path="/")
        return response


@dataclass
class SignedIn:
    user: User
    cookie: str  # the session cookie's value: the key of this session's CSRF tokens

    @property
    def id(self) -> str:
        return self.user.id

    def csrf(self, form: str) -> str:
        return sessions.csrf_token(self.cookie, form)

    def csrf_ok(self, form: str, token: str | None) -> bool:
        return sessions.csrf_valid(self.cookie, form, token)


@dataclass
class SessionUser(SignedIn):
    data: sessions.SessionData | None = None


async def session_user(request: Request, session: SessionDep) -> SessionUser:
    """The person the browser's session names, who may sign in — before the organization's
    policies are asked (the second-factor page, which those policies send people to)."""
    cookie = request.cookies.get(sessions.SESSION_COOKIE)
    data = sessions.read(cookie)
    if data is None:
        raise SignInRequired(request)
    user = await session.get(User, data.user_id)
    if not may_sign_in(user):
        raise SignInRequired(request)
    return SessionUser(user=user, cookie=cookie, data=data)


async def page_user(request: Request, session: SessionDep) -> SignedIn:
    """The signed-in person, held to the organization's policies for its own pages (Conditional
    Access for all resources; cross-tenant inbound settings for a partner's person): a second
    factor first, a new sign-in, or a page that says why not."""
    me = await session_user(request, session)
    org = await session.get(Organization, me.user.organization_id)
    decision = await sign_in_policy.decide(session, org, me.user, me.data, None)
    if decision.outcome == "mfa":
        raise SecondFactorRequired(request, decision.required_strength)
    if decision.outcome == "reauthenticate":
        raise SignInRequired(request, again=True)
    if decision.outcome == "block":
        raise PageRefused("You can't continue", decision.reason)
    return SignedIn(user=me.user, cookie=me.cookie)


PageUser = Annotated[SignedIn, Depends(page_user)]
SessionPageUser = Annotated[SessionUser, Depends(session_user)]


def page(name: str, status: int = 200, *, me: SignedIn | None = None, **context) -> HTMLResponse:
    context.setdefault("error", None)
    context.setdefault("notice", None)
    # Never cached, never framed: api.security_headers does that for every page.
    return HTMLResponse(render(f"pages/{name}.html", me=me, **context), status_code=status)


def code_requester(request: Request, email: str) -> dict:
    """Who asks for a code, for the code limits: the client (a keyed digest of its address) and
    whether this browser is known for `email`. The client is the TCP peer: behind a reverse proxy
    that is the proxy, so every request shares one client and the per-client limits act per
    address (as before they existed) until trusted-proxy settings say which header to believe."""
    return {"client": client_key(request.client.host if request.client else None),
            "known_device": sessions.is_known_device(request.cookies.get(sessions.DEVICE_COOKIE), email)}


def forbidden_form(me: SignedIn) -> HTMLResponse:
    return page("message", status=403, me=me, headline="This form has expired",
                explanation="The page was opened in another session or is too old. Go back, "
                            "reload it and try again.", link="/myaccess", link_text="Back to My Access")


def refusal_text(refused) -> str:
    """A use case's refusal (foyer.errors.Refused) as a sentence for a page."""
    text = refused.message or "That was refused."
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# --- the round trip to a guest's own identity provider (foyer.usecases.federated_sign_in) -------

FEDERATION_COOKIE = "foyer_federation"
FEDERATION_COOKIE_PATH = "/federation"
# Set by /federation/complete for a sign-up's round trip (path /signup): the verified attempt's state.
SIGN_UP_FEDERATION_COOKIE = "foyer_signup_federation"


def to_identity_provider(url: str, state: str, provider: str | None, email: str | None = None,
                         status: int = 200) -> HTMLResponse:
    """The page that sends the browser on to its identity provider, and binds the round trip to
    this browser: the callback finds the same state in the cookie (SameSite=Lax: it comes back on
    the provider's top-level redirect to the callback)."""
    response = page("federation_redirect", status=status, url=url, provider=provider or "your organization",
                    email=email)
    response.set_cookie(FEDERATION_COOKIE, state, max_age=15 * 60, httponly=True, samesite="lax",
                        secure=sessions.cookie_secure(), path=FEDERATION_COOKIE_PATH)
    return response


def federation_refused(refused, status: int = 403, link: str | None = None,
                       link_text: str | None = None) -> HTMLResponse:
    """A page that says why a federated sign-in was refused (foyer.usecases.federation's
    FederationRefused), with no passcode offered in its place."""
    return page("message", status=status, headline="We couldn't sign you in", explanation=refused.message,
                link=link, link_text=link_text)
