"""Sign-in to Foyer's pages with an email one-time passcode: /signin, /signin/verify, and
/signout (a POST with the session's CSRF token). An address that signs in at its own identity
provider (a guest who redeemed there, or a domain a provider serves) is sent there instead
(foyer.usecases.federated_sign_in; the way back is foyer.api.pages.federation).

Each attempt is a SignInWorkflow (`signin:{digest of the challenge id}`). A typed code is checked
here against the database; only an accepted one is handed to the workflow (the code never enters
its history). The page answers the same for every
address — known, unknown or disabled — so it cannot be used to find out who is in the directory;
only a user who may sign in receives a code. The challenge is bound to the browser by a cookie.
"""

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from foyer.api.deps import OrganizationDep, SessionDep, TemporalDep
from foyer.api.pages.deps import (
    code_requester, federation_refused, onward, page, to_identity_provider,
)
from foyer import sessions
from foyer.errors import Refused
from foyer.rules.emails import is_email_address
from foyer.security import new_challenge_id
from foyer.usecases import federated_sign_in
from foyer.usecases.federation import FederationRefused
from foyer.usecases.sign_in import record_sign_in_code_attempt
from foyer.models.directory import User
from foyer.workflows.client import sign_in as sign_in_client
from foyer.workflows.messages.sign_in import CodeRequest

router = APIRouter(tags=["pages"], include_in_schema=False)
CHALLENGE_COOKIE = "foyer_signin"
BUSY = "The service is busy. Try again in a moment."
SENT = "If {email} belongs to someone who can sign in here, we emailed a code to it. It expires in 10 minutes."


def _form(status: int = 200, **context) -> HTMLResponse:
    context.setdefault("step", "email")
    context.setdefault("email", "")
    context.setdefault("challenge", None)
    return page("signin", status=status, **context)


@router.get("/signin")
async def signin_form(request: Request, next: str = "", login_hint: str = "", prompt: str = "") -> HTMLResponse:
    """`login_hint` prefills the address (an app's sign-in request passes it on); `prompt=login`
    asks for a new code even when this browser is signed in (the OpenID Provider's prompt=login
    and max_age)."""
    target = sessions.safe_next(next)
    if sessions.read(request.cookies.get(sessions.SESSION_COOKIE)) is not None and next and prompt != "login":
        # Already signed in (e.g. a second mail link): go straight on.
        return RedirectResponse(target, status_code=303)
    hint = login_hint.strip()
    return _form(next=target, email=hint if is_email_address(hint) else "")


@router.post("/signin")
async def send_code(request: Request, org: OrganizationDep, client: TemporalDep, session: SessionDep,
                    email: str = Form(""), next: str = Form("")) -> HTMLResponse:
    target = sessions.safe_next(next)
    email = email.strip()
    if not is_email_address(email):
        return _form(status=400, next=target, email=email, error="Enter your email address.")
    # Home realm discovery: a guest who redeemed at their own identity provider signs in there,
    # and so does an address whose domain a provider serves (foyer.usecases.federated_sign_in).
    realm = await federated_sign_in.realm_for_address(session, org, email)
    if realm.protocol in ("oidc", "saml"):
        try:
            url, state = await federated_sign_in.begin(session, org, realm, "signIn", next_url=target,
                                                       login_hint=email)
        except FederationRefused as refused:
            return federation_refused(refused, status=503, link="/signin", link_text="Back to sign-in")
        return to_identity_provider(url, state, realm.display_name, email)
    await session.close()
    challenge = new_challenge_id()
    if realm.protocol == "none":
        # Nothing may sign this address in (a federated guest whose provider was removed, or no
        # provider and no passcodes): no code is sent, and the page answers as for anyone.
        return _code_step(target, email, challenge)
    try:
        issued = await sign_in_client.request_code(
            client, challenge, org.id, CodeRequest(email=email, **code_requester(request, email)))
    except Refused as error:
        if error.code == "invalidRequest":
            return _form(status=400, next=target, email=email, error=error.message)
        return _form(status=503, next=target, email=email, error=BUSY)
    if issued.outcome == "tooManyRequests":
        # Counted whether or not the address is known: this tells nobody anything.
        return _form(status=429, next=target, email=email, error=issued.message)
    return _code_step(target, email, challenge)


