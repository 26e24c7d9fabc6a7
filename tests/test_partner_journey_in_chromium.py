"""The whole partner journey in Chromium, between two Foyer organizations: the resource invites
alice@home.test; the invitation sends her home; she signs in there with her home's passcode and,
as her home requires MFA, sets up an authenticator app (the QR code's secret, then a code); she
comes back Accepted and lands in the resource's app — which requires MFA of guests and trusts her
home's, so it opens with no prompt at the resource."""

import json

import pyotp

from tests.browser import chromium_page
from tests.openid_support import relying_party
from tests.partner_foyer import register_at_resource
from tests.support import find_user, invite, link_in, passcode_in
from tests.test_partner_mfa_trusted import EVERYONE_NEEDS_MFA, GUESTS_NEED_MFA, POLICIES


async def test_alice_goes_home_does_passcode_and_totp_and_lands_in_the_app(api, admin, mail, server, organization_id,
                                                                          home_foyer):
    home = home_foyer
    await register_at_resource(api, admin, home, server, organization_id)
    alice = await home.make_member("Alice Home")
    email = alice["mail"]
    home_policy = (await home.set(POLICIES, EVERYONE_NEEDS_MFA, method="POST")).json()
    try:
        assert (await api.post(POLICIES, headers=admin, json=GUESTS_NEED_MFA)).status_code == 201
        assert (await api.post("/v1.0/policies/crossTenantAccessPolicy/partners", headers=admin, json={
            "tenantId": home.organization_id, "inboundTrust": {"isMfaAccepted": True}})).status_code == 201
        async with relying_party(organization_id) as (rp, app):
            await invite(api, admin, email, inviteRedirectUrl=f"{rp.url}/login",
                         foyerPreAssignedApplicationIds=[app.id])
            link = link_in((await mail.wait_for(email))[0].text)
            async with chromium_page() as page:
                await page.goto(link)
                await page.check("#consent")
                await page.click("#continue-federated")
                # Home: its sign-in page, the address already filled in from the login hint.
                await page.wait_for_url(f"{home.url}/signin?*")
                assert await page.input_value("#email") == email
                await page.click("#send-code")
                await page.fill("#code", passcode_in((await mail.wait_for(email, count=2))[1].text))
                await page.click("#verify")
                # Home asks for MFA: no method yet, so an authenticator app is set up.
                await page.wait_for_url(f"{home.url}/mfa?*")
                await page.click("#enrol-totp")
                secret = (await page.inner_text("#secret")).replace(" ", "")
                assert await page.is_visible("#qr svg")
                await page.fill("#code", pyotp.TOTP(secret).now())
                await page.click("#enrol-form button[type=submit]")
                # Back at the resource: redeemed, then the app, through the resource's OP.
                await page.wait_for_url(f"{rp.redirect_uri}?*")
                claims = json.loads(await page.inner_text("body"))
    finally:
        async with home.api() as home_api:
            await home_api.delete(f"{POLICIES}/{home_policy['id']}")
    guest = await find_user(email)
    assert guest.external_user_state == "Accepted" and claims["oid"] == guest.id
    assert claims["idp"] == home.issuer and claims["amr"] == ["fed", "mfa"]
