"""Authentication strengths (Graph's authenticationStrengthPolicy): the three built-in ones, and
whether what a person did at sign-in meets one.

What a person can have done (foyer.sessions.METHODS): the email passcode or a federated provider
(one factor), then a TOTP code (softwareOath) or a passkey / security key (fido2) here; or, for a
partner organization's person whose organization this one trusts for MFA
(inboundTrust.isMfaAccepted), the partner's own MFA (federatedMultiFactor).

- Multifactor authentication: any second factor here, or the trusted partner's MFA.
- Passwordless MFA and Phishing-resistant MFA: a passkey or security key (fido2). The partner's
  MFA does not meet them: Entra applies authentication strengths to external users only through
  methods it can see, and Foyer cannot see which method the partner used.
"""

MFA = "00000000-0000-0000-0000-000000000002"
PASSWORDLESS = "00000000-0000-0000-0000-000000000003"
PHISHING_RESISTANT = "00000000-0000-0000-0000-000000000004"

BUILT_IN = {
    MFA: {"displayName": "Multifactor authentication",
          "description": "Combinations of methods that satisfy strong authentication, such as a one-time "
                         "passcode and a second factor",
          "allowedCombinations": ["email,softwareOath", "federatedSingleFactor,softwareOath", "fido2",
                                  "federatedMultiFactor"]},
    PASSWORDLESS: {"displayName": "Passwordless MFA",
                   "description": "Passwordless methods that satisfy strong authentication",
                   "allowedCombinations": ["fido2"]},
    PHISHING_RESISTANT: {"displayName": "Phishing-resistant MFA",
                         "description": "Phishing-resistant, passwordless methods for the strongest authentication",
                         "allowedCombinations": ["fido2"]},
}
# From weakest to strongest: when several policies ask, the strongest is the one to prompt for.
ORDER = (MFA, PASSWORDLESS, PHISHING_RESISTANT)


def built_in_policy(strength_id: str) -> dict:
    """Graph's authenticationStrengthPolicy body for a built-in strength."""
    policy = BUILT_IN[strength_id]
    return {"id": strength_id, "displayName": policy["displayName"], "description": policy["description"],
            "policyType": "builtIn", "requirementsSatisfied": "mfa",
            "allowedCombinations": list(policy["allowedCombinations"]),
            "createdDateTime": "2021-12-01T00:00:00Z", "modifiedDateTime": "2021-12-01T00:00:00Z"}


def satisfied(strength_id: str, methods: set[str] | frozenset[str], partner_mfa_trusted: bool = False) -> bool:
    """Whether the methods done (foyer.sessions.METHODS) meet the strength."""
    if strength_id == MFA:
        return bool({"totp", "fido2"} & set(methods)) or partner_mfa_trusted
    if strength_id in (PASSWORDLESS, PHISHING_RESISTANT):
        return "fido2" in methods
    return False


def method_meets(strength_id: str, method_kind: str) -> bool:
    """Whether a registered method (AuthenticationMethod.kind: softwareOath or fido2) can meet the
    strength when used: what the MFA page offers, and what it asks a person to register."""
    if strength_id == MFA:
        return method_kind in ("softwareOath", "fido2")
    return method_kind == "fido2"


def strongest(strength_ids) -> str | None:
    """The strongest of several required strengths (one prompt meets them all), or None."""
    wanted = set(strength_ids)
    wanted = [s for s in ORDER if s in wanted]
    return wanted[-1] if wanted else None
