"""Home realm discovery: which identity provider an address signs in with, in the order the
organization set (Graph's invitationRedemptionIdentityProviderConfiguration). Redemption, sign-up
and sign-in all ask this one rule.

Foyer's reading of Entra's kinds:
- `azureActiveDirectory`: a partner organization's own OpenID provider (an oidcIdentityProvider
  whose domains hold the address's domain);
- `externalFederation`: a SAML direct federation whose domains hold it;
- `socialIdentityProviders`: Google for gmail.com and googlemail.com (or the domains set on it);
- fallback `defaultConfiguredIdp` (Entra: an existing Microsoft account, else the passcode, else a
  new Microsoft account) and `emailOneTimePasscode`: Foyer has no Microsoft accounts, so both mean
  the email one-time passcode, if the organization allows it (externalCollaborationPolicy), else
  nothing: the address cannot redeem or sign in until a provider serves its domain.
"""

from dataclasses import dataclass

PRIMARY_KINDS = ("azureActiveDirectory", "externalFederation", "socialIdentityProviders")
FALLBACKS = ("defaultConfiguredIdp", "emailOneTimePasscode")
DEFAULT_PRECEDENCE = list(PRIMARY_KINDS)
DEFAULT_FALLBACK = "defaultConfiguredIdp"
GOOGLE_DOMAINS = ("gmail.com", "googlemail.com")


@dataclass(frozen=True)
class Candidate:
    """A configured provider, as discovery sees it."""
    kind: str  # one of PRIMARY_KINDS
    protocol: str  # "oidc" or "saml"
    provider_id: str
    display_name: str
    domains: tuple[str, ...]


@dataclass(frozen=True)
class Realm:
    """Where an address signs in: `protocol` "oidc" or "saml" (with the provider), "passcode", or
    "none" (no provider matches and the fallback allows no passcode)."""
    protocol: str
    provider_id: str | None = None
    display_name: str | None = None
    kind: str | None = None


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower().rstrip(".")


def discover(email: str, candidates: list[Candidate], *, precedence: list[str], fallback: str,
             email_otp_enabled: bool) -> Realm:
    domain = domain_of(email)
    for kind in precedence:
        for candidate in candidates:
            if candidate.kind == kind and domain in candidate.domains:
                return Realm(candidate.protocol, candidate.provider_id, candidate.display_name, kind)
    if fallback in FALLBACKS and email_otp_enabled:
        return Realm("passcode")
    return Realm("none")


def precedence_refusal(precedence: list, fallback) -> str | None:
    """Why a redemption order cannot be stored, or None."""
    if not isinstance(precedence, list) or not all(isinstance(kind, str) for kind in precedence):
        return "primaryIdentityProviderPrecedenceOrder must be a list of strings"
    unknown = [kind for kind in precedence if kind not in PRIMARY_KINDS]
    if unknown:
        return (f"primaryIdentityProviderPrecedenceOrder may hold only {', '.join(PRIMARY_KINDS)}; "
                f"not {', '.join(unknown)}")
    if len(set(precedence)) != len(precedence):
        return "primaryIdentityProviderPrecedenceOrder names a kind twice"
    if fallback == "microsoftAccount":
        return "fallbackIdentityProvider microsoftAccount is not supported: Foyer has no Microsoft accounts"
    if fallback not in FALLBACKS:
        return f"fallbackIdentityProvider must be one of {', '.join(FALLBACKS)}"
    return None
