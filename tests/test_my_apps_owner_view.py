"""My Apps, the owner's view: for an app they own, a member sees who is assigned (users and
groups) and its direct link, shares it (a person in the directory is assigned at once; a new
address is invited as a guest with the app pre-assigned and the direct link `/myapps/{id}` as
inviteRedirectUrl), and removes an assignment, each audited as the owner. Another app's id in the
form is refused; a form without its CSRF token too; allowInvitesFrom applies to the owner's
role. A Restricted Guest User who owns an app is shown no groups."""

import re

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.directory import AppRoleAssignment, GroupAppRoleAssignment
from foyer.models.invitation import Invitation
from foyer.rules.guest_access import RESTRICTED
from foyer.settings import get_settings
from tests.factories import make_user, update_organization
from tests.owner_support import audited, owned_app, owned_group, switches  # noqa: F401
from tests.portal_support import csrf_in, sign_in
from tests.support import unique_email


async def assigned_to(app_id: str) -> set[str]:
    async with session_scope() as session:
        users = (await session.exec(select(AppRoleAssignment.principal_id).where(
            AppRoleAssignment.application_id == app_id))).all()
        groups = (await session.exec(select(GroupAppRoleAssignment.group_id).where(
            GroupAppRoleAssignment.application_id == app_id))).all()
    return set(users) | set(groups)


async def assign(app_id: str, principal_id: str, *, group: bool = False) -> str:
    async with session_scope() as session:
        row = GroupAppRoleAssignment(application_id=app_id, group_id=principal_id) if group else \
            AppRoleAssignment(application_id=app_id, principal_id=principal_id)
        session.add(row)
    return row.id


async def test_an_owner_shares_and_unshares_their_app(server, mail, organization_id):
    owner = await make_user(organization_id, "Ada Appowner")
    colleague = await make_user(organization_id, "Cy Colleague")
    app = await owned_app(organization_id, owner, "Wiki")
    other = await owned_app(organization_id, await make_user(organization_id, "Ole Other"), "Payroll")
    team = await owned_group(organization_id, owner, "Team")
    guest = await make_user(organization_id, "Gil Guest", guest=True)
    guest_assignment = await assign(app.id, guest.id)
    team_assignment = await assign(app.id, team.id, group=True)

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, owner.mail, next="/myapps")
        html = (await client.get("/myapps")).text
        assert f'id="owned-{app.id}"' in html and f'id="owned-{other.id}"' not in html
        assert re.search(rf'id="assignment-{guest_assignment}".*?<td class="type">Guest</td>', html, re.S)
        assert re.search(rf'id="assignment-{team_assignment}".*?<td class="type">Group</td>', html, re.S)
        assert f'{get_settings().public_url.rstrip("/")}/myapps/{app.id}' in html

        shared = await client.post(f"/myapps/{app.id}/share", data={
            "csrf": csrf_in(html, f"/myapps/{app.id}/share"), "email": colleague.mail})
        assert shared.status_code == 200 and 'id="notice"' in shared.text, shared.text
        assert colleague.id in await assigned_to(app.id)

        address = unique_email()
        invited = await client.post(f"/myapps/{app.id}/share", data={
            "csrf": csrf_in(shared.text, f"/myapps/{app.id}/share"), "email": address})
        assert invited.status_code == 200 and "Invitation sent" in invited.text, invited.text
        async with session_scope() as session:
            [row] = (await session.exec(select(Invitation).where(Invitation.email == address))).all()
        assert row.application_ids == [app.id] and row.invited_by_id == owner.id
        assert row.invite_redirect_url == f'{get_settings().public_url.rstrip("/")}/myapps/{app.id}'

        token = csrf_in(invited.text, f"/myapps/{app.id}/assignments/{guest_assignment}/remove")
        forged = await client.post(f"/myapps/{other.id}/assignments/{guest_assignment}/remove",
                                   data={"csrf": token})
        assert forged.status_code == 403 and guest.id in await assigned_to(app.id)
        stale = await client.post(f"/myapps/{app.id}/assignments/{guest_assignment}/remove", data={"csrf": "x"})
        assert stale.status_code == 403 and guest.id in await assigned_to(app.id)
        removed = await client.post(f"/myapps/{app.id}/assignments/{guest_assignment}/remove", data={"csrf": token})
        assert removed.status_code == 200 and f'id="assignment-{guest_assignment}"' not in removed.text
        assert await assigned_to(app.id) == {colleague.id, team.id}

        await update_organization(organization_id, allow_invites_from="adminsAndGuestInviters")
        refused = await client.post(f"/myapps/{app.id}/share", data={
            "csrf": csrf_in(removed.text, f"/myapps/{app.id}/share"), "email": unique_email()})
        assert refused.status_code == 403 and "allowInvitesFrom=adminsAndGuestInviters" in refused.text

    [added] = await audited(app.id, "Add app role assignment grant to user")
    [taken] = await audited(app.id, "Remove app role assignment from user")
    for record in (added, taken):
        assert record.initiated_by_id == owner.id and record.details["actingAs"] == "owner"


async def test_a_restricted_guest_owner_sees_no_groups(server, mail, organization_id, switches):  # noqa: F811
    guest = await make_user(organization_id, "Rae Restricted", guest=True)
    app = await owned_app(organization_id, guest, "Tracker")
    team = await owned_group(organization_id, await make_user(organization_id, "Tom Teamowner"), "Team",
                             members=[guest])
    team_assignment = await assign(app.id, team.id, group=True)
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, guest.mail, next="/myapps")
        assert f'id="assignment-{team_assignment}"' in (await client.get("/myapps")).text
        await switches(guest_user_role_id=RESTRICTED)
        html = (await client.get("/myapps")).text
        assert f'id="owned-{app.id}"' in html and f'id="assignment-{team_assignment}"' not in html
        assert team.display_name not in html
