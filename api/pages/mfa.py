"""The second-factor pages: /mfa asks a signed-in person for a second factor that meets an
authentication strength (foyer.rules.authentication_strength), or takes them through registering
one when they have none that does — never lets them through without. Whether a second factor is
needed at all is decided by whoever sends the browser here (`/mfa?next=<path>&strength=<id>`).

- TOTP: /mfa/totp/enrol shows a new secret (QR code and text) and takes its first code, which
  confirms the app and counts as this session's second factor; POST /mfa/totp checks a code.
- Passkeys and security keys: JSON endpoints under /mfa/webauthn/, called by the page's script
  (navigator.credentials.create / get), with the session's CSRF token in X-CSRF-Token; on success
  they answer {"next": path}.

A person who already has a method proves it is them with it (in this session) before registering
another. Each success adds the factor to the session cookie (sessions.add_method_cookie).
"""

from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from foyer.api.deps import OrganizationDep, SessionDep
from foyer.api.errors import body as error_body
from foyer.api.pages.deps import SessionPageUser, SignedIn, forbidden_form, onward, page
from foyer import sessions
from foyer.rules.authentication_strength import BUILT_IN, MFA, method_meets, satisfied
from foyer.settings import get_settings
from foyer.usecases import mfa
from foyer.usecases.mfa import FIDO2, SOFTWARE_OATH, MethodRefused

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF_HEADER = "X-CSRF-Token"
TOTP_FORM, ENROL_FORM, WEBAUTHN_FORM = "mfa-totp", "mfa-totp-enrol", "mfa-webauthn"
LOCKED = "Too many wrong codes. Your authenticator app is locked for 15 minutes."


def relying_party() -> tuple[str, str]:
    """WebAuthn's relying party id (the public URL's host) and the origin pages are served from."""
    parts = urlsplit(get_settings().public_url.rstrip("/"))
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


def _strength(strength: str) -> str:
    return strength if strength in BUILT_IN else MFA


def _here(target: str, strength: str) -> str:
    return "/mfa?" + urlencode({"next": target, "strength": strength})


def _session(me: SignedIn) -> sessions.SessionData:
    return sessions.read(me.cookie)


def _has_second_factor(me: SignedIn) -> bool:
    data = _session(me)
    return data is not None and bool(set(data.methods) & set(sessions.SECOND_FACTORS))


async def _may_register(session, me: SignedIn) -> bool:
    """Someone with no method yet, or who did a second factor in this session."""
    return _has_second_factor(me) or not await mfa.registered_methods(session, me.id)


async def _mfa_page(session, me: SignedIn, target: str, strength: str, status: int = 200,
                    error: str | None = None) -> HTMLResponse:
    methods = await mfa.registered_methods(session, me.id)
    usable = [m for m in methods if method_meets(strength, m.kind)]
    context = {"next": target, "strength": strength, "strength_name": BUILT_IN[strength]["displayName"],
               "webauthn_csrf": me.csrf(WEBAUTHN_FORM), "totp_csrf": me.csrf(TOTP_FORM), "error": error}
    if usable or (methods and not _has_second_factor(me)):
        # The challenge: with a method that meets the strength; or, before registering a stronger
        # one, with the one they have (then back here, to register).
        first = not usable
        shown = usable or methods
        return page("mfa", status=status, me=me, step="challenge", verify_first=first,
                    has_totp=any(m.kind == SOFTWARE_OATH for m in shown),
                    has_passkey=any(m.kind == FIDO2 for m in shown),
                    then=_here(target, strength) if first else target, **context)
    return page("mfa", status=status, me=me, step="register", verify_first=False, then=target,
                offer_totp=method_meets(strength, SOFTWARE_OATH), offer_passkey=method_meets(strength, FIDO2),
                enrol_url="/mfa/totp/enrol?" + urlencode({"next": target, "strength": strength}), **context)


@router.get("/mfa", response_model=None)
async def mfa_page(me: SessionPageUser, session: SessionDep, next: str = "", strength: str = MFA):
    target, strength = sessions.safe_next(next), _strength(strength)
    data = _session(me)
    if data is not None and satisfied(strength, set(data.methods)):
        return RedirectResponse(target, status_code=303)
    return await _mfa_page(session, me, target, strength)


@router.post("/mfa/totp", response_model=None)
async def totp_code(me: SessionPageUser, session: SessionDep, code: str = Form(""), csrf: str = Form(""),
                    next: str = Form(""), strength: str = Form(MFA)):
    target, strength = sessions.safe_next(next), _strength(strength)
    if not me.csrf_ok(TOTP_FORM, csrf):
        return forbidden_form(me)
    checked = await mfa.verify_totp(session, me.id, code)
    if checked.outcome == "accepted":
        response = onward(target)
        sessions.add_method_cookie(response, _session(me), sessions.TOTP)
        return response
    if checked.outcome == "locked":
        return await _mfa_page(session, me, target, strength, status=429, error=LOCKED)
    if checked.outcome == "replayed":
        return await _mfa_page(session, me, target, strength, status=400,
                               error="That code was used already. Wait for the next one.")
    if checked.outcome == "noMethod":
        return await _mfa_page(session, me, target, strength, status=400,
                               error="You have no authenticator app registered here.")
    return await _mfa_page(session, me, target, strength, status=400, error=_wrong(checked.attempts_left))


