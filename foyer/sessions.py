"""Signed session cookies for Foyer's pages, CSRF tokens for their forms, safe redirects.

The cookie `foyer_session` is `{user_id}.{expires}.{nonce}.{mac}`: an HMAC (FOYER_SECRET_KEY)
over the user id, the expiry (Unix seconds) and a random nonce; a person who signed in at their own
identity provider has `{user_id}.{expires}.{nonce}.{idp}.{mac}`, the provider's issuer in base64url
(the `idp` claim of the tokens the OpenID Provider then issues). Nothing is stored server-side;
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


@dataclass(frozen=True)
class SessionData:
    user_id: str
    expires_at: datetime
    # The issuer of the identity provider the person signed in at; None: the email passcode.
    idp: str | None = None


def issue(user_id: str, now: datetime | None = None, idp: str | None = None) -> tuple[str, SessionData]:
    """A new cookie value for `user_id`, valid SESSION_LIFETIME from now."""
    now = now or datetime.now(timezone.utc)
    expires = int((now + SESSION_LIFETIME).timestamp())
    if "." in user_id:
        raise ValueError("user ids never hold dots")
    payload = f"{user_id}.{expires}.{secrets.token_urlsafe(12).replace('.', '_')}"
    if idp:
        payload += "." + base64.urlsafe_b64encode(idp.encode()).decode().rstrip("=")
    value = f"{payload}.{keyed_digest('session', payload)}"
    return value, SessionData(user_id=user_id, expires_at=datetime.fromtimestamp(expires, timezone.utc), idp=idp)


def read(value: str | None, now: datetime | None = None) -> SessionData | None:
    """The session a cookie value carries, or None when it is missing, forged or expired."""
    if not value or value.count(".") not in (3, 4):
        return None
    payload, mac = value.rsplit(".", 1)
    if not keyed_digest_matches("session", payload, mac):
        return None
    user_id, expires, *rest = payload.split(".")
    idp = None
    if len(rest) == 2:
        try:
            idp = base64.urlsafe_b64decode(rest[1] + "=" * (-len(rest[1]) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
    try:
        expires_at = datetime.fromtimestamp(int(expires), timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None
    if expires_at <= (now or datetime.now(timezone.utc)):
        return None
    return SessionData(user_id=user_id, expires_at=expires_at, idp=idp)


def set_session_cookie(response, user_id: str, idp: str | None = None) -> SessionData:
    """Sign `user_id` in on `response`'s browser: a new session cookie for the whole site;
    `idp`, the issuer of the identity provider they signed in at (None: the email passcode)."""
    value, data = issue(user_id, idp=idp)
    response.set_cookie(SESSION_COOKIE, value, expires=data.expires_at, httponly=True, samesite="lax",
                        secure=cookie_secure(), path="/")
    return data


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
