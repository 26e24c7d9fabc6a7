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


# Issue 11's Graph operations (the OpenID Provider's own endpoints are not Graph's and are not here).
APPS_OPERATIONS = [
    ("PATCH", "/v1.0/applications/{application_id}", "204"),
    ("POST", "/v1.0/applications/{application_id}/addPassword", "PasswordCredential"),
    ("POST", "/v1.0/applications/{application_id}/removePassword", "204"),
    ("GET", "/v1.0/applications/{application_id}", "Application"),
    ("GET", "/v1.0/applications/{application_id}/appRoleAssignedTo", "Collection_AppRoleAssignment_"),
    ("GET", "/v1.0/servicePrincipals", "Collection_ServicePrincipal_"),
    ("POST", "/v1.0/servicePrincipals", "ServicePrincipal"),
    ("GET", "/v1.0/servicePrincipals/{application_id}", "ServicePrincipal"),
    ("PATCH", "/v1.0/servicePrincipals/{application_id}", "204"),
    ("GET", "/v1.0/servicePrincipals/{application_id}/appRoleAssignedTo", "Collection_AppRoleAssignment_"),
    ("POST", "/v1.0/servicePrincipals/{application_id}/appRoleAssignedTo", "AppRoleAssignment"),
    ("DELETE", "/v1.0/servicePrincipals/{application_id}/appRoleAssignedTo/{assignment_id}", "204"),
    ("GET", "/v1.0/users/{user_id}/appRoleAssignments", "Collection_AppRoleAssignment_"),
    ("GET", "/v1.0/groups/{group_id}/appRoleAssignments", "Collection_AppRoleAssignment_"),
    ("GET", "/v1.0/auditLogs/signIns", "Collection_SignIn_"),
]


@pytest.mark.parametrize("method,path,shape", APPS_OPERATIONS, ids=[f"{m} {p}" for m, p, _ in APPS_OPERATIONS])
def test_issue_11_operations_are_documented_with_their_shape(method, path, shape):
    op = SPEC["paths"][path][method.lower()]
    if shape == "204":
        assert "204" in op["responses"]
        return
    (code,) = [c for c in op["responses"] if c.startswith("2")]
    ref = op["responses"][code]["content"]["application/json"]["schema"]["$ref"]
    assert ref.rsplit("/", 1)[-1] == shape, ref


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
            if path.endswith("()") and items.get("type") == "string":
                continue  # a Graph function answering Collection(Edm.String), e.g. availableProviderTypes()
            assert "$ref" in items and _component(items["$ref"]).get("properties"), \
                f"{method} {path} {code}: collection items have no named shape"
