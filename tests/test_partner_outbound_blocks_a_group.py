"""The home organization's outbound settings: its partner settings for the resource organization
allow B2B collaboration to everyone but one group. Alice, in that group, goes home to redeem her
invitation and is refused there — a page at home says her organization does not allow it, and
the home's sign-in log says which setting refused her; the resource never hears back and her
invitation stays pending. Bob, not in the group, redeems."""

import httpx

from tests.partner_foyer import redeem_at_home, register_at_resource
from tests.support import find_user, invite


async def test_home_refuses_a_blocked_group_and_lets_others_go(api, admin, server, organization_id, mail,
                                                               home_foyer):
    home = home_foyer
    await register_at_resource(api, admin, home, server, organization_id)
    alice, bob = await home.make_member("Alice Home"), await home.make_member("Bob Home")
    contractors = await home.make_group("Home contractors", alice["id"])
    await home.set("/v1.0/policies/crossTenantAccessPolicy/partners", {
        "tenantId": organization_id,
        "b2bCollaborationOutbound": {
            "usersAndGroups": {"accessType": "blocked",
                               "targets": [{"target": contractors["id"], "targetType": "group"}]},
            "applications": {"accessType": "allowed",
                             "targets": [{"target": "AllApplications", "targetType": "application"}]}}},
        method="POST")
    try:
        invitation = await invite(api, admin, alice["mail"])
        async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
            refused = await redeem_at_home(browser, invitation["inviteRedeemUrl"], mail, alice["mail"])
        assert refused.status_code == 403 and refused.url.host == "localhost"
        assert "does not allow you to sign in to Contoso (partner)" in refused.text
        assert (await find_user(alice["mail"])).external_user_state == "PendingAcceptance"
        [logged] = [s for s in await home.sign_ins() if s["userId"] == alice["id"]]
        assert logged["status"]["errorCode"] == 500212
        assert "outbound B2B collaboration" in logged["status"]["failureReason"]

        invitation = await invite(api, admin, bob["mail"])
        async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
            redeemed = await redeem_at_home(browser, invitation["inviteRedeemUrl"], mail, bob["mail"])
        assert redeemed.status_code == 303, redeemed.text[:500]
        assert (await find_user(bob["mail"])).external_user_state == "Accepted"
    finally:
        async with home.api() as home_api:
            await home_api.delete(f"/v1.0/policies/crossTenantAccessPolicy/partners/{organization_id}")
