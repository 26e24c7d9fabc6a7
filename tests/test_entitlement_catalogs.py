"""Catalogs: create, read, list with OData, update, delete (refused while packages remain), audited."""

import uuid

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.entitlement import Catalog

BASE = "/v1.0/identityGovernance/entitlementManagement"


def _name(prefix: str = "Catalog") -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


async def _activities(target_id: str) -> list[str]:
    async with session_scope() as session:
        rows = (await session.exec(select(AuditRecord).where(AuditRecord.target_id == target_id)
                                   .order_by(AuditRecord.activity_date_time))).all()
    assert all(r.category == "EntitlementManagement" for r in rows)
    return [r.activity_display_name for r in rows]


async def test_create_read_update_delete(api, admin, make_member):
    owner = await make_member("Olga Owner")
    name = _name()
    created = await api.post(f"{BASE}/catalogs", headers=admin, json={
        "displayName": name, "description": "Partner resources", "isExternallyVisible": False,
        "state": "unpublished", "foyerOwnerIds": [owner.id]})
    assert created.status_code == 201, created.text
    catalog = created.json()
    assert catalog["displayName"] == name and catalog["catalogType"] == "userManaged"
    assert catalog["state"] == "unpublished" and catalog["isExternallyVisible"] is False
    assert catalog["foyerOwnerIds"] == [owner.id] and catalog["createdDateTime"].endswith("Z")

    got = await api.get(f"{BASE}/catalogs/{catalog['id']}", headers=admin)
    assert got.status_code == 200 and got.json() == catalog

    patched = await api.patch(f"{BASE}/catalogs/{catalog['id']}", headers=admin,
                              json={"state": "published", "description": None})
    assert patched.status_code == 204, patched.text
    got = (await api.get(f"{BASE}/catalogs/{catalog['id']}", headers=admin)).json()
    assert got["state"] == "published" and got["description"] is None

    deleted = await api.delete(f"{BASE}/catalogs/{catalog['id']}", headers=admin)
    assert deleted.status_code == 204, deleted.text
    missing = await api.get(f"{BASE}/catalogs/{catalog['id']}", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "Request_ResourceNotFound"
    async with session_scope() as session:
        assert await session.get(Catalog, catalog["id"]) is None
    assert await _activities(catalog["id"]) == ["Create catalog", "Update catalog", "Delete catalog"]


async def test_list_filter_and_paging(api, admin):
    tag = uuid.uuid4().hex[:8]
    ids = []
    for n in range(3):
        response = await api.post(f"{BASE}/catalogs", headers=admin,
                                  json={"displayName": f"Paged {tag} {n}"})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    found = await api.get(f"{BASE}/catalogs", headers=admin,
                          params={"$filter": f"startswith(displayName, 'Paged {tag}')",
                                  "$top": "2", "$count": "true", "$orderby": "displayName"})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["@odata.count"] == 3 and len(body["value"]) == 2 and "@odata.nextLink" in body
    rest = await api.get(body["@odata.nextLink"], headers=admin)
    names = [c["displayName"] for c in body["value"] + rest.json()["value"]]
    assert names == [f"Paged {tag} {n}" for n in range(3)]

    one = await api.get(f"{BASE}/catalogs", headers=admin,
                        params={"$filter": f"displayName eq 'Paged {tag} 1' and state eq 'published'"})
    assert [c["id"] for c in one.json()["value"]] == [ids[1]]
    bad = await api.get(f"{BASE}/catalogs", headers=admin, params={"$filter": "foyerOwnerIds eq 'x'"})
    assert bad.status_code == 400 and "cannot be filtered" in bad.json()["error"]["message"]


async def test_delete_refused_while_it_holds_packages(api, admin):
    catalog = (await api.post(f"{BASE}/catalogs", headers=admin, json={"displayName": _name()})).json()
    package = await api.post(f"{BASE}/accessPackages", headers=admin, json={
        "displayName": _name("Package"), "catalog": {"id": catalog["id"]}})
    assert package.status_code == 201, package.text
    refused = await api.delete(f"{BASE}/catalogs/{catalog['id']}", headers=admin)
    assert refused.status_code == 409, refused.text
    assert "access package" in refused.json()["error"]["message"]
    assert (await api.delete(f"{BASE}/accessPackages/{package.json()['id']}", headers=admin)).status_code == 204
    assert (await api.delete(f"{BASE}/catalogs/{catalog['id']}", headers=admin)).status_code == 204


async def test_bad_bodies_are_400(api, admin):
    cases = [
        ({}, "displayName"),
        ({"displayName": ""}, "displayName"),
        ({"displayName": "   "}, "displayName"),
        ({"displayName": _name(), "state": "archived"}, "state"),
        ({"displayName": _name(), "catalogType": "serviceDefault"}, "catalogType"),
        ({"displayName": _name(), "isExternallyVisible": "yes"}, "isExternallyVisible"),
        ({"displayName": _name(), "foyerOwnerIds": ["no-such-user"]}, "no-such-user"),
        ({"displayName": _name(), "colour": "red"}, "colour"),
    ]
    for body, named in cases:
        response = await api.post(f"{BASE}/catalogs", headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
        assert named in response.json()["error"]["message"], (body, response.text)
    created = (await api.post(f"{BASE}/catalogs", headers=admin, json={"displayName": _name()})).json()
    for patch in ({}, {"displayName": None}, {"state": "gone"}, {"foyerOwnerIds": ["nobody"]}):
        response = await api.patch(f"{BASE}/catalogs/{created['id']}", headers=admin, json=patch)
        assert response.status_code == 400, (patch, response.text)
    assert (await api.patch(f"{BASE}/catalogs/nope", headers=admin,
                            json={"displayName": "x"})).status_code == 404
    assert (await api.delete(f"{BASE}/catalogs/nope", headers=admin)).status_code == 404
