"""The OpenID Provider's signing keys: RS256 keys made on first use, the private half sealed
(foyer.security.seal) in openid_signing_keys, published in JWKS by `kid`; `foyer keys rotate`
retires the current key and keeps it in JWKS until every token it signed has expired.

Several API replicas may start at once: the n-th key's `kid` is derived from n (and the
installation), so two processes that both find no key (or both rotate) insert the same primary
key and the database keeps one; the loser reads the winner's. All JOSE work is joserfc's.

Per process, the current key and the published key set are cached for CACHE_SECONDS (the
database stays the truth): after a rotation a replica may sign with the retired key for that
long, which is why a retired key stays published CACHE_SECONDS beyond the tokens' lifetime.
"""

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from foyer.db import reading, session_scope
from foyer.models.directory import Organization
from foyer.models.openid import SigningKey
from foyer.security import seal, sha256, unseal

ALGORITHM = "RS256"
# ID and access tokens live this long; a retired key is published at least this long after.
TOKEN_LIFETIME = timedelta(hours=1)
CACHE_SECONDS = 60.0
# How long a relying party may keep the JWKS (its Cache-Control): shorter than the time a retired
# key stays published, so a cached set never lacks a key that signed a live token for long.
JWKS_MAX_AGE_SECONDS = 300


def _sealing_context(kid: str) -> str:
    return f"openid_signing_keys.private_key:{kid}"


@dataclass
class _Cache:
    signing: tuple[float, str, RSAKey] | None = None
    published: tuple[float, list[dict]] | None = None


_cache = _Cache()
_lock = asyncio.Lock()


def forget_cached_keys() -> None:
    """Drop this process's cached keys (after a rotation made here; tests)."""
    _cache.signing = None
    _cache.published = None


def _kid(installation: str, generation: int) -> str:
    return f"{generation:04d}-{sha256(f'foyer-signing-key|{installation}|{generation}')[:16]}"


def _new_row(installation: str, generation: int) -> SigningKey:
    kid = _kid(installation, generation)
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": ALGORITHM}, private=True)
    public = key.as_dict(private=False)
    public.update({"kid": kid, "use": "sig", "alg": ALGORITHM})
    return SigningKey(kid=kid, alg=ALGORITHM, public_jwk=public,
                      private_key=seal(key.as_pem(private=True).decode(), _sealing_context(kid)))


async def _installation(session) -> str:
    return (await session.exec(select(func.min(Organization.id)))).first() or "foyer"


async def _key_counts(session) -> tuple[int, int]:
    """(all keys, active keys), in one statement: one snapshot on PostgreSQL too, where two
    statements of a transaction may see different commits (a replica that read "no active key",
    then counted the key another replica had just made, made the second key instead of the first)."""
    total, retired = (await session.exec(select(func.count(), func.count(SigningKey.retired_date_time))
                                         .select_from(SigningKey))).one()
    return int(total), int(total) - int(retired)


async def _active(session) -> SigningKey | None:
    return (await session.exec(select(SigningKey).where(col(SigningKey.retired_date_time).is_(None))
                               .order_by(col(SigningKey.created_date_time).desc(), col(SigningKey.kid).desc()))).first()


async def current_key_row() -> SigningKey:
    """The key that signs now, made (once, whichever replica wins) when there is none."""
    for _ in range(5):
        # A read takes no SQLite writer lock; only the first key's insert below does.
        async with reading() as session:
            total, active = await _key_counts(session)
            if active:
                row = await _active(session)
                if row is None:  # retired by a rotation between the two reads: look again
                    continue
                session.expunge(row)
                return row
            installation = await _installation(session)
        row = _new_row(installation, total + 1)
        try:
            async with session_scope() as session:
                session.add(row)
            return row
        except IntegrityError:
            continue  # another replica made this generation's key: read theirs
    raise RuntimeError("could not settle on a signing key")


