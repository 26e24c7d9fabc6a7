"""Signing in with a guest's own identity provider: the round trip every purpose shares.

1. A page asks `realm_for` where an address signs in (foyer.rules.home_realm, in the organization's
   redemption order). For a provider, `begin` records a FederationAttempt (what it is for, a nonce,
   a PKCE verifier, an expiry; the state value only as a keyed digest) and answers the provider's
   sign-in URL and the state value, which the page also binds to the browser with a cookie.
2. The provider sends the browser back: OpenID Connect to /federation/oidc/callback, SAML to
   /federation/saml/acs. The protocol module (federation_oidc, federation_saml) verifies the answer
   and yields a VerifiedIdentity; `record_verified` keeps it on the attempt.
   foyer.usecases.federated_sign_in ties the steps to the protocols and the purposes.
3. /federation/complete/{state}, in the browser that started (the cookie), carries out the purpose
   once: redeem the invitation (its workflow's `redeem` Update, proof = the attempt), sign in, or
   prefill a sign-up.

Secrets never leave this module's rows: the PKCE verifier is sealed, the state is a digest, and a
workflow only ever sees the attempt's id (itself a digest).
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import select

from foyer import security
from foyer.models.base import utcnow
from foyer.models.directory import Organization, User
from foyer.models.federation import FederationAttempt, FederationConfiguration, IdentityProvider
from foyer.rules.home_realm import GOOGLE_DOMAINS, Candidate, Realm, discover, domain_of
from foyer.settings import get_settings

ATTEMPT_LIFETIME = timedelta(minutes=10)
GOOGLE_ISSUER = "google.com"  # the issuer Entra writes in a Google guest's identities
PURPOSES = ("redeem", "signIn", "signUp")


@dataclass(frozen=True)
class VerifiedIdentity:
    """What an identity provider vouched for, after its answer was verified. `issuer` is what the
    guest's identities and the `idp` claim carry: google.com, the OpenID issuer, the SAML
    issuerUri; `issuer_assigned_id` is `sub` or the persistent NameID."""
    issuer: str
    issuer_assigned_id: str
    email: str | None
    email_verified: bool
    display_name: str | None = None
    given_name: str | None = None
    surname: str | None = None
    # A partner organization's provider (IdentityProvider.tenant_id): the person's tenant, object id
    # and groups there, and how they signed in (the ID token's tid, oid, groups and amr).
    tenant_id: str | None = None
    object_id: str | None = None
    group_ids: tuple[str, ...] = ()
    amr: tuple[str, ...] = ()


class FederationRefused(Exception):
    """The provider's answer cannot be trusted, or does not fit the attempt: `code` names why
    (for the audit log and tests), `message` is what the page says."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


# --- where Foyer is, as the partner's provider sees it ---------------------------------------

def public_url() -> str:
    return get_settings().public_url.rstrip("/")


def oidc_redirect_uri() -> str:
    """The one redirect URI to register at every OpenID provider."""
    return f"{public_url()}/federation/oidc/callback"


def saml_acs_url() -> str:
    """The SAML Assertion Consumer Service (HTTP-POST binding)."""
    return f"{public_url()}/federation/saml/acs"


def sp_entity_id(organization_id: str) -> str:
    """The audience a partner's SAML IdP must address: the organization's tenanted URL, as
    Entra's `https://login.microsoftonline.com/<tenantId>/`."""
    return f"{public_url()}/{organization_id}/"


def identity_issuer(provider: IdentityProvider) -> str:
    if provider.kind == "socialIdentityProvider" and provider.identity_provider_type == "Google":
        return GOOGLE_ISSUER
    return provider.issuer or ""


def provider_domains(provider: IdentityProvider) -> tuple[str, ...]:
    if provider.domains:
        return tuple(provider.domains)
    if provider.identity_provider_type == "Google":
        return GOOGLE_DOMAINS
    return ()


# --- discovery --------------------------------------------------------------------------------

async def candidates(session, organization_id: str) -> list[Candidate]:
    found = []
    for provider in (await session.exec(select(IdentityProvider).where(
            IdentityProvider.organization_id == organization_id).order_by(
            IdentityProvider.created_date_time))).all():
        kind = "socialIdentityProviders" if provider.kind == "socialIdentityProvider" else "azureActiveDirectory"
        found.append(Candidate(kind, "oidc", provider.id, provider.display_name, provider_domains(provider)))
    for federation in (await session.exec(select(FederationConfiguration).where(
            FederationConfiguration.organization_id == organization_id).order_by(
            FederationConfiguration.created_date_time))).all():
        found.append(Candidate("externalFederation", "saml", federation.id, federation.display_name,
                               tuple(federation.domains)))
    return found


async def realm_for(session, org: Organization, email: str, user: User | None = None) -> Realm:
    """Where `email` signs in. A user who already redeemed keeps the method they redeemed with
    (adding a federation later leaves existing guests on their method, as Entra does): their
    federated identity, or the passcode."""
    if user is not None and user.identities:
        federated = [i for i in user.identities if i.get("signInType") == "federated"]
        if not federated:
            return Realm("passcode")
        return await realm_of_issuer(session, org.id, federated[0]["issuer"])
    return discover(email, await candidates(session, org.id), precedence=list(org.redemption_precedence),
                    fallback=org.redemption_fallback, email_otp_enabled=org.email_otp_enabled)


