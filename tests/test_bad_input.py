"""Bad input is the client's error: 400 (or 404/405) with Graph's error body, never a 500, on every
database."""

import base64
import json

import pytest

EM = "/v1.0/identityGovernance/entitlementManagement"

BAD_QUERIES = [
    ("/v1.0/users", {"$filter": "displayName eq"}),
    ("/v1.0/users", {"$filter": "displayName eq 'unclosed"}),
    ("/v1.0/users", {"$filter": "password eq 'x'"}),
    ("/v1.0/users", {"$filter": "organizationId eq 'x'"}),
    ("/v1.0/users", {"$filter": "createdDateTime eq 'yesterday'"}),
    ("/v1.0/users", {"$filter": "createdDateTime ge 2024-13-45T00:00:00Z"}),
    ("/v1.0/users", {"$filter": "accountEnabled eq 'maybe'"}),
    ("/v1.0/users", {"$filter": "mail eq 42"}),
    ("/v1.0/users", {"$filter": "mail in ('a@b.example', 7)"}),
    ("/v1.0/users", {"$filter": "contains(displayName)"}),
    ("/v1.0/users", {"$filter": "frobnicate(displayName, 'a')"}),
    ("/v1.0/users", {"$filter": "startswith(accountEnabled, 't')"}),
    ("/v1.0/users", {"$filter": "startswith(displayName, 3)"}),
    ("/v1.0/users", {"$filter": "displayName/first eq 'a'"}),
    ("/v1.0/users", {"$filter": "identities/any(i: i/issuer eq 'x')"}),
    ("/v1.0/users", {"$select": "displayName,password"}),
    ("/v1.0/users", {"$top": "0"}),
    ("/v1.0/users", {"$top": "1000"}),
    ("/v1.0/users", {"$top": "ten"}),
    ("/v1.0/users", {"$top": "-1"}),
    ("/v1.0/users", {"$orderby": "password"}),
    ("/v1.0/users", {"$orderby": "displayName sideways"}),
    ("/v1.0/users", {"$skiptoken": "garbage!!"}),
    ("/v1.0/users", {"$skiptoken": base64.urlsafe_b64encode(json.dumps({"x": 1}).encode()).decode()}),
    ("/v1.0/groups", {"$filter": "members eq 'x'"}),
    ("/v1.0/groups", {"$filter": "createdDateTime lt 'soon'"}),
    ("/v1.0/applications", {"$filter": "appId eq true"}),
    ("/v1.0/auditLogs/directoryAudits", {"$filter": "initiatedBy/user/id eq 'x'"}),
    ("/v1.0/auditLogs/directoryAudits", {"$filter": "activityDateTime ge 'last week'"}),
    ("/v1.0/auditLogs/directoryAudits", {"$orderby": "details"}),
    # Graph's paths to a related object's key are served; any other path, or a wrong type, is not.
    (f"{EM}/assignments", {"$filter": "accessPackage/id eq 42"}),
    (f"{EM}/assignments", {"$filter": "accessPackage/displayName eq 'x'"}),
    (f"{EM}/assignments", {"$filter": "target/objectId/x eq 'a'"}),
    (f"{EM}/assignments", {"$filter": "startswith(target/objectId, 3)"}),
    (f"{EM}/assignments", {"$filter": "tolower(target)/objectId eq 'a'"}),
]


@pytest.mark.parametrize("path,params", BAD_QUERIES)
async def test_bad_query_options_are_400(api, admin, make_member, path, params):
    await make_member()  # at least one row, so $select has something to check against
    response = await api.get(path, headers=admin, params=params)
    assert response.status_code == 400, (params, response.text)
    error = response.json()["error"]
    assert error["code"] and error["message"]


@pytest.mark.parametrize("method,path", [
    ("POST", "/v1.0/users"), ("POST", "/v1.0/groups"), ("POST", "/v1.0/applications"),
    ("PATCH", "/v1.0/policies/authorizationPolicy"),
    ("PATCH", "/v1.0/policies/externalCollaborationPolicy"),
])
async def test_malformed_bodies_are_400(api, admin, method, path):
    for content, content_type in (('{"displayName": ', "application/json"), ("", "application/json"),
                                  ("[1, 2]", "application/json"), ('"text"', "application/json"),
                                  ("displayName=x", "application/x-www-form-urlencoded")):
        response = await api.request(method, path, headers={**admin, "Content-Type": content_type},
                                     content=content)
        assert response.status_code == 400, (content, response.text)
        assert response.json()["error"]["code"] and response.json()["error"]["message"]


async def test_malformed_ref_body_is_400(api, admin):
    group = (await api.post("/v1.0/groups", headers=admin, json={"displayName": "Ref target"})).json()
    for content in ('{"@odata.id": ', "", "null", "42"):
        response = await api.post(f"/v1.0/groups/{group['id']}/members/$ref",
                                  headers={**admin, "Content-Type": "application/json"}, content=content)
        assert response.status_code == 400, (content, response.text)
        assert response.json()["error"]["message"]


async def test_unknown_fields_are_400(api, admin, make_member, organization_id):
    user = await make_member()
    group = (await api.post("/v1.0/groups", headers=admin, json={"displayName": "Unknown fields"})).json()
    cases = [
        ("POST", "/v1.0/users", {"displayName": "X", "mail": "x@contoso.test",
                                 "userPrincipalName": "x@contoso.test", "shoeSize": 42}),
        ("PATCH", f"/v1.0/users/{user.id}", {"shoeSize": 42}),
        ("PATCH", f"/v1.0/groups/{group['id']}", {"mailNickname": "x"}),
        ("POST", "/v1.0/applications", {"displayName": "X", "web": {"implicitGrantSettings": {}}}),
        ("POST", f"/v1.0/applications/{X_APP}/appRoleAssignedTo", {"principalId": user.id, "x": 1}),
        ("PATCH", f"/v1.0/organization/{organization_id}", {"displayName": "X", "city": "Oslo"}),
        ("PATCH", "/v1.0/policies/externalCollaborationPolicy",
         {"domainRestrictions": {"mode": "none", "domains": [], "wildcards": True}}),
    ]
    for method, path, body in cases:
        response = await api.request(method, path, headers=admin, json=body)
        assert response.status_code in (400, 404), (path, response.text)
        error = response.json()["error"]
        assert error["code"] and error["message"]
        if response.status_code == 400:
            assert "extra" in error["message"].lower() or "not permitted" in error["message"].lower() \
                or "unexpected" in error["message"].lower(), error


X_APP = "00000000-0000-0000-0000-0000000000ab"


async def test_unknown_paths_and_methods(api, admin):
    missing = await api.get("/v1.0/users/nobody", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "Request_ResourceNotFound"
    wrong_method = await api.put("/v1.0/groups", headers=admin, json={})
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"]
    nowhere = await api.get("/v1.0/devices", headers=admin)
    assert nowhere.status_code == 404 and nowhere.json()["error"]["code"]
