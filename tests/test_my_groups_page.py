"""My Groups (/mygroups): a member who owns a group sees its members (member or guest), adds a
person already in the directory, invites a new guest with the group pre-assigned (an invitation
by the owner, with the owner's role), and removes a member, each audited as the owner. Refused on
the page: an invitation the external collaboration settings forbid (allowInvitesFrom, a blocked
domain), another group's id put in the form, a form without its CSRF token. A member who owns no
group sees the groups they belong to and nothing to manage; restrict_my_groups shows them a
message instead; a Restricted Guest User does not see the members of their groups."""

import re

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.invitation import Invitation
from foyer.rules.guest_access import RESTRICTED
from tests.factories import make_user, update_organization
from tests.owner_support import audited, members_of, owned_group, switches  # noqa: F401
from tests.portal_support import csrf_in, sign_in
from tests.support import unique_email


async def invitations_to(email: str) -> list[Invitation]:
    async with session_scope() as session:
        return list((await session.exec(select(Invitation).where(Invitation.email == email))).all())


async def test_an_owner_sees_and_manages_their_group(server, mail, organization_id):
    owner = await make_user(organization_id, "Olga Owner")
    colleague = await make_user(organization_id, "Carl Colleague")
    guest = await make_user(organization_id, "Gus Guest", guest=True)
    newcomer = await make_user(organization_id, "Nina Newcomer")
    mine = await owned_group(organization_id, owner, "Partners", members=[colleague, guest])
    other_owner = await make_user(organization_id, "Otto Other")
    theirs = await owned_group(organization_id, other_owner, "Finance", members=[owner, colleague])
    unrelated = await owned_group(organization_id, other_owner, "Payroll")

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, owner.mail, next="/mygroups")
        html = (await client.get("/mygroups")).text
        assert f'id="owned-{mine.id}"' in html and mine.display_name in html
        assert re.search(rf'id="member-{mine.id}-{guest.id}">.*?<td class="type">Guest</td>', html, re.S)
        assert re.search(rf'id="member-{mine.id}-{colleague.id}">.*?<td class="type">Member</td>', html, re.S)
        assert f'id="joined-{theirs.id}"' in html and f'id="joined-member-{theirs.id}-{colleague.id}"' in html
        assert f'id="owned-{theirs.id}"' not in html and f'id="remove-{theirs.id}-' not in html
        assert unrelated.display_name not in html

        # A person already in the directory: added at once.
        added = await client.post(f"/mygroups/{mine.id}/add", data={
            "csrf": csrf_in(html, f"/mygroups/{mine.id}/add"), "email": newcomer.mail.upper()})
        assert added.status_code == 200 and 'id="notice"' in added.text, added.text
        assert newcomer.id in await members_of(mine.id)

        # A new address: an invitation with the group pre-assigned, by the owner as a member.
        address = unique_email()
        invited = await client.post(f"/mygroups/{mine.id}/add", data={
            "csrf": csrf_in(added.text, f"/mygroups/{mine.id}/add"), "email": address, "display_name": "Vera Visitor"})
        assert invited.status_code == 200 and "Invitation sent" in invited.text, invited.text
        [row] = await invitations_to(address)
        assert row.group_ids == [mine.id] and row.invited_by_id == owner.id
        assert row.invite_redirect_url.endswith("/mygroups")
        [invite] = await audited(row.user_id, "Invite external user")
        assert invite.initiated_by_id == owner.id and invite.details["actingAs"] == "owner"
        assert invite.details["preAssignedGroupIds"] == [mine.id]
        await mail.wait_for(address)

        removed = await client.post(f"/mygroups/{mine.id}/members/{guest.id}/remove", data={
            "csrf": csrf_in(invited.text, f"/mygroups/{mine.id}/members/{guest.id}/remove")})
        assert removed.status_code == 200 and f'id="member-{mine.id}-{guest.id}"' not in removed.text
        assert await members_of(mine.id) == {colleague.id, newcomer.id}

    [add] = [r for r in await audited(mine.id, "Add member to group") if r.details["userId"] == newcomer.id]
    [remove] = await audited(mine.id, "Remove member from group")
    for record in (add, remove):
        assert record.initiated_by_id == owner.id and record.details["actingAs"] == "owner"


