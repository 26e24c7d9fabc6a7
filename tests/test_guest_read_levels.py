"""A guest's token reads the directory as the authorization policy's guestUserRoleId allows
(foyer.rules.guest_access): the User level as a member; the default Guest User level no lists, but
a user by id with a few properties, groups, their members and owners, applications; the Restricted
Guest User level their own user object and nothing else."""

import pytest
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import GroupMember
from foyer.models.enums import Role
from foyer.rules.guest_access import LIMITED, LIMITED_USER_PROPERTIES, RESTRICTED, SAME_AS_MEMBERS
from tests.factories import make_group_and_app, make_owner, make_person, update_organization

DENIED = {"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation."}


async def _world(organization_id):
    group, app = await make_group_and_app(organization_id, "Read levels")
    guest, headers = await make_person(organization_id, Role.guest, "Gus Guest", guest=True)
    other, _ = await make_person(organization_id, Role.member, "Mo Member")
    await make_owner(group, other.id)
    await make_owner(app, other.id)
    async with session_scope() as session:
        session.add_all([GroupMember(group_id=group.id, user_id=guest.id),
                         GroupMember(group_id=group.id, user_id=other.id)])
    return group, app, guest, headers, other


def _reads(group, app, guest, other) -> dict:
    return {
        "users": "/v1.0/users", "groups": "/v1.0/groups", "applications": "/v1.0/applications",
        "servicePrincipals": "/v1.0/servicePrincipals",
        "own user": f"/v1.0/users/{guest.id}", "other user": f"/v1.0/users/{other.id}",
        "own memberOf": f"/v1.0/users/{guest.id}/memberOf", "other memberOf": f"/v1.0/users/{other.id}/memberOf",
        "other ownedObjects": f"/v1.0/users/{other.id}/ownedObjects",
        "other appRoleAssignments": f"/v1.0/users/{other.id}/appRoleAssignments",
        "group": f"/v1.0/groups/{group.id}", "members": f"/v1.0/groups/{group.id}/members",
        "group owners": f"/v1.0/groups/{group.id}/owners",
        "group appRoleAssignments": f"/v1.0/groups/{group.id}/appRoleAssignments",
        "application": f"/v1.0/applications/{app.id}", "app owners": f"/v1.0/applications/{app.id}/owners",
        "appRoleAssignedTo": f"/v1.0/applications/{app.id}/appRoleAssignedTo",
    }


ALL = {"users", "groups", "applications", "servicePrincipals", "own user", "other user", "own memberOf",
       "other memberOf", "other ownedObjects", "other appRoleAssignments", "group", "members", "group owners",
       "group appRoleAssignments", "application", "app owners", "appRoleAssignedTo"}
ALLOWED = {
    SAME_AS_MEMBERS: ALL,
    LIMITED: ALL - {"users", "groups", "applications", "servicePrincipals"},
    RESTRICTED: {"own user"},
}


@pytest.mark.parametrize("level", [SAME_AS_MEMBERS, LIMITED, RESTRICTED])
async def test_what_each_level_reads(api, organization_id, level):
    await update_organization(organization_id, guest_user_role_id=level)
    group, app, guest, headers, other = await _world(organization_id)
    for name, path in _reads(group, app, guest, other).items():
        response = await api.get(path, headers=headers)
        if name in ALLOWED[level]:
            assert response.status_code == 200, (level, name, response.text)
        else:
            assert response.status_code == 403, (level, name, response.text)
            assert response.json()["error"] == DENIED, (level, name)


async def test_properties_of_other_users_at_the_limited_level(api, organization_id):
    group, _, guest, headers, other = await _world(organization_id)
    other_user = (await api.get(f"/v1.0/users/{other.id}", headers=headers)).json()
    assert set(other_user) == LIMITED_USER_PROPERTIES
    own = (await api.get(f"/v1.0/users/{guest.id}", headers=headers)).json()
    assert {"accountEnabled", "identities", "createdDateTime"} <= set(own)  # their own object in full
    members = (await api.get(f"/v1.0/groups/{group.id}/members", headers=headers)).json()["value"]
    assert {m["id"] for m in members} == {guest.id, other.id}
    assert all(set(m) - {"@odata.type"} == LIMITED_USER_PROPERTIES for m in members if m["id"] == other.id)
    owners = (await api.get(f"/v1.0/groups/{group.id}/owners", headers=headers)).json()["value"]
    assert [set(o) - {"@odata.type"} for o in owners] == [LIMITED_USER_PROPERTIES]


async def test_the_user_level_sees_what_members_see(api, organization_id, make_token):
    await update_organization(organization_id, guest_user_role_id=SAME_AS_MEMBERS)
    group, _, _, headers, other = await _world(organization_id)
    member = await make_token(Role.member)
    for path in (f"/v1.0/users/{other.id}", f"/v1.0/groups/{group.id}/members"):
        as_guest = await api.get(path, headers=headers)
        as_member = await api.get(path, headers=member)
        assert as_guest.status_code == 200 and as_guest.json() == as_member.json()
    listed = await api.get("/v1.0/users", headers=headers, params={"$filter": f"id eq '{other.id}'"})
    assert [u["id"] for u in listed.json()["value"]] == [other.id]


async def test_a_restricted_guest_learns_nothing_of_which_ids_exist(api, organization_id):
    await update_organization(organization_id, guest_user_role_id=RESTRICTED)
    _, _, guest, headers, _ = await _world(organization_id)
    missing = "00000000-0000-0000-0000-00000000beef"
    for path in (f"/v1.0/users/{missing}", f"/v1.0/groups/{missing}", f"/v1.0/applications/{missing}"):
        response = await api.get(path, headers=headers)
        assert response.status_code == 403 and response.json()["error"] == DENIED, path


async def test_the_policy_sets_the_level(api, organization_id):
    _, _, guest, headers, other = await _world(organization_id)
    person, admin = await make_person(organization_id, Role.global_administrator, "Ada Level-setter")
    for level, status in ((RESTRICTED, 403), (LIMITED, 200)):
        patched = await api.patch("/v1.0/policies/authorizationPolicy", headers=admin,
                                  json={"guestUserRoleId": level})
        assert patched.status_code == 204, patched.text
        assert (await api.get(f"/v1.0/users/{other.id}", headers=headers)).status_code == status
    async with session_scope() as session:
        records = (await session.exec(select(AuditRecord).where(
            AuditRecord.activity_display_name == "Update authorization policy",
            AuditRecord.initiated_by_id == person.id).order_by(AuditRecord.activity_date_time))).all()
    assert [r.details.get("guestUserRoleId") for r in records] == [RESTRICTED, LIMITED]
