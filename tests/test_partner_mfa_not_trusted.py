"""The resource organization requires MFA of every guest but does not trust its partner's MFA
(the default inboundTrust). Alice did MFA at home, yet the resource takes her through registering
its own authenticator app before its app opens; the token says she did that here (amr fed, otp,
mfa). The sign-in log shows the interrupted attempt (50074, the policy named) and then the
success; a later session asks for a code of the app she registered, never a new registration."""

import time

import httpx
import pyotp

from foyer import sessions
from foyer.rules.authentication_strength import MFA

from tests.openid_support import relying_party
from tests.partner_foyer import enrol_authenticator_app, is_mfa_page, redeem_at_home, register_at_resource, step
from tests.portal_support import csrf_in
from tests.support import invite
from tests.test_partner_mfa_trusted import EVERYONE_NEEDS_MFA, GUESTS_NEED_MFA, POLICIES


async def test_the_resource_asks_for_its_own_factor(api, admin, server, organization_id, mail, home_foyer):
    home = home_foyer
    await register_at_resource(api, admin, home, server, organization_id)
    alice = await home.make_member("Alice Home")
    home_policy = (await home.set(POLICIES, EVERYONE_NEEDS_MFA, method="POST")).json()
    try:
        assert (await api.post(POLICIES, headers=admin, json=GUESTS_NEED_MFA)).status_code == 201
        async with relying_party(organization_id) as (rp, app):
            invitation = await invite(api, admin, alice["mail"], inviteRedirectUrl=f"{rp.url}/login",
                                      foyerPreAssignedApplicationIds=[app.id])
            async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
                redeemed = await redeem_at_home(browser, invitation["inviteRedeemUrl"], mail, alice["mail"])
                assert redeemed.status_code == 303, redeemed.text[:500]
                to_mfa = await step(browser, await browser.get(f"{rp.url}/login"))
                assert to_mfa.status_code == 303 and to_mfa.headers["location"].startswith("/mfa?")
                asked = await step(browser, to_mfa)
                assert is_mfa_page(asked) and asked.url.host == "127.0.0.1"
                confirmed, secret = await enrol_authenticator_app(browser, asked)
                authorize = await step(browser, confirmed)
                assert authorize.status_code == 303 and authorize.headers["location"].startswith(rp.redirect_uri)
                claims = (await browser.get(authorize.headers["location"])).json()
                assert claims["amr"] == ["fed", "otp", "mfa"]
                # A later session of hers (the same sign-in at home, as a new cookie would carry it).
                first = sessions.read(redeemed.cookies.get(sessions.SESSION_COOKIE))
                fresh_session, _ = sessions.issue(first.user_id, idp=first.idp, context_id=first.context_id)

            logged = (await api.get("/v1.0/auditLogs/signIns", headers=admin, params={
                "$filter": f"userId eq '{invitation['invitedUser']['id']}' and appId eq '{app.app_id}'",
                "$orderby": "createdDateTime"})).json()["value"]
            assert [(s["status"]["errorCode"], s["conditionalAccessStatus"]) for s in logged] == [
                (50074, "failure"), (0, "success")]
            assert "Guests need MFA" in logged[0]["status"]["failureReason"]

            # Registered now: the resource's /mfa asks for her app's code, never a new registration.
            async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
                browser.cookies.set(sessions.SESSION_COOKIE, fresh_session, domain="127.0.0.1", path="/")
                again = await browser.get(f"{server}/mfa", params={"next": "/myapps"})
                assert 'id="totp-form"' in again.text and 'id="enrol-totp"' not in again.text
                done = await browser.post(f"{server}/mfa/totp", data={
                    "csrf": csrf_in(again.text, "/mfa/totp"), "next": "/myapps", "strength": MFA,
                    "code": pyotp.TOTP(secret).at(time.time() + 30)})
                assert done.status_code == 303 and done.headers["location"] == "/myapps"
    finally:
        async with home.api() as home_api:
            await home_api.delete(f"{POLICIES}/{home_policy['id']}")
