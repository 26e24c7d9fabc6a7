"""A catalog owner adds to their catalog the groups and applications they own, as in Entra, and
no others; owning a group does not let someone who does not manage the catalog add it."""

import uuid

from foyer.models.enums import Role
from tests.factories import make_group_and_app, make_owner, make_person

BASE = "/v1.0/identityGovernance/entitlementManagement"


def _add(catalog_id: str, origin_system: str, origin_id: str) -> dict:
    return {"requestType": "adminAdd", "catalog": {"id": catalog_id},
            "resource": {"originId": origin_id, "originSystem": origin_system}}


async def _resources(api, headers, catalog_id: str) -> list[tuple[str, str]]:
    listed = await api.get(f"{BASE}/catalogs/{catalog_id}/resources", headers=headers)
    assert listed.status_code == 200, listed.text
    return sorted((r["originSystem"], r["originId"]) for r in listed.json()["value"])


async def test_catalog_owner_adds_what_they_own_and_nothing_else(api, admin, organization_id):
    owner, headers = await make_person(organization_id, Role.member, "Cora Catalog-Owner")
    catalog = (await api.post(f"{BASE}/catalogs", headers=admin, json={
        "displayName": f"Owned {uuid.uuid4().hex[:6]}", "foyerOwnerIds": [owner.id]})).json()
    mine, my_app = await make_group_and_app(organization_id, "Cora's")
    theirs, their_app = await make_group_and_app(organization_id, "Someone else's")
    await make_owner(mine, owner.id)
    await make_owner(my_app, owner.id)

    for system, origin in (("AadGroup", theirs.id), ("AadApplication", their_app.id),
                           ("AadApplication", their_app.app_id)):
        refused = await api.post(f"{BASE}/resourceRequests", headers=headers, json=_add(catalog["id"], system, origin))
        assert refused.status_code == 403, refused.text
        assert "owner of the" in refused.json()["error"]["message"]
    assert await _resources(api, admin, catalog["id"]) == []

    group_added = await api.post(f"{BASE}/resourceRequests", headers=headers, json=_add(catalog["id"], "AadGroup", mine.id))
    assert group_added.status_code == 201, group_added.text
    # By appId too: the application is found first, then its ownership asked.
    app_added = await api.post(f"{BASE}/resourceRequests", headers=headers,
                               json=_add(catalog["id"], "AadApplication", my_app.app_id))
    assert app_added.status_code == 201, app_added.text
    assert await _resources(api, admin, catalog["id"]) == sorted([("AadGroup", mine.id), ("AadApplication", my_app.id)])


async def test_owning_a_group_is_not_managing_a_catalog(api, admin, organization_id):
    catalog_owner, _ = await make_person(organization_id, Role.member, "Cal Owner")
    catalog = (await api.post(f"{BASE}/catalogs", headers=admin, json={
        "displayName": f"Not yours {uuid.uuid4().hex[:6]}", "foyerOwnerIds": [catalog_owner.id]})).json()
    group_owner, headers = await make_person(organization_id, Role.member, "Gail Group-Owner")
    group, _ = await make_group_and_app(organization_id, "Gail's")
    await make_owner(group, group_owner.id)
    refused = await api.post(f"{BASE}/resourceRequests", headers=headers, json=_add(catalog["id"], "AadGroup", group.id))
    assert refused.status_code == 403, refused.text
    assert await _resources(api, admin, catalog["id"]) == []
