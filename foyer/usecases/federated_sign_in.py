"""Redeeming, signing in and signing up with a guest's own identity provider: the steps of the
round trip (foyer.usecases.federation) tied to the protocols (federation_oidc, federation_saml)
and to what each purpose needs. Called by the pages (foyer.api.pages.federation, redeem, signin,
sign_up) and by the invitation workflow's `redeem_with_federated_identity` activity.
"""

from sqlmodel import select

from foyer.models.base import utcnow
from foyer.models.directory import Organization, User
from foyer.models.federation import FederationAttempt, FederationConfiguration, IdentityProvider
from foyer.models.invitation import Invitation
from foyer.rules.home_realm import Realm
from foyer.rules.sign_in import may_sign_in
from foyer.usecases import federation, federation_oidc, federation_saml
from foyer.usecases.federation import FederationRefused

async def begin(session, org: Organization, realm: Realm, purpose: str, **context) -> tuple[str, str]:
    """Start a round trip to `realm`'s provider: answers (the provider's sign-in URL, the state
    to bind to the browser). Raises FederationRefused when the provider cannot be reached."""
    state, attempt = federation.new_attempt(org.id, realm, purpose, **context)
    if realm.protocol == "oidc":
        provider = await session.get(IdentityProvider, realm.provider_id)
        url = await federation_oidc.authorization_url(
            provider, state=state, nonce=attempt.nonce, code_verifier=federation.code_verifier(attempt),
            redirect_uri=federation.oidc_redirect_uri(), login_hint=attempt.login_hint)
    else:
        configuration = await session.get(FederationConfiguration, realm.provider_id)
        url, attempt.request_id = federation_saml.authn_request_url(
            configuration, relay_state=state, acs_url=federation.saml_acs_url(),
            sp_entity_id=federation.sp_entity_id(org.id))
    session.add(attempt)
    await session.commit()
    return url, state


def provider_error(error: str | None, description: str | None) -> FederationRefused | None:
    """An OpenID provider's error answer (the person cancelled, or it refused them), or None."""
    return federation_oidc.callback_refusal(error, description)


async def verify_oidc_answer(session, state: str | None, code: str | None) -> FederationAttempt:
    """The OpenID provider sent the browser back with a code: exchange and verify it, and keep
    what the provider vouched for on the attempt."""
    attempt = await federation.open_attempt(session, state, "oidc")
    provider = await session.get(IdentityProvider, attempt.provider_id)
    if provider is None:
        raise FederationRefused("providerRemoved", "This identity provider is no longer configured.")
    if not code:
        raise FederationRefused("codeMissing", "Your identity provider did not sign you in.")
    identity = await federation_oidc.verified_identity(
        provider, code=code, nonce=attempt.nonce, code_verifier=federation.code_verifier(attempt),
        redirect_uri=federation.oidc_redirect_uri())
    federation.record_verified(session, attempt, identity)
    await session.commit()
    return attempt


async def verify_saml_answer(session, relay_state: str | None, saml_response: str | None) -> FederationAttempt:
    """The partner's SAML IdP posted its response: verify it (signature, audience, time, replay)
    and keep what it vouched for on the attempt."""
    attempt = await federation.open_attempt(session, relay_state, "saml")
    configuration = await session.get(FederationConfiguration, attempt.provider_id)
    if configuration is None:
        raise FederationRefused("providerRemoved", "This federation is no longer configured.")
    if not saml_response:
        raise FederationRefused("responseMissing", "Your identity provider did not send a SAML response.")
    identity = await federation_saml.verified_identity(
        session, configuration, saml_response=saml_response, request_id=attempt.request_id,
        acs_url=federation.saml_acs_url(), sp_entity_id=federation.sp_entity_id(attempt.organization_id))
    federation.record_verified(session, attempt, identity)
    await session.commit()
    return attempt


async def verified_attempt(session, state: str | None) -> FederationAttempt:
    """The attempt the completion page names, if the provider's answer was verified and it was not
    used yet."""
    attempt = await federation.open_attempt(session, state)
    if attempt.verified_date_time is None:
        raise FederationRefused("notVerified", "Your identity provider has not answered this sign-in.")
    return attempt


async def _federation_domains(session, attempt: FederationAttempt) -> tuple[str, ...]:
    if attempt.protocol != "saml":
        return ()
    configuration = await session.get(FederationConfiguration, attempt.provider_id)
    return tuple(configuration.domains) if configuration else ()


