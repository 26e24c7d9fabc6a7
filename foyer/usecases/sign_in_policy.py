"""What the organization's policies say about one interactive sign-in, before anything is issued:
the cross-tenant access settings for a partner organization's person (inbound, at this resource
organization) and for our own people signing in to a partner (outbound, at their home), then
Conditional Access. One decision, asked by the OpenID Provider's authorize step (an app), by
Foyer's own pages (no app: only policies for all resources), and after a redemption.

Cross-tenant settings bind only people from a partner organization — a session that came through
an identity provider with a tenant id (IdentityProvider.tenant_id), whose token named their object
and group ids there. Passcode, SAML and Google guests are not from a tenant: only Conditional
Access applies to them, and a partner's MFA is trusted (inboundTrust.isMfaAccepted) for partner
people only.

`amr` says what happened, for the tokens: `otp` (email passcode or TOTP), `fed` (a federated
provider), `hwk` (a passkey or security key), and `mfa` when a second factor was done here or a
trusted partner's `amr` said `mfa`.
"""

from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer import sessions
from foyer.db import writing
from foyer.models.directory import Application, Organization, User
from foyer.models.enums import UserType
from foyer.models.federation import FederationAttempt, IdentityProvider
from foyer.rules.conditional_access import Evaluation, SignInFacts, evaluate
from foyer.rules.cross_tenant_access import b2b_allowed
from foyer.usecases.app_access import group_ids_of
from foyer.usecases.conditional_access import enforced_policies
from foyer.usecases.cross_tenant_access import settings_for
from foyer.usecases.sign_in_log import record_sign_in

# Entra's AADSTS numbers for these refusals (the sign-in log's errorCode).
BLOCKED_BY_CONDITIONAL_ACCESS = 53003
STRONG_AUTHENTICATION_REQUIRED = 50074
REAUTHENTICATION_REQUIRED = 50132
NOT_ALLOWED_BY_INBOUND_POLICY = 500213
NOT_ALLOWED_BY_OUTBOUND_POLICY = 500212


@dataclass(frozen=True)
class Partner:
    """Who a partner organization's provider said the person is, there."""
    tenant_id: str
    object_id: str | None
    group_ids: tuple[str, ...]
    amr: tuple[str, ...]

    @classmethod
    def of(cls, attempt: FederationAttempt) -> "Partner | None":
        """Who a verified federation attempt says the person is at their partner organization
        (None: the provider is no partner's)."""
        if not attempt.tenant_id:
            return None
        return cls(attempt.tenant_id, attempt.object_id, tuple(attempt.group_ids), tuple(attempt.amr))

    @property
    def principal_ids(self) -> set[str]:
        return {i for i in (self.object_id, *self.group_ids) if i}


@dataclass
class SignInDecision:
    # "allow", "block" (a page that says why), "mfa" (the second-factor page first) or
    # "reauthenticate" (sign in again: signInFrequency ran out)
    outcome: str
    error_code: int = 0
    reason: str = ""
    required_strength: str | None = None
    evaluation: Evaluation | None = None
    amr: list[str] = field(default_factory=list)
    partner: Partner | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome == "allow"

    def log_fields(self) -> dict:
        """conditionalAccessStatus and appliedConditionalAccessPolicies for the sign-in log."""
        if self.evaluation is None:
            return {"conditional_access_status": "notApplied", "applied_conditional_access_policies": []}
        return {"conditional_access_status": self.evaluation.status,
                "applied_conditional_access_policies": self.evaluation.applied_policies()}


async def partner_of(session: AsyncSession, data: sessions.SessionData | None) -> Partner | None:
    """The partner organization the session's person signed in from, or None."""
    if data is None or not data.context_id:
        return None
    attempt = await session.get(FederationAttempt, data.context_id)
    if attempt is None or attempt.issuer != data.idp:
        return None
    return Partner.of(attempt)


def amr_for(data: sessions.SessionData, partner_mfa_trusted: bool) -> list[str]:
    names = {sessions.EMAIL_PASSCODE: "otp", sessions.FEDERATED: "fed", sessions.TOTP: "otp", sessions.FIDO2: "hwk"}
    amr = [names[m] for m in data.methods if m in names]
    if set(data.methods) & set(sessions.SECOND_FACTORS) or partner_mfa_trusted:
        amr.append("mfa")
    return list(dict.fromkeys(amr)) or ["otp"]


async def inbound_refusal(session: AsyncSession, org: Organization, partner: Partner,
                          app: Application | None) -> str | None:
    """Why this organization's inbound B2B collaboration settings for the partner refuse the
    person (to `app`, or to any app when None), or None."""
    settings = await settings_for(session, org, partner.tenant_id)
    if b2b_allowed(settings.get("b2bCollaborationInbound"), user_and_group_ids=partner.principal_ids,
                   application_id=app.app_id if app else None):
        return None
    where = f" to {app.display_name}" if app else ""
    return (f"{org.display_name}'s cross-tenant access settings (inbound B2B collaboration for the "
            f"organization {partner.tenant_id}) do not allow you{where}.")


async def outbound_refusal(session: AsyncSession, org: Organization, user: User, app: Application) -> str | None:
    """At the home organization: why its outbound B2B collaboration settings refuse `user` as a
    guest of the partner `app` signs people in for (app.partner_tenant_id), or None."""
    if not app.partner_tenant_id:
        return None
    settings = await settings_for(session, org, app.partner_tenant_id)
    ids = {user.id, *await group_ids_of(session, user.id)}
    if b2b_allowed(settings.get("b2bCollaborationOutbound"), user_and_group_ids=ids, application_id=None):
        return None
    return (f"Your organization, {org.display_name}, does not allow you to sign in to {app.display_name} "
            f"(its cross-tenant access settings: outbound B2B collaboration for the organization "
            f"{app.partner_tenant_id}).")


