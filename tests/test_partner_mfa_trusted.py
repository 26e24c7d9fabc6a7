"""The resource organization requires MFA of every guest and trusts the MFA its partner does
(inboundTrust.isMfaAccepted). The home organization requires MFA of its own people: Alice signs in
at home with her passcode and sets up an authenticator app there, comes back — and the resource's
app opens with no prompt at the resource; its token says amr fed + mfa, and the resource's
sign-in log records the policy as satisfied. Trust is for partner people only: a guest who
redeemed with the email passcode is still asked for the resource's own second factor."""

import httpx

from tests.openid_support import relying_party
from tests.partner_foyer import is_mfa_page, redeem_at_home, register_at_resource, step
from tests.support import emailed_code, invite, submit_code, unique_email

POLICIES = "/v1.0/identity/conditionalAccess/policies"
GUESTS_NEED_MFA = {
    "displayName": "Guests need MFA", "state": "enabled",
    "conditions": {"users": {"includeUsers": ["GuestsOrExternalUsers"]},
                   "applications": {"includeApplications": ["All"]}, "clientAppTypes": ["all"]},
    "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}
EVERYONE_NEEDS_MFA = {
    "displayName": "Everyone needs MFA", "state": "enabled",
    "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]},
                   "clientAppTypes": ["all"]},
    "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}


async def test_trusted_partner_mfa_satisfies_the_resource(api, admin, server, organization_id, mail, home_foyer):
    home = home_foyer
    await register_at_resource(api, admin, home, server, organization_id)
    alice = await home.make_member("Alice Home")
    home_policy = (await home.set(POLICIES, EVERYONE_NEEDS_MFA, method="POST")).json()
    try:
        assert (await api.post(POLICIES, headers=admin, json=GUESTS_NEED_MFA)).status_code == 201
        trusted = await api.post("/v1.0/policies/crossTenantAccessPolicy/partners", headers=admin, json={
            "tenantId": home.organization_id, "inboundTrust": {"isMfaAccepted": True}})
        assert trusted.status_code == 201, trusted.text
        async with relying_party(organization_id) as (rp, app):
            invitation = await invite(api, admin, alice["mail"], inviteRedirectUrl=f"{rp.url}/login",
                                      foyerPreAssignedApplicationIds=[app.id])
            async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
                redeemed = await redeem_at_home(browser, invitation["inviteRedeemUrl"], mail, alice["mail"])
                assert redeemed.status_code == 303 and redeemed.headers["location"] == f"{rp.url}/login"
                authorize = await step(browser, await browser.get(f"{rp.url}/login"))
                assert authorize.status_code == 303 and authorize.headers["location"].startswith(rp.redirect_uri), \
                    authorize.headers.get("location")
                claims = (await browser.get(authorize.headers["location"])).json()
                assert claims["amr"] == ["fed", "mfa"] and claims["idp"] == home.issuer

            logged = (await api.get("/v1.0/auditLogs/signIns", headers=admin, params={
                "$filter": f"userId eq '{invitation['invitedUser']['id']}' and appId eq '{app.app_id}'"})).json()["value"]
            assert [(s["status"]["errorCode"], s["conditionalAccessStatus"]) for s in logged] == [(0, "success")]
            assert logged[0]["appliedConditionalAccessPolicies"][0]["result"] == "success"

            # A passcode guest is no partner's person: the resource asks for its own factor.
            email = unique_email()
            invitation = await invite(api, admin, email, inviteRedirectUrl=f"{rp.url}/login",
                                      foyerPreAssignedApplicationIds=[app.id])
            async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
                link = invitation["inviteRedeemUrl"]
                challenge, code = await emailed_code(browser, link, mail, email)
                assert (await submit_code(browser, link, challenge, code)).status_code == 303
                asked = await step(browser, await step(browser, await browser.get(f"{rp.url}/login")))
                assert is_mfa_page(asked), asked.text[:500]
    finally:
        async with home.api() as home_api:
            await home_api.delete(f"{POLICIES}/{home_policy['id']}")