async def address_refusal(session, attempt: FederationAttempt, expected_email: str | None) -> FederationRefused | None:
    return federation.address_refusal(attempt, expected_email, await _federation_domains(session, attempt))


def identity_entry(attempt: FederationAttempt) -> dict:
    return federation.federated_identity(attempt)


# --- redemption -------------------------------------------------------------------------------

async def attempt_for_redemption(session, attempt_id: str, invitation_id: str) -> FederationAttempt | None:
    attempt = await session.get(FederationAttempt, attempt_id, with_for_update=True)
    if attempt is None or attempt.purpose != "redeem" or attempt.invitation_id != invitation_id \
            or attempt.verified_date_time is None:
        return None
    return attempt


async def redemption_refusal(session, attempt: FederationAttempt, invitation: Invitation) -> FederationRefused | None:
    """Why this verified identity may not redeem this invitation: another address than invited,
    an address the provider has not verified, or an identity another account already holds."""
    if refused := await address_refusal(session, attempt, invitation.email):
        return refused
    holder = await identity_holder(session, attempt)
    if holder is not None and holder.id != invitation.user_id:
        return FederationRefused("identityInUse", "The account you signed in with already belongs to "
                                 "someone else here.")
    return None


async def identity_holder(session, attempt: FederationAttempt) -> User | None:
    """The user of the organization who holds the attempt's federated identity. Found through the
    address the provider vouched for, then checked on the identity itself (issuer and subject)."""
    if not attempt.email:
        return None
    for user in (await session.exec(select(User).where(
            User.organization_id == attempt.organization_id, User.mail == attempt.email))).all():
        if federation.holds_identity(user, attempt):
            return user
    return None


# --- sign-up ----------------------------------------------------------------------------------

async def attempt_for_sign_up(session, attempt_id: str, user_flow_id: str) -> FederationAttempt | None:
    attempt = await session.get(FederationAttempt, attempt_id, with_for_update=True)
    if attempt is None or attempt.purpose != "signUp" or attempt.user_flow_id != user_flow_id \
            or attempt.verified_date_time is None or attempt.consumed_date_time is not None:
        return None
    return attempt


async def offered_providers(session, org: Organization, provider_ids: list[str]) -> list[Realm]:
    """The identity providers of the organization a user flow offers, in the flow's order."""
    offered = []
    for provider_id in provider_ids:
        provider = await session.get(IdentityProvider, provider_id)
        if provider is not None and provider.organization_id == org.id:
            offered.append(Realm("oidc", provider.id, provider.display_name))
            continue
        configuration = await session.get(FederationConfiguration, provider_id)
        if configuration is not None and configuration.organization_id == org.id:
            offered.append(Realm("saml", configuration.id, configuration.display_name, "externalFederation"))
    return offered


def prefilled_attributes(attempt: FederationAttempt) -> dict:
    """What the sign-up form shows filled in from the provider (the person may change it)."""
    values = {"displayName": attempt.display_name, "givenName": attempt.given_name, "surname": attempt.surname}
    return {key: value for key, value in values.items() if value}


# --- sign-in ----------------------------------------------------------------------------------

async def sign_in(session, attempt: FederationAttempt) -> User:
    """The user a verified sign-in attempt signs in: the holder of that identity, who may sign
    in. Marks the attempt used."""
    if refused := await address_refusal(session, attempt, None):
        raise refused
    user = await identity_holder(session, attempt)
    if user is None or not may_sign_in(user):
        raise FederationRefused("noAccount", f"There is no account here that signs in as {attempt.email} "
                                "with this identity provider. If you were invited, open your invitation first.")
    attempt.consumed_date_time = utcnow()
    session.add(attempt)
    await session.commit()
    return user


# --- discovery for the pages ------------------------------------------------------------------

async def realm_for_address(session, org: Organization, email: str) -> Realm:
    """Where `email` signs in: by its user's own method once redeemed, else by discovery."""
    user = (await session.exec(select(User).where(User.organization_id == org.id,
                                                  User.mail == email.strip().lower()))).first()
    accepted = user if user is not None and user.external_user_state != "PendingAcceptance" else None
    return await federation.realm_for(session, org, email, accepted)
