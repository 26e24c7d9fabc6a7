"""Prometheus metrics: GET /metrics on the API (HTTP metrics and the directory's gauges) and the
worker's Temporal SDK metrics on FOYER_WORKER_METRICS_ADDRESS."""

import asyncio
import secrets

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from temporalio.testing import ActivityEnvironment

import foyer.metrics
from foyer.activities.api_connectors import call_api_connector
from foyer.api.main import create_app
from foyer.settings import get_settings
from foyer.temporal import connect_client, worker_runtime
from tests.ports import free_port
from foyer.workflows.messages.sign_up import ConnectorCall


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """{(sample name, its labels): value} of a Prometheus text exposition."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


async def scrape(api) -> dict[tuple[str, frozenset], float]:
    response = await api.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def invitations(figures, state: str) -> float:
    return figures.get(("foyer_invitations", frozenset({("state", state)})), 0)


async def test_metrics_count_http_requests_by_route_template(api, admin):
    response = await api.get("/v1.0/organization", headers=admin)
    assert response.status_code == 200
    figures = await scrape(api)
    requests = figures[("http_requests_total", frozenset(
        {("handler", "/v1.0/organization"), ("method", "GET"), ("status", "2xx")}))]
    assert requests >= 1
    assert figures[("foyer_directory_read_ok", frozenset())] == 1


async def test_metrics_never_show_a_secret_from_the_path(api):
    # Redemption links carry their secret in the path: the label is the route template.
    secret = secrets.token_urlsafe(16)
    await api.get(f"/redeem/{secret}")
    response = await api.get("/metrics")
    assert secret not in response.text
    assert 'handler="/redeem/{token}"' in response.text


async def test_metrics_answer_with_the_security_headers_and_stay_out_of_the_openapi_document(api):
    response = await api.get("/metrics")
    assert response.headers["x-content-type-options"] == "nosniff"
    document = (await api.get("/openapi.json")).json()
    assert "/metrics" not in document["paths"]


async def test_invitation_gauge_goes_up_when_someone_is_invited(api, admin, new_email):
    before = invitations(await scrape(api), "pending")
    response = await api.post("/v1.0/invitations", headers=admin, json={
        "invitedUserEmailAddress": new_email(), "inviteRedirectUrl": "https://app.contoso.test/home",
        "sendInvitationMessage": False})
    assert response.status_code == 201, response.text
    for _ in range(100):  # the row is the workflow's first activity; it is there at 201, or soon
        figures = await scrape(api)
        if invitations(figures, "pending") >= before + 1:
            break
        await asyncio.sleep(0.1)
    assert invitations(figures, "pending") >= before + 1
    # The other gauges are there too, with the outbox's two watched states always present.
    assert ("foyer_outbox_messages", frozenset({("state", "pending")})) in figures
    assert ("foyer_outbox_messages", frozenset({("state", "failed")})) in figures
    assert ("foyer_approval_stages_waiting", frozenset()) in figures


async def test_metrics_token_is_required_when_set(api, monkeypatch):
    token = secrets.token_urlsafe(16)
    monkeypatch.setattr(get_settings(), "metrics_token", SecretStr(token))
    refused = await api.get("/metrics")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert (await api.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
    allowed = await api.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert allowed.status_code == 200 and "http_requests_total" in allowed.text


async def test_metrics_can_be_turned_off(temporal, monkeypatch):
    monkeypatch.setattr(get_settings(), "metrics_enabled", False)
    app = create_app(temporal_client=temporal.client)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_worker_serves_temporal_sdk_metrics_on_its_address(temporal, monkeypatch):
    assert worker_runtime(get_settings()) is None  # unset by default: no endpoint
    address = f"127.0.0.1:{free_port()}"
    monkeypatch.setattr(get_settings(), "temporal_address", temporal.client.service_client.config.target_host)
    monkeypatch.setattr(get_settings(), "worker_metrics_address", address)
    client = await connect_client(runtime=worker_runtime())
    await client.count_workflows()  # a call the SDK counts
    text = await worker_metrics_text(address, "temporal_request")
    assert "temporal_request" in text


async def worker_metrics_text(address: str, wanted: str) -> str:
    """The worker's metrics page once it shows `wanted` (the SDK exports on its own schedule), or
    as it is after 5 s."""
    async with httpx.AsyncClient() as http:
        for _ in range(50):
            text = (await http.get(f"http://{address}/metrics")).text
            if wanted in text:
                break
            await asyncio.sleep(0.1)
    return text


async def test_a_directory_outage_still_serves_the_http_metrics(api, monkeypatch):
    async def unreachable():
        raise ConnectionRefusedError("database down")
    monkeypatch.setattr(foyer.metrics, "read_directory", unreachable)
    # One request counted first: in a fresh app no HTTP sample exists until something is served.
    assert (await api.get("/v1.0/organization")).status_code == 401
    figures = await scrape(api)
    assert figures[("foyer_directory_read_ok", frozenset())] == 0
    assert not any(name.startswith("foyer_invitations") for name, _labels in figures)
    assert any(name == "http_requests_total" for name, _labels in figures)


async def test_worker_metrics_count_api_connector_outcomes(organization_id, monkeypatch):
    # The activity as the worker runs it, with the meter of a runtime serving metrics.
    address = f"127.0.0.1:{free_port()}"
    monkeypatch.setattr(get_settings(), "worker_metrics_address", address)
    environment = ActivityEnvironment()
    runtime = worker_runtime()  # kept: the endpoint lives as long as the runtime
    environment.metric_meter = runtime.metric_meter
    outcome = await environment.run(call_api_connector, ConnectorCall(
        connector_id="no-such-connector", step="postAttributeCollection", sign_up_id="s1",
        user_flow_id="f1", payload={}))
    assert outcome.action == "block"
    text = await worker_metrics_text(address, "foyer_api_connector_call_outcomes")
    [line] = [line for line in text.splitlines() if line.startswith("foyer_api_connector_call_outcomes")]
    assert 'action="block"' in line and line.endswith(" 1")
