"""Schemathesis over every operation of the app's own OpenAPI document: whatever is sent — data that
fits the schema and data that does not — the answer is never a 5xx. As a Global Administrator, as a
member and with no credentials at all; with generated path ids and with the ids of real objects
(so PATCH/POST bodies reach the code behind the 404). Run on both databases by `make test`.

The examples are bounded and derandomized (a fixed seed per operation and caller), so a run is the
same every time and fits the suite's time. Requests go to the in-process app over httpx on the
session's event loop (the loop the database engine and Temporal client live on); Hypothesis drives
them from a worker thread.

Response-schema conformance: every success response is declared by a named shape (api/schemas/,
see tests/test_openapi_response_schemas.py), so each answer is checked against its shape as well.
FastAPI's documented 422 is not checked (validation errors answer 400 with a Graph error, and 400
is not documented).
"""

import asyncio
import collections
import os
import time
import uuid

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed as hypothesis_seed, settings, strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlmodel import select

from foyer.db import session_scope
from foyer.settings import get_settings
from foyer.models.directory import Organization
from foyer.models.enums import Role

pytestmark = pytest.mark.long_running(100)

# Operations left out, as {"METHOD /path": "why"}. Everything else in the document is fuzzed.
EXCLUDED: dict[str, str] = {
    # None today: no operation starts unbounded work on generated input (campaigns need rows the
    # schema does not describe, so generated bodies are refused 400) and /dev/mail is not mounted
    # outside `foyer dev`.
}

# The operations are fuzzed in SHARDS tests (operation i in shard i % SHARDS), so that the
# test processes of `make test` can share the work; the seeds follow the operation, so the requests
# sent are the same however many shards there are.
SHARDS = 6

# Examples per operation and caller. The admin reaches the handlers; the member mostly meets 403;
# the anonymous caller meets 401 before anything else, so a few examples prove it.
# FOYER_FUZZ_SCALE multiplies them and FOYER_FUZZ_SEED shifts the seeds, for a longer hunt by hand
# (`FOYER_FUZZ_SCALE=10 pytest tests/security/test_openapi_fuzz.py`); `make test` uses neither.
SCALE = int(os.environ.get("FOYER_FUZZ_SCALE", "1"))
SEED = int(os.environ.get("FOYER_FUZZ_SEED", "0"))
EXAMPLES = {"admin": 12 * SCALE, "member": 4 * SCALE, "anonymous": 2 * SCALE}
# Real objects' ids replace generated ones in half the admin's examples, except for DELETE (which
# would remove the objects the later operations need).
SEEDED_PARAMETERS = ("group_id", "user_id", "application_id", "catalog_id", "package_id",
                     "policy_id", "connected_id", "flow_id", "attribute_id", "connector_id",
                     "organization_id")
EM = "/v1.0/identityGovernance/entitlementManagement"
DEFAULT_422 = "#/components/schemas/HTTPValidationError"


def _documents_a_schema(response: dict) -> bool:
    """Whether a documented response describes its body (FastAPI's default is `{}`, and its
    422 HTTPValidationError is never sent: validation errors answer 400)."""
    for content in (response.get("content") or {}).values():
        schema = content.get("schema") or {}
        if schema and schema.get("$ref") != DEFAULT_422:
            return True
    return False


def _to_httpx(kwargs: dict) -> dict:
    """Schemathesis serializes a case for `requests`; the same request for httpx."""
    request = {key: kwargs[key] for key in ("method", "url", "headers", "params") if kwargs.get(key)}
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    data = kwargs.get("data")
    if isinstance(data, (bytes, str)):
        request["content"] = data
    elif data is not None:
        request["data"] = data
    if kwargs.get("files"):
        request["files"] = kwargs["files"]
    if kwargs.get("cookies"):
        request.setdefault("headers", {})["Cookie"] = "; ".join(f"{k}={v}" for k, v in kwargs["cookies"].items())
    return request


async def _seed(api, admin, make_member, organization_id) -> dict:
    """One real object of each kind the API's path ids name."""
    member = await make_member("Fuzz Target")
    group = (await api.post("/v1.0/groups", headers=admin, json={"displayName": "Fuzz group"})).json()
    application = (await api.post("/v1.0/applications", headers=admin,
                                  json={"displayName": "Fuzz app"})).json()
    handle = uuid.uuid4().hex[:8]
    cat = (await api.post(f"{EM}/catalogs", headers=admin, json={"displayName": f"Fuzz {handle}"})).json()
    pkg = (await api.post(f"{EM}/accessPackages", headers=admin, json={
        "displayName": "Fuzz package", "catalog": {"id": cat.get("id")}})).json()
    policy = (await api.post(f"{EM}/assignmentPolicies", headers=admin, json={
        "displayName": "Fuzz policy", "accessPackage": {"id": pkg.get("id")}})).json()
    connected = (await api.post(f"{EM}/connectedOrganizations", headers=admin, json={
        "displayName": "Fuzz partner", "identitySources": [{
            "@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": f"fuzz-{handle}.example"}]})).json()
    flow = (await api.post("/v1.0/identity/b2xUserFlows", headers=admin, json={
        "id": f"fuzz_{handle}", "userFlowType": "signUpOrSignIn", "userFlowTypeVersion": 3,
        "identityProviders": [{"id": "EmailOtpSignup-OAUTH"}]})).json()
    attribute = (await api.post("/v1.0/identity/userFlowAttributes", headers=admin,
                                json={"displayName": f"Fuzz{handle}", "dataType": "string"})).json()
    connector = (await api.post("/v1.0/identity/apiConnectors", headers=admin, json={
        "displayName": "Fuzz connector", "targetUrl": "https://localhost/fuzz-connector"})).json()
    ids = {"group_id": group.get("id"), "user_id": member.id, "application_id": application.get("id"),
           "catalog_id": cat.get("id"), "package_id": pkg.get("id"), "policy_id": policy.get("id"),
           "connected_id": connected.get("id"), "flow_id": flow.get("id"),
           "attribute_id": attribute.get("id"), "connector_id": connector.get("id"),
           "organization_id": organization_id}
    missing = [name for name, value in ids.items() if not value]
    assert not missing, f"could not create the objects to fuzz against: {missing}"
    return ids


