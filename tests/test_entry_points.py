"""The production entry points: `foyer api --host --port --workers` (real processes), forwarded
headers believed only from the proxies named, /healthz and /readyz on the API and on the worker's
health port (503 naming what is down), and SIGTERM stopping `foyer worker` gracefully (exit 0)."""

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import UnsandboxedWorkflowRunner

from foyer.api.main import create_app
from foyer import health
from foyer.cli import build_parser, uvicorn_options
from foyer.db import make_engine
from foyer.settings import PROJECT_ROOT, Settings
from foyer.worker import workers_for
from tests.ports import free_port

pytestmark = pytest.mark.long_running(36)

FOYER = str(Path(sys.executable).parent / "foyer")



async def answer(url: str, timeout: float, process: subprocess.Popen | None = None,
                 status: int = 200) -> httpx.Response:
    """GET `url` until it answers `status` (the server may still be starting)."""
    deadline = time.monotonic() + timeout
    last = None
    async with httpx.AsyncClient(timeout=5) as client:
        while True:
            if process is not None and process.poll() is not None:
                raise AssertionError(f"process exited ({process.returncode}): {process.stdout.read()}")
            try:
                last = await client.get(url)
                if last.status_code == status:
                    return last
            except httpx.TransportError as error:
                last = error
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} did not answer {status} within {timeout}s: {last!r}")
            await asyncio.sleep(0.2)


def stop(process: subprocess.Popen, timeout: float = 20) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise


def environment(temporal, **extra: str) -> dict:
    env = {**os.environ, "FOYER_TEMPORAL_ADDRESS": temporal.client.service_client.config.target_host}
    env.pop("FOYER_FORWARDED_ALLOW_IPS", None)
    return {**env, **extra}


# --- /readyz of the API -----------------------------------------------------------------------

async def test_api_is_ready_when_database_and_temporal_answer(api):
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    response = await api.get("/readyz")
    assert response.status_code == 200 and response.json() == {"status": "ready"}


async def test_api_is_alive_but_not_ready_when_temporal_is_unreachable(organization_id):
    # What the API's lifespan makes: a lazy client, here of an address where nothing listens.
    nowhere = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    app = create_app(temporal_client=nowhere)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://foyer") as client:
        assert (await client.get("/healthz")).status_code == 200
        started = time.monotonic()
        response = await client.get("/readyz")
    assert time.monotonic() - started < health.CHECK_TIMEOUT + 2
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "ServiceUnavailable"
    assert "temporal unreachable" in error["message"] and "database" not in error["message"]


async def test_api_is_not_ready_when_the_database_is_unreachable(temporal, monkeypatch):
    nowhere = make_engine(f"postgresql://foyer@127.0.0.1:{free_port()}/foyer")
    monkeypatch.setattr(health, "get_engine", lambda: nowhere)
    app = create_app(temporal_client=temporal.client)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://foyer") as client:
        response = await client.get("/readyz")
    await nowhere.dispose()
    assert response.status_code == 503
    message = response.json()["error"]["message"]
    assert "database unreachable" in message and "temporal" not in message


# --- foyer api: host, port, workers --------------------------------------------------------------

async def test_foyer_api_serves_on_every_address_with_two_workers(temporal, organization_id, worker):
    port = free_port()
    process = subprocess.Popen(
        [FOYER, "api", "--host", "0.0.0.0", "--port", str(port), "--workers", "2", "--log-level", "info"],
        cwd=PROJECT_ROOT, env=environment(temporal), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True)
    try:
        await answer(f"http://127.0.0.1:{port}/healthz", 60, process)
        ready = await answer(f"http://127.0.0.1:{port}/readyz", 30, process)
        assert ready.json() == {"status": "ready"}
    finally:
        code = stop(process)
    output = process.stdout.read()
    assert code == 0, output
    assert f"Uvicorn running on http://0.0.0.0:{port}" in output
    assert output.count("Started server process") == 2, output  # two worker processes


