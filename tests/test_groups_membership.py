"""Groups: create, read, rename, members by $ref (Graph's way), memberOf, delete."""

import uuid

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.directory import Group, GroupMember

GRAPH = "https://graph.microsoft.com/v1.0"


async def _group(api, admin, **extra) -> dict:
    name = f"Partners {uuid.uuid4().hex[:8]}"
    response = await api.post("/v1.0/groups", headers=admin,
                              json={"displayName": name, "description": "External partners", **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def _members(group_id: str) -> set[str]:
    async with session_scope() as session:
        return set((await session.exec(select(GroupMember.user_id).where(
            GroupMember.group_id == group_id))).all())


async def test_group_crud(api, admin, make_token):
    group = await _group(api, admin, mailEnabled=False, securityEnabled=True,
                         mailNickname="partners", groupTypes=[])
    assert group["securityEnabled"] is True and group["createdDateTime"].endswith("Z")
    member = await make_token("member")

    listed = await api.get("/v1.0/groups", headers=member,
                           params={"$filter": f"displayName eq '{group['displayName']}'"})
    assert [g["id"] for g in listed.json()["value"]] == [group["id"]]
    assert (await api.get(f"/v1.0/groups/{group['id']}", headers=member)).json()["description"] == \
        "External partners"

    patched = await api.patch(f"/v1.0/groups/{group['id']}", headers=admin,
                              json={"displayName": "Renamed partners", "description": None})
    assert patched.status_code == 204, patched.text
    async with session_scope() as session:
        row = await session.get(Group, group["id"])
    assert row.display_name == "Renamed partners" and row.description is None

    deleted = await api.delete(f"/v1.0/groups/{group['id']}", headers=admin)
    assert deleted.status_code == 204
    missing = await api.get(f"/v1.0/groups/{group['id']}", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "Request_ResourceNotFound"


async def test_invalid_group_bodies(api, admin):
    for body in ({}, {"displayName": ""}, {"displayName": "X", "mailEnabled": True},
                 {"displayName": "X", "groupTypes": ["Unified"]}, {"displayName": "X", "owner": "me"}):
        response = await api.post("/v1.0/groups", headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
    group = await _group(api, admin)
    for body in ({"displayName": None}, {"visibility": "Private"}, {}):
        response = await api.patch(f"/v1.0/groups/{group['id']}", headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)


async def test_members_by_ref(api, admin, make_member):
    group = await _group(api, admin)
    alice, bob = await make_member("Alice Member"), await make_member("Bob Member")
    base = f"/v1.0/groups/{group['id']}/members"

    for ref in (f"{GRAPH}/directoryObjects/{alice.id}", f"{GRAPH}/users/{bob.id}"):
        response = await api.post(f"{base}/$ref", headers=admin, json={"@odata.id": ref})
        assert response.status_code == 204, response.text
    assert await _members(group["id"]) == {alice.id, bob.id}

    again = await api.post(f"{base}/$ref", headers=admin,
                           json={"@odata.id": f"{GRAPH}/directoryObjects/{alice.id}"})
    assert again.status_code == 400
    assert again.json()["error"]["message"].startswith(
        "One or more added object references already exist")

    listed = (await api.get(base, headers=admin, params={"$orderby": "displayName"})).json()["value"]
    assert [(m["@odata.type"], m["displayName"]) for m in listed] == [
        ("#microsoft.graph.user", "Alice Member"), ("#microsoft.graph.user", "Bob Member")]
    selected = (await api.get(base, headers=admin, params={"$select": "mail"})).json()["value"]
    assert {m["mail"] for m in selected} == {alice.mail, bob.mail}

    member_of = (await api.get(f"/v1.0/users/{alice.id}/memberOf", headers=admin)).json()["value"]
    assert [(g["@odata.type"], g["id"]) for g in member_of] == [("#microsoft.graph.group", group["id"])]

    removed = await api.delete(f"{base}/{alice.id}/$ref", headers=admin)
    assert removed.status_code == 204, removed.text
    assert await _members(group["id"]) == {bob.id}
    assert (await api.get(f"/v1.0/users/{alice.id}/memberOf", headers=admin)).json()["value"] == []
    assert (await api.delete(f"{base}/{alice.id}/$ref", headers=admin)).status_code == 404

    # Deleting the group takes its memberships with it.
    assert (await api.delete(f"/v1.0/groups/{group['id']}", headers=admin)).status_code == 204
    assert await _members(group["id"]) == set()


async def test_bad_refs(api, admin, make_member):
    group = await _group(api, admin)
    user = await make_member()
    url = f"/v1.0/groups/{group['id']}/members/$ref"
    for body in ({}, {"@odata.id": ""}, {"@odata.id": 5}, {"@odata.id": f"{GRAPH}/groups/{user.id}"},
                 {"@odata.id": f"{GRAPH}/directoryObjects/{user.id}", "extra": 1}, ["not", "a", "dict"]):
        response = await api.post(url, headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"]
    unknown = await api.post(url, headers=admin, json={"@odata.id": f"{GRAPH}/directoryObjects/nobody"})
    assert unknown.status_code == 404
    no_group = await api.post("/v1.0/groups/nope/members/$ref", headers=admin,
                              json={"@odata.id": f"{GRAPH}/directoryObjects/{user.id}"})
    assert no_group.status_code == 404
    assert await _members(group["id"]) == set()
    assert (await api.get("/v1.0/users/nobody/memberOf", headers=admin)).status_code == 404
