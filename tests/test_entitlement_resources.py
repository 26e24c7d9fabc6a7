"""Resource requests: groups, applications and sites added to and removed from a catalog, with
the roles each offers; a resource still used by a package cannot be removed."""

import uuid

from tests.factories import make_group_and_app

BASE = "/v1.0/identityGovernance/entitlementManagement"


async def _catalog(api, headers) -> dict:
    response = await api.post(f"{BASE}/catalogs", headers=headers,
                              json={"displayName": f"Resources {uuid.uuid4().hex[:8]}"})
    assert response.status_code == 201, response.text
    return response.json()


async def _request(api, headers, catalog_id: str, request_type: str, **resource):
    return await api.post(f"{BASE}/resourceRequests", headers=headers, json={
        "requestType": request_type, "resource": resource, "catalog": {"id": catalog_id}})


async def test_add_group_app_and_site(api, admin, organization_id):
    catalog = await _catalog(api, admin)
    group, app = await make_group_and_app(organization_id, "Resources")

    added = await _request(api, admin, catalog["id"], "adminAdd", originId=group.id,
                           originSystem="AadGroup")
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["requestType"] == "adminAdd" and body["state"] == "delivered"
    assert body["catalog"] == {"id": catalog["id"]} and body["id"]
    assert body["resource"]["originId"] == group.id
    assert body["resource"]["displayName"] == group.display_name
    assert [(r["originId"], r["displayName"]) for r in body["resource"]["roles"]] == [
        ("Member", "Member"), ("Owner", "Owner")]

    # Applications by object id or by appId; the catalog keeps the object id.
    by_app_id = await _request(api, admin, catalog["id"], "adminAdd", originId=app.app_id,
                               originSystem="AadApplication")
    assert by_app_id.status_code == 201, by_app_id.text
    resource = by_app_id.json()["resource"]
    assert resource["originId"] == app.id and resource["displayName"] == app.display_name
    assert [(r["originId"], r["displayName"]) for r in resource["roles"]] == [
        ("00000000-0000-0000-0000-000000000000", "Default Access")]

    site = await _request(api, admin, catalog["id"], "adminAdd",
                          originId="https://contoso.sharepoint.com/sites/Sales",
                          originSystem="SharePointOnline", displayName="Sales site")
    assert site.status_code == 201, site.text
    assert site.json()["resource"]["displayName"] == "Sales site"
    assert [r["originId"] for r in site.json()["resource"]["roles"]] == ["Reader", "Editor"]

    listed = await api.get(f"{BASE}/catalogs/{catalog['id']}/resources", headers=admin)
    assert listed.status_code == 200, listed.text
    assert {r["originSystem"] for r in listed.json()["value"]} == {
        "AadGroup", "AadApplication", "SharePointOnline"}
    only_groups = await api.get(f"{BASE}/catalogs/{catalog['id']}/resources", headers=admin,
                                params={"$filter": "originSystem eq 'AadGroup'"})
    assert [r["originId"] for r in only_groups.json()["value"]] == [group.id]

    again = await _request(api, admin, catalog["id"], "adminAdd", originId=group.id,
                           originSystem="AadGroup")
    assert again.status_code == 409, again.text

    # The same group may sit in another catalog.
    other = await _catalog(api, admin)
    assert (await _request(api, admin, other["id"], "adminAdd", originId=group.id,
                           originSystem="AadGroup")).status_code == 201


async def test_unknown_or_malformed_resources_are_400(api, admin):
    catalog = await _catalog(api, admin)
    cases = [
        ({"originId": "no-such-group", "originSystem": "AadGroup"}, "no group"),
        ({"originId": "no-such-app", "originSystem": "AadApplication"}, "no application"),
        ({"originId": "not a url", "originSystem": "SharePointOnline"}, "URL"),
        ({"originId": "x", "originSystem": "Dropbox"}, "originSystem"),
        ({"originSystem": "AadGroup"}, "originId"),
    ]
    for resource, named in cases:
        response = await _request(api, admin, catalog["id"], "adminAdd", **resource)
        assert response.status_code == 400, (resource, response.text)
        assert named in response.json()["error"]["message"], (resource, response.text)
    wrong_type = await api.post(f"{BASE}/resourceRequests", headers=admin, json={
        "requestType": "adminUpdate", "resource": {"originId": "x", "originSystem": "AadGroup"},
        "catalog": {"id": catalog["id"]}})
    assert wrong_type.status_code == 400 and "requestType" in wrong_type.json()["error"]["message"]
    no_catalog = await _request(api, admin, "no-such-catalog", "adminAdd", originId="x",
                                originSystem="AadGroup")
    assert no_catalog.status_code == 404, no_catalog.text


async def test_remove_refused_while_a_package_uses_it(api, admin, organization_id):
    catalog = await _catalog(api, admin)
    group, _ = await make_group_and_app(organization_id, "Removal")
    resource = (await _request(api, admin, catalog["id"], "adminAdd", originId=group.id,
                               originSystem="AadGroup")).json()["resource"]
    package = (await api.post(f"{BASE}/accessPackages", headers=admin, json={
        "displayName": f"Uses {uuid.uuid4().hex[:6]}", "catalog": {"id": catalog["id"]}})).json()
    scope = await api.post(f"{BASE}/accessPackages/{package['id']}/resourceRoleScopes", headers=admin,
                           json={"role": {"originId": "Member", "resource": {"id": resource["id"]}},
                                 "scope": {"originId": group.id}})
    assert scope.status_code == 201, scope.text

    refused = await _request(api, admin, catalog["id"], "adminRemove", id=resource["id"])
    assert refused.status_code == 409, refused.text
    assert package["displayName"] in refused.json()["error"]["message"]

    removed_scope = await api.delete(
        f"{BASE}/accessPackages/{package['id']}/resourceRoleScopes/{scope.json()['id']}", headers=admin)
    assert removed_scope.status_code == 204, removed_scope.text
    removed = await _request(api, admin, catalog["id"], "adminRemove", originId=group.id,
                             originSystem="AadGroup")
    assert removed.status_code == 201, removed.text
    assert removed.json()["requestType"] == "adminRemove"
    listed = await api.get(f"{BASE}/catalogs/{catalog['id']}/resources", headers=admin)
    assert listed.json()["value"] == []
    gone = await _request(api, admin, catalog["id"], "adminRemove", id=resource["id"])
    assert gone.status_code == 404, gone.text