def test_api_settings_and_flags(monkeypatch):
    parse = build_parser().parse_args
    monkeypatch.setattr("foyer.settings.get_settings", lambda: Settings(_env_file=None, api_port=8000))
    defaults = uvicorn_options(parse(["api"]))
    assert defaults.pop("log_config")["handlers"]["stderr"]["filters"] == ["context", "redact"]  # foyer.logs
    assert defaults | {"log_level": None} == {"host": "127.0.0.1", "port": 8000, "workers": 1, "proxy_headers": False,
                                              "forwarded_allow_ips": None, "log_level": None}
    monkeypatch.setattr("foyer.settings.get_settings", lambda: Settings(
        _env_file=None, api_host="0.0.0.0", api_port=9000, api_workers=4, forwarded_allow_ips="10.0.0.0/8, 192.0.2.1"))
    configured = uvicorn_options(parse(["api"]))
    assert (configured["host"], configured["port"], configured["workers"]) == ("0.0.0.0", 9000, 4)
    assert configured["proxy_headers"] and configured["forwarded_allow_ips"] == "10.0.0.0/8,192.0.2.1"
    flags = uvicorn_options(parse(["api", "--host", "::", "--port", "0", "--workers", "2",
                                   "--forwarded-allow-ips", "*"]))
    assert (flags["host"], flags["port"], flags["workers"], flags["forwarded_allow_ips"]) == ("::", 0, 2, "*")


@pytest.mark.parametrize("value", ["10.0.0.1/8", "proxy.internal", "*,10.0.0.1"])
def test_malformed_trusted_proxies_are_refused(value):
    with pytest.raises(ValueError, match="FOYER_FORWARDED_ALLOW_IPS"):
        Settings(_env_file=None, forwarded_allow_ips=value)
    result = subprocess.run([FOYER, "api", "--forwarded-allow-ips", value], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2 and "--forwarded-allow-ips" in result.stderr


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_api_workers_must_be_at_least_one(value):
    result = subprocess.run([FOYER, "api", "--workers", value], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "--workers" in result.stderr


async def what_the_app_sees(trusted: str | None) -> dict:
    """One request through X-Forwarded-Proto/-For to a real uvicorn configured as `foyer api` is
    (from 127.0.0.1), answered by an app that echoes the scheme and client it was given."""
    async def echo(scope, receive, send):
        if scope["type"] != "http":
            return
        body = f'{scope["scheme"]} {scope["client"][0]}'.encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body})

    argv = ["api", "--port", str(free_port())] + (["--forwarded-allow-ips", trusted] if trusted else [])
    options = uvicorn_options(build_parser().parse_args(argv))
    options.pop("workers")
    options.pop("log_config")  # Foyer's logging setup is not this test's subject (it would replace pytest's)
    server = uvicorn.Server(uvicorn.Config(echo, lifespan="off", **{**options, "log_level": "warning"}))
    task = asyncio.create_task(server.serve())
    try:
        response = await answer(f"http://127.0.0.1:{options['port']}/", 15)  # warm-up, no headers
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{options['port']}/", headers={
                "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"})
        scheme, client_host = response.text.split()
        return {"scheme": scheme, "client": client_host}
    finally:
        server.should_exit = True
        await task


async def test_forwarded_headers_are_believed_only_from_trusted_proxies():
    assert await what_the_app_sees(None) == {"scheme": "http", "client": "127.0.0.1"}  # the default
    assert await what_the_app_sees("10.0.0.0/8") == {"scheme": "http", "client": "127.0.0.1"}
    assert await what_the_app_sees("127.0.0.1") == {"scheme": "https", "client": "203.0.113.7"}
    assert await what_the_app_sees("127.0.0.0/8,::1") == {"scheme": "https", "client": "203.0.113.7"}


# --- foyer worker: health port, graceful SIGTERM ---------------------------------------------------

