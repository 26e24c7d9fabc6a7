"""In Chromium: a member who owns an app shares it from My Apps with a new address; the guest
redeems the mailed invitation, which carries the app's direct link (/myapps/{id}): they land there,
are sent to the app's home page, and the app signs them in through Foyer's OpenID Provider
(already signed in by the redemption) and shows their claims."""

import json

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.directory import Application, ApplicationOwner
from tests.browser import chromium_page
from tests.factories import make_user
from tests.openid_support import relying_party
from tests.owner_support import chromium_sign_in, redeem_in_chromium
from tests.support import find_user, link_in, unique_email


async def test_an_owner_shares_their_app_with_a_guest(server, mail, organization_id):
    owner = await make_user(organization_id, "Sam Sharer")
    email = unique_email()
    async with relying_party(organization_id, name="Shared Portal") as (rp, app):
        async with session_scope() as session:
            row = (await session.exec(select(Application).where(Application.id == app.id))).one()
            row.home_page_url = f"{rp.url}/login"
            session.add(row)
            session.add(ApplicationOwner(application_id=app.id, user_id=owner.id))

        async with chromium_page() as page:
            await chromium_sign_in(page, server, mail, owner.mail, "/myapps")
            await page.fill(f"#share-email-{app.id}", email)
            await page.click(f"#share-{app.id}")
            await page.wait_for_selector("#notice")
            assert "Invitation sent" in await page.inner_text("#notice")

        invitation = (await mail.wait_for(email))[0].text
        assert f"{server}/myapps/{app.id}" in invitation  # the direct link, in the mail
        async with chromium_page() as page:
            await redeem_in_chromium(page, mail, email, link_in(invitation))
            # Redeemed → /myapps/{id} → the app's /login → Foyer (signed in) → back to the app.
            await page.wait_for_url(f"{rp.redirect_uri}?*")
            claims = json.loads(await page.inner_text("body"))

    guest = await find_user(email)
    assert claims["oid"] == guest.id and claims["aud"] == app.app_id
    assert claims["preferred_username"] == guest.user_principal_name and "#EXT#" in guest.user_principal_name
