"""The token endpoint (authorization_code and refresh_token grants), userinfo, and the revocation of
a person's refresh tokens. A hot path: plain HTTP and the database, one commit per request (the
code or refresh-token change together with its sign-in log row), no workflow.

- A code is single-use: it is consumed by a conditional UPDATE, so of two concurrent exchanges
  exactly one wins; the other (and any later one) revokes the refresh-token family the first
  started (RFC 6749 §4.1.2).
- Refresh tokens rotate: each grant marks the token used (conditionally, as for codes) and issues
  the next one in its family; a used token presented again revokes the family (reuse detection).
- Every grant asks app_access again, so a disabled or unassigned person's refresh token stops.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from joserfc.jwk import RSAKey
from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer.models.directory import Application, Organization, User
from foyer.models.openid import AuthorizationCode, RefreshToken, RefreshTokenFamily
from foyer.security import sha256
from foyer.usecases.app_access import AppAccess, app_access
from foyer.usecases.openid_authorize import verifier_matches
from foyer.usecases.openid_claims import access_token_claims, id_token_claims, issuer, scoped_claims
from foyer.usecases.openid_clients import (
    CLIENT_SECRET_REQUIRED, INVALID_CLIENT_SECRET, UNKNOWN_CLIENT, ClientCredentials, find_client,
    is_confidential_only, is_public_redirect, secret_valid_for,
)
from foyer.db import writing
from foyer.usecases.signing_keys import TOKEN_LIFETIME, encode, signing_key, verified_claims
from foyer.usecases import sign_in_policy
from foyer.usecases.sign_in_log import record_sign_in

REFRESH_LIFETIME = timedelta(days=90)

# Entra's AADSTS numbers for failed grants.
INVALID_GRANT = 70000
EXPIRED = 70008
CODE_REUSED = 54005
GRANT_REVOKED = 50173
PKCE_FAILED = 501481
REDIRECT_MISMATCH = 50148


class OAuthError(Exception):
    """An OAuth error answer: {"error", "error_description"} with `status` (400; 401 for
    invalid_client, with WWW-Authenticate when the client used Basic)."""

    def __init__(self, error: str, description: str, status: int = 400, headers: dict | None = None,
                 error_code: int | None = None):
        super().__init__(description)
        self.error, self.description, self.status, self.headers = error, description, status, headers or {}
        self.error_code = error_code

    def body(self) -> dict:
        body = {"error": self.error, "error_description": self.description}
        if self.error_code:
            body["error_codes"] = [self.error_code]
        return body


@dataclass
class GrantContext:
    org: Organization
    ip_address: str | None
    now: datetime


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


async def _fail(session: AsyncSession, ctx: GrantContext, *, user: User | None, app: Application | None,
                interactive: bool, error: str, code: int, reason: str, status: int = 400,
                headers: dict | None = None, conditional_access: dict | None = None) -> OAuthError:
    """Log the failure (with whatever revocation the caller staged), commit, and the error to raise."""
    record_sign_in(session, organization_id=ctx.org.id, user=user, app=app, interactive=interactive,
                   error_code=code, failure_reason=reason, ip_address=ctx.ip_address, now=ctx.now,
                   conditional_access=conditional_access)
    await session.commit()
    return OAuthError(error, f"AADSTS{code}: {reason}", status=status, headers=headers, error_code=code)


async def _authenticate(session: AsyncSession, ctx: GrantContext, credentials: ClientCredentials,
                        *, secret_required: bool | None, interactive: bool, user: User | None = None,
                        app: Application | None = None) -> Application:
    """The client, checked: a secret sent must be one of its live credentials; a secret is required
    when `secret_required` (None: when the app is confidential only)."""
    basic = {"WWW-Authenticate": "Basic"} if credentials.method == "client_secret_basic" else None
    if credentials.malformed:
        raise OAuthError("invalid_request", "Send the client's credentials once: HTTP Basic or the form.")
    app = app or await find_client(session, ctx.org.id, credentials.client_id)
    if app is None or app.app_id != credentials.client_id:
        raise await _fail(session, ctx, user=None, app=None, interactive=interactive, error="invalid_client",
                          code=UNKNOWN_CLIENT, reason="Application not found in this organization.",
                          status=401, headers=basic)
    if credentials.secret is not None:
        if not secret_valid_for(app, credentials.secret, ctx.now):
            raise await _fail(session, ctx, user=user, app=app, interactive=interactive, error="invalid_client",
                              code=INVALID_CLIENT_SECRET, reason="Invalid client secret provided.",
                              status=401, headers=basic)
        return app
    required = is_confidential_only(app) if secret_required is None else secret_required
    if required:
        raise await _fail(session, ctx, user=user, app=app, interactive=interactive, error="invalid_client",
                          code=CLIENT_SECRET_REQUIRED,
                          reason="The request body must contain client_secret (or use HTTP Basic).",
                          status=401, headers=basic)
    return app


async def _revoke_family(session: AsyncSession, family_id: str | None, reason: str, now: datetime) -> None:
    if family_id:
        await session.exec(update(RefreshTokenFamily).where(  # type: ignore[call-overload]
            RefreshTokenFamily.id == family_id, col(RefreshTokenFamily.revoked_date_time).is_(None))
            .values(revoked_date_time=now, revoked_reason=reason))


async def revoke_user_refresh_tokens(session: AsyncSession, user_id: str, reason: str,
                                     now: datetime | None = None) -> None:
    """Revoke every live refresh-token family of `user_id` (the user was disabled or deleted).
    The caller commits, with the change that called for it."""
    await session.exec(update(RefreshTokenFamily).where(  # type: ignore[call-overload]
        RefreshTokenFamily.user_id == user_id, col(RefreshTokenFamily.revoked_date_time).is_(None))
        .values(revoked_date_time=now or datetime.now(timezone.utc), revoked_reason=reason))


async def _tokens(session: AsyncSession, ctx: GrantContext, key: tuple[str, RSAKey], app: Application,
                  user: User, access: AppAccess, *, scope: str, auth_time: datetime, amr: list[str],
                  idp: str | None, nonce: str | None, family: RefreshTokenFamily | None) -> dict:
    kid, private = key
    id_claims = id_token_claims(ctx.org, app, user, access, scope=scope, auth_time=auth_time, amr=amr,
                                idp=idp, nonce=nonce, now=ctx.now)
    at_claims = access_token_claims(ctx.org, app, user, access, scope=scope, auth_time=auth_time, amr=amr,
                                    idp=idp, now=ctx.now)
    answer = {"token_type": "Bearer", "scope": scope, "expires_in": int(TOKEN_LIFETIME.total_seconds()),
              "ext_expires_in": int(TOKEN_LIFETIME.total_seconds()),
              "access_token": encode(kid, private, at_claims),
              "id_token": encode(kid, private, id_claims)}
    if family is not None:
        refresh = secrets.token_urlsafe(32)
        session.add(RefreshToken(token_hash=sha256(refresh), family_id=family.id, created_date_time=ctx.now))
        answer["refresh_token"] = refresh
    return answer


async def exchange(session: AsyncSession, tenant_id: str, form: dict[str, str], credentials: ClientCredentials,
                   *, ip_address: str | None, now: datetime | None = None) -> dict:
    """The token endpoint of organization `tenant_id`: the token response, or OAuthError (logged
    and committed first)."""
    # First, before the request's session holds a database connection: on first use this makes the
    # signing key in a transaction of its own (a request waiting here must not sit on a connection).
    key = await signing_key()
    org = await session.get(Organization, tenant_id)
    if org is None:
        raise OAuthError("invalid_tenant", f"Tenant {tenant_id} does not exist.", status=404)
    ctx = GrantContext(org, ip_address, now or datetime.now(timezone.utc))
    grant = form.get("grant_type")
    # On SQLite, this process's writes queue here in order (foyer.db.writing); nothing inside may
    # open a session_scope of its own (the lock is not re-entrant): the key is loaded above.
    async with writing():
        if grant == "authorization_code":
            return await _code_grant(session, ctx, key, form, credentials)
        if grant == "refresh_token":
            return await _refresh_grant(session, ctx, key, form, credentials)
    raise OAuthError("unsupported_grant_type", "grant_type must be authorization_code or refresh_token.")


async def _code_grant(session: AsyncSession, ctx: GrantContext, key, form: dict[str, str],
                      credentials: ClientCredentials) -> dict:
    value = form.get("code")
    if not value:
        raise OAuthError("invalid_request", "code is required.")
    code = await session.get(AuthorizationCode, sha256(value))
    app = await find_client(session, ctx.org.id, credentials.client_id) if not credentials.malformed else None
    if code is None or app is None or code.application_id != app.id:
        await _authenticate(session, ctx, credentials, secret_required=None, interactive=True, app=app)
        raise await _fail(session, ctx, user=None, app=app, interactive=True, error="invalid_grant",
                          code=INVALID_GRANT, reason="The authorization code is not valid for this client.")
    user = await session.get(User, code.user_id)
    await _authenticate(session, ctx, credentials, interactive=True, user=user, app=app,
                        secret_required=not is_public_redirect(app, code.redirect_uri))
    consumed = await session.exec(update(AuthorizationCode).where(  # type: ignore[call-overload]
        AuthorizationCode.code_hash == code.code_hash, col(AuthorizationCode.consumed_date_time).is_(None))
        .values(consumed_date_time=ctx.now))
    if consumed.rowcount != 1:
        await session.refresh(code)
        await _revoke_family(session, code.family_id, "authorization code reused", ctx.now)
        raise await _fail(session, ctx, user=user, app=app, interactive=True, error="invalid_grant",
                          code=CODE_REUSED, reason="The authorization code was already redeemed; the tokens it "
                                                   "issued are revoked.")
    if _aware(code.expires_date_time) <= ctx.now:
        raise await _fail(session, ctx, user=user, app=app, interactive=True, error="invalid_grant",
                          code=EXPIRED, reason="The authorization code has expired.")
    if form.get("redirect_uri") != code.redirect_uri:
        raise await _fail(session, ctx, user=user, app=app, interactive=True, error="invalid_grant",
                          code=REDIRECT_MISMATCH, reason="redirect_uri does not match the authorization request.")
    if code.code_challenge and not verifier_matches(form.get("code_verifier"), code.code_challenge):
        raise await _fail(session, ctx, user=user, app=app, interactive=True, error="invalid_grant",
                          code=PKCE_FAILED, reason="The code_verifier does not match the code_challenge.")
    access = await app_access(session, user, app)
    if not access.allowed:
        raise await _fail(session, ctx, user=user, app=app, interactive=True, error="invalid_grant",
                          code=access.error_code, reason=access.reason)
    assert user is not None
    family = None
    if "offline_access" in code.scope.split():
        family = RefreshTokenFamily(application_id=app.id, user_id=user.id, scope=code.scope,
                                    auth_time=code.auth_time, amr=code.amr, idp=code.idp, created_date_time=ctx.now,
                                    expires_date_time=ctx.now + REFRESH_LIFETIME, last_used_date_time=ctx.now)
        session.add(family)
        await session.flush()  # the family before its first token (no ORM relationship orders them)
        code.family_id = family.id
        session.add(code)
    answer = await _tokens(session, ctx, key, app, user, access, scope=code.scope,
                           auth_time=_aware(code.auth_time), amr=code.amr, idp=code.idp, nonce=code.nonce,
                           family=family)
    await session.commit()  # the interactive sign-in was logged when the code was issued
    return answer


async def _refresh_grant(session: AsyncSession, ctx: GrantContext, key, form: dict[str, str],
                         credentials: ClientCredentials) -> dict:
    value = form.get("refresh_token")
    if not value:
        raise OAuthError("invalid_request", "refresh_token is required.")
    app = await _authenticate(session, ctx, credentials, secret_required=None, interactive=False)
    token = await session.get(RefreshToken, sha256(value))
    family = await session.get(RefreshTokenFamily, token.family_id) if token else None
    if token is None or family is None or family.application_id != app.id:
        raise await _fail(session, ctx, user=None, app=app, interactive=False, error="invalid_grant",
                          code=INVALID_GRANT, reason="The refresh token is not valid for this client.")
    user = await session.get(User, family.user_id)
    if family.revoked_date_time is not None:
        raise await _fail(session, ctx, user=user, app=app, interactive=False, error="invalid_grant",
                          code=GRANT_REVOKED, reason=f"The refresh token was revoked ({family.revoked_reason}).")
    if _aware(family.expires_date_time) <= ctx.now:
        raise await _fail(session, ctx, user=user, app=app, interactive=False, error="invalid_grant",
                          code=EXPIRED, reason="The refresh token has expired.")
    decision = None
    if user is not None:
        # Conditional Access as it is now (a new block, a new MFA requirement, a sign-in frequency),
        # before the token is spent: refused, it still works once the policy allows it again.
        decision = await sign_in_policy.decide_refresh(session, ctx.org, user, app, amr=family.amr, idp=family.idp,
                                                       auth_time=_aware(family.auth_time), now=ctx.now)
        if not decision.allowed:
            raise await _fail(session, ctx, user=user, app=app, interactive=False,
                              error="invalid_grant" if decision.outcome == "block" else "interaction_required",
                              code=decision.error_code, reason=decision.reason,
                              conditional_access=decision.log_fields())
    rotated = await session.exec(update(RefreshToken).where(  # type: ignore[call-overload]
        RefreshToken.token_hash == token.token_hash, col(RefreshToken.rotated_date_time).is_(None))
        .values(rotated_date_time=ctx.now))
    if rotated.rowcount != 1:
        await _revoke_family(session, family.id, "refresh token reused", ctx.now)
        raise await _fail(session, ctx, user=user, app=app, interactive=False, error="invalid_grant",
                          code=GRANT_REVOKED, reason="The refresh token was already used; its family is revoked.")
    access = await app_access(session, user, app)
    if not access.allowed:
        await _revoke_family(session, family.id, f"AADSTS{access.error_code}", ctx.now)
        raise await _fail(session, ctx, user=user, app=app, interactive=False, error="invalid_grant",
                          code=access.error_code, reason=access.reason)
    assert user is not None
    requested = form.get("scope")
    if requested and not set(requested.split()) <= set(family.scope.split()):
        raise OAuthError("invalid_scope", "A refresh grant cannot widen the scope.")
    # A narrower scope asked for is what this answer carries; the family keeps what was granted.
    scope = " ".join(dict.fromkeys(requested.split())) if requested else family.scope
    family.last_used_date_time = ctx.now
    session.add(family)
    answer = await _tokens(session, ctx, key, app, user, access, scope=scope, auth_time=_aware(family.auth_time),
                           amr=family.amr, idp=family.idp, nonce=None, family=family)
    record_sign_in(session, organization_id=ctx.org.id, user=user, app=app, interactive=False,
                   ip_address=ctx.ip_address, now=ctx.now,
                   conditional_access=decision.log_fields() if decision else None)
    await session.commit()
    return answer


async def foyer_claims(org: Organization, token: str, *, allow_expired: bool = False) -> dict | None:
    """The claims of a token Foyer's provider signed for this organization (issuer checked; expiry
    unless `allow_expired`, as for a logout's id_token_hint), or None."""
    claims = await verified_claims(token)
    if claims is None or claims.get("iss") != issuer(org.id):
        return None
    if not allow_expired and int(claims.get("exp", 0)) <= datetime.now(timezone.utc).timestamp():
        return None
    return claims


async def userinfo(session: AsyncSession, org: Organization, bearer: str | None) -> dict:
    """OpenID Connect userinfo for an access token Foyer issued (never an ID token). The person
    must still be allowed into the app the token was for."""
    claims = await foyer_claims(org, bearer) if bearer else None
    if claims is None or "scp" not in claims:
        raise OAuthError("invalid_token", "The access token is missing, expired or not Foyer's.", status=401,
                         headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    user = await session.get(User, claims.get("oid"))
    app = await find_client(session, org.id, claims.get("aud"))
    access = await app_access(session, user, app) if app is not None else None
    if user is None or access is None or not access.allowed:
        raise OAuthError("invalid_token", "The person may no longer sign in to this application.", status=401,
                         headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return {"sub": claims["sub"], "oid": user.id, "tid": org.id,
            **scoped_claims(user, set(str(claims.get("scp", "")).split()))}
