"""The test IdP (tests/saml_idp.py) over HTTP, as a browser meets it: the AuthnRequest URL Foyer
builds answers the HTTP-POST binding's auto-posting form to Foyer's ACS (SAMLResponse and the same
RelayState), which verifies; its metadata lists its signing certificates, and Foyer's SP metadata
names the organization's audience and ACS."""

import html
import re

import httpx

from foyer.usecases.federation import saml_acs_url, sp_entity_id
from foyer.usecases.federation_saml import authn_request_url, sp_metadata_xml
from tests.saml_idp import SamlUser
from tests.saml_support import idp_for, make_federation, verify


def form_field(page: str, name: str) -> str:
    return html.unescape(re.search(rf'name="{name}" value="([^"]*)"', page).group(1))


async def test_browser_round_trip(organization_id):
    async with idp_for(organization_id) as idp:
        federation = await make_federation(organization_id, idp)
        url, request_id = authn_request_url(federation, relay_state="state-xyz", acs_url=saml_acs_url(),
                                            sp_entity_id=sp_entity_id(organization_id))
        idp.sign_in_as(SamlUser(name_id="p-42", email="zoe@fabrikam.test"))
        async with httpx.AsyncClient() as browser:
            page = (await browser.get(url)).text
            metadata = (await browser.get(idp.metadata_url)).text
        assert f'action="{saml_acs_url()}"' in page
        assert form_field(page, "RelayState") == "state-xyz"
        identity = await verify(federation, form_field(page, "SAMLResponse"), request_id)
    assert (identity.issuer_assigned_id, identity.email) == ("p-42", "zoe@fabrikam.test")
    assert idp.certificate in metadata and f'entityID="{idp.entity_id}"' in metadata


def test_sp_metadata_names_the_audience_and_acs(organization_id):
    metadata = sp_metadata_xml(organization_id)
    assert f'entityID="{sp_entity_id(organization_id)}"' in metadata
    assert f'Location="{saml_acs_url()}"' in metadata
    assert "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" in metadata
    assert "nameid-format:persistent" in metadata and 'AuthnRequestsSigned="false"' in metadata
