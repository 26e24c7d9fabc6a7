"""The whole journey in Chromium: an admin invites a guest with the app (and a group that holds
its Reader role), the guest redeems from the mail and lands on the app, which sends them to Foyer:
already signed in by the redemption (single sign-on), they come back and the app shows their oid,
#EXT# UPN and roles. Then the guest is disabled (the app's refresh stops at once), and removed
from the app (the next sign-in is refused, and the app gets access_denied)."""

import json

from sqlalchemy import delete

from foyer.db import session_scope
from foyer.models.directory import AppRoleAssignment, Group, GroupAppRoleAssignment
from tests.browser import chromium_page
from tests.openid_support import READER, relying_party
from tests.support import find_user, invite, link_in, passcode_in


async def _json(page) -> dict:
    return json.loads(await page.inner_text("body"))


async def test_invited_guest_redeems_and_signs_in_to_the_app(api, admin, mail, server, new_email, organization_id):
    email = new_email()
    async with relying_party(organization_id) as (rp, app):
        async with session_scope() as session:
            group = Group(organization_id=organization_id, display_name="Portal readers")
            session.add(group)
            await session.flush()
            session.add(GroupAppRoleAssignment(application_id=app.id, group_id=group.id, app_role_id=READER))
        await invite(api, admin, email, inviteRedirectUrl=f"{rp.url}/login",
                     foyerPreAssignedApplicationIds=[app.id], foyerPreAssignedGroupIds=[group.id])
        link = link_in((await mail.wait_for(email))[0].text)

        async with chromium_page() as page:
            await page.goto(link)
            await page.check("#consent")
            await page.click("#send-code")
            await page.wait_for_selector("#code")
            await page.fill("#code", passcode_in((await mail.wait_for(email, count=2))[1].text))
            await page.click("#verify")
            # Redeemed → the app's /login → Foyer (signed in already) → back to the app.
            await page.wait_for_url(f"{rp.redirect_uri}?*")
            claims = await _json(page)
            guest = await find_user(email)
            assert claims["oid"] == guest.id and claims["aud"] == app.app_id
            assert "#EXT#" in claims["preferred_username"] and claims["preferred_username"] == guest.user_principal_name
            assert claims["roles"] == ["Reader"] and claims["acct"] == 1
            assert len(mail.to(email)) == 2  # no third mail: no second code was needed

            await page.goto(f"{rp.url}/refresh")
            assert (await _json(page))["oid"] == guest.id

            disabled = await api.patch(f"/v1.0/users/{guest.id}", json={"accountEnabled": False}, headers=admin)
            assert disabled.status_code == 204
            await page.goto(f"{rp.url}/refresh")
            stopped = await _json(page)
            assert stopped["error"] == "invalid_grant" and "account disabled" in stopped["error_description"]

            assert (await api.patch(f"/v1.0/users/{guest.id}", json={"accountEnabled": True},
                                    headers=admin)).status_code == 204
            async with session_scope() as session:
                await session.exec(delete(AppRoleAssignment).where(AppRoleAssignment.principal_id == guest.id))
                await session.exec(delete(GroupAppRoleAssignment).where(GroupAppRoleAssignment.group_id == group.id))
            await page.goto(f"{rp.url}/login")
            assert "You can't sign in to Partner Portal" in await page.inner_text("h1")
            assert "You are not assigned to Partner Portal" in await page.content()
            await page.click("text=Return to Partner Portal")
            await page.wait_for_url(f"{rp.redirect_uri}?*")
            refused = await _json(page)
            assert refused["error"] == "access_denied" and "AADSTS50105" in refused["error_description"]
