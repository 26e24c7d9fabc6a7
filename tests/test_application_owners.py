"""Application owners at Graph's paths: GET /applications/{id}/owners, POST …/owners/$ref,
DELETE …/owners/{id}/$ref; an owner changes and deletes their application, assigns it; the
duplicate and last-owner rules; ownedObjects shows it."""

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import Application, ApplicationOwner
from foyer.models.enums import Role
from tests.factories import make_group_and_app, make_owner, make_person

GRAPH = "https://graph.microsoft.com/v1.0"


async def _owners(app_id: str) -> set[str]:
    async with session_scope() as session:
        return set((await session.exec(select(ApplicationOwner.user_id).where(
            ApplicationOwner.application_id == app_id))).all())


async def test_owners_added_listed_and_removed(api, admin, organization_id):
    _, app = await make_group_and_app(organization_id, "Owned")
    olga, olga_headers = await make_person(organization_id, Role.member, "Olga Owner")
    otto, _ = await make_person(organization_id, Role.member, "Otto Owner")
    added = await api.post(f"/v1.0/applications/{app.id}/owners/$ref", headers=admin,
                           json={"@odata.id": f"{GRAPH}/directoryObjects/{olga.id}"})
    assert added.status_code == 204, added.text
    added = await api.post(f"/v1.0/applications/{app.id}/owners/$ref", headers=olga_headers,
                           json={"@odata.id": f"{GRAPH}/users/{otto.id}"})
    assert added.status_code == 204, added.text
    duplicate = await api.post(f"/v1.0/applications/{app.id}/owners/$ref", headers=olga_headers,
                               json={"@odata.id": f"{GRAPH}/users/{otto.id}"})
    assert duplicate.status_code == 400 and "already exist" in duplicate.json()["error"]["message"]

    listed = await api.get(f"/v1.0/applications/{app.id}/owners", headers=olga_headers)
    assert listed.status_code == 200, listed.text
    assert sorted(o["id"] for o in listed.json()["value"]) == sorted([olga.id, otto.id])
    assert {o["@odata.type"] for o in listed.json()["value"]} == {"#microsoft.graph.user"}

    owned = await api.get(f"/v1.0/users/{otto.id}/ownedObjects", headers=olga_headers)
    assert [(o["@odata.type"], o["id"]) for o in owned.json()["value"]] == [("#microsoft.graph.application", app.id)]

    assert (await api.delete(f"/v1.0/applications/{app.id}/owners/{otto.id}/$ref",
                             headers=olga_headers)).status_code == 204
    last = await api.delete(f"/v1.0/applications/{app.id}/owners/{olga.id}/$ref", headers=olga_headers)
    assert last.status_code == 400 and "last owner" in last.json()["error"]["message"]
    assert await _owners(app.id) == {olga.id}
    assert (await api.delete(f"/v1.0/applications/{app.id}/owners/{olga.id}/$ref", headers=admin)).status_code == 204
    assert await _owners(app.id) == set()


async def test_an_owner_changes_assigns_and_deletes_their_application(api, organization_id):
    group, app = await make_group_and_app(organization_id, "Run by owner")
    olga, olga_headers = await make_person(organization_id, Role.member, "Olga Owner")
    await make_owner(app, olga.id)
    patched = await api.patch(f"/v1.0/applications/{app.id}", headers=olga_headers,
                              json={"displayName": "Renamed by owner"})
    assert patched.status_code == 204, patched.text
    assigned = await api.post(f"/v1.0/applications/{app.id}/appRoleAssignedTo", headers=olga_headers,
                              json={"principalId": group.id})
    assert assigned.status_code == 201, assigned.text
    deleted = await api.delete(f"/v1.0/applications/{app.id}", headers=olga_headers)
    assert deleted.status_code == 204, deleted.text
    async with session_scope() as session:
        assert await session.get(Application, app.id) is None
        records = (await session.exec(select(AuditRecord).where(AuditRecord.target_id == app.id))).all()
    acted = {r.activity_display_name: r.details.get("actingAs") for r in records}
    assert acted["Update application"] == "owner" and acted["Delete application"] == "owner"
    assert acted["Add app role assignment to group"] == "owner"
    assert await _owners(app.id) == set()
