"""Finding 3 of "Close the holes": a catalog owner may not pull a directory group or application
into their catalog (and from there grant themselves its Owner role through a package of their
own). In Entra a catalog owner adds only resources they own: the groups and applications they
own (tests/test_catalog_owner_resources.py), and no others; administrators add any. SharePoint Online sites are generic
resources Foyer does not manage (it grants nothing on them): catalog owners may still add those.
"""

import uuid

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.directory import GroupMember
from foyer.models.enums import Role
from tests.factories import make_group_and_app

BASE = "/v1.0/identityGovernance/entitlementManagement"


def _add(catalog_id: str, origin_system: str, origin_id: str) -> dict:
    return {"requestType": "adminAdd", "catalog": {"id": catalog_id},
            "resource": {"originId": origin_id, "originSystem": origin_system}}


async def _resources(api, headers, catalog_id: str) -> list[tuple[str, str]]:
    listed = await api.get(f"{BASE}/catalogs/{catalog_id}/resources", headers=headers)
    assert listed.status_code == 200, listed.text
    return sorted((r["originSystem"], r["originId"]) for r in listed.json()["value"])


async def test_catalog_owner_cannot_add_directory_groups_or_apps(api, admin, make_token, make_member,
                                                                 organization_id):
    owner = await make_member("Cora Catalog-Owner")
    owner_headers = await make_token(Role.member, user_id=owner.id, name="catalog owner")
    catalog = (await api.post(f"{BASE}/catalogs", headers=admin, json={
        "displayName": f"Owned {uuid.uuid4().hex[:6]}", "foyerOwnerIds": [owner.id]})).json()
    privileged, app = await make_group_and_app(organization_id, "Privileged admins")

    for system, origin in (("AadGroup", privileged.id), ("AadApplication", app.id), ("AadApplication", app.app_id)):
        refused = await api.post(f"{BASE}/resourceRequests", headers=owner_headers, json=_add(catalog["id"], system, origin))
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "Authorization_RequestDenied"
    assert await _resources(api, admin, catalog["id"]) == []

    # The rest of the chain has nothing to stand on: no resource, so no package can grant Owner.
    package = await api.post(f"{BASE}/accessPackages", headers=owner_headers, json={
        "displayName": "Self-service ownership", "catalog": {"id": catalog["id"]}})
    assert package.status_code == 201, package.text
    scope = await api.post(f"{BASE}/accessPackages/{package.json()['id']}/resourceRoleScopes", headers=owner_headers,
                           json={"role": {"originId": "Owner", "originSystem": "AadGroup",
                                          "resource": {"originId": privileged.id, "originSystem": "AadGroup"}}})
    assert scope.status_code == 400, scope.text
    async with session_scope() as session:
        assert (await session.exec(select(GroupMember).where(GroupMember.group_id == privileged.id))).all() == []

    # A SharePoint Online site is not a directory object: the owner may still add it.
    site = "https://contoso.sharepoint.com/sites/Partners"
    added = await api.post(f"{BASE}/resourceRequests", headers=owner_headers, json=_add(catalog["id"], "SharePointOnline", site))
    assert added.status_code == 201, added.text
    assert await _resources(api, admin, catalog["id"]) == [("SharePointOnline", site)]


async def test_administrators_add_directory_groups_and_apps_to_any_catalog(api, admin, make_token, make_member,
                                                                           organization_id):
    owner = await make_member("Cal Owner")
    owner_headers = await make_token(Role.member, user_id=owner.id)
    catalog = (await api.post(f"{BASE}/catalogs", headers=admin, json={
        "displayName": f"Delegated {uuid.uuid4().hex[:6]}", "foyerOwnerIds": [owner.id]})).json()
    group, app = await make_group_and_app(organization_id, "Delegated")
    user_admin = await make_token(Role.user_administrator)

    group_added = await api.post(f"{BASE}/resourceRequests", headers=admin, json=_add(catalog["id"], "AadGroup", group.id))
    assert group_added.status_code == 201, group_added.text
    app_added = await api.post(f"{BASE}/resourceRequests", headers=user_admin, json=_add(catalog["id"], "AadApplication", app.id))
    assert app_added.status_code == 201, app_added.text
    assert await _resources(api, owner_headers, catalog["id"]) == sorted(
        [("AadGroup", group.id), ("AadApplication", app.id)])

    # Once an administrator put it in the catalog, its owner uses it (Entra's delegation).
    package = (await api.post(f"{BASE}/accessPackages", headers=owner_headers, json={
        "displayName": "Delegated access", "catalog": {"id": catalog["id"]}})).json()
    scope = await api.post(f"{BASE}/accessPackages/{package['id']}/resourceRoleScopes", headers=owner_headers,
                           json={"role": {"originId": "Member",
                                          "resource": {"id": group_added.json()["resource"]["id"]}}})
    assert scope.status_code == 201, scope.text

    # Guest Inviters and plain members own no catalog and add nothing.
    for role in (Role.guest_inviter, Role.member, Role.guest):
        refused = await api.post(f"{BASE}/resourceRequests", headers=await make_token(role),
                                 json=_add(catalog["id"], "AadGroup", group.id))
        assert refused.status_code == 403, (role, refused.text)
