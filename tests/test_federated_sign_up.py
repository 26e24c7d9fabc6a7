"""A user flow that offers only a partner's OpenID provider: the person signs up there, comes back
with the address the provider verified (no code is mailed, the address is not re-verified), finds
the form filled in with the provider's name, and becomes a guest whose identities are the
federated one; the postFederationSignup connector's request carries those identities."""

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.sign_up import UserFlow
from tests.connector_server import connector_server
from tests.factories import make_flow
from tests.federation_support import provider_url_in
from tests.oidc_idp import oidc_body, oidc_provider  # noqa: F401 (the fixture)
from tests.sign_up_support import result_state, sign_up_id_in, submit_attributes
from tests.support import find_user, unique_email


async def _offer_only(flow_id: str, provider_id: str) -> None:
    async with session_scope() as session:
        flow = (await session.exec(select(UserFlow).where(UserFlow.id == flow_id))).one()
        flow.identity_provider_ids = [provider_id]
        session.add(flow)


async def test_sign_up_at_the_partner_provider(api, admin, server, mail, organization_id,
                                               oidc_provider):  # noqa: F811
    body = oidc_body(oidc_provider, oidc_provider.register_client("client_secret_post"))
    provider = (await api.post("/v1.0/identity/identityProviders", headers=admin, json=body)).json()
    email = unique_email(body["domains"][0])
    async with connector_server() as connectors:
        connector_id = await connectors.connector(organization_id)
        flow_id = await make_flow(organization_id, post_federation_signup_connector_id=connector_id)
        await _offer_only(flow_id, provider["id"])
        async with httpx.AsyncClient(base_url=server, follow_redirects=False, timeout=30) as client:
            choose = await client.get(f"/signup/{flow_id}")
            assert choose.status_code == 200 and f"/signup/{flow_id}/with/{provider['id']}" in choose.text
            assert 'id="method-email"' not in choose.text
            # The passcode is not offered by this flow, even asked for directly.
            assert 'name="email"' not in (await client.get(f"/signup/{flow_id}?method=email")).text
            # An address typed in is discovered like any: on to the provider, no code.
            sent_on = await client.post(f"/signup/{flow_id}", data={"email": email})
            assert 'name="code"' not in sent_on.text and provider_url_in(sent_on).startswith(oidc_provider.issuer)

            page = await client.get(f"/signup/{flow_id}/with/{provider['id']}")
            callback = await oidc_provider.sign_in(provider_url_in(page), "signup-sub", email=email,
                                                   email_verified=True, name="Sia Signup")
            back = await client.get(callback)
            assert back.status_code == 303 and back.headers["location"] == f"/signup/{flow_id}/federated"
            form = await client.get(back.headers["location"])
            assert form.status_code == 200, form.text
            assert 'value="Sia Signup"' in form.text and 'name="code"' not in form.text
            sign_up_id = sign_up_id_in(form.text)
            # The round trip is used: coming back again starts nothing.
            again = await client.get(back.headers["location"])
            assert again.status_code == 400
            done = await submit_attributes(client, flow_id, sign_up_id, email, displayName="Sia Signup",
                                           country="NO")
            assert result_state(done.text) == "completed", done.text
        [call] = [c for c in connectors.calls if c["step"] == "postFederationSignup"]
        identities = [{"signInType": "federated", "issuer": oidc_provider.issuer, "issuerAssignedId": "signup-sub"}]
        assert call["email"] == email and call["identities"] == identities
    user = await find_user(email)
    assert user.identities == identities and user.creation_type == "SelfServiceSignUp"
    assert user.external_user_state == "Accepted" and user.display_name == "Sia Signup"
    # No code was mailed: the only mail is the welcome.
    messages = await mail.wait_for(email)
    assert len(mail.to(email)) == 1 and "code" not in messages[0].subject.lower()


async def test_the_email_step_sends_a_served_domain_to_its_provider(api, admin, server, organization_id,
                                                                     oidc_provider):  # noqa: F811
    body = oidc_body(oidc_provider, oidc_provider.register_client("client_secret_post"))
    provider = (await api.post("/v1.0/identity/identityProviders", headers=admin, json=body)).json()
    email = unique_email(body["domains"][0])
    passcode_only = await make_flow(organization_id)
    both = await make_flow(organization_id)
    async with session_scope() as session:
        flow = (await session.exec(select(UserFlow).where(UserFlow.id == both))).one()
        flow.identity_provider_ids = ["EmailOtpSignup-OAUTH", provider["id"]]
        session.add(flow)
    async with httpx.AsyncClient(base_url=server, follow_redirects=False, timeout=30) as client:
        sent_on = await client.post(f"/signup/{both}", data={"email": email})
        assert sent_on.status_code == 200 and provider_url_in(sent_on).startswith(oidc_provider.issuer)
        refused = await client.post(f"/signup/{passcode_only}", data={"email": email})
        assert refused.status_code == 403 and "does not offer" in refused.text and 'name="code"' not in refused.text
        # Another domain still gets the passcode in the flow that offers both.
        other = await client.post(f"/signup/{both}", data={"email": unique_email()})
        assert other.status_code == 200 and 'name="code"' in other.text
