"""Every Graph route's success response is described in /openapi.json by a named shape with its
properties (api/schemas/), so the document can generate a client and check responses."""

import pytest

from api.main import create_app


def _spec() -> dict:
    return create_app(temporal_client=object()).openapi()


SPEC = _spec()

# Routes still answering with an undeclared dict while issue 10's move proceeds. Strict xfail: a
# route that gains its shape fails here until it is struck off, so the list only shrinks.
PENDING = {
    "GET /v1.0/invitationCampaigns",
    "POST /v1.0/invitationCampaigns",
    "GET /v1.0/invitationCampaigns/{campaign_id}",
    "GET /v1.0/invitationCampaigns/{campaign_id}/results",
    "POST /v1.0/invitationCampaigns/{campaign_id}/pause",
    "POST /v1.0/invitationCampaigns/{campaign_id}/resume",
    "POST /v1.0/invitationCampaigns/{campaign_id}/cancel",
    "POST /v1.0/invitationCampaigns/{campaign_id}/retryFailed",
    "GET /v1.0/identity/apiConnectors",
    "POST /v1.0/identity/apiConnectors",
    "GET /v1.0/identity/apiConnectors/{connector_id}",
    "POST /v1.0/identity/apiConnectors/{connector_id}/uploadClientCertificate",
    "GET /v1.0/identity/b2xUserFlows",
    "POST /v1.0/identity/b2xUserFlows",
    "GET /v1.0/identity/b2xUserFlows/{flow_id}",
    "GET /v1.0/identity/b2xUserFlows/{flow_id}/userAttributeAssignments",
    "POST /v1.0/identity/b2xUserFlows/{flow_id}/userAttributeAssignments",
    "GET /v1.0/identity/b2xUserFlows/{flow_id}/userAttributeAssignments/{assignment_id}",
    "GET /v1.0/identity/b2xUserFlows/{flow_id}/apiConnectorConfiguration",
    "GET /v1.0/identity/b2xUserFlows/{flow_id}/identityProviders",
    "GET /v1.0/identity/userFlowAttributes",
    "POST /v1.0/identity/userFlowAttributes",
    "GET /v1.0/identity/userFlowAttributes/{attribute_id}",
    "GET /v1.0/policies/authenticationFlowsPolicy",
    "GET /v1.0/identity/signUps",
    "GET /v1.0/identity/signUps/{sign_up_id}",
    "POST /v1.0/identity/signUps/{sign_up_id}/approve",
    "POST /v1.0/identity/signUps/{sign_up_id}/deny",
    "POST /v1.0/identity/signUps/{sign_up_id}/verification",
    "POST /v1.0/identity/signUps/{sign_up_id}/approval",
}
OPERATIONS = [(method.upper(), path, op) for path, ops in SPEC["paths"].items() for method, op in ops.items()]


def _component(ref: str) -> dict:
    return SPEC["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_every_graph_path_is_in_the_document():
    paths = {path for _, path, _ in OPERATIONS}
    assert "/v1.0/users" in paths
    assert "/v1.0/identityGovernance/entitlementManagement/accessPackageAssignmentApprovals/{request_id}/stages" in paths
    assert len(OPERATIONS) > 100


def _case(method: str, path: str, op: dict):
    mark = pytest.mark.xfail(strict=True, reason="shape pending") if f"{method} {path}" in PENDING else ()
    return pytest.param(method, path, op, id=f"{method} {path}", marks=mark)


@pytest.mark.parametrize("method,path,op", [_case(*operation) for operation in OPERATIONS])
def test_success_response_has_a_named_shape(method, path, op):
    successes = {code: resp for code, resp in op["responses"].items() if code.startswith("2")}
    assert successes, f"{method} {path} documents no success response"
    for code, response in successes.items():
        if code == "204":
            assert not response.get("content"), f"{method} {path}: a 204 has no body"
            continue
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        assert "$ref" in schema, f"{method} {path} {code}: no named response shape ({schema})"
        component = _component(schema["$ref"])
        assert component.get("properties"), f"{method} {path} {code}: {schema['$ref']} has no properties"
        if "value" in component["properties"]:  # a collection: its items are a named shape too
            items = component["properties"]["value"].get("items", {})
            assert "$ref" in items and _component(items["$ref"]).get("properties"), \
                f"{method} {path} {code}: collection items have no named shape"
