"""Applications as OAuth clients of Foyer's OpenID Provider: client secrets (Graph's
passwordCredentials), which redirect URIs an app registered, and client authentication at the
token endpoint (client_secret_basic, client_secret_post, or none for a public client).

The secret's text is shown once (addPassword) and only its digest is kept, in the credential's
`secretHash`. Secrets are 256 random bits, so a plain SHA-256 is enough (no dictionary can find
them) and it does not change when FOYER_SECRET_KEY rotates.
"""

import base64
import binascii
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import unquote

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer.models.directory import Application
from foyer.rules import redirect_uris
from foyer.security import sha256

SECRET_PREFIX_LENGTH = 3  # Graph's `hint`: the first characters of the secret text

# Entra's AADSTS numbers for client authentication.
INVALID_CLIENT_SECRET = 7000215
CLIENT_SECRET_REQUIRED = 7000218
UNKNOWN_CLIENT = 700016


def client_secret_hash(secret: str) -> str:
    """The digest a password credential keeps (its `secretHash`)."""
    return "sha256:" + sha256(secret)


def new_client_secret() -> tuple[str, str]:
    """A new client secret: (the text, shown once; its digest, stored)."""
    text = secrets.token_urlsafe(32)
    return text, client_secret_hash(text)


def secret_hint(secret: str) -> str:
    return secret[:SECRET_PREFIX_LENGTH]


def client_secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(client_secret_hash(secret), stored_hash or "")


def _parse_time(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def secret_valid_for(app: Application, secret: str, now: datetime | None = None) -> bool:
    """Whether `secret` is one of the app's password credentials, within its start and end."""
    now = now or datetime.now(timezone.utc)
    found = False
    for credential in app.password_credentials or []:
        start, end = _parse_time(credential.get("startDateTime")), _parse_time(credential.get("endDateTime"))
        if (start and start > now) or (end and end <= now):
            continue
        found |= client_secret_matches(secret, credential.get("secretHash", ""))
    return found


def is_public_redirect(app: Application, redirect_uri: str) -> bool:
    """A redirect URI of a public client (spa or publicClient): PKCE, no secret."""
    return redirect_uris.registered_kind(app, redirect_uri) in redirect_uris.PUBLIC_KINDS


def is_confidential_only(app: Application) -> bool:
    """An app that signs in only as a confidential client (web redirect URIs, none public): every
    token request must carry its secret."""
    return bool(app.web_redirect_uris) and not app.spa_redirect_uris and not app.public_client_redirect_uris


async def find_client(session: AsyncSession, organization_id: str, client_id: str | None) -> Application | None:
    if not client_id:
        return None
    return (await session.exec(select(Application).where(
        Application.app_id == client_id, Application.organization_id == organization_id))).first()


@dataclass(frozen=True)
class ClientCredentials:
    """What a token request says about its client: its id, and the secret if it sent one."""
    client_id: str | None
    secret: str | None
    method: str  # "client_secret_basic", "client_secret_post" or "none"
    malformed: bool = False


def client_credentials(authorization: str | None, form_client_id: str | None,
                       form_secret: str | None) -> ClientCredentials:
    """The client of a token request: HTTP Basic (RFC 6749 §2.3.1: both parts form-urlencoded)
    or the form's client_id / client_secret. Both at once, or two different client ids, is
    malformed."""
    if authorization and authorization[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ClientCredentials(None, None, "client_secret_basic", malformed=True)
        user, colon, password = decoded.partition(":")
        if not colon or form_secret or (form_client_id and form_client_id != unquote(user)):
            return ClientCredentials(None, None, "client_secret_basic", malformed=True)
        return ClientCredentials(unquote(user), unquote(password), "client_secret_basic")
    if form_secret:
        return ClientCredentials(form_client_id, form_secret, "client_secret_post")
    return ClientCredentials(form_client_id, None, "none")
