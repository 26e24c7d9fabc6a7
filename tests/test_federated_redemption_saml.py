"""A guest at a domain federated by SAML 2.0 (a real pysaml2 IdP on 127.0.0.1, signed assertions,
xmlsec1) redeems there: consent → the IdP → the ACS → /federation/complete in the browser that
started → Accepted with identities {federated, the issuerUri, the persistent NameID}, in the
pre-assigned group, signed in with idp = the issuerUri. The SAML email counts as verified only in
the federation's domains; a replayed or forged response redeems nothing."""

import httpx

from foyer import sessions
from foyer.db import session_scope
from foyer.models.directory import GroupMember
from foyer.usecases.federation import saml_acs_url, sp_entity_id
from tests.factories import make_group_and_app
from tests.federation_support import accept_and_go_to_provider, provider_url_in, sign_in_at_provider
from tests.saml_idp import SamlIdp, SamlUser
from tests.support import find_user, invite, unique_email

FEDERATION = "/v1.0/directory/federationConfigurations/microsoft.graph.samlOrWsFedExternalDomainFederation"


async def _post_to_acs(browser: httpx.AsyncClient, server: str, saml_response: str, relay_state: str):
    return await browser.post(f"{server}/federation/saml/acs",
                              data={"SAMLResponse": saml_response, "RelayState": relay_state})


async def test_redeem_at_the_partner_saml_idp(api, admin, server, organization_id):
    domain = f"{unique_email().split('@')[0]}.saml.example"
    email = f"ann@{domain}"
    group, _ = await make_group_and_app(organization_id)
    async with SamlIdp(sp_entity_id=sp_entity_id(organization_id), acs_url=saml_acs_url()) as idp:
        created = await api.post(FEDERATION, headers=admin, json=idp.federation_body([domain]))
        assert created.status_code == 201, created.text
        invitation = await invite(api, admin, email, foyerPreAssignedGroupIds=[group.id])
        link = invitation["inviteRedeemUrl"]
        async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
            # Unsigned, then signed by another key: refused at the ACS, nothing redeemed.
            for forge in (idp.unsigned, idp.signed_by_another_key):
                url = await accept_and_go_to_provider(browser, link)
                assert url.startswith(f"{idp.sso_url}?SAMLRequest=")
                _, relay_state = idp.answer(url, SamlUser(name_id="p-1", email=email))
                forged = forge(idp.issued[-1][2], SamlUser(name_id="p-1", email=email))
                refused = await _post_to_acs(browser, server, forged, relay_state)
                assert refused.status_code == 403 and "couldn" in refused.text, forge
            assert (await find_user(email)).external_user_state == "PendingAcceptance"

            # An address outside the federation's domains is not one the IdP may vouch for.
            url = await accept_and_go_to_provider(browser, link)
            answer = idp.answer(url, SamlUser(name_id="p-1", email=unique_email("elsewhere.example")))
            at_acs = await _post_to_acs(browser, server, *answer)
            refused = await browser.get(f"{server}{at_acs.headers['location']}")
            assert refused.status_code == 403 and "has not verified" in refused.text

            url = await accept_and_go_to_provider(browser, link)
            saml_response, relay_state = idp.answer(url, SamlUser(name_id="p-1", email=email, display_name="Ann P"))
            at_acs = await _post_to_acs(browser, server, saml_response, relay_state)
            assert at_acs.status_code == 303 and at_acs.headers["location"].startswith("/federation/complete?")
            back = await browser.get(f"{server}{at_acs.headers['location']}")
            assert back.status_code == 303 and back.headers["location"] == invitation["inviteRedirectUrl"]
            session = sessions.read(back.cookies.get(sessions.SESSION_COOKIE))
            assert session.user_id == invitation["invitedUser"]["id"] and session.idp == idp.entity_id

            # The same response again is a replay.
            replayed = await _post_to_acs(browser, server, saml_response, relay_state)
            assert replayed.status_code in (400, 403) and 'id="send-code"' not in replayed.text

        user = await find_user(email)
        assert user.external_user_state == "Accepted"
        assert user.identities == [{"signInType": "federated", "issuer": idp.entity_id, "issuerAssignedId": "p-1"}]
        async with session_scope() as db:
            assert await db.get(GroupMember, (group.id, user.id)) is not None

        # Later: the sign-in page sends the guest to the IdP, and the same NameID signs them in.
        async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
            page = await sign_in_at_provider(browser, server, email, "/myaccess")
            assert page.status_code == 200 and 'name="code"' not in page.text
            at_acs = await _post_to_acs(browser, server, *idp.answer(provider_url_in(page),
                                                                     SamlUser(name_id="p-1", email=email)))
            back = await browser.get(f"{server}{at_acs.headers['location']}")
            assert back.status_code == 303 and back.headers["location"] == "/myaccess"
            assert sessions.read(back.cookies.get(sessions.SESSION_COOKIE)).user_id == user.id

            # The response taken to another browser does not complete there.
            page = await sign_in_at_provider(browser, server, email)
            at_acs = await _post_to_acs(browser, server, *idp.answer(provider_url_in(page),
                                                                     SamlUser(name_id="p-1", email=email)))
        async with httpx.AsyncClient(follow_redirects=False, timeout=30) as elsewhere:
            taken = await elsewhere.get(f"{server}{at_acs.headers['location']}")
            assert taken.status_code == 400 and taken.cookies.get(sessions.SESSION_COOKIE) is None
