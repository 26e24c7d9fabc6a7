"""In Chromium: a member who owns a group invites a guest from My Groups; the guest redeems the
mailed invitation, lands on My Groups (signed in by the redemption) and is a member of that group
only."""

from foyer.db import session_scope
from foyer.models.directory import GroupMember
from sqlmodel import select
from tests.browser import chromium_page
from tests.factories import make_user
from tests.owner_support import chromium_sign_in, owned_group, redeem_in_chromium
from tests.support import find_user, link_in, unique_email


async def test_an_owner_adds_a_guest_who_redeems(server, mail, organization_id):
    owner = await make_user(organization_id, "Orla Owner")
    group = await owned_group(organization_id, owner, "Partners", members=[owner])
    await owned_group(organization_id, owner, "Other")  # the guest is not put in this one
    email = unique_email()

    async with chromium_page() as page:
        await chromium_sign_in(page, server, mail, owner.mail, "/mygroups")
        await page.fill(f"#add-email-{group.id}", email)
        await page.fill(f"#add-name-{group.id}", "Vic Visitor")
        await page.click(f"#add-{group.id}")
        await page.wait_for_selector("#notice")
        assert "Invitation sent" in await page.inner_text("#notice")

    link = link_in((await mail.wait_for(email))[0].text)
    async with chromium_page() as page:
        await redeem_in_chromium(page, mail, email, link)
        await page.wait_for_url(f"{server}/mygroups")
        assert group.display_name in await page.inner_text(f"#joined-{group.id}")
        assert owner.display_name in await page.inner_text(f"#joined-{group.id}")

    guest = await find_user(email)
    assert guest.user_type == "Guest" and guest.external_user_state == "Accepted"
    async with session_scope() as session:
        groups = (await session.exec(select(GroupMember.group_id).where(GroupMember.user_id == guest.id))).all()
    assert groups == [group.id]
