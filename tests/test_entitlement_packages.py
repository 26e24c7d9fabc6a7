"""Access packages: CRUD, resource role scopes checked against the catalog, incompatible packages
and groups, and deletion refused while assignments are active."""

import uuid

from foyer.db import session_scope
from foyer.models.entitlement import AccessPackage, Assignment, AssignmentPolicy
from tests.factories import make_group_and_app

BASE = "/v1.0/identityGovernance/entitlementManagement"


async def _catalog_with_group(api, headers, organization_id):
    catalog = (await api.post(f"{BASE}/catalogs", headers=headers,
                              json={"displayName": f"Packages {uuid.uuid4().hex[:8]}"})).json()
    group, app = await make_group_and_app(organization_id, "Packages")
    resources = {}
    for origin_id, system in ((group.id, "AadGroup"), (app.id, "AadApplication")):
        response = await api.post(f"{BASE}/resourceRequests", headers=headers, json={
            "requestType": "adminAdd", "catalog": {"id": catalog["id"]},
            "resource": {"originId": origin_id, "originSystem": system}})
        assert response.status_code == 201, response.text
        resources[system] = response.json()["resource"]
    return catalog, group, app, resources


async def _package(api, headers, catalog_id, **extra) -> dict:
    response = await api.post(f"{BASE}/accessPackages", headers=headers, json={
        "displayName": f"Package {uuid.uuid4().hex[:8]}", "catalog": {"id": catalog_id}, **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def test_crud_and_list(api, admin, organization_id):
    catalog, *_ = await _catalog_with_group(api, admin, organization_id)
    name = f"Visitors {uuid.uuid4().hex[:8]}"
    package = await _package(api, admin, catalog["id"], displayName=name, description="For visitors",
                             isHidden=True)
    assert package["displayName"] == name and package["isHidden"] is True
    assert package["catalog"] == {"id": catalog["id"]} and package["resourceRoleScopes"] == []

    patched = await api.patch(f"{BASE}/accessPackages/{package['id']}", headers=admin,
                              json={"isHidden": False, "description": "Visible now"})
    assert patched.status_code == 204, patched.text
    got = (await api.get(f"{BASE}/accessPackages/{package['id']}", headers=admin,
                         params={"$expand": "catalog"})).json()
    assert got["isHidden"] is False and got["description"] == "Visible now"
    assert got["catalog"]["displayName"] == catalog["displayName"]

    by_name = await api.get(f"{BASE}/accessPackages", headers=admin,
                            params={"$filter": f"displayName eq '{name}'"})
    assert [p["id"] for p in by_name.json()["value"]] == [package["id"]]
    second = await _package(api, admin, catalog["id"])
    by_catalog = await api.get(f"{BASE}/accessPackages", headers=admin,
                               params={"catalogId": catalog["id"]})
    assert {p["id"] for p in by_catalog.json()["value"]} == {package["id"], second["id"]}

    for body in ({}, {"displayName": None}, {"isHidden": "no"}, {"catalog": {"id": catalog["id"]}}):
        response = await api.patch(f"{BASE}/accessPackages/{package['id']}", headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
    for body, named in (({"catalog": {"id": catalog["id"]}}, "displayName"),
                        ({"displayName": "x", "catalog": {"id": "nope"}}, "catalog"),
                        ({"displayName": "x"}, "catalog")):
        response = await api.post(f"{BASE}/accessPackages", headers=admin, json=body)
        assert response.status_code == 400 and named in response.json()["error"]["message"], response.text
    bad_expand = await api.get(f"{BASE}/accessPackages/{package['id']}", headers=admin,
                               params={"$expand": "assignments"})
    assert bad_expand.status_code == 400, bad_expand.text

    assert (await api.delete(f"{BASE}/accessPackages/{package['id']}", headers=admin)).status_code == 204
    assert (await api.get(f"{BASE}/accessPackages/{package['id']}", headers=admin)).status_code == 404


async def test_resource_role_scopes(api, admin, organization_id):
    catalog, group, app, resources = await _catalog_with_group(api, admin, organization_id)
    package = await _package(api, admin, catalog["id"])
    url = f"{BASE}/accessPackages/{package['id']}/resourceRoleScopes"

    member = await api.post(url, headers=admin, json={
        "role": {"originId": "Member", "originSystem": "AadGroup",
                 "resource": {"id": resources["AadGroup"]["id"]}},
        "scope": {"originId": group.id, "originSystem": "AadGroup"}})
    assert member.status_code == 201, member.text
    assert member.json()["role"]["originId"] == "Member"
    assert member.json()["role"]["resource"]["id"] == resources["AadGroup"]["id"]
    # Graph spells group roles "Owner_<groupId>"; the resource may be named by its originId.
    owner = await api.post(url, headers=admin, json={
        "role": {"originId": f"Owner_{group.id}", "resource": {"originId": group.id}}})
    assert owner.status_code == 201, owner.text
    assert owner.json()["role"]["originId"] == "Owner"
    app_role = await api.post(url, headers=admin, json={
        "role": {"originId": "00000000-0000-0000-0000-000000000000",
                 "resource": {"originId": app.id, "originSystem": "AadApplication"}}})
    assert app_role.status_code == 201, app_role.text

    duplicate = await api.post(url, headers=admin, json={
        "role": {"originId": "Member", "resource": {"id": resources["AadGroup"]["id"]}}})
    assert duplicate.status_code == 409, duplicate.text

    other_catalog, _, _, other_resources = await _catalog_with_group(api, admin, organization_id)
    cases = [
        ({"role": {"originId": "Admin", "resource": {"id": resources["AadGroup"]["id"]}}}, "Admin"),
        ({"role": {"originId": "Member", "resource": {"id": other_resources["AadGroup"]["id"]}}},
         "catalog"),
        ({"role": {"originId": "Member", "resource": {"originId": "not-in-catalog"}}}, "not-in-catalog"),
        ({"role": {"originId": "Member", "originSystem": "AadApplication",
                   "resource": {"id": resources["AadGroup"]["id"]}}}, "originSystem"),
        ({"role": {"originId": "Member", "resource": {}}}, "role.resource"),
        ({"role": {"originId": "Member", "resource": {"id": resources["AadGroup"]["id"]}},
          "scope": {"originId": "somewhere-else"}}, "scope.originId"),
        ({"scope": {"originId": group.id}}, "role"),
    ]
    for body, named in cases:
        response = await api.post(url, headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
        assert named in response.json()["error"]["message"], (body, response.text)

    got = (await api.get(f"{BASE}/accessPackages/{package['id']}", headers=admin,
                         params={"$expand": "resourceRoleScopes"})).json()
    assert [(s["role"]["originId"], s["role"]["resource"]["originId"]) for s in got["resourceRoleScopes"]] == [
        ("Member", group.id), ("Owner", group.id), ("00000000-0000-0000-0000-000000000000", app.id)]
    async with session_scope() as session:
        stored = (await session.get(AccessPackage, package["id"])).resource_role_scopes
    assert stored[0] == {"id": member.json()["id"], "resourceId": resources["AadGroup"]["id"],
                         "originSystem": "AadGroup", "originId": group.id, "role": "Member",
                         "roleDisplayName": "Member"}

    removed = await api.delete(f"{url}/{owner.json()['id']}", headers=admin)
    assert removed.status_code == 204, removed.text
    assert (await api.delete(f"{url}/{owner.json()['id']}", headers=admin)).status_code == 404
    listed = (await api.get(url, headers=admin)).json()["value"]
    assert [s["role"]["originId"] for s in listed] == ["Member", "00000000-0000-0000-0000-000000000000"]


async def test_incompatible_packages_and_groups(api, admin, organization_id):
    catalog, group, *_ = await _catalog_with_group(api, admin, organization_id)
    first, second = await _package(api, admin, catalog["id"]), await _package(api, admin, catalog["id"])
    url = f"{BASE}/accessPackages/{first['id']}"
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/identityGovernance/entitlementManagement/"
                        f"accessPackages/{second['id']}"}
    added = await api.post(f"{url}/incompatibleAccessPackages/$ref", headers=admin, json=ref)
    assert added.status_code == 204, added.text
    again = await api.post(f"{url}/incompatibleAccessPackages/$ref", headers=admin, json=ref)
    assert again.status_code == 400, again.text
    itself = await api.post(f"{url}/incompatibleAccessPackages/$ref", headers=admin,
                            json={"@odata.id": f"{BASE}/accessPackages/{first['id']}"})
    assert itself.status_code == 400 and "itself" in itself.json()["error"]["message"]
    unknown = await api.post(f"{url}/incompatibleAccessPackages/$ref", headers=admin,
                             json={"@odata.id": f"{BASE}/accessPackages/nope"})
    assert unknown.status_code == 404, unknown.text
    for body in ({}, {"@odata.id": f"{BASE}/groups/{group.id}"}, [1], {"@odata.id": 3}):
        response = await api.post(f"{url}/incompatibleAccessPackages/$ref", headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
    listed = (await api.get(f"{url}/incompatibleAccessPackages", headers=admin)).json()["value"]
    assert [p["id"] for p in listed] == [second["id"]]

    group_ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/groups/{group.id}"}
    assert (await api.post(f"{url}/incompatibleGroups/$ref", headers=admin, json=group_ref)).status_code == 204
    assert (await api.post(f"{url}/incompatibleGroups/$ref", headers=admin, json=group_ref)).status_code == 400
    assert (await api.post(f"{url}/incompatibleGroups/$ref", headers=admin,
                           json={"@odata.id": f"{BASE}/groups/nope"})).status_code == 404
    groups = (await api.get(f"{url}/incompatibleGroups", headers=admin)).json()["value"]
    assert [g["id"] for g in groups] == [group.id]

    assert (await api.delete(f"{url}/incompatibleGroups/{group.id}/$ref", headers=admin)).status_code == 204
    assert (await api.delete(f"{url}/incompatibleGroups/{group.id}/$ref", headers=admin)).status_code == 404
    # Deleting the other package drops it from the list.
    assert (await api.delete(f"{BASE}/accessPackages/{second['id']}", headers=admin)).status_code == 204
    assert (await api.get(f"{url}/incompatibleAccessPackages", headers=admin)).json()["value"] == []
    async with session_scope() as session:
        assert (await session.get(AccessPackage, first["id"])).incompatible_access_package_ids == []


async def test_delete_refused_while_assignments_are_active(api, admin, make_member, organization_id):
    catalog, *_ = await _catalog_with_group(api, admin, organization_id)
    package = await _package(api, admin, catalog["id"])
    policy = await api.post(f"{BASE}/assignmentPolicies", headers=admin, json={
        "displayName": "Direct", "accessPackage": {"id": package["id"]}})
    assert policy.status_code == 201, policy.text
    target = await make_member("Dora Delivered")
    async with session_scope() as session:
        assignment = Assignment(organization_id=organization_id, access_package_id=package["id"],
                                assignment_policy_id=policy.json()["id"], target_id=target.id,
                                state="delivered")
        session.add(assignment)
    refused = await api.delete(f"{BASE}/accessPackages/{package['id']}", headers=admin)
    assert refused.status_code == 409 and "assignment" in refused.json()["error"]["message"]

    async with session_scope() as session:
        row = await session.get(Assignment, assignment.id)
        row.state = "expired"
        session.add(row)
    deleted = await api.delete(f"{BASE}/accessPackages/{package['id']}", headers=admin)
    assert deleted.status_code == 204, deleted.text
    async with session_scope() as session:
        assert await session.get(Assignment, assignment.id) is None
        assert await session.get(AssignmentPolicy, policy.json()["id"]) is None
