"""Client secrets (Graph's passwordCredentials): made once, shown once, kept as a keyed digest."""

import secrets

from foyer.security import keyed_digest, keyed_digest_matches

PURPOSE = "client-secret"


def new_client_secret() -> tuple[str, str]:
    """(the secret text, shown once; the digest to store)."""
    text = secrets.token_urlsafe(30)
    return text, keyed_digest(PURPOSE, text)


def client_secret_matches(secret: str, stored_hash: str) -> bool:
    """Whether `secret` is the one `stored_hash` was made from (under the current or a previous key)."""
    return keyed_digest_matches(PURPOSE, secret, stored_hash)
