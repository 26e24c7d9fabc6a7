"""appRoles Graph refuses are a Graph 400 and change nothing: a duplicate id or value, an id that
is not a GUID (or the default role's all zeros), a value with spaces, a missing displayName, bad
allowedMemberTypes; removing an enabled role or changing its value
(CannotDeleteOrUpdateEnabledEntitlement: disable it first)."""

import uuid

import pytest


def role(value: str = "Reader", **fields) -> dict:
    return {"id": str(uuid.uuid4()), "value": value, "displayName": value, "isEnabled": True,
            "allowedMemberTypes": ["User"], **fields}


def same_id() -> list[dict]:
    first = role("A")
    return [first, role("B", id=first["id"])]


@pytest.mark.parametrize("roles", [
    pytest.param(same_id(), id="duplicate id"),
    pytest.param([role("Reader"), role("Reader")], id="duplicate value"),
    pytest.param([role(id="not-a-guid")], id="id not a GUID"),
    pytest.param([role(id="00000000-0000-0000-0000-000000000000")], id="default role id"),
    pytest.param([role("Read er")], id="value with a space"),
    pytest.param([role("")], id="empty value"),
    pytest.param([role(value=None)], id="no value"),
    pytest.param([role(displayName="")], id="no displayName"),
    pytest.param([role(allowedMemberTypes=[])], id="no member types"),
    pytest.param([role(allowedMemberTypes=["Device"])], id="unknown member type"),
    pytest.param([role(isEnabled="yes")], id="isEnabled not a boolean"),
    pytest.param(["Reader"], id="not an object"),
    pytest.param([role(isDefault=True)], id="unknown property"),
])
async def test_bad_app_roles_are_400(api, admin, roles):
    refused = await api.post("/v1.0/applications", headers=admin, json={"displayName": "Roles", "appRoles": roles})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["message"]
    app = (await api.post("/v1.0/applications", headers=admin, json={"displayName": "Roles"})).json()
    refused = await api.patch(f"/v1.0/applications/{app['id']}", headers=admin, json={"appRoles": roles})
    assert refused.status_code == 400, refused.text
    assert (await api.get(f"/v1.0/applications/{app['id']}", headers=admin)).json()["appRoles"] == []


async def test_an_enabled_role_is_disabled_before_it_is_removed_or_renamed(api, admin):
    reader, writer = role("Reader"), role("Writer")
    app = (await api.post("/v1.0/applications", headers=admin,
                          json={"displayName": "Roles", "appRoles": [reader, writer]})).json()
    url = f"/v1.0/applications/{app['id']}"

    removed = await api.patch(url, headers=admin, json={"appRoles": [reader]})
    assert removed.status_code == 400, removed.text
    assert removed.json()["error"]["code"] == "CannotDeleteOrUpdateEnabledEntitlement"
    renamed = await api.patch(url, headers=admin, json={"appRoles": [reader, {**writer, "value": "Author"}]})
    assert renamed.status_code == 400 and renamed.json()["error"]["code"] == "CannotDeleteOrUpdateEnabledEntitlement"
    assert [r["value"] for r in (await api.get(url, headers=admin)).json()["appRoles"]] == ["Reader", "Writer"]

    # Disabled first, then renamed and removed: as Graph allows.
    assert (await api.patch(url, headers=admin, json={"appRoles": [reader, {**writer, "isEnabled": False}]})).status_code == 204
    assert (await api.patch(url, headers=admin, json={
        "appRoles": [reader, {**writer, "isEnabled": False, "value": "Author"}]})).status_code == 204
    assert (await api.patch(url, headers=admin, json={"appRoles": [reader]})).status_code == 204
    assert [r["value"] for r in (await api.get(url, headers=admin)).json()["appRoles"]] == ["Reader"]
