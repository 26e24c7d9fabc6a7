"""Applications and their user assignments (Graph's appRoleAssignedTo)."""

import uuid

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.directory import Application, AppRoleAssignment

DEFAULT_ROLE = "00000000-0000-0000-0000-000000000000"


async def _app(api, admin) -> dict:
    response = await api.post("/v1.0/applications", headers=admin,
                              json={"displayName": f"Portal {uuid.uuid4().hex[:8]}"})
    assert response.status_code == 201, response.text
    return response.json()


async def _assigned(app_id: str) -> set[str]:
    async with session_scope() as session:
        return set((await session.exec(select(AppRoleAssignment.principal_id).where(
            AppRoleAssignment.application_id == app_id))).all())


async def test_application_crud(api, admin, make_token):
    app = await _app(api, admin)
    assert {"id", "appId", "displayName", "createdDateTime", "web", "appRoles"} <= set(app) and app["appId"] != app["id"]
    member = await make_token("member")
    got = await api.get(f"/v1.0/applications/{app['id']}", headers=member)
    assert got.status_code == 200 and got.json() == app
    listed = await api.get("/v1.0/applications", headers=member,
                           params={"$filter": f"appId eq '{app['appId']}'"})
    assert listed.json()["value"] == [app]

    for body in ({}, {"displayName": ""}, {"displayName": "X", "signInAudience": "AzureADMyOrg"}):
        response = await api.post("/v1.0/applications", headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)

    assert (await api.delete(f"/v1.0/applications/{app['id']}", headers=admin)).status_code == 204
    async with session_scope() as session:
        assert await session.get(Application, app["id"]) is None
    assert (await api.get(f"/v1.0/applications/{app['id']}", headers=admin)).status_code == 404


async def test_assign_list_unassign(api, admin, make_member):
    app = await _app(api, admin)
    user = await make_member("Una Assigned")
    url = f"/v1.0/applications/{app['id']}/appRoleAssignedTo"

    created = await api.post(url, headers=admin, json={"principalId": user.id, "resourceId": app["id"],
                                                       "appRoleId": DEFAULT_ROLE})
    assert created.status_code == 201, created.text
    assignment = created.json()
    assert assignment["principalId"] == user.id and assignment["principalType"] == "User"
    assert assignment["principalDisplayName"] == "Una Assigned"
    assert assignment["resourceId"] == app["id"] and assignment["resourceDisplayName"] == app["displayName"]
    assert assignment["appRoleId"] == DEFAULT_ROLE
    assert await _assigned(app["id"]) == {user.id}

    again = await api.post(url, headers=admin, json={"principalId": user.id})
    assert again.status_code == 400 and "already exists" in again.json()["error"]["message"]

    listed = (await api.get(url, headers=admin)).json()["value"]
    assert listed == [assignment]

    assert (await api.delete(f"{url}/{assignment['id']}", headers=admin)).status_code == 204
    assert await _assigned(app["id"]) == set()
    assert (await api.delete(f"{url}/{assignment['id']}", headers=admin)).status_code == 404


async def test_bad_assignments_and_app_deletion(api, admin, make_member):
    app, other = await _app(api, admin), await _app(api, admin)
    user = await make_member()
    url = f"/v1.0/applications/{app['id']}/appRoleAssignedTo"
    for body in ({}, {"principalId": "nobody"}, {"principalId": user.id, "resourceId": other["id"]},
                 {"principalId": user.id, "appRoleId": str(uuid.uuid4())},
                 {"principalId": user.id, "principalType": "Group"}):
        response = await api.post(url, headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
    assert await _assigned(app["id"]) == set()

    assert (await api.post(url, headers=admin, json={"principalId": user.id})).status_code == 201
    other_url = f"/v1.0/applications/{other['id']}/appRoleAssignedTo"
    other_assignment = (await api.post(other_url, headers=admin, json={"principalId": user.id})).json()
    # An assignment is only reachable through its own application.
    wrong = await api.delete(f"{url}/{other_assignment['id']}", headers=admin)
    assert wrong.status_code == 404
    assert (await api.delete(f"/v1.0/applications/{app['id']}", headers=admin)).status_code == 204
    assert await _assigned(app["id"]) == set()
    assert await _assigned(other["id"]) == {user.id}
    assert (await api.get(url, headers=admin)).status_code == 404
