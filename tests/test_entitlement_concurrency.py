"""Concurrent changes to the same access package or policy are all kept (no lost update), on
SQLite as on PostgreSQL."""

import asyncio
import uuid

from tests.factories import make_group_and_app

BASE = "/v1.0/identityGovernance/entitlementManagement"


async def test_concurrent_role_scopes_and_incompatibilities_are_all_kept(api, admin, organization_id):
    catalog = (await api.post(f"{BASE}/catalogs", headers=admin,
                              json={"displayName": f"Busy {uuid.uuid4().hex[:6]}"})).json()
    resources = []
    for _ in range(4):
        group, _ = await make_group_and_app(organization_id, "Busy")
        added = await api.post(f"{BASE}/resourceRequests", headers=admin, json={
            "requestType": "adminAdd", "catalog": {"id": catalog["id"]},
            "resource": {"originId": group.id, "originSystem": "AadGroup"}})
        resources.append(added.json()["resource"]["id"])
    package = (await api.post(f"{BASE}/accessPackages", headers=admin, json={
        "displayName": "Busy package", "catalog": {"id": catalog["id"]}})).json()
    others = [(await api.post(f"{BASE}/accessPackages", headers=admin, json={
        "displayName": f"Other {n}", "catalog": {"id": catalog["id"]}})).json()["id"] for n in range(4)]

    url = f"{BASE}/accessPackages/{package['id']}"
    results = await asyncio.gather(
        *[api.post(f"{url}/resourceRoleScopes", headers=admin,
                   json={"role": {"originId": role, "resource": {"id": resource}}})
          for resource in resources for role in ("Member", "Owner")],
        *[api.post(f"{url}/incompatibleAccessPackages/$ref", headers=admin,
                   json={"@odata.id": f"{BASE}/accessPackages/{other}"}) for other in others])
    assert [r.status_code for r in results] == [201] * 8 + [204] * 4, [r.text for r in results]
    got = (await api.get(url, headers=admin)).json()
    assert len(got["resourceRoleScopes"]) == 8
    incompatible = (await api.get(f"{url}/incompatibleAccessPackages", headers=admin)).json()["value"]
    assert {p["id"] for p in incompatible} == set(others)


async def test_concurrent_policy_patches_keep_every_change(api, admin):
    catalog = (await api.post(f"{BASE}/catalogs", headers=admin,
                              json={"displayName": f"Busy {uuid.uuid4().hex[:6]}"})).json()
    package = (await api.post(f"{BASE}/accessPackages", headers=admin, json={
        "displayName": "Busy package", "catalog": {"id": catalog["id"]}})).json()
    policy = (await api.post(f"{BASE}/assignmentPolicies", headers=admin, json={
        "displayName": "Busy policy", "accessPackage": {"id": package["id"]}})).json()
    url = f"{BASE}/assignmentPolicies/{policy['id']}"
    results = await asyncio.gather(
        api.patch(url, headers=admin, json={"description": "described"}),
        api.patch(url, headers=admin, json={"allowedTargetScope": "allMemberUsers"}),
        api.patch(url, headers=admin, json={"expiration": {"type": "afterDuration", "duration": "P7D"}}),
        api.patch(url, headers=admin, json={"requestorSettings": {"enableTargetsToSelfAddAccess": True}}))
    assert [r.status_code for r in results] == [204] * 4, [r.text for r in results]
    got = (await api.get(url, headers=admin)).json()
    assert got["description"] == "described" and got["allowedTargetScope"] == "allMemberUsers"
    assert got["expiration"]["duration"] == "P7D"
    assert got["requestorSettings"]["enableTargetsToSelfAddAccess"] is True
