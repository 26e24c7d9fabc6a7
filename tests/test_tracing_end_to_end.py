"""With an OTLP endpoint configured, one trace runs from the HTTP request through the workflow to
the activity and its outbound call: `foyer api` and `foyer worker` as real processes, exporting to
a real OTLP/HTTP receiver, a guest's access request (POST …/assignmentRequests) whose policy calls
a custom extension (a real HTTP server); the receiver gets the API's server span, the worker's
workflow and activity spans, the activity's httpx span to the extension and SQLAlchemy spans, all
under one trace id."""

import pytest
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from foyer.security import extension_secret
from foyer.settings import PROJECT_ROOT
from tests.extension_receiver import ExtensionReceiver
from tests.ports import free_port
from tests.factories import make_token, make_user
from tests.otlp_receiver import OtlpReceiver
from tests.process_stack import eventually
from tests.test_custom_extension_timeout_and_failure import with_extension

pytestmark = pytest.mark.long_running(14)

FOYER = str(Path(sys.executable).parent / "foyer")
EM = "/v1.0/identityGovernance/entitlementManagement"
SERVER, CLIENT = 2, 3  # OTLP SpanKind


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen([FOYER, *args], cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait()


async def test_one_trace_from_the_request_to_the_outbound_call(temporal, organization_id, mail, tmp_path):
    with OtlpReceiver() as otlp:
        port = free_port()
        env = {**os.environ, "FOYER_TEMPORAL_ADDRESS": temporal.client.service_client.config.target_host,
               "FOYER_TASK_QUEUE": f"tracing-{uuid.uuid4().hex[:8]}", "FOYER_OTLP_ENDPOINT": otlp.endpoint,
               "OTEL_BSP_SCHEDULE_DELAY": "100", "PYTHONUNBUFFERED": "1"}
        worker = start(["worker"], env, tmp_path / "worker.log")
        api = start(["api", "--port", str(port)], env, tmp_path / "api.log")
        logs = lambda: "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"  # noqa: E731
                                 for p in tmp_path.glob("*.log"))
        try:
            async with ExtensionReceiver() as extension:
                package, policy, row = await with_extension(organization_id, extension.url, timeout=None)
                extension.secret = extension_secret(row.id)
                guest = await make_user(organization_id, "Tracy Guest", guest=True)
                headers = await make_token(organization_id, "guest", user_id=guest.id)
                await eventually(lambda: "worker polling" in (tmp_path / "worker.log").read_text(),
                                 "the worker to poll", 120)

                async def ready():
                    try:
                        async with httpx.AsyncClient() as client:
                            return (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
                    except httpx.TransportError:
                        assert api.poll() is None, logs()
                        return False
                await eventually(ready, "the API to be ready", 120)
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                    response = await client.post(f"{EM}/assignmentRequests", headers=headers, json={
                        "requestType": "userAdd", "justification": "tracing",
                        "assignment": {"accessPackageId": package.id, "assignmentPolicyId": policy.id}})
                assert response.status_code == 201, response.text
                await extension.event("assignmentRequestApproved", timeout=30)

            def linked():
                spans = otlp.snapshot()
                servers = [s for s in spans if s.service == "foyer-api" and s.kind == SERVER
                           and s.name == f"POST {EM}/assignmentRequests"]
                if not servers:
                    return None
                trace = [s for s in spans if s.trace_id == servers[0].trace_id]
                outbound = [s for s in trace if s.service == "foyer-worker" and s.kind == CLIENT
                            and str(s.attributes.get("http.url", s.attributes.get("url.full"))) == extension.url]
                workflow = [s for s in trace if s.service == "foyer-worker"
                            and s.name.startswith(("RunWorkflow:AccessRequestWorkflow",
                                                   "HandleUpdate:", "RunWorkflow:"))]
                activity = [s for s in trace if s.service == "foyer-worker" and s.name == "RunActivity:call_custom_extension"]
                sql = [s for s in trace if "db.system" in s.attributes or "db.system.name" in s.attributes]
                if outbound and workflow and activity and {s.service for s in sql} == {"foyer-api", "foyer-worker"}:
                    return servers[0], outbound[0], activity[0], trace
                return None
            try:
                server, outbound, activity, trace = await eventually(linked, "one linked trace", 30, interval=0.2)
            except AssertionError:
                names = sorted({(s.service, s.name) for s in otlp.snapshot()})
                raise AssertionError(f"spans received: {names}\n{logs()}") from None
        finally:
            stop(api)
            stop(worker)
    # The outbound call is a child of the activity's span; the server span is the trace's root.
    assert outbound.parent_id == activity.span_id
    assert server.parent_id == ""
    assert server.attributes.get("foyer.request_id")
    assert worker.returncode == 0, logs()  # it flushed its spans and left (SIGTERM) cleanly
    assert len({s.span_id for s in trace}) == len(trace)

