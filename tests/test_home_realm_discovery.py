"""Home realm discovery (foyer.rules.home_realm): the first kind in the organization's redemption
order that has a provider for the address's domain wins; none → the passcode if allowed, else
nothing. The same rule serves redemption, sign-up and sign-in."""

from foyer.rules.home_realm import Candidate, Realm, discover, precedence_refusal

GOOGLE = Candidate("socialIdentityProviders", "oidc", "google", "Google", ("gmail.com", "googlemail.com"))
PARTNER_OIDC = Candidate("azureActiveDirectory", "oidc", "oidc-1", "Partner OP", ("partner.example",))
PARTNER_SAML = Candidate("externalFederation", "saml", "saml-1", "Partner SAML", ("partner.example", "saml.example"))
ALL = [GOOGLE, PARTNER_OIDC, PARTNER_SAML]
DEFAULT = ["azureActiveDirectory", "externalFederation", "socialIdentityProviders"]


def test_the_order_decides_between_providers_of_one_domain():
    assert discover("ann@partner.example", ALL, precedence=DEFAULT, fallback="defaultConfiguredIdp",
                    email_otp_enabled=True) == Realm("oidc", "oidc-1", "Partner OP", "azureActiveDirectory")
    saml_first = ["externalFederation", "azureActiveDirectory", "socialIdentityProviders"]
    assert discover("ann@PARTNER.example", ALL, precedence=saml_first, fallback="defaultConfiguredIdp",
                    email_otp_enabled=True).provider_id == "saml-1"


def test_a_kind_left_out_of_the_order_is_never_used():
    only_social = ["socialIdentityProviders"]
    assert discover("ann@saml.example", ALL, precedence=only_social, fallback="defaultConfiguredIdp",
                    email_otp_enabled=True) == Realm("passcode")
    assert discover("bo@gmail.com", ALL, precedence=only_social, fallback="defaultConfiguredIdp",
                    email_otp_enabled=True).provider_id == "google"


def test_fallback_is_the_passcode_only_while_passcodes_are_allowed():
    for fallback in ("defaultConfiguredIdp", "emailOneTimePasscode"):
        assert discover("cy@elsewhere.example", ALL, precedence=DEFAULT, fallback=fallback,
                        email_otp_enabled=True) == Realm("passcode")
        assert discover("cy@elsewhere.example", ALL, precedence=DEFAULT, fallback=fallback,
                        email_otp_enabled=False) == Realm("none")
    # A domain with a provider is not affected by the passcode switch.
    assert discover("ann@saml.example", ALL, precedence=DEFAULT, fallback="emailOneTimePasscode",
                    email_otp_enabled=False).protocol == "saml"


def test_orders_that_cannot_be_stored():
    assert precedence_refusal(DEFAULT, "defaultConfiguredIdp") is None
    assert precedence_refusal([], "emailOneTimePasscode") is None
    assert "not emailOneTimePasscode" in precedence_refusal(["emailOneTimePasscode"], "defaultConfiguredIdp")
    assert "twice" in precedence_refusal(["externalFederation", "externalFederation"], "defaultConfiguredIdp")
    assert "Microsoft accounts" in precedence_refusal(DEFAULT, "microsoftAccount")
    assert "fallbackIdentityProvider" in precedence_refusal(DEFAULT, "google")
    assert precedence_refusal("externalFederation", "defaultConfiguredIdp") is not None
