"""API connectors during sign-up, on a real HTTP server: postFederationSignup blocks (the
connector's message shown, nothing created); postAttributeCollection answers ValidationError (the
form again with its message), then Continue with an overwrite that lands on the guest."""

import httpx

from tests.connector_server import connector_server
from tests.sign_up_support import result_state, sign_up_row, submit_attributes, through_code
from tests.factories import make_flow
from tests.support import find_user, unique_email


async def test_post_federation_signup_block_shows_the_connectors_message(server, mail, organization_id):
    async with connector_server() as connectors:
        connector_id = await connectors.connector(organization_id)
        connectors.reply({"version": "1.0.0", "action": "ShowBlockPage",
                          "userMessage": "Partners from this company sign up elsewhere."}, step="postFederationSignup")
        flow_id = await make_flow(organization_id, post_federation_signup_connector_id=connector_id)
        email = unique_email()
        async with httpx.AsyncClient(base_url=server, timeout=30) as client:
            _, page = await through_code(client, mail, flow_id, email)
        assert page.status_code == 400
        assert result_state(page.text) == "blocked"
        assert "Partners from this company sign up elsewhere." in page.text
        call = connectors.calls[0]
        assert call["step"] == "postFederationSignup" and call["email"] == email
        assert call["identities"] == [{"signInType": "emailAddress", "issuer": "contoso.test",
                                       "issuerAssignedId": email}]
    row = await sign_up_row(email)
    assert (row.state, row.reason) == ("blocked", "Partners from this company sign up elsewhere.")
    assert await find_user(email) is None


async def test_validation_error_then_corrected_resubmit_with_overwrite(server, mail, organization_id):
    async with connector_server() as connectors:
        connector_id = await connectors.connector(organization_id)
        connectors.reply({"version": "1.0.0", "status": 400, "action": "ValidationError",
                          "userMessage": "Use the city on your contract."}, status=400, step="postAttributeCollection")
        connectors.reply({"version": "1.0.0", "action": "Continue", "city": "Bergen",
                          "displayName": "Sam S. (Partner)"}, step="postAttributeCollection")
        flow_id = await make_flow(organization_id, post_attribute_collection_connector_id=connector_id)
        email = unique_email()
        async with httpx.AsyncClient(base_url=server, timeout=30) as client:
            sign_up_id, form = await through_code(client, mail, flow_id, email)
            assert form.status_code == 200 and 'id="attributes-form"' in form.text
            again = await submit_attributes(client, flow_id, sign_up_id, email, displayName="Sam S",
                                            city="Oslo", country="NO")
            assert again.status_code == 400
            assert "Use the city on your contract." in again.text and 'id="attributes-form"' in again.text
            assert await find_user(email) is None
            done = await submit_attributes(client, flow_id, sign_up_id, email, displayName="Sam S",
                                           city="Trondheim", country="NO")
            assert done.status_code == 200, done.text[:800]
            assert result_state(done.text) == "completed"
        assert [c["city"] for c in connectors.calls] == ["Oslo", "Trondheim"]
    user = await find_user(email)
    assert user.display_name == "Sam S. (Partner)"
    assert user.custom_attributes["city"] == "Bergen"
