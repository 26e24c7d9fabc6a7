"""Federation with a guest's own identity provider: the OpenID Connect and social providers
(Graph's identity/identityProviders), the SAML direct federations with partner domains (Graph's
directory/federationConfigurations), one browser's round trip to either (FederationAttempt), and
the SAML assertion ids already accepted (replay).

Client secrets are sealed (foyer.security.seal) and never returned; the round trip's state is kept
only as a keyed digest, as link tokens are.
"""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from foyer.models.base import json_field, new_id, utc_field


class IdentityProvider(SQLModel, table=True):
    """A `socialIdentityProvider` (identityProviderType Google) or an `oidcIdentityProvider` (any
    OpenID Connect provider). Foyer speaks OpenID Connect's code flow to both; for Google the
    issuer and discovery document are Google's own (settings.google_well_known_endpoint)."""
    __tablename__ = "identity_providers"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    # "socialIdentityProvider" or "oidcIdentityProvider" (Graph's @odata.type without its namespace).
    kind: str
    display_name: str
    # socialIdentityProvider: "Google".
    identity_provider_type: str | None = None
    client_id: str
    client_secret: str | None = None  # sealed; write-only in the API
    # oidcIdentityProvider: the issuer its ID tokens carry, and where its discovery document is.
    issuer: str | None = None
    well_known_endpoint: str | None = None
    scope: str = "openid profile email"
    response_type: str = "code"
    # client_secret_post, client_secret_jwt or private_key_jwt (Graph refuses client_secret_basic).
    client_authentication_method: str = "client_secret_post"
    # Graph's oidcInboundClaimMappingOverride: {"sub": "...", "email": "...", ...} (claim names).
    inbound_claim_mapping: dict = json_field(dict)
    # Foyer's home realm discovery: the address domains this provider signs in (Google: gmail.com
    # and googlemail.com unless set). Graph has no such property on oidcIdentityProvider.
    domains: list[str] = json_field()
    # A partner organization's own OpenID Provider (another Foyer, an Entra tenant): the tenant id
    # its tokens carry as `tid` (Entra's and Foyer's issuer is https://host/{tenantId}/v2.0, so it
    # is read off the discovered issuer). Its people are the `azureActiveDirectory` step of the
    # redemption order, cross-tenant access settings for that tenant apply to them, and its `amr`
    # may satisfy MFA (inboundTrust.isMfaAccepted). None: an ordinary provider.
    tenant_id: str | None = Field(default=None, index=True)
    created_date_time: datetime = utc_field(default_now=True, nullable=False)


class FederationConfiguration(SQLModel, table=True):
    """A `samlOrWsFedExternalDomainFederation`: partner domains whose people sign in at the
    partner's SAML 2.0 identity provider."""
    __tablename__ = "federation_configurations"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    display_name: str
    issuer_uri: str
    metadata_exchange_uri: str | None = None
    passive_sign_in_uri: str
    preferred_authentication_protocol: str = "saml"
    # Base64 DER, as Graph's signingCertificate; `signing_certificates` holds every certificate an
    # assertion may be signed with (the current one, and a new one published ahead of a rollover).
    signing_certificate: str
    signing_certificates: list[str] = json_field()
    # Lower-cased domain names; each belongs to one federation of the organization.
    domains: list[str] = json_field()
    metadata_refreshed_date_time: datetime | None = utc_field()
    # What the last metadata refresh found wrong, if anything (shown to admins).
    metadata_refresh_error: str | None = None
    created_date_time: datetime = utc_field(default_now=True, nullable=False)


class FederationAttempt(SQLModel, table=True):
    """One browser's round trip to an identity provider: what it is for (redeem an invitation,
    sign in, sign up), where it came from, and — once the provider answered and its answer was
    verified — who the provider vouched for. Single use, short-lived, bound to the browser."""
    __tablename__ = "federation_attempts"

    # Random, unrelated to the state: this id is what a workflow's history may carry.
    id: str = Field(default_factory=new_id, primary_key=True)
    # Keyed digest of the state value sent to the provider (never the value itself).
    state_hash: str = Field(unique=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    # "oidc" (identity_providers) or "saml" (federation_configurations)
    protocol: str
    provider_id: str = Field(index=True)
    # "redeem", "signIn" or "signUp"
    purpose: str
    invitation_id: str | None = None
    user_flow_id: str | None = None
    next_url: str | None = None
    # The address the person typed or was invited at (passed on as a login hint).
    login_hint: str | None = None
    # OpenID Connect: the nonce the ID token must carry and the PKCE verifier (sealed).
    nonce: str | None = None
    code_verifier: str | None = None
    # SAML: the ID of the AuthnRequest the response must answer (InResponseTo).
    request_id: str | None = None
    expires_date_time: datetime = utc_field(nullable=False, index=True)
    # What the provider vouched for, once verified.
    issuer: str | None = None
    issuer_assigned_id: str | None = None
    email: str | None = None
    email_verified: bool = False
    display_name: str | None = None
    given_name: str | None = None
    surname: str | None = None
    # From a partner organization's provider (IdentityProvider.tenant_id): the person's tenant,
    # object id and group ids there (`tid`, `oid`, `groups`), and how they signed in (`amr`).
    # Cross-tenant access settings and Conditional Access read these for the session it starts.
    tenant_id: str | None = None
    object_id: str | None = None
    group_ids: list[str] = json_field()
    amr: list[str] = json_field()
    verified_date_time: datetime | None = utc_field()
    # Set when the purpose was carried out (a redemption, a session): never twice.
    consumed_date_time: datetime | None = utc_field()
    created_date_time: datetime = utc_field(default_now=True, nullable=False)


class SamlAssertionSeen(SQLModel, table=True):
    """An assertion ID a federation has already accepted: the same assertion twice is a replay."""
    __tablename__ = "saml_assertions_seen"
    __table_args__ = (UniqueConstraint("federation_id", "assertion_id"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    federation_id: str = Field(foreign_key="federation_configurations.id", index=True, ondelete="CASCADE")
    assertion_id: str
    # Kept until the assertion itself would have expired; after that it is refused as expired.
    keep_until: datetime = utc_field(nullable=False, index=True)
