"""A genuine answer of the partner's SAML IdP (tests/saml_idp.py, pysaml2 and xmlsec1) is verified
and yields who it vouches for: the issuerUri, the persistent NameID, the emailaddress claim (or
`email` / `mail`) and the names; signed on the assertion, on the response, or both; and after a
certificate rollover, by the newly published certificate."""

import pytest

from foyer.usecases.federation import saml_acs_url, sp_entity_id
from foyer.usecases.federation_saml import authn_request_url
from tests.saml_idp import SamlUser
from tests.saml_support import idp_for, make_federation, verify


@pytest.mark.parametrize("sign", ["assertion", "response", "both"])
async def test_signed_answer_yields_the_identity(organization_id, sign):
    async with idp_for(organization_id) as idp:
        federation = await make_federation(organization_id, idp)
        url, request_id = authn_request_url(federation, relay_state="relay-1", acs_url=saml_acs_url(),
                                            sp_entity_id=sp_entity_id(organization_id))
        assert url.startswith(idp.sso_url + "?SAMLRequest=") and "RelayState=relay-1" in url
        assert "Signature=" not in url  # Entra does not sign its AuthnRequests
        ann = SamlUser(email="ann@fabrikam.test", given_name="Ann", surname="Partner", display_name="Ann P.")
        saml_response, relay_state = idp.answer(url, ann, sign=sign)
        assert relay_state == "relay-1"
        identity = await verify(federation, saml_response, request_id)
    assert identity.issuer == idp.entity_id
    assert identity.issuer_assigned_id == ann.name_id
    assert identity.email == "ann@fabrikam.test" and identity.email_verified is False
    assert (identity.given_name, identity.surname, identity.display_name) == ("Ann", "Partner", "Ann P.")


@pytest.mark.parametrize("claim", ["email", "mail"])
async def test_email_in_a_short_claim(organization_id, claim):
    async with idp_for(organization_id) as idp:
        federation = await make_federation(organization_id, idp)
        url, request_id = authn_request_url(federation, relay_state="r", acs_url=saml_acs_url(),
                                            sp_entity_id=sp_entity_id(organization_id))
        saml_response, _ = idp.answer(url, SamlUser(email="bo@fabrikam.test", email_claim=claim))
        identity = await verify(federation, saml_response, request_id)
    assert identity.email == "bo@fabrikam.test"


async def test_new_certificate_published_ahead_is_accepted(organization_id):
    async with idp_for(organization_id) as idp:
        old = idp.sign_with
        new = idp.rotate()
        federation = await make_federation(organization_id, idp, signing_certificate=old.certificate,
                                           signing_certificates=[old.certificate, new.certificate])
        idp.sign_with = new
        url, request_id = authn_request_url(federation, relay_state="r", acs_url=saml_acs_url(),
                                            sp_entity_id=sp_entity_id(organization_id))
        saml_response, _ = idp.answer(url)
        identity = await verify(federation, saml_response, request_id)
    assert identity.issuer_assigned_id == idp.user.name_id
