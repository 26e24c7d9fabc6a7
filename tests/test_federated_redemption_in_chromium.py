"""The federated journey in Chromium: the guest opens the invitation from the mail, accepts, is
taken to their organization's OpenID provider (a real one on 127.0.0.1), signs in there, comes back
Accepted with the federated identity, lands on the app — which sends them to Foyer's OpenID
Provider and back without another prompt (single sign-on); the app's ID token says idp = the
partner's issuer. No code is ever mailed."""

import json

from tests.browser import chromium_page
from tests.factories import make_group_and_app
from tests.oidc_idp import oidc_body, oidc_provider  # noqa: F401 (the fixture)
from tests.openid_support import relying_party
from tests.support import find_user, invite, link_in, unique_email


async def test_guest_redeems_at_their_provider_and_opens_the_app(api, admin, mail, server, organization_id,
                                                                oidc_provider):  # noqa: F811
    body = oidc_body(oidc_provider, oidc_provider.register_client("client_secret_post"))
    assert (await api.post("/v1.0/identity/identityProviders", headers=admin, json=body)).status_code == 201
    email = unique_email(body["domains"][0])
    group, _ = await make_group_and_app(organization_id)
    async with relying_party(organization_id) as (rp, app):
        await invite(api, admin, email, inviteRedirectUrl=f"{rp.url}/login",
                     foyerPreAssignedApplicationIds=[app.id], foyerPreAssignedGroupIds=[group.id])
        link = link_in((await mail.wait_for(email))[0].text)
        oidc_provider.set_user("chromium-sub", email=email, email_verified=True, name="Cora Chromium")

        async with chromium_page() as page:
            await page.goto(link)
            assert await page.is_visible("#continue-federated") and not await page.is_visible("#send-code")
            await page.check("#consent")
            await page.click("#continue-federated")
            # Foyer's page refreshes on to the provider's own sign-in form.
            await page.wait_for_url(f"{oidc_provider.issuer}/oauth2/authorize?*")
            await page.fill("input[name=sub]", "chromium-sub")
            await page.click("button:has-text('Authorize')")
            # Back → redeemed → the app's /login → Foyer's OP (signed in already) → the app.
            await page.wait_for_url(f"{rp.redirect_uri}?*")
            claims = json.loads(await page.inner_text("body"))

    guest = await find_user(email)
    assert claims["oid"] == guest.id and claims["idp"] == oidc_provider.issuer and claims["amr"] == ["fed"]
    assert guest.external_user_state == "Accepted"
    assert guest.identities == [{"signInType": "federated", "issuer": oidc_provider.issuer,
                                 "issuerAssignedId": "chromium-sub"}]
    assert len(mail.to(email)) == 1  # the invitation; no code
