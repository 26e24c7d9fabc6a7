"""Every Graph route's success response is described in /openapi.json by a named shape with its
properties (api/schemas/), so the document can generate a client and check responses."""

import pytest

from foyer.api.main import create_app


def _spec() -> dict:
    return create_app(temporal_client=object()).openapi()


SPEC = _spec()

OPERATIONS = [(method.upper(), path, op) for path, ops in SPEC["paths"].items() for method, op in ops.items()]


def _component(ref: str) -> dict:
    return SPEC["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_every_graph_path_is_in_the_document():
    paths = {path for _, path, _ in OPERATIONS}
    assert "/v1.0/users" in paths
    assert "/v1.0/identityGovernance/entitlementManagement/accessPackageAssignmentApprovals/{request_id}/stages" in paths
    assert len(OPERATIONS) > 100


@pytest.mark.parametrize("method,path,op", OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
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
