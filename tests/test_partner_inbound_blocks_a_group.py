"""The resource organization's inbound settings for the home organization block one of the home's
groups (by its id there, as the home's token names it). Alice, in that group, signs in at home and
comes back — and the resource refuses her: a page says its settings do not allow her, the
resource's sign-in log says which setting, and her invitation stays pending. Bob redeems. Then
the block is widened to Bob's app only: he is refused at that app and not elsewhere."""

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.openid import SignInLog
from tests.openid_support import relying_party
from tests.partner_foyer import redeem_at_home, register_at_resource, step
from tests.support import find_user, invite

PARTNERS = "/v1.0/policies/crossTenantAccessPolicy/partners"


async def test_resource_refuses_a_blocked_partner_group(api, admin, server, organization_id, mail, home_foyer):
    home = home_foyer
    await register_at_resource(api, admin, home, server, organization_id)
    alice, bob = await home.make_member("Alice Home"), await home.make_member("Bob Home")
    contractors = await home.make_group("Home contractors", alice["id"])
    blocked_group = {"accessType": "blocked", "targets": [{"target": contractors["id"], "targetType": "group"}]}
    created = await api.post(PARTNERS, headers=admin, json={
        "tenantId": home.organization_id, "b2bCollaborationInbound": {"usersAndGroups": blocked_group}})
    assert created.status_code == 201, created.text
    try:
        invitation = await invite(api, admin, alice["mail"])
        async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
            refused = await redeem_at_home(browser, invitation["inviteRedeemUrl"], mail, alice["mail"])
        assert refused.status_code == 403 and refused.url.host == "127.0.0.1"
        assert "inbound B2B collaboration" in refused.text and home.organization_id in refused.text
        assert (await find_user(alice["mail"])).external_user_state == "PendingAcceptance"
        async with session_scope() as db:
            [logged] = (await db.exec(select(SignInLog).where(SignInLog.user_principal_name.is_not(None),
                                                              SignInLog.error_code == 500213,
                                                              SignInLog.user_id == invitation["invitedUser"]["id"]))).all()
        assert "inbound B2B collaboration" in logged.failure_reason

        async with relying_party(organization_id) as (rp, app):
            invitation = await invite(api, admin, bob["mail"], inviteRedirectUrl=f"{rp.url}/login",
                                      foyerPreAssignedApplicationIds=[app.id])
            async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
                redeemed = await redeem_at_home(browser, invitation["inviteRedeemUrl"], mail, bob["mail"])
                assert redeemed.status_code == 303, redeemed.text[:500]
                assert (await find_user(bob["mail"])).external_user_state == "Accepted"

                # Now everyone from home is blocked from this one app.
                updated = await api.patch(f"{PARTNERS}/{home.organization_id}", headers=admin, json={
                    "b2bCollaborationInbound": {
                        "usersAndGroups": {"accessType": "allowed",
                                           "targets": [{"target": "AllUsers", "targetType": "user"}]},
                        "applications": {"accessType": "blocked",
                                         "targets": [{"target": app.app_id, "targetType": "application"}]}}})
                assert updated.status_code == 204, updated.text
                authorize = await step(browser, await browser.get(f"{rp.url}/login"))
                assert authorize.status_code == 403 and "inbound B2B collaboration" in authorize.text
                # Foyer's own pages are no app of the block: My Apps still opens.
                assert (await browser.get(f"{server}/myapps")).status_code == 200
    finally:
        await api.delete(f"{PARTNERS}/{home.organization_id}", headers=admin)
