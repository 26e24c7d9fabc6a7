"""Members register applications while defaultUserRolePermissions.allowedToCreateApps is on and
own them; with it off only administrators do; guests never."""

import uuid

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.directory import Application, ApplicationOwner
from foyer.models.enums import Role
from tests.factories import make_person, update_organization


def _name() -> str:
    return f"Self-made app {uuid.uuid4().hex[:8]}"


async def _exists(name: str) -> bool:
    async with session_scope() as session:
        return (await session.exec(select(Application).where(Application.display_name == name))).first() is not None


async def test_a_member_registers_an_app_and_owns_it(api, organization_id):
    creator, headers = await make_person(organization_id, Role.member, "Cleo Creator")
    created = await api.post("/v1.0/applications", headers=headers, json={
        "displayName": _name(), "web": {"redirectUris": ["https://app.contoso.test/callback"]}})
    assert created.status_code == 201, created.text
    app_id = created.json()["id"]
    async with session_scope() as session:
        owners = (await session.exec(select(ApplicationOwner.user_id).where(
            ApplicationOwner.application_id == app_id))).all()
    assert owners == [creator.id]
    owned = await api.get(f"/v1.0/users/{creator.id}/ownedObjects", headers=headers)
    assert [o["id"] for o in owned.json()["value"]] == [app_id]


async def test_switch_off_or_guest_is_refused(api, admin, organization_id):
    _, guest = await make_person(organization_id, Role.guest, "Gus Guest", guest=True)
    name = _name()
    assert (await api.post("/v1.0/applications", headers=guest, json={"displayName": name})).status_code == 403
    await update_organization(organization_id, allowed_to_create_apps=False)
    _, member = await make_person(organization_id, Role.member, "Cleo Creator")
    refused = await api.post("/v1.0/applications", headers=member, json={"displayName": name})
    assert refused.status_code == 403 and "create applications" in refused.json()["error"]["message"]
    assert not await _exists(name)
    assert (await api.post("/v1.0/applications", headers=admin, json={"displayName": name})).status_code == 201
