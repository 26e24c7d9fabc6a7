"""The owner relation is checked on the object: the owner of group A and of application A
manages A through every owner endpoint, and is refused (403, nothing changed) on group B and
application B, which someone else owns."""

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.directory import (
    Application, ApplicationOwner, AppRoleAssignment, Group, GroupAppRoleAssignment, GroupMember, GroupOwner,
)
from foyer.models.enums import Role
from tests.factories import make_group_and_app, make_owner, make_person, make_token
from tests.support import unique_email

GRAPH = "https://graph.microsoft.com/v1.0"


async def _state(group: Group, app: Application) -> dict:
    """Everything an owner endpoint could change about a group and an application."""
    async with session_scope() as session:
        g = await session.get(Group, group.id)
        a = await session.get(Application, app.id)

        async def ids(query):
            return sorted((await session.exec(query)).all())
        return {
            "group": (g.display_name, g.description) if g else None,
            "app": (a.display_name, len(a.password_credentials or []), a.app_role_assignment_required) if a else None,
            "members": await ids(select(GroupMember.user_id).where(GroupMember.group_id == group.id)),
            "groupOwners": await ids(select(GroupOwner.user_id).where(GroupOwner.group_id == group.id)),
            "appOwners": await ids(select(ApplicationOwner.user_id).where(ApplicationOwner.application_id == app.id)),
            "userAssignments": await ids(select(AppRoleAssignment.id).where(AppRoleAssignment.application_id == app.id)),
            "groupAssignments": await ids(select(GroupAppRoleAssignment.id).where(
                GroupAppRoleAssignment.application_id == app.id)),
        }


async def _setup(organization_id: str, tag: str):
    group, app = await make_group_and_app(organization_id, tag)
    owner, _ = await make_person(organization_id, Role.member, f"{tag} owner")
    await make_owner(group, owner.id)
    await make_owner(app, owner.id)
    member, _ = await make_person(organization_id, Role.member, f"{tag} member")
    async with session_scope() as session:
        session.add(GroupMember(group_id=group.id, user_id=member.id))
        assignment = AppRoleAssignment(application_id=app.id, principal_id=member.id,
                                       app_role_id="00000000-0000-0000-0000-000000000000")
        session.add(assignment)
    return group, app, owner, member, assignment


def _calls(group: Group, app: Application, owner_id: str, member_id: str, assignment_id: str, newcomer_id: str):
    """(name, method, path, body) of every owner endpoint, aimed at this group and application."""
    return [
        ("add member", "POST", f"/v1.0/groups/{group.id}/members/$ref",
         {"@odata.id": f"{GRAPH}/directoryObjects/{newcomer_id}"}),
        ("remove member", "DELETE", f"/v1.0/groups/{group.id}/members/{member_id}/$ref", None),
        ("add group owner", "POST", f"/v1.0/groups/{group.id}/owners/$ref",
         {"@odata.id": f"{GRAPH}/users/{newcomer_id}"}),
        ("remove group owner", "DELETE", f"/v1.0/groups/{group.id}/owners/{owner_id}/$ref", None),
        ("assign", "POST", f"/v1.0/applications/{app.id}/appRoleAssignedTo", {"principalId": newcomer_id}),
        ("unassign", "DELETE", f"/v1.0/applications/{app.id}/appRoleAssignedTo/{assignment_id}", None),
        ("add app owner", "POST", f"/v1.0/applications/{app.id}/owners/$ref",
         {"@odata.id": f"{GRAPH}/users/{newcomer_id}"}),
        ("remove app owner", "DELETE", f"/v1.0/applications/{app.id}/owners/{owner_id}/$ref", None),
        ("rename group", "PATCH", f"/v1.0/groups/{group.id}", {"description": "changed"}),
        ("rename app", "PATCH", f"/v1.0/applications/{app.id}", {"displayName": "changed"}),
        ("add secret", "POST", f"/v1.0/applications/{app.id}/addPassword", {}),
        ("require assignment", "PATCH", f"/v1.0/servicePrincipals/{app.id}", {"appRoleAssignmentRequired": True}),
        ("invite into group", "POST", "/v1.0/invitations",
         {"invitedUserEmailAddress": unique_email(), "inviteRedirectUrl": "https://app.contoso.test/",
          "sendInvitationMessage": False, "foyerPreAssignedGroupIds": [group.id]}),
        ("invite into app", "POST", "/v1.0/invitations",
         {"invitedUserEmailAddress": unique_email(), "inviteRedirectUrl": "https://app.contoso.test/",
          "sendInvitationMessage": False, "foyerPreAssignedApplicationIds": [app.id]}),
        ("delete group", "DELETE", f"/v1.0/groups/{group.id}", None),
        ("delete app", "DELETE", f"/v1.0/applications/{app.id}", None),
    ]


async def test_owner_of_a_is_refused_on_b_and_changes_nothing(api, organization_id):
    group_a, app_a, owner_a, _, _ = await _setup(organization_id, "A")
    group_b, app_b, owner_b, member_b, assignment_b = await _setup(organization_id, "B")
    headers_a = await _token_of(organization_id, owner_a.id)
    newcomer, _ = await make_person(organization_id, Role.member, "Nia Newcomer")
    before = await _state(group_b, app_b)
    for name, method, path, body in _calls(group_b, app_b, owner_b.id, member_b.id, assignment_b.id, newcomer.id):
        response = await api.request(method, path, headers=headers_a, json=body)
        assert response.status_code == 403, (name, response.text)
        assert response.json()["error"]["code"] == "Authorization_RequestDenied", name
    assert await _state(group_b, app_b) == before
    # Their own group and application are untouched by all this too.
    assert (await _state(group_a, app_a))["group"] is not None


async def test_owner_of_a_manages_a(api, organization_id):
    group_a, app_a, owner_a, member_a, assignment_a = await _setup(organization_id, "A")
    headers_a = await _token_of(organization_id, owner_a.id)
    co_owner, _ = await make_person(organization_id, Role.member, "Cora Co-owner")
    newcomer, _ = await make_person(organization_id, Role.member, "Nia Newcomer")
    # A second owner first, so that removing the caller is not removing the last owner.
    for path in (f"/v1.0/groups/{group_a.id}/owners/$ref", f"/v1.0/applications/{app_a.id}/owners/$ref"):
        response = await api.post(path, headers=headers_a, json={"@odata.id": f"{GRAPH}/users/{co_owner.id}"})
        assert response.status_code == 204, response.text
    expected = {"POST": (200, 201, 204), "DELETE": (204,), "PATCH": (204,)}
    calls = _calls(group_a, app_a, owner_a.id, member_a.id, assignment_a.id, newcomer.id)
    # Removing themselves as owner comes after everything else they do as owner.
    calls.sort(key=lambda call: call[0] in ("remove group owner", "remove app owner", "delete group", "delete app"))
    for name, method, path, body in calls:
        if name in ("delete group", "delete app"):
            headers = await _token_of(organization_id, co_owner.id)  # the caller no longer owns them
        else:
            headers = headers_a
        response = await api.request(method, path, headers=headers, json=body)
        assert response.status_code in expected[method], (name, response.text)
    after = await _state(group_a, app_a)
    assert after["group"] is None and after["app"] is None


async def _token_of(organization_id: str, user_id: str) -> dict:
    return await make_token(organization_id, Role.member, user_id=user_id)
