"""Signed session cookies for Foyer's pages, CSRF tokens for their forms, safe redirects.

The cookie `foyer_session` is `{user_id}.{expires}.{nonce}.{idp}.{methods}.{context}.{mac}`: an
HMAC (FOYER_SECRET_KEY) over the user id, the expiry (Unix seconds), a random nonce, the issuer of
the identity provider the person signed in at in base64url (`-`: none; the `idp` claim of the
tokens the OpenID Provider then issues), the methods done here, `+`-joined (METHODS), and the
federation attempt the session came from (`-`: none; a partner's tenant, object and group ids and
`amr` are read from it). Cookies of the earlier shapes (`{user_id}.{expires}.{nonce}[.{idp}].{mac}`)
still read: the passcode, or the provider. Nothing is stored server-side;
the page dependency re-reads the user on every request, so a disabled account is out at once.
A form's CSRF token is HMAC(session cookie, form name): it dies with the session.
Both are made with FOYER_SECRET_KEY and verified with it or FOYER_PREVIOUS_SECRET_KEYS, so a
key rotation does not sign everyone out (until the previous key is removed).
"""

import base64
import binascii
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from foyer.security import keyed_digest, keyed_digest_matches
from foyer.settings import get_settings

SESSION_COOKIE = "foyer_session"
SESSION_LIFETIME = timedelta(hours=8)
DEFAULT_LANDING = "/myaccess"


# How a person proved who they are here: the email passcode, a federated provider, and the second
# factors (a TOTP code, a passkey or security key). The `amr` claim is made from these.
EMAIL_PASSCODE, FEDERATED, TOTP, FIDO2 = "otp", "fed", "totp", "fido2"
METHODS = (EMAIL_PASSCODE, FEDERATED, TOTP, FIDO2)
SECOND_FACTORS = (TOTP, FIDO2)


@dataclass(frozen=True)
class SessionData:
    user_id: str
    expires_at: datetime
    # The issuer of the identity provider the person signed in at; None: the email passcode.
    idp: str | None = None
    # What was done here to sign in (METHODS), in order.
    methods: tuple[str, ...] = ()
    # The federation attempt the session came from (foyer.models.federation.FederationAttempt).
    context_id: str | None = None

    @property
    def issued_at(self) -> datetime:
        return self.expires_at - SESSION_LIFETIME

    @property
    def first_factor(self) -> str:
        return FEDERATED if self.idp else EMAIL_PASSCODE


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def _cookie(data: SessionData) -> str:
    for part in (data.user_id, data.context_id or ""):
        if "." in part:
            raise ValueError("user and attempt ids never hold dots")
    methods = [m for m in dict.fromkeys(data.methods) if m in METHODS] or [data.first_factor]
    payload = ".".join([data.user_id, str(int(data.expires_at.timestamp())),
                        secrets.token_urlsafe(12).replace(".", "_"), _b64(data.idp) if data.idp else "-",
                        "+".join(methods), data.context_id or "-"])
    return f"{payload}.{keyed_digest('session', payload)}"


def issue(user_id: str, now: datetime | None = None, idp: str | None = None,
          context_id: str | None = None) -> tuple[str, SessionData]:
    """A new cookie value for `user_id`, valid SESSION_LIFETIME from now: signed in with the email
    passcode, or at the provider `idp` (through the federation attempt `context_id`)."""
    now = now or datetime.now(timezone.utc)
    expires = datetime.fromtimestamp(int((now + SESSION_LIFETIME).timestamp()), timezone.utc)
    data = SessionData(user_id=user_id, expires_at=expires, idp=idp,
                       methods=(FEDERATED if idp else EMAIL_PASSCODE,), context_id=context_id)
    return _cookie(data), data


def with_method(data: SessionData, method: str) -> tuple[str, SessionData]:
    """The same session, with a second factor done now added (its expiry and sign-in time kept)."""
    if method not in METHODS:
        raise ValueError(f"unknown sign-in method {method}")
    upgraded = SessionData(user_id=data.user_id, expires_at=data.expires_at, idp=data.idp,
                           methods=tuple(dict.fromkeys((*data.methods, method))), context_id=data.context_id)
    return _cookie(upgraded), upgraded


