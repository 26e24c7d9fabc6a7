"""Secrets: link tokens, one-time passcodes and API tokens (only digests are ever stored), the
derived secrets of connectors and extensions, and the encryption of stored connector credentials.

Key rotation: everything is signed (and encrypted) with FOYER_SECRET_KEY only; verification (and
decryption) also accepts FOYER_PREVIOUS_SECRET_KEYS, so what was made before a rotation keeps
working until the previous key is removed.
"""

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from functools import lru_cache

from foyer.settings import get_settings

PASSCODE_DIGITS = 8


def signing_key() -> str:
    return get_settings().secret_key


def accepted_keys() -> list[str]:
    """The current key first, then the previous ones: every key a MAC may have been made with."""
    settings = get_settings()
    keys = [settings.secret_key]
    keys.extend(key for key in settings.previous_secret_keys if key not in keys)
    return keys


def _mac_with(key: str, purpose: str, value: str) -> str:
    return hmac.new(key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def keyed_digest(purpose: str, value: str) -> str:
    """HMAC-SHA256 (hex) of `purpose:value` under the current key."""
    return _mac_with(signing_key(), purpose, value)


def keyed_digest_matches(purpose: str, value: str, digest: str) -> bool:
    """Whether `digest` is keyed_digest(purpose, value) under the current or a previous key."""
    found = False
    for key in accepted_keys():  # no early exit: the time taken does not say which key matched
        found |= hmac.compare_digest(_mac_with(key, purpose, value), digest)
    return found


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_link_id() -> str:
    """128 bits from `secrets`; the nonce a link token is derived from."""
    return secrets.token_urlsafe(16)


def link_token(link_id: str) -> str:
    """The secret in a redemption URL. Derived (HMAC with FOYER_SECRET_KEY) from the link id so
    the token itself never enters workflow history, yet a retried mail activity can rebuild it."""
    return link_id + "." + keyed_digest("invitation-link", link_id)[:32]


def link_token_hash(token: str) -> str:
    return sha256(token)


def accepted_link_token_hashes(token: str) -> list[str]:
    """The stored hashes an invitation holding `token` may be found under, or [] when the token is
    not a link token made with an accepted key.

    The row keeps the hash of the token built under the key current when it was issued; after a
    rotation a reminder (or GET /invitations) rebuilds the link under the new key. Both tokens
    carry the same link id and a MAC under an accepted key, so either finds the row. A token whose
    key was retired (no longer in FOYER_PREVIOUS_SECRET_KEYS) finds nothing."""
    link_id, dot, _ = token.rpartition(".")
    if not dot or not link_id:
        return []
    tokens = [link_id + "." + _mac_with(key, "invitation-link", link_id)[:32] for key in accepted_keys()]
    if not any(hmac.compare_digest(candidate, token) for candidate in tokens):
        return []
    return [link_token_hash(candidate) for candidate in tokens]


def new_passcode() -> str:
    return f"{secrets.randbelow(10**PASSCODE_DIGITS):0{PASSCODE_DIGITS}d}"


def passcode_hash(challenge_id: str, code: str) -> str:
    # Keyed: an 8-digit code hashed with plain SHA-256 would fall to a dictionary in seconds.
    return keyed_digest("passcode", f"{challenge_id}:{code}")


def passcode_matches(challenge_id: str, code: str, stored_hash: str) -> bool:
    # A code mailed just before a rotation was hashed with the previous key.
    return keyed_digest_matches("passcode", f"{challenge_id}:{code}", stored_hash)


def new_api_token() -> str:
    return "foyer_" + secrets.token_urlsafe(32)


def api_token_hash(token: str) -> str:
    return sha256(token)


def client_key(host: str | None) -> str | None:
    """Who asked for a code, for the per-client limits: a keyed digest of the client's address,
    so neither the database nor workflow history keeps the address itself."""
    return keyed_digest("client", host)[:32] if host else None


def new_challenge_id() -> str:
    return secrets.token_urlsafe(16)


# --- custom extension callouts and callbacks ---------------------------------------------------

SIGNATURE_HEADER = "X-Foyer-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300


def extension_secret(extension_id: str) -> str:
    """The shared secret of one custom extension: derived, never stored, shown once at creation."""
    return keyed_digest("custom-extension", extension_id)


def extension_secrets(extension_id: str) -> list[str]:
    """The extension's secret under every accepted key: its receiver may still sign with the one
    it was given before a rotation."""
    return [_mac_with(key, "custom-extension", extension_id) for key in accepted_keys()]


def connector_secret(connector_id: str) -> str:
    """The shared secret of one sign-up API connector: derived, never stored, shown once at
    creation. Foyer signs every call to the connector with it, and the external system signs its
    callbacks (verification outcome, approval decision) with it."""
    return keyed_digest("api-connector", connector_id)


def connector_secrets(connector_id: str) -> list[str]:
    """The connector's secret under every accepted key (see extension_secrets)."""
    return [_mac_with(key, "api-connector", connector_id) for key in accepted_keys()]


def _signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: str | Iterable[str], timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. Given several secrets (the current one
    first, then those under FOYER_PREVIOUS_SECRET_KEYS), one `v1` each, as Stripe signs while a
    secret rolls: a receiver that still holds the secret it was given before a key rotation finds
    its signature among them."""
    secrets_ = [secret] if isinstance(secret, str) else list(dict.fromkeys(secret))
    return ",".join([f"t={timestamp}"] + [f"v1={_signature(s, timestamp, body)}" for s in secrets_])


def signature_valid(secret: str | Iterable[str], header: str | None, body: bytes, now: float) -> bool:
    """A header as `sign` makes it (one or more `v1`), within five minutes of now, with a `v1` made
    with `secret` (or with any of several: see connector_secrets)."""
    timestamps, given = [], []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            timestamps.append(value)
        elif name == "v1" and value:
            given.append(value)
    if len(timestamps) != 1 or not given or len(given) > 8:
        return False
    try:
        timestamp = int(timestamps[0])
    except ValueError:
        return False
    if abs(now - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    found = False
    for candidate in ([secret] if isinstance(secret, str) else list(secret)):
        expected = _signature(candidate, timestamp, body)
        for value in given:
            found |= hmac.compare_digest(expected, value)
    return found


# --- stored secrets, encrypted at rest ----------------------------------------------------------
# A connector's Basic password and PKCS#12 client certificate must be kept to be SENT, so they
# cannot be hashed: they are sealed with AES-256-GCM under a key derived (HKDF-SHA256, its own
# label) from FOYER_SECRET_KEY. The stored text says which key sealed it (a key id), so a value
# sealed before a rotation opens with the previous key; the context (table, column, row id) is
# authenticated, so a sealed value copied into another row or column does not open.

SEALED_PREFIX = "foyer-sealed:v1:"


class SealedValueError(Exception):
    """A stored secret that cannot be opened (wrong key, tampered, or not sealed at all)."""


@lru_cache(maxsize=16)
def _sealing_key(key: str) -> tuple[str, bytes]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"foyer stored-secrets aes-256-gcm v1").derive(key.encode())
    # Names the key without revealing anything about it.
    key_id = _mac_with(key, "stored-secrets-key-id", "v1")[:12]
    return key_id, derived


def is_sealed(stored: str | None) -> bool:
    return stored is not None and stored.startswith(SEALED_PREFIX)


def sealed_with_current_key(stored: str) -> bool:
    return stored.startswith(f"{SEALED_PREFIX}{_sealing_key(signing_key())[0]}:")


def seal(value: str | None, context: str) -> str | None:
    """`value` encrypted under the current key, bound to `context`; None stays None."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if value is None:
        return None
    key_id, key = _sealing_key(signing_key())
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), context.encode())
    return f"{SEALED_PREFIX}{key_id}:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(stored: str | None, context: str) -> str | None:
    """The clear value of a seal() result, with whichever accepted key sealed it; None stays None.
    SealedValueError when no accepted key opens it."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if stored is None:
        return None
    if not is_sealed(stored):
        raise SealedValueError("the stored value is not encrypted (run `foyer db upgrade`)")
    key_id, _, data = stored[len(SEALED_PREFIX):].partition(":")
    try:
        raw = base64.urlsafe_b64decode(data.encode())
    except (binascii.Error, ValueError):
        raise SealedValueError("the stored value is damaged") from None
    for key in accepted_keys():
        candidate_id, derived = _sealing_key(key)
        if candidate_id != key_id:
            continue
        try:
            return AESGCM(derived).decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag:
            raise SealedValueError("the stored value does not open: it was altered or belongs "
                                   "to another record") from None
    raise SealedValueError("the stored value was encrypted with a key that is neither "
                           "FOYER_SECRET_KEY nor one of FOYER_PREVIOUS_SECRET_KEYS")
