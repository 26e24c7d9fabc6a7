"""`/v1.0/identity/userFlowAttributes`: Graph's built-in attributes, custom ones named
extension_<extensions app id>_<name>, description-only updates, and no deletion while a flow
collects the attribute."""

import uuid

ATTRS = "/v1.0/identity/userFlowAttributes"
FLOWS = "/v1.0/identity/b2xUserFlows"


async def test_built_in_and_custom(api, admin, organization_id):
    listed = (await api.get(ATTRS, headers=admin)).json()["value"]
    built_in = {a["id"]: a for a in listed if a["userFlowAttributeType"] == "builtIn"}
    assert set(built_in) == {"displayName", "givenName", "surname", "jobTitle", "city", "country", "state",
                             "postalCode", "streetAddress", "email"}
    assert built_in["city"]["dataType"] == "string"

    name = f"Loyalty Number {uuid.uuid4().hex[:6]}"
    created = await api.post(ATTRS, headers=admin, json={
        "displayName": name, "description": "Member number", "dataType": "int64"})
    assert created.status_code == 201, created.text
    attribute = created.json()
    app_id = uuid.uuid5(uuid.NAMESPACE_URL, f"foyer:b2x-extensions-app:{organization_id}").hex
    assert attribute["id"] == f"extension_{app_id}_{name.replace(' ', '')}"
    assert attribute["userFlowAttributeType"] == "custom" and attribute["dataType"] == "int64"
    assert (await api.get(f"{ATTRS}/{attribute['id']}", headers=admin)).json() == attribute
    assert attribute["id"] in [a["id"] for a in (await api.get(ATTRS, headers=admin)).json()["value"]]

    duplicate = await api.post(ATTRS, headers=admin, json={"displayName": name, "dataType": "string"})
    assert duplicate.status_code == 409
    assert (await api.post(ATTRS, headers=admin, json={"displayName": "City", "dataType": "string"})).status_code == 409

    assert (await api.patch(f"{ATTRS}/{attribute['id']}", headers=admin,
                            json={"description": "Card number"})).status_code == 204
    assert (await api.get(f"{ATTRS}/{attribute['id']}", headers=admin)).json()["description"] == "Card number"
    assert (await api.patch(f"{ATTRS}/{attribute['id']}", headers=admin,
                            json={"dataType": "string"})).status_code == 400
    assert (await api.patch(f"{ATTRS}/city", headers=admin, json={"description": "x"})).status_code == 400
    assert (await api.delete(f"{ATTRS}/city", headers=admin)).status_code == 400

    # In use by a flow: 409 until it is removed from the flow.
    flow = (await api.post(FLOWS, headers=admin, json={
        "id": f"attrs_{uuid.uuid4().hex[:6]}", "userFlowType": "signUpOrSignIn", "userFlowTypeVersion": 3})).json()
    assigned = await api.post(f"{FLOWS}/{flow['id']}/userAttributeAssignments", headers=admin, json={
        "userAttribute": {"id": attribute["id"]}, "userInputType": "textBox"})
    assert assigned.status_code == 201, assigned.text
    in_use = await api.delete(f"{ATTRS}/{attribute['id']}", headers=admin)
    assert in_use.status_code == 409 and flow["id"] in in_use.json()["error"]["message"]
    assert (await api.delete(f"{FLOWS}/{flow['id']}/userAttributeAssignments/{attribute['id']}",
                             headers=admin)).status_code == 204
    assert (await api.delete(f"{ATTRS}/{attribute['id']}", headers=admin)).status_code == 204
    assert (await api.get(f"{ATTRS}/{attribute['id']}", headers=admin)).status_code == 404


async def test_bad_input(api, admin, make_token):
    for body in ({"displayName": "x", "dataType": "date"}, {"displayName": "1abc", "dataType": "string"},
                 {"displayName": "a-b", "dataType": "string"}, {"dataType": "string"},
                 {"displayName": "ok", "dataType": "string", "other": 1}):
        response = await api.post(ATTRS, headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"] == "invalidRequest"
    denied = await api.post(ATTRS, headers=await make_token("member"), json={"displayName": "x", "dataType": "string"})
    assert denied.status_code == 403
