"""Foyer as the OpenID Provider of the organization's applications: signing keys, authorization
codes, refresh-token families, and the sign-in log.

Everything the provider remembers is here, none of it in a process's memory, so any number of API
replicas serve it. Codes and refresh tokens are stored as digests only (foyer.security.sha256 of
the value); private keys are sealed (foyer.security.seal).
"""

from datetime import datetime

from sqlmodel import Field, SQLModel

from foyer.models.base import json_field, new_id, utc_field


class SigningKey(SQLModel, table=True):
    """A key the provider signs ID and access tokens with. The newest active key signs; a retired
    key stays in JWKS until `unpublish_after` (the longest lifetime of a token it signed), then
    leaves it."""
    __tablename__ = "openid_signing_keys"

    kid: str = Field(primary_key=True)
    alg: str  # RS256 or ES256
    private_key: str  # PEM, sealed
    public_jwk: dict = json_field(dict)
    created_date_time: datetime = utc_field(default_now=True, nullable=False, index=True)
    retired_date_time: datetime | None = utc_field()
    unpublish_after: datetime | None = utc_field()


class AuthorizationCode(SQLModel, table=True):
    """An authorization code: single use, short-lived. A second use revokes the refresh-token
    family the first use started (RFC 6749 §4.1.2)."""
    __tablename__ = "openid_authorization_codes"

    code_hash: str = Field(primary_key=True)
    application_id: str = Field(foreign_key="applications.id", index=True, ondelete="CASCADE")
    user_id: str = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    redirect_uri: str
    scope: str
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    auth_time: datetime = utc_field(nullable=False)
    amr: list[str] = json_field()
    # The upstream identity provider's issuer (the `idp` claim); None for the email passcode.
    idp: str | None = None
    expires_date_time: datetime = utc_field(nullable=False)
    consumed_date_time: datetime | None = utc_field()
    # The refresh-token family the exchange started, revoked if the code is presented again.
    family_id: str | None = None
    created_date_time: datetime = utc_field(default_now=True, nullable=False, index=True)


class RefreshTokenFamily(SQLModel, table=True):
    """The refresh tokens descended from one authorization: each use rotates the token; a rotated
    token presented again revokes the whole family (reuse detection)."""
    __tablename__ = "openid_refresh_token_families"

    id: str = Field(default_factory=new_id, primary_key=True)
    application_id: str = Field(foreign_key="applications.id", index=True, ondelete="CASCADE")
    user_id: str = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    scope: str
    auth_time: datetime = utc_field(nullable=False)
    amr: list[str] = json_field()
    # The upstream identity provider's issuer (the `idp` claim); None for the email passcode.
    idp: str | None = None
    expires_date_time: datetime = utc_field(nullable=False)
    revoked_date_time: datetime | None = utc_field(index=True)
    revoked_reason: str | None = None
    created_date_time: datetime = utc_field(default_now=True, nullable=False)
    last_used_date_time: datetime | None = utc_field()


class RefreshToken(SQLModel, table=True):
    """One refresh token of a family, by digest. `rotated_date_time` is set when it was exchanged
    for the next one; presenting it again after that revokes the family."""
    __tablename__ = "openid_refresh_tokens"

    token_hash: str = Field(primary_key=True)
    family_id: str = Field(foreign_key="openid_refresh_token_families.id", index=True, ondelete="CASCADE")
    created_date_time: datetime = utc_field(default_now=True, nullable=False)
    rotated_date_time: datetime | None = utc_field()


class SignInLog(SQLModel, table=True):
    """A sign-in, successful or not (Graph's signIn resource, /v1.0/auditLogs/signIns)."""
    __tablename__ = "sign_in_logs"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    created_date_time: datetime = utc_field(default_now=True, nullable=False, index=True)
    user_id: str | None = Field(default=None, index=True)
    user_principal_name: str | None = None
    user_display_name: str | None = None
    app_id: str | None = Field(default=None, index=True)
    app_display_name: str | None = None
    ip_address: str | None = None
    client_app_used: str | None = None  # "Browser", "Mobile Apps and Desktop clients"
    is_interactive: bool = True
    # 0 for success; otherwise Entra's AADSTS number where one fits (50057 disabled account,
    # 50105 not assigned, 50126 bad credentials, 54005 code reused, 70008 expired code or token).
    error_code: int = Field(default=0, index=True)
    failure_reason: str | None = None
    # Filled by Conditional Access (a later issue): "notApplied", "success", "failure".
    conditional_access_status: str = "notApplied"
    applied_conditional_access_policies: list[dict] = json_field()
