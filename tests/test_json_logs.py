"""FOYER_LOG_FORMAT=json: `foyer api` writes one JSON object a line, uvicorn's access log
included, each with the request's X-Request-ID (the caller's, or one it made and answered) and,
with tracing on, the trace and span id; inside activities the lines carry the workflow id, run id
and activity type; and a link token, passcode, bearer token or secret, in a message or an extra,
comes out redacted."""

import pytest
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx

from foyer import logs
from foyer.security import extension_secret
from foyer.settings import PROJECT_ROOT, get_settings
from tests.extension_receiver import ExtensionReceiver
from tests.ports import free_port
from tests.factories import make_user, request
from tests.otlp_receiver import OtlpReceiver
from tests.process_stack import eventually
from tests.test_custom_extension_timeout_and_failure import with_extension
from foyer.workflows.client import access_requests

pytestmark = pytest.mark.long_running(16)

FOYER = str(Path(sys.executable).parent / "foyer")
TOKEN = "Zm9vYmFyLWxpbmstdG9rZW4tc2VjcmV0"
PASSCODE = "48213977"


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


async def test_foyer_api_logs_json_with_request_and_trace_ids_and_no_secrets(temporal, organization_id, tmp_path):
    port = free_port()
    with OtlpReceiver() as otlp:
        env = {**os.environ, "FOYER_TEMPORAL_ADDRESS": temporal.client.service_client.config.target_host,
               "FOYER_LOG_FORMAT": "json", "FOYER_OTLP_ENDPOINT": otlp.endpoint, "PYTHONUNBUFFERED": "1"}
        log = tmp_path / "api.log"
        with open(log, "wb") as out:
            api = subprocess.Popen([FOYER, "api", "--port", str(port)], cwd=PROJECT_ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                async def up():
                    try:
                        return (await client.get("/healthz")).status_code == 200
                    except httpx.TransportError:
                        assert api.poll() is None, log.read_text()
                        return False
                await eventually(up, "the API", 120)
                given = await client.get("/v1.0/users", headers={"X-Request-ID": "req-7f3a",
                                                                 "Authorization": f"Bearer {TOKEN}"})
                made = await client.get(f"/redeem/{TOKEN}", params={"code": PASSCODE})
                odd = await client.get("/healthz", headers={"X-Request-ID": "not ok\tat all"})
            # Nor does either reach the tracing backend: the redemption page's server span.
            redeem = await eventually(lambda: [s for s in otlp.snapshot() if s.name.startswith("GET /redeem/")],
                                      "the redemption page's span", 30)
        finally:
            api.terminate()
            api.wait(timeout=30)
    assert redeem[0].name == "GET /redeem/{token}"
    recorded = repr([(s.name, s.attributes) for s in otlp.snapshot()])
    assert TOKEN not in recorded and PASSCODE not in recorded, recorded
    text = log.read_text()
    assert "color_message" not in text  # uvicorn's coloured copy of the message is dropped
    assert given.status_code == 401 and given.headers["X-Request-ID"] == "req-7f3a"
    generated = made.headers["X-Request-ID"]
    assert len(generated) == 32 and generated != "req-7f3a"
    assert odd.headers["X-Request-ID"] not in ("not ok\tat all", generated)  # refused, a new one made
    lines = json_lines(text)
    assert lines and all({"time", "level", "logger", "message", "service"} <= set(e) for e in lines), text
    access = {e["request_id"]: e for e in lines if e["logger"] == "uvicorn.access" and "request_id" in e}
    assert "/v1.0/users" in access["req-7f3a"]["message"]
    assert len(access["req-7f3a"]["trace_id"]) == 32 and len(access["req-7f3a"]["span_id"]) == 16
    assert "/redeem/[REDACTED]?code=[REDACTED]" in access[generated]["message"]
    # Neither the link token nor the passcode nor the bearer token is anywhere in the output.
    assert TOKEN not in text and PASSCODE not in text, text


async def test_activity_lines_carry_workflow_ids_and_secrets_are_redacted(temporal, worker, organization_id):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter(service="test"))
    handler.addFilter(logs.ContextFilter())
    handler.addFilter(logs.RedactionFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    level, root.level = root.level, logging.INFO
    try:
        async with ExtensionReceiver() as receiver:
            package, policy, extension = await with_extension(organization_id, receiver.url, timeout=None)
            receiver.secret = extension_secret(extension.id)
            guest = await make_user(organization_id, "Logan Guest", guest=True)
            spec = request(organization_id, package, policy, guest)
            assert get_settings().task_queue  # the suite's worker serves it
            await access_requests.submit_request(temporal.client, spec)
            await receiver.event("assignmentRequestApproved")
            workflow_id = f"access-request:{package.id}:{guest.id}"

            def outbound_line():
                return next((e for e in json_lines(stream.getvalue())
                             if e["logger"] == "foyer.outbound" and e.get("workflow_id") == workflow_id), None)
            line = await eventually(outbound_line, "the extension call's log line", 30)
        logging.getLogger("foyer.test").warning(
            "passcode is %s; Authorization: Bearer %s; link %s/redeem/%s", PASSCODE, TOKEN, "https://foyer.test", TOKEN,
            extra={"link_token": TOKEN, "detail": {"password": "hunter2-hunter2"}, "harmless": "kept"})
    finally:
        root.removeHandler(handler)
        root.level = level
    assert line["activity_type"] == "call_custom_extension" and line["run_id"] and line["attempt"] == 1
    assert line["workflow_type"] == "AccessRequestWorkflow"
    assert line["outcome"] == {"outcome": "sent"} and line["message"] == "outbound call custom_extension_call"
    last = json_lines(stream.getvalue())[-1]
    assert last["logger"] == "foyer.test" and last["harmless"] == "kept"
    assert last["link_token"] == "[REDACTED]" and last["detail"] == {"password": "[REDACTED]"}
    assert PASSCODE not in stream.getvalue() and TOKEN not in stream.getvalue() and "hunter2" not in stream.getvalue()