async def realm_of_issuer(session, organization_id: str, issuer: str) -> Realm:
    """The provider a federated identity came from; "none" when it was removed since."""
    for provider in (await session.exec(select(IdentityProvider).where(
            IdentityProvider.organization_id == organization_id))).all():
        if identity_issuer(provider) == issuer:
            return Realm("oidc", provider.id, provider.display_name)
    for federation in (await session.exec(select(FederationConfiguration).where(
            FederationConfiguration.organization_id == organization_id,
            FederationConfiguration.issuer_uri == issuer))).all():
        return Realm("saml", federation.id, federation.display_name, "externalFederation")
    return Realm("none")


# --- the attempt --------------------------------------------------------------------------------

def state_hash(state: str) -> str:
    return security.keyed_digest("federation-state", state)


def new_attempt(organization_id: str, realm: Realm, purpose: str, *, invitation_id: str | None = None,
                user_flow_id: str | None = None, next_url: str | None = None,
                login_hint: str | None = None) -> tuple[str, FederationAttempt]:
    """A round trip to `realm`'s provider (not yet added to a session): answers the state value
    (only its digest is stored) and the attempt, whose nonce and sealed PKCE verifier are made
    here. foyer.usecases.federated_sign_in.begin adds the protocol's request."""
    assert purpose in PURPOSES and realm.protocol in ("oidc", "saml")
    state = secrets.token_urlsafe(32)
    attempt = FederationAttempt(
        state_hash=state_hash(state), organization_id=organization_id, protocol=realm.protocol,
        provider_id=realm.provider_id, purpose=purpose, invitation_id=invitation_id,
        user_flow_id=user_flow_id, next_url=next_url, login_hint=login_hint,
        expires_date_time=utcnow() + ATTEMPT_LIFETIME)
    if realm.protocol == "oidc":
        attempt.nonce = secrets.token_urlsafe(24)
        attempt.code_verifier = security.seal(secrets.token_urlsafe(48), f"federation-pkce:{attempt.id}")
    return state, attempt


async def open_attempt(session, state: str | None, protocol: str | None = None) -> FederationAttempt:
    """The attempt `state` names, locked, if it is still open (not expired, not used)."""
    attempt = (await session.exec(select(FederationAttempt).where(
        FederationAttempt.state_hash == state_hash(state)).with_for_update())).first() if state else None
    if attempt is None or (protocol and attempt.protocol != protocol):
        raise FederationRefused("unknownState", "This sign-in attempt was not found. Start again.")
    if attempt.consumed_date_time is not None:
        raise FederationRefused("attemptUsed", "This sign-in attempt was already used. Start again.")
    if attempt.expires_date_time <= utcnow():
        raise FederationRefused("attemptExpired", "This sign-in attempt took too long. Start again.")
    return attempt


def code_verifier(attempt: FederationAttempt) -> str:
    return security.unseal(attempt.code_verifier, f"federation-pkce:{attempt.id}")


def record_verified(session, attempt: FederationAttempt, identity: VerifiedIdentity) -> None:
    if attempt.verified_date_time is not None:
        # A provider's answer arrives once per attempt; a second one is a replay.
        raise FederationRefused("attemptUsed", "This sign-in attempt was already answered. Start again.")
    attempt.issuer, attempt.issuer_assigned_id = identity.issuer, identity.issuer_assigned_id
    attempt.email = identity.email.strip().lower() if identity.email else None
    attempt.email_verified = identity.email_verified
    attempt.display_name, attempt.given_name, attempt.surname = (
        identity.display_name, identity.given_name, identity.surname)
    attempt.tenant_id, attempt.object_id = identity.tenant_id, identity.object_id
    attempt.group_ids, attempt.amr = list(identity.group_ids), list(identity.amr)
    attempt.verified_date_time = utcnow()
    session.add(attempt)


def address_refusal(attempt: FederationAttempt, expected_email: str | None, federation_domains=()) -> FederationRefused | None:
    """Whether the provider vouched for `expected_email` (the invited address, or the account's):
    OpenID Connect needs `email` with `email_verified` true; SAML's email claim counts as verified
    only in one of the federation's own domains. Foyer never links on an unverified address."""
    if not attempt.email:
        return FederationRefused("emailMissing", "Your identity provider did not tell us your email address.")
    verified = attempt.email_verified or (attempt.protocol == "saml" and domain_of(attempt.email) in federation_domains)
    if not verified:
        return FederationRefused("emailNotVerified",
                                 f"Your identity provider has not verified {attempt.email}, so it cannot be used here.")
    if expected_email is not None and attempt.email != expected_email.strip().lower():
        return FederationRefused("emailMismatch",
                                 f"You signed in as {attempt.email}, but this is for {expected_email}. "
                                 "Sign in with that account instead.")
    return None


def federated_identity(attempt: FederationAttempt) -> dict:
    """The entry Graph's `identities` gets after a federated redemption."""
    return {"signInType": "federated", "issuer": attempt.issuer, "issuerAssignedId": attempt.issuer_assigned_id}


def holds_identity(user: User, attempt: FederationAttempt) -> bool:
    return any(i.get("signInType") == "federated" and i.get("issuer") == attempt.issuer
               and i.get("issuerAssignedId") == attempt.issuer_assigned_id for i in user.identities or [])
