"""/v1.0/servicePrincipals: a view of the applications (same id), for Graph scripts that find the
service principal by appId, set appRoleAssignmentRequired on it and assign through it. Nothing but
appRoleAssignmentRequired changes there; an unknown appId or property is a 400."""

import uuid


async def test_service_principal_view(api, admin, make_token):
    app = (await api.post("/v1.0/applications", headers=admin, json={
        "displayName": f"SP {uuid.uuid4().hex[:6]}", "web": {"redirectUris": ["https://sp.example/cb"],
                                                              "homePageUrl": "https://sp.example/"}})).json()
    member = await make_token("member")
    found = await api.get("/v1.0/servicePrincipals", headers=member, params={"$filter": f"appId eq '{app['appId']}'"})
    assert found.status_code == 200, found.text
    assert found.json()["value"] == [{
        "id": app["id"], "appId": app["appId"], "displayName": app["displayName"],
        "appDisplayName": app["displayName"], "accountEnabled": True, "appRoleAssignmentRequired": True,
        "appRoles": [], "homepage": "https://sp.example/", "replyUrls": ["https://sp.example/cb"],
        "servicePrincipalType": "Application"}]
    created = await api.post("/v1.0/servicePrincipals", headers=admin,
                             json={"appId": app["appId"], "appRoleAssignmentRequired": False})
    assert created.status_code == 201 and created.json()["id"] == app["id"]
    assert created.json()["appRoleAssignmentRequired"] is False
    patched = await api.patch(f"/v1.0/servicePrincipals/{app['id']}", headers=admin,
                              json={"appRoleAssignmentRequired": True})
    assert patched.status_code == 204, patched.text
    assert (await api.get(f"/v1.0/applications/{app['id']}", headers=admin)).json()["appRoleAssignmentRequired"] is True

    user_token = await make_token("member")
    for method, path, body, status in (
            ("post", "/v1.0/servicePrincipals", {"appId": str(uuid.uuid4())}, 400),
            ("patch", f"/v1.0/servicePrincipals/{app['id']}", {"displayName": "Renamed"}, 400),
            ("patch", f"/v1.0/servicePrincipals/{app['id']}", {"appRoleAssignmentRequired": "no"}, 400),
            ("patch", f"/v1.0/servicePrincipals/{uuid.uuid4()}", {"appRoleAssignmentRequired": True}, 404)):
        refused = await api.request(method, path, headers=admin, json=body)
        assert refused.status_code == status, (path, body, refused.text)
    forbidden = await api.patch(f"/v1.0/servicePrincipals/{app['id']}", headers=user_token,
                                json={"appRoleAssignmentRequired": False})
    assert forbidden.status_code == 403
    assert (await api.get(f"/v1.0/servicePrincipals/{app['id']}", headers=admin)).json()["appRoleAssignmentRequired"] is True