async def rotate(now: datetime | None = None) -> tuple[str | None, str]:
    """Retire the signing key (published until the tokens it signed have expired) and make the
    next one, in one transaction. Returns (retired kid or None, new kid). Two rotations at once:
    one wins, the other raises IntegrityError."""
    now = now or datetime.now(timezone.utc)
    async with session_scope() as session:
        retired = None
        for row in (await session.exec(select(SigningKey).where(col(SigningKey.retired_date_time).is_(None)))).all():
            row.retired_date_time = now
            row.unpublish_after = now + TOKEN_LIFETIME + timedelta(seconds=CACHE_SECONDS) + timedelta(minutes=5)
            session.add(row)
            retired = row.kid
        total, _ = await _key_counts(session)
        new = _new_row(await _installation(session), total + 1)
        session.add(new)
    forget_cached_keys()
    return retired, new.kid


async def signing_key() -> tuple[str, RSAKey]:
    """(kid, private key) to sign with; cached per process for CACHE_SECONDS. Once a key is cached,
    a stale one is served while one caller reloads it: no request waits on the reload (requests
    waiting here held database connections, and the reload needs one: under load the pool ran dry)."""
    cached = _cache.signing
    if cached is not None and (cached[0] > time.monotonic() or _lock.locked()):
        return cached[1], cached[2]
    async with _lock:
        cached = _cache.signing
        if cached is not None and cached[0] > time.monotonic():
            return cached[1], cached[2]
        row = await current_key_row()
        key = RSAKey.import_key(unseal(row.private_key, _sealing_context(row.kid)),
                                parameters={"kid": row.kid, "alg": row.alg, "use": "sig"})
        _cache.signing = (time.monotonic() + CACHE_SECONDS, row.kid, key)
        return row.kid, key


async def published_keys(now: datetime | None = None) -> list[dict]:
    """The public JWKs relying parties may verify with: the signing key and retired keys until
    their unpublish_after. Made on first use like the signing key."""
    cached = _cache.published
    if now is None and cached is not None and cached[0] > time.monotonic():
        return cached[1]
    await current_key_row()
    moment = now or datetime.now(timezone.utc)
    async with reading() as session:
        rows = (await session.exec(select(SigningKey.public_jwk).where(or_(
            col(SigningKey.retired_date_time).is_(None), col(SigningKey.unpublish_after) > moment))
            .order_by(col(SigningKey.created_date_time).desc(), col(SigningKey.kid).desc()))).all()
        keys = [dict(jwk) for jwk in rows]
    if now is None:
        _cache.published = (time.monotonic() + CACHE_SECONDS, keys)
    return keys


def encode(kid: str, key: RSAKey, claims: dict, typ: str = "JWT") -> str:
    """A JWS (compact) of `claims` signed with `key`: RS256 and its kid in the header."""
    return jwt.encode({"alg": ALGORITHM, "kid": kid, "typ": typ}, claims, key, algorithms=[ALGORITHM])


async def sign(claims: dict, typ: str = "JWT") -> str:
    """A JWS of `claims` with the current key (`encode` with `signing_key()`)."""
    kid, key = await signing_key()
    return encode(kid, key, claims, typ)


async def verified_claims(token: str) -> dict | None:
    """The claims of a token Foyer signed with a published key, or None (bad signature, unknown
    kid, not a JWS, alg other than RS256). Expiry, issuer and audience are the caller's to check."""
    keys = await published_keys()
    try:
        decoded = jwt.decode(token, KeySet.import_key_set({"keys": keys}), algorithms=[ALGORITHM])
    except Exception:  # joserfc raises several error types (and ValueError) for a bad token
        # A key made by another replica since our cache was filled: look once more, uncached.
        forget_cached_keys()
        try:
            decoded = jwt.decode(token, KeySet.import_key_set({"keys": await published_keys()}),
                                 algorithms=[ALGORITHM])
        except Exception:
            return None
    return dict(decoded.claims)
