"""Assignments with the app's own roles: a user or a group gets one of the app's enabled roles
(or the default access role); appRoleAssignedTo lists both, /users/{id}/appRoleAssignments and
/groups/{id}/appRoleAssignments list each side; both are removed; app_access then gives the
role's value to the user and to the group's members. A disabled role, a role of another app or
a role someone holds cannot be assigned or removed."""

import uuid

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import Application, GroupMember
from foyer.usecases.app_access import app_access
from tests.factories import make_group_and_app, make_user


def role(value: str, **fields) -> dict:
    return {"id": str(uuid.uuid4()), "value": value, "displayName": value, "isEnabled": True,
            "allowedMemberTypes": ["User"], **fields}


async def _roles_of(user, app_id: str) -> list[str]:
    async with session_scope() as session:
        return (await app_access(session, user, await session.get(Application, app_id))).roles


async def test_users_and_groups_get_app_roles(api, admin, organization_id):
    reader, writer = role("Reader"), role("Writer")
    app = (await api.post("/v1.0/applications", headers=admin,
                          json={"displayName": f"Wiki {uuid.uuid4().hex[:6]}", "appRoles": [reader, writer]})).json()
    url = f"/v1.0/applications/{app['id']}/appRoleAssignedTo"
    guest = await make_user(organization_id, "Gil Guest", guest=True)
    member = await make_user(organization_id, "Meg Member")
    group, _ = await make_group_and_app(organization_id, "Editors")
    async with session_scope() as session:
        session.add(GroupMember(group_id=group.id, user_id=member.id))

    to_user = await api.post(url, headers=admin, json={"principalId": guest.id, "resourceId": app["id"],
                                                       "appRoleId": reader["id"]})
    assert to_user.status_code == 201, to_user.text
    to_group = await api.post(url, headers=admin, json={"principalId": group.id, "appRoleId": writer["id"]})
    assert to_group.status_code == 201, to_group.text
    user_assignment, group_assignment = to_user.json(), to_group.json()
    assert user_assignment["principalType"] == "User" and user_assignment["appRoleId"] == reader["id"]
    assert group_assignment == {
        "id": group_assignment["id"], "principalId": group.id, "principalDisplayName": group.display_name,
        "principalType": "Group", "resourceId": app["id"], "resourceDisplayName": app["displayName"],
        "appRoleId": writer["id"], "createdDateTime": group_assignment["createdDateTime"]}
    again = await api.post(url, headers=admin, json={"principalId": group.id, "appRoleId": writer["id"]})
    assert again.status_code == 400 and "already exists" in again.json()["error"]["message"]

    listed = (await api.get(url, headers=admin)).json()["value"]
    assert sorted(listed, key=lambda a: a["principalType"]) == [group_assignment, user_assignment]
    only_groups = await api.get(url, headers=admin, params={"$filter": f"principalId eq '{group.id}'"})
    assert only_groups.json()["value"] == [group_assignment]
    paged = await api.get(url, headers=admin, params={"$top": 1})
    assert len(paged.json()["value"]) == 1 and "@odata.nextLink" in paged.json()
    assert (await api.get(f"/v1.0/users/{guest.id}/appRoleAssignments", headers=admin)).json()["value"] == [user_assignment]
    assert (await api.get(f"/v1.0/groups/{group.id}/appRoleAssignments", headers=admin)).json()["value"] == [group_assignment]
    # Graph lists a user's own assignments, not their groups'.
    assert (await api.get(f"/v1.0/users/{member.id}/appRoleAssignments", headers=admin)).json()["value"] == []

    assert await _roles_of(guest, app["id"]) == ["Reader"]
    assert await _roles_of(member, app["id"]) == ["Writer"]

    # A role someone holds is not removed, even disabled.
    app_url = f"/v1.0/applications/{app['id']}"
    assert (await api.patch(app_url, headers=admin, json={
        "appRoles": [reader, {**writer, "isEnabled": False}]})).status_code == 204
    held = await api.patch(app_url, headers=admin, json={"appRoles": [reader]})
    assert held.status_code == 400 and "assigned" in held.json()["error"]["message"]
    # A disabled role is no longer assigned, nor in the claim.
    disabled = await api.post(url, headers=admin, json={"principalId": guest.id, "appRoleId": writer["id"]})
    assert disabled.status_code == 400 and "disabled" in disabled.json()["error"]["message"]
    assert await _roles_of(member, app["id"]) == []

    assert (await api.delete(f"{url}/{group_assignment['id']}", headers=admin)).status_code == 204
    assert (await api.delete(f"{url}/{user_assignment['id']}", headers=admin)).status_code == 204
    assert (await api.get(url, headers=admin)).json()["value"] == []
    assert (await api.delete(f"{url}/{group_assignment['id']}", headers=admin)).status_code == 404
    assert (await api.patch(app_url, headers=admin, json={"appRoles": [reader]})).status_code == 204

    async with session_scope() as session:
        audits = (await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == app["id"], AuditRecord.category == "ApplicationManagement")
            .order_by(AuditRecord.activity_date_time))).all()
    activities = [a.activity_display_name for a in audits]
    assert activities.count("Add app role assignment grant to user") == 1
    assert activities.count("Add app role assignment to group") == 1
    assert activities.count("Remove app role assignment from group") == 1
    assert activities.count("Remove app role assignment from user") == 1
    group_audit = next(a for a in audits if a.activity_display_name == "Add app role assignment to group")
    assert group_audit.details == {"groupId": group.id, "groupDisplayName": group.display_name,
                                   "appRoleId": writer["id"], "actingAs": "administrator"}


async def test_roles_that_cannot_be_assigned_are_400(api, admin, organization_id):
    apps_only = role("Daemon", allowedMemberTypes=["Application"])
    app = (await api.post("/v1.0/applications", headers=admin,
                          json={"displayName": "Roles", "appRoles": [role("Reader"), apps_only]})).json()
    other = (await api.post("/v1.0/applications", headers=admin,
                            json={"displayName": "Other", "appRoles": [role("Reader")]})).json()
    url = f"/v1.0/applications/{app['id']}/appRoleAssignedTo"
    user = await make_user(organization_id, "Rae")
    group, _ = await make_group_and_app(organization_id, "Nobody")
    for body in ({"principalId": user.id, "appRoleId": other["appRoles"][0]["id"]},
                 {"principalId": group.id, "appRoleId": apps_only["id"]},
                 {"principalId": user.id, "appRoleId": "reader"},
                 {"principalId": str(uuid.uuid4())}):
        refused = await api.post(url, headers=admin, json=body)
        assert refused.status_code == 400, (body, refused.text)
    assert (await api.get(url, headers=admin)).json()["value"] == []
    # The default access role stays assignable alongside the app's roles.
    default = await api.post(url, headers=admin, json={"principalId": group.id})
    assert default.status_code == 201 and default.json()["appRoleId"] == "00000000-0000-0000-0000-000000000000"
    # Deleting the group takes its assignments with it.
    assert (await api.delete(f"/v1.0/groups/{group.id}", headers=admin)).status_code == 204
    assert (await api.get(url, headers=admin)).json()["value"] == []