def _wrong(left: int) -> str:
    return f"That code is not right. {left} tr{'y' if left == 1 else 'ies'} left."


@router.get("/mfa/totp/enrol", response_model=None)
async def totp_enrol(me: SessionPageUser, session: SessionDep, next: str = "", strength: str = MFA):
    target, strength = sessions.safe_next(next), _strength(strength)
    if not method_meets(strength, SOFTWARE_OATH) or not await _may_register(session, me):
        return RedirectResponse(_here(target, strength), status_code=303)
    enrolment = await mfa.begin_totp_enrolment(session, me.user)
    return _enrol_page(me, enrolment, target, strength)


def _enrol_page(me: SignedIn, enrolment, target: str, strength: str, status: int = 200,
                error: str | None = None) -> HTMLResponse:
    secret = " ".join(enrolment.secret[i:i + 4] for i in range(0, len(enrolment.secret), 4))
    return page("mfa_totp_enrol", status=status, me=me, enrolment=enrolment, secret=secret, next=target,
                strength=strength, csrf=me.csrf(ENROL_FORM), error=error)


@router.post("/mfa/totp/enrol", response_model=None)
async def totp_confirm(me: SessionPageUser, session: SessionDep, method_id: str = Form(""), code: str = Form(""),
                       csrf: str = Form(""), next: str = Form(""), strength: str = Form(MFA)):
    target, strength = sessions.safe_next(next), _strength(strength)
    if not me.csrf_ok(ENROL_FORM, csrf):
        return forbidden_form(me)
    if not await _may_register(session, me):
        return RedirectResponse(_here(target, strength), status_code=303)
    try:
        checked = await mfa.confirm_totp_enrolment(session, me.id, method_id, code)
    except MethodRefused as refused:
        return page("message", status=400, me=me, headline="Set up your authenticator app again",
                    explanation=refused.message, link=_here(target, strength), link_text="Start again")
    if checked.outcome == "accepted":
        response = onward(target)
        sessions.add_method_cookie(response, _session(me), sessions.TOTP)
        return response
    if checked.outcome == "locked":
        return page("message", status=429, me=me, headline="Too many wrong codes",
                    explanation="This set-up is locked for 15 minutes. Start again afterwards.",
                    link=_here(target, strength), link_text="Start again")
    enrolment = await mfa.totp_enrolment(session, me.user, method_id)
    return _enrol_page(me, enrolment, target, strength, status=400, error=_wrong(checked.attempts_left))


# --- passkeys and security keys (JSON, for the page's script) ------------------------------------

def _json_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status)


async def _json_body(request: Request, me: SignedIn) -> dict | JSONResponse:
    if not me.csrf_ok(WEBAUTHN_FORM, request.headers.get(CSRF_HEADER)):
        return _json_error(403, "csrfTokenInvalid", "This page has expired. Reload it and try again.")
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _json_error(400, "invalidRequest", "The request body must be a JSON object.")
    return body


def _done(me: SignedIn, body: dict) -> JSONResponse:
    target = sessions.safe_next(body.get("next") if isinstance(body.get("next"), str) else None)
    response = JSONResponse({"next": target})
    sessions.add_method_cookie(response, _session(me), sessions.FIDO2)
    return response


NOT_YET = "Confirm it's you with the method you have first."


@router.post("/mfa/webauthn/register/options", response_model=None)
async def register_options(request: Request, me: SessionPageUser, session: SessionDep, org: OrganizationDep):
    body = await _json_body(request, me)
    if isinstance(body, Response):
        return body
    if not await _may_register(session, me):
        return _json_error(403, "secondFactorRequired", NOT_YET)
    rp_id, _ = relying_party()
    return JSONResponse(await mfa.begin_registration(session, me.user, rp_id, org.display_name))


@router.post("/mfa/webauthn/register", response_model=None)
async def register(request: Request, me: SessionPageUser, session: SessionDep):
    body = await _json_body(request, me)
    if isinstance(body, Response):
        return body
    if not await _may_register(session, me):
        return _json_error(403, "secondFactorRequired", NOT_YET)
    rp_id, origin = relying_party()
    name = body.get("displayName") if isinstance(body.get("displayName"), str) else None
    try:
        await mfa.finish_registration(session, me.user, body.get("credential"), origin, rp_id, display_name=name)
    except MethodRefused as refused:
        return _json_error(400, "registrationRefused", refused.message)
    # Registering counts as this session's second factor: the person had no method, or had just
    # proved it is them with one, and the new key answered the ceremony.
    return _done(me, body)


@router.post("/mfa/webauthn/authenticate/options", response_model=None)
async def authenticate_options(request: Request, me: SessionPageUser, session: SessionDep):
    body = await _json_body(request, me)
    if isinstance(body, Response):
        return body
    rp_id, _ = relying_party()
    try:
        return JSONResponse(await mfa.begin_authentication(session, me.user, rp_id))
    except MethodRefused as refused:
        return _json_error(400, "noPasskey", refused.message)


@router.post("/mfa/webauthn/authenticate", response_model=None)
async def authenticate(request: Request, me: SessionPageUser, session: SessionDep):
    body = await _json_body(request, me)
    if isinstance(body, Response):
        return body
    rp_id, origin = relying_party()
    try:
        await mfa.finish_authentication(session, me.user, body.get("credential"), origin, rp_id)
    except MethodRefused as refused:
        return _json_error(400, "authenticationRefused", refused.message)
    return _done(me, body)
