"""GET|PATCH /v1.0/policies/authorizationPolicy: guestUserRoleId (Entra's three GUIDs, nothing
else) and defaultUserRolePermissions (allowedToCreateSecurityGroups, allowedToCreateApps;
allowedToReadOtherUsers shown as true, read-only), partial updates by a Global Administrator,
audited; allowInvitesFrom kept."""

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import Organization
from foyer.models.enums import Role
from foyer.rules.guest_access import LIMITED, RESTRICTED, SAME_AS_MEMBERS
from tests.factories import make_person

PATH = "/v1.0/policies/authorizationPolicy"


async def test_defaults_as_entra(api, make_token):
    body = (await api.get(PATH, headers=await make_token(Role.member))).json()
    assert body["id"] == "authorizationPolicy"
    assert body["guestUserRoleId"] == LIMITED
    assert body["defaultUserRolePermissions"] == {
        "allowedToCreateSecurityGroups": True, "allowedToCreateApps": True, "allowedToReadOtherUsers": True}
    assert body["allowInvitesFrom"] == "adminsGuestInvitersAndAllMembers"


async def test_partial_updates_are_audited(api, organization_id):
    person, admin = await make_person(organization_id, Role.global_administrator, "Pat Policy")
    patched = await api.patch(PATH, headers=admin, json={
        "defaultUserRolePermissions": {"allowedToCreateApps": False}})
    assert patched.status_code == 204, patched.text
    patched = await api.patch(PATH, headers=admin, json={"guestUserRoleId": SAME_AS_MEMBERS.upper()})
    assert patched.status_code == 204, patched.text
    body = (await api.get(PATH, headers=admin)).json()
    assert body["guestUserRoleId"] == SAME_AS_MEMBERS
    assert body["defaultUserRolePermissions"]["allowedToCreateApps"] is False
    assert body["defaultUserRolePermissions"]["allowedToCreateSecurityGroups"] is True  # untouched
    assert body["allowInvitesFrom"] == "adminsGuestInvitersAndAllMembers"
    async with session_scope() as session:
        records = (await session.exec(select(AuditRecord).where(
            AuditRecord.initiated_by_id == person.id).order_by(AuditRecord.activity_date_time))).all()
    assert [r.details for r in records] == [
        {"defaultUserRolePermissions": {"allowedToCreateSecurityGroups": True, "allowedToCreateApps": False,
                                        "allowedToReadOtherUsers": True}},
        {"guestUserRoleId": SAME_AS_MEMBERS}]


async def test_bad_values_are_400_and_change_nothing(api, admin, organization_id):
    for body in ({"guestUserRoleId": "62e90394-69f5-4237-9190-012177145e10"}, {"guestUserRoleId": None},
                 {"guestUserRoleId": "User"}, {"defaultUserRolePermissions": {"allowedToReadOtherUsers": False}},
                 {"defaultUserRolePermissions": {"allowedToCreateApps": "yes"}},
                 {"defaultUserRolePermissions": {"allowedToCreateTenants": True}},
                 {"allowInvitesFrom": "someone"}, {}):
        response = await api.patch(PATH, headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"], body
    async with session_scope() as session:
        org = await session.get(Organization, organization_id)
    assert org.guest_user_role_id == LIMITED and org.allowed_to_create_apps is True


async def test_only_global_administrators_change_it(api, make_token, organization_id):
    for role in (Role.user_administrator, Role.guest_inviter, Role.member):
        response = await api.patch(PATH, headers=await make_token(role), json={"guestUserRoleId": RESTRICTED})
        assert response.status_code == 403, (role, response.text)
    async with session_scope() as session:
        assert (await session.get(Organization, organization_id)).guest_user_role_id == LIMITED