async def _organization_snapshot(organization_id: str) -> dict:
    async with session_scope() as session:
        org = await session.get(Organization, organization_id)
        return org.model_dump()


async def _restore_organization(snapshot: dict) -> None:
    # The fuzzer PATCHes the tenant-wide policies; later tests expect the settings they started with.
    async with session_scope() as session:
        org = (await session.exec(select(Organization).where(Organization.id == snapshot["id"]))).one()
        for key, value in snapshot.items():
            setattr(org, key, value)
        session.add(org)


def _fuzz_operation(operation, headers: dict, examples: int, seeded: dict | None, seed: int,
                    send, checks) -> str | None:
    """Run Hypothesis over one operation for one caller; the first failure's report, or None."""
    strategies = [operation.as_strategy(generation_mode=mode)
                  for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    if seeded:
        strategies.append(operation.as_strategy(generation_mode=GenerationMode.POSITIVE,
                                                path_parameters=seeded))
        strategies.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE,
                                                path_parameters=seeded))

    @hypothesis_seed(seed)  # fixed per operation and caller: every run sends the same requests
    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False)
    @given(case=st.one_of(strategies))
    def run(case):
        kwargs = case.as_transport_kwargs(base_url=get_settings().public_url, headers=headers)
        response = send(_to_httpx(kwargs), operation.label)
        case.validate_response(response, checks=checks)

    try:
        run()
    except (Exception, BaseExceptionGroup) as failure:  # schemathesis's FailureGroup is a BaseExceptionGroup
        return f"{operation.label}: {failure}"
    return None


@pytest.mark.timeout(300 * SCALE)
@pytest.mark.parametrize("shard", range(SHARDS))
async def test_no_operation_answers_a_server_error(shard, app, api, admin, make_token, make_member,
                                                   organization_id):
    document = app.openapi()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the OpenAPI document names no operations"
    response_schema_operations = {
        op.label for op in operations
        if any(_documents_a_schema(r) for r in document["paths"][op.path][op.method.lower()]["responses"].values())}
    for label in EXCLUDED:
        assert label in {op.label for op in operations}, f"excluded operation {label} no longer exists"

    member = await make_member("Fuzz Member")
    callers = {"admin": admin, "member": await make_token(Role.member, user_id=member.id),
               "anonymous": {}}
    snapshot = await _organization_snapshot(organization_id)
    seeded_ids = await _seed(api, admin, make_member, organization_id)

    loop = asyncio.get_running_loop()
    app_errors: list[str] = []

    async def recording_app(scope, receive, send_):
        # A 500's cause, for the report (the response itself says only "Internal Server Error").
        try:
            await app(scope, receive, send_)
        except Exception as error:
            app_errors.append(f"{type(error).__name__}: {str(error)[:300]}")
            raise

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=recording_app, raise_app_exceptions=False),
                               base_url=get_settings().public_url, timeout=60)

    statuses = collections.Counter()
    answered_2xx = set()

    def send(request: dict, label: str) -> httpx.Response:
        response = asyncio.run_coroutine_threadsafe(client.request(**request), loop).result()
        statuses[f"{response.status_code // 100}xx"] += 1
        if response.is_success:
            answered_2xx.add(label)
        return response

    def fuzz_all() -> tuple[list[str], int]:
        failures, fuzzed = [], 0
        for index, operation in enumerate(operations):
            if index % SHARDS != shard or operation.label in EXCLUDED:
                continue
            fuzzed += 1
            checks = [not_a_server_error]
            if operation.label in response_schema_operations:
                checks.append(response_schema_conformance)
            names = [p.name for p in operation.path_parameters]
            seedable = names and all(n in SEEDED_PARAMETERS for n in names) and operation.method != "delete"
            for caller_index, (caller, headers) in enumerate(callers.items()):
                seeded = {n: seeded_ids[n] for n in names} if seedable and caller == "admin" else None
                report = _fuzz_operation(operation, headers, EXAMPLES[caller], seeded,
                                         seed=SEED * 10_000 + index * 10 + caller_index, send=send, checks=checks)
                if report:
                    cause = app_errors[-1] if app_errors else "no exception reached the app's edge"
                    failures.append(f"[{caller}] {report}\nCause: {cause}")
                app_errors.clear()
        return failures, fuzzed

    started = time.monotonic()
    try:
        failures, fuzzed = await asyncio.to_thread(fuzz_all)
    finally:
        await client.aclose()
        await _restore_organization(snapshot)
    elapsed = time.monotonic() - started
    print(f"\nschemathesis, shard {shard + 1} of {SHARDS}: {fuzzed} operations fuzzed, {len(EXCLUDED)} excluded, "
          f"{len(response_schema_operations)} with response-schema conformance; "
          f"{sum(statuses.values())} requests ({dict(sorted(statuses.items()))}), "
          f"{len(answered_2xx)} operations answered 2xx at least once; {elapsed:.1f}s")
    assert not failures, f"{len(failures)} server error(s):\n\n" + "\n\n".join(failures)