async def test_worker_health_port_answers_and_sigterm_exits_cleanly(temporal, organization_id):
    port = free_port()
    env = environment(temporal, FOYER_TASK_QUEUE=f"foyer-entry-{uuid.uuid4().hex[:8]}",
                      FOYER_WORKER_SHUTDOWN_SECONDS="7")
    process = subprocess.Popen([FOYER, "worker", "--health-port", str(port)], cwd=PROJECT_ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        alive = await answer(f"http://127.0.0.1:{port}/healthz", 60, process)
        assert alive.json() == {"status": "ok"}
        ready = await answer(f"http://127.0.0.1:{port}/readyz", 60, process)
        assert ready.json() == {"status": "ready"}
        missing = await answer(f"http://127.0.0.1:{port}/metrics", 5, process, status=404)
        assert missing.json()["error"]["code"] == "Request_ResourceNotFound"
        started = time.monotonic()
    finally:
        code = stop(process, timeout=40)
    output = process.stdout.read()
    assert code == 0, output
    # No activity was running: the stop does not wait out the grace period's whole length and more
    # (generous: the machine may be busy).
    assert time.monotonic() - started < 30, output
    # Both SDK workers were given the grace period (FOYER_WORKER_SHUTDOWN_SECONDS).
    assert output.count("will wait 0:00:07 before cancelling activities") == 2, output


async def test_worker_health_server_names_what_is_down():
    reasons: list[str] = ["temporal unreachable: no answer within 2s", "worker not polling"]

    async def readiness() -> list[str]:
        return reasons

    server = await health.HealthServer("127.0.0.1", 0, readiness).start()
    try:
        async with httpx.AsyncClient() as client:
            base = f"http://127.0.0.1:{server.port}"
            assert (await client.get(f"{base}/healthz")).status_code == 200
            response = await client.get(f"{base}/readyz")
            assert response.status_code == 503
            assert response.json() == {"error": {"code": "ServiceUnavailable", "message":
                                                 "not ready: temporal unreachable: no answer within 2s; "
                                                 "worker not polling"}}
            reasons.clear()
            assert (await client.get(f"{base}/readyz")).json() == {"status": "ready"}
            assert (await client.post(f"{base}/readyz")).status_code == 405
    finally:
        await server.stop()


# --- graceful shutdown lets a running activity finish ---------------------------------------------

SLOW_STEP_STARTED: list[asyncio.Event] = []  # the running test's event (activities run in its loop)


@activity.defn(name="entry_points_slow_step")
async def slow_step(seconds: float) -> str:
    SLOW_STEP_STARTED[-1].set()
    await asyncio.sleep(seconds)
    return "finished"


@workflow.defn(name="EntryPointsSlowWorkflow")
class SlowWorkflow:
    @workflow.run
    async def run(self, seconds: float) -> str:
        return await workflow.execute_activity(slow_step, seconds, start_to_close_timeout=timedelta(seconds=30),
                                               retry_policy=RetryPolicy(maximum_attempts=1))


async def test_a_stopped_worker_finishes_its_running_activity(temporal):
    """Cancelling FoyerWorker.run (what SIGTERM does to `foyer worker`) stops polling but lets the
    running activity complete within the grace period: the workflow sees its result, not a
    cancellation, and the run ends once the activity has."""
    queue = f"foyer-graceful-{uuid.uuid4().hex[:8]}"
    SLOW_STEP_STARTED.append(asyncio.Event())
    workers = workers_for(temporal.client, queue, [SlowWorkflow], [slow_step],
                          graceful_shutdown_timeout=timedelta(seconds=20),
                          workflow_runner=UnsandboxedWorkflowRunner())
    running = asyncio.create_task(workers.run())
    handle = await temporal.client.start_workflow(SlowWorkflow.run, 3.0, id=f"graceful-{queue}", task_queue=queue)

    await asyncio.wait_for(SLOW_STEP_STARTED[-1].wait(), 30)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    history = await handle.fetch_history()
    completed = [event for event in history.events if event.HasField("activity_task_completed_event_attributes")]
    assert len(completed) == 1  # finished after the stop, within the grace period
    # The workflow task that follows needs a worker: a new one finishes the run with the result.
    async with workers_for(temporal.client, queue, [SlowWorkflow], [slow_step],
                           workflow_runner=UnsandboxedWorkflowRunner()):
        assert await handle.result() == "finished"
