"""Second factors a person registered in this organization (Graph's softwareOathAuthenticationMethod
and fido2AuthenticationMethod, users/{id}/authentication/methods), and the short-lived WebAuthn
challenges of a registration or a sign-in."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from foyer.models.base import json_field, new_id, utc_field


class AuthenticationMethod(SQLModel, table=True):
    __tablename__ = "authentication_methods"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    user_id: str = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    # "softwareOath" (TOTP) or "fido2" (a passkey or security key, WebAuthn)
    kind: str
    display_name: str | None = None
    # TOTP: the shared secret, sealed (foyer.security.seal); never returned.
    secret: str | None = None
    # TOTP: the last time step accepted (a code is good once); wrong codes in a row, and until when
    # the method is locked after too many.
    last_used_step: int | None = None
    failed_attempts: int = 0
    locked_until: datetime | None = utc_field()
    # WebAuthn: the credential id (base64url), its COSE public key (base64url), signature counter,
    # transports and authenticator model.
    credential_id: str | None = Field(default=None, index=True)
    public_key: str | None = None
    sign_count: int = 0
    transports: list[str] = json_field()
    aaguid: str | None = None
    # A TOTP secret shown for enrolment is not a method until its first code confirms it.
    confirmed_date_time: datetime | None = utc_field()
    last_used_date_time: datetime | None = utc_field()
    created_date_time: datetime = utc_field(default_now=True, nullable=False)


class WebAuthnChallenge(SQLModel, table=True):
    """One WebAuthn ceremony's challenge (registration or authentication): single use, minutes long."""
    __tablename__ = "webauthn_challenges"

    id: str = Field(default_factory=new_id, primary_key=True)
    user_id: str = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    # "register" or "authenticate"
    purpose: str
    challenge: str  # base64url
    expires_date_time: datetime = utc_field(nullable=False, index=True)
    consumed_date_time: datetime | None = utc_field()