def _code_step(target: str, email: str, challenge: str) -> HTMLResponse:
    response = _form(step="code", next=target, email=email, challenge=challenge,
                     notice=SENT.format(email=email))
    response.set_cookie(CHALLENGE_COOKIE, challenge, max_age=15 * 60, httponly=True, samesite="lax",
                        secure=sessions.cookie_secure(), path="/signin")
    return response


@router.post("/signin/verify", response_model=None)
async def verify_code(request: Request, client: TemporalDep, session: SessionDep, challenge: str = Form(""),
                      code: str = Form(""), email: str = Form(""), next: str = Form("")):
    target = sessions.safe_next(next)
    email = email.strip()
    if not challenge or request.cookies.get(CHALLENGE_COOKIE) != challenge:
        return _form(status=400, next=target, email=email,
                     error="Your code request was not found in this browser. Ask for a new code.")
    code = "".join(code.split())
    if not code.isdigit() or len(code) > 16:
        return _form(status=400, step="code", next=target, email=email, challenge=challenge,
                     error="Enter the 8 digits from the email.")
    checked = await record_sign_in_code_attempt(challenge, code)
    if checked.outcome == "unknownChallenge":
        return _ended(target, email, "This sign-in attempt has ended. Ask for a new code.")
    if checked.outcome != "accepted":
        return _refused(checked, target, email, challenge)
    try:
        checked = await sign_in_client.verify(client, challenge)
    except Refused as error:
        if error.transient:
            return _form(status=503, step="code", next=target, email=email, challenge=challenge, error=BUSY)
        # The attempt ended (locked, used, or older than 15 minutes) or never existed.
        return _ended(target, email, "This sign-in attempt has ended. Ask for a new code.")
    if checked.outcome == "signedIn":
        response = onward(target)
        sessions.set_session_cookie(response, checked.user_id)
        response.delete_cookie(CHALLENGE_COOKIE, path="/signin")
        # The address the code went to (the form's email field is the browser's to change).
        user = await session.get(User, checked.user_id)
        if user is not None and user.mail:
            sessions.remember_device(response, user.mail)
        return response
    return _refused(checked, target, email, challenge)


def _refused(checked, target: str, email: str, challenge: str) -> HTMLResponse:
    if checked.outcome == "wrongCode":
        left = checked.attempts_left
        return _form(status=400, step="code", next=target, email=email, challenge=challenge,
                     error=f"That code is not right. {left} tr{'y' if left == 1 else 'ies'} left.")
    if checked.outcome == "codeExpired":
        return _ended(target, email, "That code has expired. Ask for a new code.")
    return _ended(target, email, "Too many wrong tries for this code. Ask for a new code.")


def _ended(target: str, email: str, message: str) -> HTMLResponse:
    response = _form(status=400, next=target, email=email, error=message)
    response.delete_cookie(CHALLENGE_COOKIE, path="/signin")
    return response


@router.post("/signout")
async def sign_out(request: Request, csrf: str = Form("")) -> HTMLResponse:
    """A POST with the session's CSRF token: another site cannot sign a person out (a GET is 405)."""
    cookie = request.cookies.get(sessions.SESSION_COOKIE)
    if sessions.read(cookie) is not None and not sessions.csrf_valid(cookie, "signout", csrf):
        return page("message", status=403, headline="This form has expired",
                    explanation="Reload the page and sign out again.", link="/myaccess",
                    link_text="Back to My Access")
    response = page("portal_message", headline="You are signed out",
                    explanation="Your session on this browser has ended.",
                    link="/signin", link_text="Sign in again")
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    return response
