"""`/v1.0/identity/b2xUserFlows` and its sub-resources, in Graph's shapes: create (B2X_1_ prefix,
signUpOrSignIn only, known identity providers), attribute assignments validated against their
data type and ordered with setOrder, API connectors per step by $ref, identity providers, Foyer's
verification / approval / application settings, audit, and Graph errors for bad input."""

import uuid

from sqlmodel import select

from foyer.db import reading
from foyer.models.audit import AuditRecord
from tests.factories import make_group_and_app

FLOWS = "/v1.0/identity/b2xUserFlows"
CONNECTORS = "/v1.0/identity/apiConnectors"


async def new_flow(api, admin, **extra) -> dict:
    response = await api.post(FLOWS, headers=admin, json={
        "id": f"partners_{uuid.uuid4().hex[:6]}", "userFlowType": "signUpOrSignIn",
        "userFlowTypeVersion": 3, "identityProviders": [{"id": "EmailOtpSignup-OAUTH"}], **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def new_connector(api, admin) -> str:
    response = await api.post(CONNECTORS, headers=admin, json={
        "displayName": "Checks", "targetUrl": "https://localhost/checks/api"})
    return response.json()["id"]


async def test_flow_lifecycle(api, admin, organization_id, make_member):
    flow = await new_flow(api, admin)
    flow_id = flow["id"]
    assert flow_id.startswith("B2X_1_partners_") and flow["userFlowType"] == "signUpOrSignIn"
    assert flow["userFlowTypeVersion"] == 3
    assert flow["foyerIdentityVerification"] is None and flow["foyerApproval"] is None
    assert (await api.get(f"{FLOWS}/{flow_id}", headers=admin)).json()["id"] == flow_id
    assert flow_id in [f["id"] for f in (await api.get(FLOWS, headers=admin)).json()["value"]]
    again = await api.post(FLOWS, headers=admin, json={"id": flow_id, "userFlowType": "signUpOrSignIn"})
    assert again.status_code == 409

    providers = (await api.get(f"{FLOWS}/{flow_id}/identityProviders", headers=admin)).json()["value"]
    assert [p["id"] for p in providers] == ["EmailOtpSignup-OAUTH"]
    last = await api.delete(f"{FLOWS}/{flow_id}/identityProviders/EmailOtpSignup-OAUTH/$ref", headers=admin)
    assert last.status_code == 400
    dup = await api.post(f"{FLOWS}/{flow_id}/identityProviders/$ref", headers=admin,
                         json={"@odata.id": "https://graph.microsoft.com/beta/identityProviders/EmailOtpSignup-OAUTH"})
    assert dup.status_code == 409
    unknown = await api.post(f"{FLOWS}/{flow_id}/identityProviders/$ref", headers=admin,
                             json={"@odata.id": "https://graph.microsoft.com/beta/identityProviders/Google-OAUTH"})
    assert unknown.status_code == 400

    # Attribute assignments, validated by data type, ordered.
    base = f"{FLOWS}/{flow_id}/userAttributeAssignments"
    for body in ({"userAttribute": {"id": "givenName"}, "userInputType": "textBox"},
                 {"userAttribute": {"id": "city"}, "userInputType": "textBox", "isOptional": True},
                 {"userAttribute": {"id": "country"}, "userInputType": "dropdownSingleSelect",
                  "userAttributeValues": [{"name": "Portugal", "value": "PT", "isDefault": True},
                                          {"name": "Spain", "value": "ES"}]}):
        created = await api.post(base, headers=admin, json=body)
        assert created.status_code == 201, created.text
    city = (await api.get(f"{base}/city", headers=admin)).json()
    assert city == {"id": "city", "displayName": "City", "isOptional": True, "requiresVerification": False,
                    "userInputType": "textBox", "userAttributeValues": [], "userAttribute": {"id": "city"}}
    assert (await api.post(base, headers=admin, json={"userAttribute": {"id": "city"},
                                                      "userInputType": "textBox"})).status_code == 409
    order = await api.post(f"{base}/setOrder", headers=admin, json={
        "inputOrder": {"@odata.type": "microsoft.graph.assignmentOrder", "order": ["country", "givenName", "city"]}})
    assert order.status_code == 204, order.text
    assert [a["id"] for a in (await api.get(base, headers=admin)).json()["value"]] == ["country", "givenName", "city"]
    assert (await api.post(f"{base}/setOrder", headers=admin,
                           json={"inputOrder": {"order": ["country", "city"]}})).status_code == 400
    for bad_order in ({"inputOrder": "city"}, [1], {"inputOrder": {"order": [1, 2, 3]}},
                      {"inputOrder": {"order": ["country", "city", "city"]}}):
        assert (await api.post(f"{base}/setOrder", headers=admin, json=bad_order)).status_code == 400
    patched = await api.patch(f"{base}/city", headers=admin, json={"displayName": "Town", "isOptional": False})
    assert patched.status_code == 204
    assert (await api.get(f"{base}/city", headers=admin)).json()["displayName"] == "Town"
    assert (await api.patch(f"{base}/city", headers=admin, json={"userInputType": "radioSingleSelect"})).status_code == 400
    assert (await api.delete(f"{base}/givenName", headers=admin)).status_code == 204
    assert (await api.get(f"{base}/givenName", headers=admin)).status_code == 404

    # API connectors per step.
    connector_id = await new_connector(api, admin)
    config = f"{FLOWS}/{flow_id}/apiConnectorConfiguration"
    ref = {"@odata.id": f"https://graph.microsoft.com/beta/identity/apiConnectors/{connector_id}"}
    assert (await api.put(f"{config}/postAttributeCollection/$ref", headers=admin, json=ref)).status_code == 204
    assert (await api.get(config, headers=admin)).json() == {
        "postFederationSignup": None, "postAttributeCollection": {"id": connector_id}}
    expanded = (await api.get(config, headers=admin, params={"$expand": "postAttributeCollection"})).json()
    assert expanded["postAttributeCollection"]["displayName"] == "Checks"
    missing = {"@odata.id": "https://graph.microsoft.com/beta/identity/apiConnectors/nope"}
    assert (await api.put(f"{config}/postFederationSignup/$ref", headers=admin, json=missing)).status_code == 404
    assert (await api.put(f"{config}/preSignIn/$ref", headers=admin, json=ref)).status_code == 404
    in_use = await api.delete(f"{CONNECTORS}/{connector_id}", headers=admin)
    assert in_use.status_code == 409 and flow_id in in_use.json()["error"]["message"]
    assert (await api.delete(f"{config}/postAttributeCollection/$ref", headers=admin)).status_code == 204

    # Foyer's durable steps and applications.
    _, application = await make_group_and_app(organization_id)
    approver = await make_member("Avery Approver")
    settings = {"foyerApplicationIds": [application.id],
                "foyerIdentityVerification": {"apiConnectorId": connector_id, "timeout": "P2D"},
                "foyerApproval": {"approverIds": [approver.id], "timeout": "P7D", "reminderInterval": "P1D"}}
    assert (await api.patch(f"{FLOWS}/{flow_id}", headers=admin, json=settings)).status_code == 204
    read = (await api.get(f"{FLOWS}/{flow_id}", headers=admin)).json()
    assert read["foyerApplicationIds"] == [application.id]
    assert read["foyerIdentityVerification"] == {"apiConnectorId": connector_id, "timeout": "P2D"}
    assert read["foyerApproval"] == {"approverIds": [approver.id], "apiConnectorId": None,
                                     "timeout": "P7D", "reminderInterval": "P1D"}
    assert (await api.delete(f"{CONNECTORS}/{connector_id}", headers=admin)).status_code == 409
    assert (await api.patch(f"{FLOWS}/{flow_id}", headers=admin,
                            json={"foyerIdentityVerification": None})).status_code == 204
    assert (await api.get(f"{FLOWS}/{flow_id}", headers=admin)).json()["foyerIdentityVerification"] is None
    assert (await api.delete(f"{CONNECTORS}/{connector_id}", headers=admin)).status_code == 204

    assert (await api.delete(f"{FLOWS}/{flow_id}", headers=admin)).status_code == 204
    assert (await api.get(f"{FLOWS}/{flow_id}", headers=admin)).status_code == 404
    async with reading() as session:
        activities = {r.activity_display_name for r in (await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == flow_id))).all()}
    assert {"Create user flow", "Add user flow attribute assignment", "Order user flow attribute assignments",
            "Set user flow API connector", "Update user flow", "Delete user flow"} <= activities


