"""Members create security groups while the authorization policy's
defaultUserRolePermissions.allowedToCreateSecurityGroups is on, and own what they create; with it
off only administrators do; guests never. Administrators name owners with owners@odata.bind."""

import uuid

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import Group, GroupOwner
from foyer.models.enums import Role
from tests.factories import make_person, update_organization

GRAPH = "https://graph.microsoft.com/v1.0"


def _name() -> str:
    return f"Self-made {uuid.uuid4().hex[:8]}"


async def _owners(group_id: str) -> set[str]:
    async with session_scope() as session:
        return set((await session.exec(select(GroupOwner.user_id).where(GroupOwner.group_id == group_id))).all())


async def _exists(name: str) -> bool:
    async with session_scope() as session:
        return (await session.exec(select(Group).where(Group.display_name == name))).first() is not None


async def test_a_member_creates_a_group_and_owns_it(api, organization_id):
    creator, headers = await make_person(organization_id, Role.member, "Cleo Creator")
    created = await api.post("/v1.0/groups", headers=headers, json={"displayName": _name()})
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]
    assert await _owners(group_id) == {creator.id}
    owners = await api.get(f"/v1.0/groups/{group_id}/owners", headers=headers)
    assert [o["id"] for o in owners.json()["value"]] == [creator.id]
    # …and manages it as its owner.
    assert (await api.patch(f"/v1.0/groups/{group_id}", headers=headers,
                            json={"description": "mine"})).status_code == 204
    async with session_scope() as session:
        records = (await session.exec(select(AuditRecord).where(AuditRecord.target_id == group_id))).all()
    acted = {r.activity_display_name: r.details.get("actingAs") for r in records}
    assert acted == {"Add group": "owner", "Add owner to group": "owner", "Update group": "owner"}


async def test_switch_off_only_administrators_create(api, admin, organization_id):
    await update_organization(organization_id, allowed_to_create_security_groups=False)
    _, member = await make_person(organization_id, Role.member, "Cleo Creator")
    _, inviter = await make_person(organization_id, Role.guest_inviter, "Gil Inviter")
    for headers in (member, inviter):
        name = _name()
        refused = await api.post("/v1.0/groups", headers=headers, json={"displayName": name})
        assert refused.status_code == 403, refused.text
        assert "create security groups" in refused.json()["error"]["message"]
        assert not await _exists(name)
    created = await api.post("/v1.0/groups", headers=admin, json={"displayName": _name()})
    assert created.status_code == 201, created.text
    assert await _owners(created.json()["id"]) == set()  # an administrator owns nothing by creating


async def test_guests_never_create(api, organization_id):
    _, guest = await make_person(organization_id, Role.guest, "Gus Guest", guest=True)
    name = _name()
    refused = await api.post("/v1.0/groups", headers=guest, json={"displayName": name})
    assert refused.status_code == 403
    assert not await _exists(name)


async def test_owners_bind_on_create(api, admin, organization_id):
    first, _ = await make_person(organization_id, Role.member, "First Owner")
    second, _ = await make_person(organization_id, Role.member, "Second Owner")
    created = await api.post("/v1.0/groups", headers=admin, json={
        "displayName": _name(), "owners@odata.bind": [f"{GRAPH}/users/{first.id}",
                                                      f"{GRAPH}/directoryObjects/{second.id}"]})
    assert created.status_code == 201, created.text
    assert await _owners(created.json()["id"]) == {first.id, second.id}

    name = _name()
    missing = await api.post("/v1.0/groups", headers=admin, json={
        "displayName": name, "owners@odata.bind": [f"{GRAPH}/users/00000000-0000-0000-0000-00000000dead"]})
    assert missing.status_code == 400 and not await _exists(name)
    # A member names no other owner.
    _, member = await make_person(organization_id, Role.member, "Cleo Creator")
    refused = await api.post("/v1.0/groups", headers=member, json={
        "displayName": name, "owners@odata.bind": [f"{GRAPH}/users/{first.id}"]})
    assert refused.status_code == 403 and not await _exists(name)
