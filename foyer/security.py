"""Secrets: link tokens, one-time passcodes and API tokens. Only digests are ever stored."""

import hashlib
import hmac
import secrets

from foyer.settings import get_settings

PASSCODE_DIGITS = 8


def _mac(purpose: str, value: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_link_id() -> str:
    """128 bits from `secrets`; the nonce a link token is derived from."""
    return secrets.token_urlsafe(16)


def link_token(link_id: str) -> str:
    """The secret in a redemption URL. Derived (HMAC with FOYER_SECRET_KEY) from the link id so
    the token itself never enters workflow history, yet a retried mail activity can rebuild it."""
    return link_id + "." + _mac("invitation-link", link_id)[:32]


def link_token_hash(token: str) -> str:
    return sha256(token)


def new_passcode() -> str:
    return f"{secrets.randbelow(10**PASSCODE_DIGITS):0{PASSCODE_DIGITS}d}"


def passcode_hash(challenge_id: str, code: str) -> str:
    # Keyed: an 8-digit code hashed with plain SHA-256 would fall to a dictionary in seconds.
    return _mac("passcode", f"{challenge_id}:{code}")


def passcode_matches(challenge_id: str, code: str, stored_hash: str) -> bool:
    return hmac.compare_digest(passcode_hash(challenge_id, code), stored_hash)


def new_api_token() -> str:
    return "foyer_" + secrets.token_urlsafe(32)


def api_token_hash(token: str) -> str:
    return sha256(token)


def client_key(host: str | None) -> str | None:
    """Who asked for a code, for the per-client limits: a keyed digest of the client's address,
    so neither the database nor workflow history keeps the address itself."""
    return _mac("client", host)[:32] if host else None


def new_challenge_id() -> str:
    return secrets.token_urlsafe(16)


# --- custom extension callouts and callbacks ---------------------------------------------------

SIGNATURE_HEADER = "X-Foyer-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300


def extension_secret(extension_id: str) -> str:
    """The shared secret of one custom extension: derived, never stored, shown once at creation."""
    return _mac("custom-extension", extension_id)


def connector_secret(connector_id: str) -> str:
    """The shared secret of one sign-up API connector: derived, never stored, shown once at
    creation. Foyer signs every call to the connector with it, and the external system signs its
    callbacks (verification outcome, approval decision) with it."""
    return _mac("api-connector", connector_id)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signature_valid(secret: str, header: str | None, body: bytes, now: float) -> bool:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, within five minutes of now."""
    try:
        parts = dict(part.split("=", 1) for part in (header or "").split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")