async def decide(session: AsyncSession, org: Organization, user: User, data: sessions.SessionData,
                 app: Application | None, now: datetime | None = None) -> SignInDecision:
    """The organization's policies on `user` (signed in as `data` says) reaching `app` (None:
    Foyer's own pages). Reads only; the caller logs and acts."""
    now = now or datetime.now(timezone.utc)
    partner = await partner_of(session, data)
    trust: dict = {}
    if partner is not None:
        if (why := await inbound_refusal(session, org, partner, app)) is not None:
            return SignInDecision("block", NOT_ALLOWED_BY_INBOUND_POLICY, why, partner=partner)
        trust = (await settings_for(session, org, partner.tenant_id)).get("inboundTrust") or {}
    if app is not None and (why := await outbound_refusal(session, org, user, app)) is not None:
        return SignInDecision("block", NOT_ALLOWED_BY_OUTBOUND_POLICY, why)
    partner_mfa_trusted = bool(partner and "mfa" in partner.amr and trust.get("isMfaAccepted"))
    return await _conditional_access(session, org, user, app, methods=frozenset(data.methods),
                                     partner=partner, partner_mfa_trusted=partner_mfa_trusted,
                                     authenticated_at=data.issued_at, amr=amr_for(data, partner_mfa_trusted), now=now)


async def _conditional_access(session: AsyncSession, org: Organization, user: User, app: Application | None, *,
                              methods: frozenset[str], partner: Partner | None, partner_mfa_trusted: bool,
                              authenticated_at: datetime, amr: list[str], now: datetime) -> SignInDecision:
    policies = await enforced_policies(session, org.id)
    if not policies:
        return SignInDecision("allow", amr=amr, partner=partner)
    guest = user.user_type == UserType.guest
    facts = SignInFacts(
        user_id=user.id, group_ids=frozenset(await group_ids_of(session, user.id)),
        user_type="guest" if guest else "member",
        guest_or_external_user_type="b2bCollaborationGuest" if guest else None,
        external_tenant_id=partner.tenant_id if partner else None,
        application_id=app.app_id if app else None, methods=methods,
        partner_mfa_trusted=partner_mfa_trusted, authenticated_at=authenticated_at, now=now)
    evaluation = evaluate(policies, facts)
    if evaluation.blocked_by is not None:
        return SignInDecision("block", BLOCKED_BY_CONDITIONAL_ACCESS,
                              f"The Conditional Access policy '{evaluation.blocked_by.display_name}' of "
                              f"{org.display_name} blocks this sign-in.", evaluation=evaluation, amr=amr,
                              partner=partner)
    if evaluation.reauthenticate:
        return SignInDecision("reauthenticate", REAUTHENTICATION_REQUIRED,
                              "Conditional Access asks you to sign in again.", evaluation=evaluation, amr=amr,
                              partner=partner)
    if evaluation.required_strength is not None:
        asking = [r.display_name for r in evaluation.results if r.required_strength]
        return SignInDecision("mfa", STRONG_AUTHENTICATION_REQUIRED,
                              f"Strong authentication is required by the Conditional Access policy "
                              f"'{asking[0] if asking else '?'}'.", required_strength=evaluation.required_strength,
                              evaluation=evaluation, amr=amr, partner=partner)
    return SignInDecision("allow", evaluation=evaluation, amr=amr, partner=partner)


async def decide_refresh(session: AsyncSession, org: Organization, user: User, app: Application, *,
                         amr: list[str], idp: str | None, auth_time: datetime,
                         now: datetime | None = None) -> SignInDecision:
    """Conditional Access on a refresh grant (a non-interactive sign-in): the policies as they are
    now, against what the original sign-in did (its `amr`: `hwk` a passkey; `mfa` a second factor
    here or a trusted partner's, which meets Multifactor authentication only). A refresh cannot
    prompt: anything but "allow" refuses the grant, and the app sends the person through again."""
    now = now or datetime.now(timezone.utc)
    methods = {sessions.FEDERATED if idp else sessions.EMAIL_PASSCODE}
    if "hwk" in amr:
        methods.add(sessions.FIDO2)
    elif "mfa" in amr:
        methods.add(sessions.TOTP)
    # A partner's person is known on a refresh by the provider that signed them in (its tenant).
    provider = (await session.exec(select(IdentityProvider).where(
        IdentityProvider.organization_id == org.id, IdentityProvider.issuer == idp))).first() if idp else None
    partner = Partner(provider.tenant_id, None, (), ()) if provider is not None and provider.tenant_id else None
    return await _conditional_access(session, org, user, app, methods=frozenset(methods), partner=partner,
                                     partner_mfa_trusted=False, authenticated_at=auth_time, amr=list(amr), now=now)


async def partner_arrival_refusal(session: AsyncSession, org: Organization, attempt: FederationAttempt,
                                  ip_address: str | None = None) -> str | None:
    """When a partner organization's person comes back from their home provider (to redeem, sign
    in or sign up): why this organization's inbound settings for that partner refuse them, or
    None. A refusal is written to the sign-in log (with the account the address names, if any)
    and committed."""
    partner = Partner.of(attempt)
    if partner is None:
        return None
    why = await inbound_refusal(session, org, partner, None)
    if why is None:
        return None
    user = (await session.exec(select(User).where(User.organization_id == org.id, User.mail == attempt.email))).first() \
        if attempt.email else None
    record_sign_in(session, organization_id=org.id, user=user, app=None, interactive=True,
                   error_code=NOT_ALLOWED_BY_INBOUND_POLICY, failure_reason=why, ip_address=ip_address)
    async with writing():
        await session.commit()
    return why
