"""A member who owns a group invites a guest straight into it: redeeming makes the guest a member
of that group and of nothing else. If the inviter's ownership ends before redemption, the grant is
not applied and the redemption's audit record names it as refused."""

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import AppRoleAssignment, GroupMember, GroupOwner
from foyer.models.enums import Role
from tests.factories import make_group_and_app, make_owner, make_person
from tests.support import emailed_code, find_user, invite, link_in, submit_code


async def _redeem(mail, email: str) -> None:
    link = link_in((await mail.wait_for(email))[0].text)
    async with httpx.AsyncClient(follow_redirects=False) as browser:
        challenge, code = await emailed_code(browser, link, mail, email)
        redeemed = await submit_code(browser, link, challenge, code)
        assert redeemed.status_code == 303, redeemed.text[:500]


async def _groups_and_apps(user_id: str) -> tuple[set[str], set[str]]:
    async with session_scope() as session:
        groups = set((await session.exec(select(GroupMember.group_id).where(GroupMember.user_id == user_id))).all())
        apps = set((await session.exec(select(AppRoleAssignment.application_id).where(
            AppRoleAssignment.principal_id == user_id))).all())
    return groups, apps


async def _redemption_record(user_id: str) -> AuditRecord:
    async with session_scope() as session:
        [record] = (await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == user_id,
            AuditRecord.activity_display_name == "Redeem external user invite"))).all()
    return record


async def test_owner_invites_a_guest_into_their_group(api, mail, server, organization_id, new_email):
    group, app = await make_group_and_app(organization_id, "Owned")
    await make_group_and_app(organization_id, "Someone else's")
    owner, headers = await make_person(organization_id, Role.member, "Owen Owner")
    await make_owner(group, owner.id)
    await make_owner(app, owner.id)
    email = new_email()
    created = await invite(api, headers, email, foyerPreAssignedGroupIds=[group.id],
                           foyerPreAssignedApplicationIds=[app.id])
    assert created["foyerPreAssignedGroupIds"] == [group.id]

    await _redeem(mail, email)
    guest = await find_user(email)
    assert guest.user_type == "Guest" and guest.external_user_state == "Accepted"
    assert await _groups_and_apps(guest.id) == ({group.id}, {app.id})
    record = await _redemption_record(guest.id)
    assert record.details["groups"] == [group.id] and not record.details.get("refusedGroups")


async def test_ownership_ended_before_redemption_grants_nothing(api, mail, server, organization_id, new_email):
    group, _ = await make_group_and_app(organization_id, "Handed over")
    owner, headers = await make_person(organization_id, Role.member, "Owen Owner")
    await make_owner(group, owner.id)
    email = new_email()
    await invite(api, headers, email, foyerPreAssignedGroupIds=[group.id])
    async with session_scope() as session:
        row = await session.get(GroupOwner, (group.id, owner.id))
        await session.delete(row)

    await _redeem(mail, email)
    guest = await find_user(email)
    assert guest.external_user_state == "Accepted"
    assert await _groups_and_apps(guest.id) == (set(), set())
    record = await _redemption_record(guest.id)
    assert record.details["groups"] == [] and record.details["refusedGroups"] == [group.id]


async def test_owner_resends_while_they_own_it(api, organization_id, new_email):
    group, _ = await make_group_and_app(organization_id, "Resent")
    owner, headers = await make_person(organization_id, Role.member, "Owen Owner")
    await make_owner(group, owner.id)
    created = await invite(api, headers, new_email(), sendInvitationMessage=False,
                           foyerPreAssignedGroupIds=[group.id])
    resent = await api.post(f"/v1.0/invitations/{created['id']}/resend", headers=headers)
    assert resent.status_code == 201, resent.text
    assert resent.json()["foyerPreAssignedGroupIds"] == [group.id]
    async with session_scope() as session:
        await session.delete(await session.get(GroupOwner, (group.id, owner.id)))
    refused = await api.post(f"/v1.0/invitations/{resent.json()['id']}/resend", headers=headers)
    assert refused.status_code == 403
    assert "ownership of every group and application named" in refused.json()["error"]["message"]
