"""What the OpenAPI fuzzer (tests/security/test_openapi_fuzz.py) found answering 500, each kept as
a row: the same request now answers a 4xx with a Graph error, on every database."""

import uuid

import pytest

EM = "/v1.0/identityGovernance/entitlementManagement"
# A date and time whose offset pushes it below year 1 (or above 9999) once converted to UTC.
BEFORE_YEAR_ONE = "0001-01-01T00:00:00+01:02"
AFTER_YEAR_9999 = "9999-12-31T23:59:59-01:00"


@pytest.fixture
async def package_id(api, admin) -> str:
    catalog = (await api.post(f"{EM}/catalogs", headers=admin,
                              json={"displayName": f"Findings {uuid.uuid4().hex[:6]}"})).json()
    package = await api.post(f"{EM}/accessPackages", headers=admin, json={
        "displayName": "Findings package", "catalog": {"id": catalog["id"]}})
    assert package.status_code == 201, package.text
    return package.json()["id"]


def _policy(package_id: str, end: str) -> dict:
    return {"displayName": "Out of range", "accessPackage": {"id": package_id},
            "expiration": {"type": "afterDateTime", "endDateTime": end}}


def _request(start: str) -> dict:
    return {"requestType": "userRemove", "assignment": {"accessPackageId": "x", "assignmentPolicyId": "x"},
            "schedule": {"startDateTime": start}}


# (finding, method, path, httpx keyword arguments given the package id, statuses allowed)
FINDINGS = [
    # OverflowError in the body's validator (pydantic lets only ValueError become a 400).
    ("assignment request startDateTime before year 1", "POST", f"{EM}/assignmentRequests",
     lambda _: {"json": _request(BEFORE_YEAR_ONE)}, {400}),
    ("assignment request startDateTime after year 9999", "POST", f"{EM}/assignmentRequests",
     lambda _: {"json": _request(AFTER_YEAR_9999)}, {400}),
    ("assignment request expiration endDateTime before year 1", "POST", f"{EM}/assignmentRequests",
     lambda _: {"json": {**_request("2020-01-01T00:00:00Z"), "schedule": {
         "expiration": {"type": "afterDateTime", "endDateTime": BEFORE_YEAR_ONE}}}}, {400}),
    # The same overflow when a policy's expiration is stored.
    ("assignment policy endDateTime before year 1", "POST", f"{EM}/assignmentPolicies",
     lambda package_id: {"json": _policy(package_id, BEFORE_YEAR_ONE)}, {400}),
    ("assignment policy endDateTime after year 9999", "POST", f"{EM}/assignmentPolicies",
     lambda package_id: {"json": _policy(package_id, AFTER_YEAR_9999)}, {400}),
    # The same overflow in a $filter's date and time literal.
    ("$filter date after year 9999", "GET", "/v1.0/auditLogs/directoryAudits",
     lambda _: {"params": {"$filter": f"activityDateTime le {AFTER_YEAR_9999}"}}, {400}),
]


@pytest.mark.parametrize("finding,method,path,make,allowed", FINDINGS, ids=[row[0] for row in FINDINGS])
async def test_fuzz_finding_is_a_client_error(api, admin, package_id, finding, method, path, make, allowed):
    response = await api.request(method, path, headers=admin, **make(package_id))
    assert response.status_code in allowed, (finding, response.status_code, response.text[:300])
    error = response.json()["error"]
    assert error["code"] and error["message"], (finding, error)