def read(value: str | None, now: datetime | None = None) -> SessionData | None:
    """The session a cookie value carries, or None when it is missing, forged or expired."""
    if not value or value.count(".") not in (3, 4, 6):
        return None
    payload, mac = value.rsplit(".", 1)
    if not keyed_digest_matches("session", payload, mac):
        return None
    user_id, expires, _nonce, *rest = payload.split(".")
    idp, methods, context_id = None, (), None
    try:
        if rest and rest[0] != "-":
            idp = _unb64(rest[0])
    except (binascii.Error, UnicodeDecodeError):
        return None
    if len(rest) == 3:
        methods = tuple(m for m in rest[1].split("+") if m in METHODS)
        context_id = None if rest[2] == "-" else rest[2]
    try:
        expires_at = datetime.fromtimestamp(int(expires), timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None
    if expires_at <= (now or datetime.now(timezone.utc)):
        return None
    return SessionData(user_id=user_id, expires_at=expires_at, idp=idp,
                       methods=methods or ((FEDERATED if idp else EMAIL_PASSCODE),), context_id=context_id)


def _set(response, value: str, data: SessionData) -> SessionData:
    response.set_cookie(SESSION_COOKIE, value, expires=data.expires_at, httponly=True, samesite="lax",
                        secure=cookie_secure(), path="/")
    return data


def set_session_cookie(response, user_id: str, idp: str | None = None,
                       context_id: str | None = None) -> SessionData:
    """Sign `user_id` in on `response`'s browser: a new session cookie for the whole site;
    `idp`, the issuer of the identity provider they signed in at (None: the email passcode), and
    `context_id` the federation attempt that vouched for them."""
    value, data = issue(user_id, idp=idp, context_id=context_id)
    return _set(response, value, data)


def add_method_cookie(response, data: SessionData, method: str) -> SessionData:
    """Record on `response`'s browser that the session's person has just done `method` too."""
    value, upgraded = with_method(data, method)
    return _set(response, value, upgraded)


def csrf_token(session_value: str, form: str) -> str:
    return keyed_digest("csrf", f"{session_value}|{form}")


def csrf_valid(session_value: str | None, form: str, token: str | None) -> bool:
    if not session_value or not token:
        return False
    return keyed_digest_matches("csrf", f"{session_value}|{form}", token)


# A browser that completed a code for an address gets a signed "known device" cookie for it:
# `{expires}.{mac}`, the HMAC over the address and the expiry, so the cookie itself does not say
# which address. It lets that browser past the per-address ceiling on code requests (never the
# per-client limits), so strangers asking from many machines cannot lock the owner out.
DEVICE_COOKIE = "foyer_device"
DEVICE_LIFETIME = timedelta(days=90)


def known_device_cookie(email: str, now: datetime | None = None) -> tuple[str, datetime]:
    now = now or datetime.now(timezone.utc)
    expires = int((now + DEVICE_LIFETIME).timestamp())
    value = f"{expires}.{keyed_digest('device', f'{email.strip().lower()}|{expires}')}"
    return value, datetime.fromtimestamp(expires, timezone.utc)


def is_known_device(value: str | None, email: str, now: datetime | None = None) -> bool:
    if not value or value.count(".") != 1:
        return False
    expires, mac = value.split(".")
    if not keyed_digest_matches("device", f"{email.strip().lower()}|{expires}", mac):
        return False
    try:
        return int(expires) > (now or datetime.now(timezone.utc)).timestamp()
    except ValueError:
        return False


def remember_device(response, email: str) -> None:
    """Set the known-device cookie for `email` on `response` (after a code was completed)."""
    value, expires = known_device_cookie(email)
    response.set_cookie(DEVICE_COOKIE, value, expires=expires, httponly=True, samesite="lax",
                        secure=cookie_secure(), path="/")


def bind_to_browser(purpose: str, value: str) -> str:
    """A cookie value naming `value` that only Foyer can make: `value.mac`. For an id that others
    may learn (a sign-up's id is in its workflow id and shown to its approvers), so that knowing
    the id is not enough to act as the browser that started the journey."""
    return f"{value}.{keyed_digest('browser:' + purpose, value)}"


def bound_value(purpose: str, cookie: str | None) -> str | None:
    """The value a `bind_to_browser` cookie names, or None if Foyer did not make it."""
    value, _, mac = (cookie or "").rpartition(".")
    if not value or not keyed_digest_matches("browser:" + purpose, value, mac):
        return None
    return value


def safe_next(target: str | None, default: str = DEFAULT_LANDING) -> str:
    """Only a relative path on this site: never another host (`//evil`, `/\\evil`, `https:`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 0x20 or c == "\x7f" for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def cookie_secure() -> bool:
    return get_settings().public_url.lower().startswith("https://")