async def test_input_types_follow_data_types(api, admin):
    flow_id = (await new_flow(api, admin))["id"]
    base = f"{FLOWS}/{flow_id}/userAttributeAssignments"
    attrs = {}
    for data_type in ("boolean", "int64"):
        created = await api.post("/v1.0/identity/userFlowAttributes", headers=admin, json={
            "displayName": f"T{data_type}{uuid.uuid4().hex[:6]}", "dataType": data_type})
        attrs[data_type] = created.json()["id"]
    bad = [
        {"userAttribute": {"id": attrs["int64"]}, "userInputType": "dropdownSingleSelect",
         "userAttributeValues": [{"name": "a", "value": "1"}]},
        {"userAttribute": {"id": attrs["boolean"]}, "userInputType": "textBox"},
        {"userAttribute": {"id": attrs["boolean"]}, "userInputType": "radioSingleSelect",
         "userAttributeValues": [{"name": "Yes", "value": "yes"}]},
        {"userAttribute": {"id": "jobTitle"}, "userInputType": "radioSingleSelect"},  # needs values
        {"userAttribute": {"id": "jobTitle"}, "userInputType": "textBox",
         "userAttributeValues": [{"name": "a", "value": "a"}]},  # takes none
        {"userAttribute": {"id": "jobTitle"}, "userInputType": "dropdownSingleSelect",
         "userAttributeValues": [{"name": "a", "value": "a", "isDefault": True},
                                 {"name": "b", "value": "b", "isDefault": True}]},
        {"userAttribute": {"id": "jobTitle"}, "userInputType": "slider"},
    ]
    for body in bad:
        response = await api.post(base, headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
    unknown = await api.post(base, headers=admin, json={"userAttribute": {"id": "extension_x_Nope"},
                                                        "userInputType": "textBox"})
    assert unknown.status_code == 404
    good = [
        {"userAttribute": {"id": attrs["int64"]}, "userInputType": "textBox"},
        {"userAttribute": {"id": attrs["boolean"]}, "userInputType": "checkboxMultiSelect"},
        {"userAttribute": {"id": "jobTitle"}, "userInputType": "checkboxMultiSelect",
         "userAttributeValues": [{"name": "Dev", "value": "dev"}, {"name": "Ops", "value": "ops"}]},
    ]
    for body in good:
        response = await api.post(base, headers=admin, json=body)
        assert response.status_code == 201, (body, response.text)


async def test_bad_flows(api, admin, make_token):
    for body in ({"id": "x", "userFlowType": "signIn"},
                 {"id": "x", "userFlowType": "signUpOrSignIn", "identityProviders": [{"id": "Google-OAUTH"}]},
                 {"id": "bad id!", "userFlowType": "signUpOrSignIn"},
                 {"userFlowType": "signUpOrSignIn"}):
        response = await api.post(FLOWS, headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"] == "invalidRequest"
    flow_id = (await new_flow(api, admin))["id"]
    connector_id = await new_connector(api, admin)
    for body, status in (
            ({"foyerApplicationIds": ["nope"]}, 404),
            ({"foyerApproval": {"approverIds": ["nope"], "timeout": "P1D"}}, 404),
            ({"foyerApproval": {"approverIds": [], "timeout": "P1D"}}, 400),
            ({"foyerApproval": {"apiConnectorId": connector_id, "timeout": "soon"}}, 400),
            ({"foyerApproval": {"apiConnectorId": connector_id, "timeout": "P1D",
                                "reminderInterval": "P2D"}}, 400),
            ({"foyerIdentityVerification": {"apiConnectorId": "nope", "timeout": "P1D"}}, 404),
            ({"foyerIdentityVerification": {"apiConnectorId": connector_id, "timeout": "P1000D"}}, 400),
            ({"userFlowType": "signIn"}, 400),
            ({}, 400)):
        response = await api.patch(f"{FLOWS}/{flow_id}", headers=admin, json=body)
        assert response.status_code == status, (body, response.text)
        assert "error" in response.json()
    assert (await api.patch(f"{FLOWS}/{flow_id}", headers=admin, json={
        "foyerApproval": {"apiConnectorId": connector_id, "timeout": "P3D"}})).status_code == 204
    assert (await api.get(f"{FLOWS}/B2X_1_nope", headers=admin)).status_code == 404
    member = await make_token("member")
    assert (await api.get(FLOWS, headers=member)).status_code == 403
    assert (await api.post(FLOWS, headers=member, json={"id": "m", "userFlowType": "signUpOrSignIn"})).status_code == 403


async def test_get_flow_expands_what_graph_expands(api, admin):
    connector = await new_connector(api, admin)
    flow = await new_flow(api, admin)
    ref = {"@odata.id": f"https://graph.foyer.test/v1.0/identity/apiConnectors/{connector}"}
    put = await api.put(f"{FLOWS}/{flow['id']}/apiConnectorConfiguration/postAttributeCollection/$ref",
                        headers=admin, json=ref)
    assert put.status_code == 204, put.text

    plain = (await api.get(f"{FLOWS}/{flow['id']}", headers=admin)).json()
    assert "apiConnectorConfiguration" not in plain and "identityProviders" not in plain
    expanded = await api.get(f"{FLOWS}/{flow['id']}", headers=admin, params={
        "$expand": "identityProviders,userAttributeAssignments,apiConnectorConfiguration/postAttributeCollection"})
    assert expanded.status_code == 200, expanded.text
    body = expanded.json()
    assert [p["id"] for p in body["identityProviders"]] == ["EmailOtpSignup-OAUTH"]
    assert isinstance(body["userAttributeAssignments"], list)
    configuration = body["apiConnectorConfiguration"]
    assert configuration["postFederationSignup"] is None
    assert configuration["postAttributeCollection"]["id"] == connector
    assert configuration["postAttributeCollection"]["displayName"] == "Checks"
    ids_only = (await api.get(f"{FLOWS}/{flow['id']}", headers=admin,
                              params={"$expand": "apiConnectorConfiguration"})).json()
    assert ids_only["apiConnectorConfiguration"]["postAttributeCollection"] == {"id": connector}

    for bad in ("owners", "apiConnectorConfiguration/preSignIn"):
        refused = await api.get(f"{FLOWS}/{flow['id']}", headers=admin, params={"$expand": bad})
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalidRequest", refused.text
