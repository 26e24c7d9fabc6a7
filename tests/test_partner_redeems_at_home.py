"""Two Foyer organizations federated with each other (tests.partner_foyer): the resource
organization invites alice@home.test; redemption sends her home, where she signs in with her
home organization's passcode; she comes back Accepted, her identity the home's issuer, and her
partner tenant, object id and groups kept with the session; the resource's app then gets a token
for her without another prompt, saying where she signed in."""

import httpx

from foyer import sessions
from foyer.db import session_scope
from foyer.models.federation import FederationAttempt
from tests.federation_support import accept_and_go_to_provider
from tests.openid_support import relying_party
from tests.partner_foyer import follow, passcode_at_home, register_at_resource, step
from tests.support import find_user, invite


async def test_alice_redeems_at_home_and_opens_the_resource_app(api, admin, server, organization_id, mail,
                                                               home_foyer):
    home = home_foyer
    await register_at_resource(api, admin, home, server, organization_id)
    alice = await home.make_member("Alice Home")
    team = await home.make_group("Home partners team", alice["id"])
    email = alice["mail"]
    async with relying_party(organization_id) as (rp, app):
        invitation = await invite(api, admin, email, inviteRedirectUrl=f"{rp.url}/login",
                                  foyerPreAssignedApplicationIds=[app.id])
        async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
            to_home = await accept_and_go_to_provider(browser, invitation["inviteRedeemUrl"])
            assert to_home.startswith(f"{home.url}/{home.organization_id}/oauth2/v2.0/authorize?")
            signin = await follow(browser, await browser.get(to_home))
            back = await passcode_at_home(browser, signin, mail, email)
            # Home's authorize, then the resource's callback, which redeems and signs her in.
            landed = await step(browser, back)
            assert landed.status_code == 303 and "code=" in landed.headers["location"], landed.text[:500]
            redeemed = await step(browser, landed)
            assert redeemed.status_code == 303, redeemed.text[:800]
            assert redeemed.headers["location"] == f"{rp.url}/login"
            session = sessions.read(redeemed.cookies.get(sessions.SESSION_COOKIE))
            assert session.idp == home.issuer and session.context_id

            start = await browser.get(f"{rp.url}/login")
            authorize = await browser.get(start.headers["location"])
            assert authorize.status_code == 303 and authorize.headers["location"].startswith(rp.redirect_uri)
            claims = (await browser.get(authorize.headers["location"])).json()
            assert claims["idp"] == home.issuer and claims["amr"] == ["fed"]

    user = await find_user(email)
    assert user.external_user_state == "Accepted" and user.identities[0]["issuer"] == home.issuer
    async with session_scope() as db:
        attempt = await db.get(FederationAttempt, session.context_id)
    assert attempt.tenant_id == home.organization_id and attempt.object_id == alice["id"]
    assert attempt.group_ids == [team["id"]] and attempt.amr == ["otp"]
