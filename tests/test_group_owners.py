"""Group owners at Graph's paths: GET /groups/{id}/owners, POST …/owners/$ref, DELETE
…/owners/{id}/$ref; who may add and remove them (an administrator or an owner of that group), the
duplicate and last-owner rules, and GET /users/{id}/ownedObjects."""

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import GroupOwner
from foyer.models.enums import Role
from tests.factories import make_group_and_app, make_owner, make_person

GRAPH = "https://graph.microsoft.com/v1.0"


def ref(user_id: str, collection: str = "directoryObjects") -> dict:
    return {"@odata.id": f"{GRAPH}/{collection}/{user_id}"}


async def _owners(group_id: str) -> set[str]:
    async with session_scope() as session:
        return set((await session.exec(select(GroupOwner.user_id).where(GroupOwner.group_id == group_id))).all())


async def test_owners_added_listed_and_removed(api, admin, organization_id):
    group, _ = await make_group_and_app(organization_id, "Owned")
    olga, olga_headers = await make_person(organization_id, Role.member, "Olga Owner")
    otto, _ = await make_person(organization_id, Role.member, "Otto Owner")

    added = await api.post(f"/v1.0/groups/{group.id}/owners/$ref", headers=admin, json=ref(olga.id))
    assert added.status_code == 204, added.text
    # An owner adds another owner (a users/ reference works as well as directoryObjects/).
    added = await api.post(f"/v1.0/groups/{group.id}/owners/$ref", headers=olga_headers,
                           json=ref(otto.id, "users"))
    assert added.status_code == 204, added.text

    listed = await api.get(f"/v1.0/groups/{group.id}/owners", headers=olga_headers)
    assert listed.status_code == 200, listed.text
    owners = listed.json()["value"]
    assert {o["id"] for o in owners} == {olga.id, otto.id}
    assert all(o["@odata.type"] == "#microsoft.graph.user" and o["userPrincipalName"] for o in owners)

    duplicate = await api.post(f"/v1.0/groups/{group.id}/owners/$ref", headers=admin, json=ref(otto.id))
    assert duplicate.status_code == 400
    assert duplicate.json()["error"]["code"] == "Request_BadRequest"
    assert "already exist" in duplicate.json()["error"]["message"]

    removed = await api.delete(f"/v1.0/groups/{group.id}/owners/{otto.id}/$ref", headers=olga_headers)
    assert removed.status_code == 204, removed.text
    assert await _owners(group.id) == {olga.id}
    again = await api.delete(f"/v1.0/groups/{group.id}/owners/{otto.id}/$ref", headers=admin)
    assert again.status_code == 404 and again.json()["error"]["code"] == "Request_ResourceNotFound"

    async with session_scope() as session:
        records = (await session.exec(select(AuditRecord).where(AuditRecord.target_id == group.id).order_by(
            AuditRecord.activity_date_time))).all()
    assert [(r.activity_display_name, r.details["actingAs"]) for r in records] == [
        ("Add owner to group", "administrator"), ("Add owner to group", "owner"),
        ("Remove owner from group", "owner")]


async def test_last_owner_is_removed_only_by_an_administrator(api, admin, organization_id):
    group, _ = await make_group_and_app(organization_id, "Last")
    olga, olga_headers = await make_person(organization_id, Role.member, "Olga Owner")
    await make_owner(group, olga.id)

    refused = await api.delete(f"/v1.0/groups/{group.id}/owners/{olga.id}/$ref", headers=olga_headers)
    assert refused.status_code == 400
    assert "last owner" in refused.json()["error"]["message"]
    assert await _owners(group.id) == {olga.id}

    removed = await api.delete(f"/v1.0/groups/{group.id}/owners/{olga.id}/$ref", headers=admin)
    assert removed.status_code == 204, removed.text
    assert await _owners(group.id) == set()


async def test_who_may_not_add_or_remove_owners(api, organization_id):
    group, _ = await make_group_and_app(organization_id, "Guarded")
    olga, _ = await make_person(organization_id, Role.member, "Olga Owner")
    await make_owner(group, olga.id)
    mallory, mallory_headers = await make_person(organization_id, Role.member, "Mallory Member")
    _, inviter = await make_person(organization_id, Role.guest_inviter, "Gil Inviter")
    for headers in (mallory_headers, inviter):
        added = await api.post(f"/v1.0/groups/{group.id}/owners/$ref", headers=headers, json=ref(mallory.id))
        assert added.status_code == 403, added.text
        assert added.json()["error"]["code"] == "Authorization_RequestDenied"
        assert "only an administrator or an owner of the group" in added.json()["error"]["message"]
        removed = await api.delete(f"/v1.0/groups/{group.id}/owners/{olga.id}/$ref", headers=headers)
        assert removed.status_code == 403, removed.text
    assert await _owners(group.id) == {olga.id}


async def test_bad_owner_references(api, admin, organization_id):
    group, _ = await make_group_and_app(organization_id, "Refs")
    for body in ({}, {"@odata.id": ""}, {"@odata.id": f"{GRAPH}/groups/{group.id}"}, ["x"],
                 {"@odata.id": f"{GRAPH}/users/x", "extra": 1}):
        response = await api.post(f"/v1.0/groups/{group.id}/owners/$ref", headers=admin, json=body)
        assert response.status_code in (400, 422) and response.status_code != 500, (body, response.text)
        assert "error" in response.json()
    missing = await api.post(f"/v1.0/groups/{group.id}/owners/$ref", headers=admin,
                             json=ref("00000000-0000-0000-0000-00000000dead"))
    assert missing.status_code == 404
    assert await _owners(group.id) == set()


async def test_owned_objects(api, admin, organization_id, make_token):
    group, app = await make_group_and_app(organization_id, "Mine")
    olga, olga_headers = await make_person(organization_id, Role.member, "Olga Owner")
    await make_owner(group, olga.id)
    await make_owner(app, olga.id)
    for headers in (admin, olga_headers, await make_token(Role.member)):
        response = await api.get(f"/v1.0/users/{olga.id}/ownedObjects", headers=headers)
        assert response.status_code == 200, response.text
        value = response.json()["value"]
        assert [(o["@odata.type"], o["id"]) for o in value] == [
            ("#microsoft.graph.group", group.id), ("#microsoft.graph.application", app.id)]
        assert value[0]["displayName"] == group.display_name and value[1]["appId"] == app.app_id
    nobody, _ = await make_person(organization_id, Role.member, "Ned Nobody")
    response = await api.get(f"/v1.0/users/{nobody.id}/ownedObjects", headers=admin)
    assert response.status_code == 200 and response.json()["value"] == []