async def test_refused_on_the_page(server, mail, organization_id):
    owner = await make_user(organization_id, "Rita Refused")
    member = await make_user(organization_id, "Mo Member")
    mine = await owned_group(organization_id, owner, "Partners", members=[member])
    not_mine = await owned_group(organization_id, await make_user(organization_id, "Ian Other"), "Board",
                                 members=[member])

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, owner.mail, next="/mygroups")
        html = (await client.get("/mygroups")).text
        add_token = csrf_in(html, f"/mygroups/{mine.id}/add")
        remove_token = csrf_in(html, f"/mygroups/{mine.id}/members/{member.id}/remove")

        # Another group's id in the form: refused, nothing changes.
        forged = await client.post(f"/mygroups/{not_mine.id}/add", data={"csrf": add_token, "email": owner.mail})
        assert forged.status_code == 403 and "Only an administrator or an owner of the group" in forged.text, \
            re.findall(r'id="error">[^<]*', forged.text)
        forged = await client.post(f"/mygroups/{not_mine.id}/members/{member.id}/remove",
                                   data={"csrf": remove_token})
        assert forged.status_code == 403 and await members_of(not_mine.id) == {member.id}

        # No CSRF token.
        stale = await client.post(f"/mygroups/{mine.id}/members/{member.id}/remove", data={"csrf": "nope"})
        assert stale.status_code == 403 and "This form has expired" in stale.text
        assert await members_of(mine.id) == {member.id}

        # allowInvitesFrom: members may not invite.
        await update_organization(organization_id, allow_invites_from="adminsAndGuestInviters")
        address = unique_email()
        refused = await client.post(f"/mygroups/{mine.id}/add", data={"csrf": add_token, "email": address})
        assert refused.status_code == 403 and "allowInvitesFrom=adminsAndGuestInviters" in refused.text
        assert "role &#39;member&#39;" in refused.text

        # A domain not on the allow list.
        await update_organization(organization_id, allow_invites_from="adminsGuestInvitersAndAllMembers",
                                  domain_list_mode="allowList", domain_list=["contoso.partner"])
        refused = await client.post(f"/mygroups/{mine.id}/add", data={"csrf": add_token, "email": address})
        assert refused.status_code == 403 and "fabrikam.example" in refused.text
        assert await invitations_to(address) == []
        [failure, _] = await audited_failures(address)
        assert failure.initiated_by_id == owner.id

        bad = await client.post(f"/mygroups/{mine.id}/add", data={"csrf": add_token, "email": "not an address"})
        assert bad.status_code == 400 and "not a valid" in bad.text


async def audited_failures(email: str):
    from foyer.models.audit import AuditRecord
    async with session_scope() as session:
        return list((await session.exec(select(AuditRecord).where(
            AuditRecord.target_display_name == email, AuditRecord.result == "failure")
            .order_by(AuditRecord.activity_date_time))).all())


async def test_a_member_who_owns_nothing(server, mail, organization_id, switches):  # noqa: F811
    member = await make_user(organization_id, "Bea Belongs")
    owner = await make_user(organization_id, "Oz Owner")
    group = await owned_group(organization_id, owner, "Partners", members=[member, owner])
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, member.mail, next="/mygroups")
        html = (await client.get("/mygroups")).text
        assert 'id="no-owned"' in html and f'id="joined-{group.id}"' in html
        assert f'id="joined-member-{group.id}-{owner.id}"' in html and 'id="add-' not in html

        await switches(restrict_my_groups=True)
        restricted = await client.get("/mygroups")
        assert restricted.status_code == 403 and "My Groups is not available" in restricted.text

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:  # owners still manage theirs
        await sign_in(client, mail, owner.mail, next="/mygroups")
        assert f'id="owned-{group.id}"' in (await client.get("/mygroups")).text


async def test_a_restricted_guest_does_not_see_members(server, mail, organization_id, switches):  # noqa: F811
    guest = await make_user(organization_id, "Rex Restricted", guest=True)
    owner = await make_user(organization_id, "Oona Owner")
    group = await owned_group(organization_id, owner, "Partners", members=[guest, owner])
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, guest.mail, next="/mygroups")
        html = (await client.get("/mygroups")).text
        assert f'id="joined-member-{group.id}-{owner.id}"' in html  # the default Guest User level

        await switches(guest_user_role_id=RESTRICTED)
        html = (await client.get("/mygroups")).text
        assert f'id="joined-{group.id}"' in html and 'id="members-hidden"' in html
        assert f'id="joined-member-{group.id}-' not in html and owner.display_name not in html


async def test_a_page_user_invites_with_their_tokens_highest_role(server, mail, organization_id):
    """foyer.usecases.people.role_of: a Guest Inviter (by their API token) still invites from My
    Groups under adminsAndGuestInviters; a revoked token counts for nothing."""
    from foyer.models.enums import Role
    from foyer.models.token import ApiToken
    from tests.factories import make_token
    inviter = await make_user(organization_id, "Gia Guestinviter")
    await make_token(organization_id, Role.guest_inviter, user_id=inviter.id)
    group = await owned_group(organization_id, inviter, "Partners")
    await update_organization(organization_id, allow_invites_from="adminsAndGuestInviters")
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, inviter.mail, next="/mygroups")
        html = (await client.get("/mygroups")).text
        address = unique_email()
        sent = await client.post(f"/mygroups/{group.id}/add", data={
            "csrf": csrf_in(html, f"/mygroups/{group.id}/add"), "email": address})
        assert sent.status_code == 200 and "Invitation sent" in sent.text, sent.text
        [row] = await invitations_to(address)
        assert row.invited_by_role == Role.guest_inviter and row.group_ids == [group.id]

        async with session_scope() as session:
            for token in (await session.exec(select(ApiToken).where(ApiToken.user_id == inviter.id))).all():
                token.revoked = True
                session.add(token)
        refused = await client.post(f"/mygroups/{group.id}/add", data={
            "csrf": csrf_in(html, f"/mygroups/{group.id}/add"), "email": unique_email()})
        assert refused.status_code == 403 and "role &#39;member&#39;" in refused.text
