"""Without an OTLP endpoint, tracing is off: no OpenTelemetry SDK, exporter or instrumentation is
even imported, the app has no tracing middleware, httpx's transport is not wrapped, foyer.db's
engine has no tracing listener, and the Temporal client carries no interceptor. The same probe
with FOYER_OTLP_ENDPOINT set sees all of them, so it can tell the difference."""

import json
import os
import subprocess
import sys

from foyer import tracing
from foyer.settings import PROJECT_ROOT, get_settings
from tests.otlp_receiver import OtlpReceiver

PROBE = """
import asyncio, json, sys
import httpx
from foyer.api.main import create_app
from foyer import tracing
from foyer.db import get_engine
from foyer.temporal import connect_client

async def main():
    app = create_app()
    client = await connect_client(lazy=True)
    imported = sorted(m for m in ("opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http",
                                  "opentelemetry.instrumentation.fastapi", "opentelemetry.instrumentation.httpx",
                                  "opentelemetry.instrumentation.sqlalchemy") if m in sys.modules)
    listeners = get_engine().sync_engine.dispatch.before_cursor_execute
    return {
        "sdk_imported": imported,
        "app_instrumented": bool(getattr(app, "_is_instrumented_by_opentelemetry", False)),
        "httpx_wrapped": hasattr(httpx.AsyncHTTPTransport.handle_async_request, "__wrapped__"),
        "engine_traced": any(type(getattr(f, "__self__", None)).__name__ == "EngineTracer" for f in listeners),
        "interceptors": [type(i).__name__ for i in client.config()["interceptors"]],
        "workflow_runner": bool(tracing.workflow_runner_options()),
        "enabled": tracing.enabled(),
    }

print("PROBE " + json.dumps(asyncio.run(main())))
# The same process, now with an endpoint: the first app's engine is traced from now on too.
import os
from foyer.settings import get_settings
if len(sys.argv) > 1:
    os.environ["FOYER_OTLP_ENDPOINT"] = sys.argv[1]
    get_settings.cache_clear()
    print("PROBE " + json.dumps(asyncio.run(main())))
"""

OTEL = ("FOYER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED")


def probe(endpoint: str) -> list[dict]:
    """What a fresh process sees without an endpoint, then (same process) with `endpoint`."""
    env = {k: v for k, v in os.environ.items() if k not in OTEL}
    result = subprocess.run([sys.executable, "-c", PROBE, endpoint], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [json.loads(line.removeprefix("PROBE ")) for line in result.stdout.splitlines()
            if line.startswith("PROBE ")]


def test_tracing_is_off_unless_an_endpoint_is_configured():
    with OtlpReceiver(keep=False) as otlp:
        off, on = probe(otlp.endpoint)
    assert off == {"sdk_imported": [], "app_instrumented": False, "httpx_wrapped": False, "engine_traced": False,
                   "interceptors": [], "workflow_runner": False, "enabled": False}
    assert on == {"sdk_imported": ["opentelemetry.exporter.otlp.proto.http", "opentelemetry.instrumentation.fastapi",
                                   "opentelemetry.instrumentation.httpx", "opentelemetry.instrumentation.sqlalchemy",
                                   "opentelemetry.sdk"],
                  "app_instrumented": True, "httpx_wrapped": True, "engine_traced": True,
                  "interceptors": ["TracingInterceptor"], "workflow_runner": True, "enabled": True}


def test_which_variables_turn_it_on(monkeypatch):
    for name in OTEL:
        monkeypatch.delenv(name, raising=False)
    assert get_settings().otlp_endpoint is None and tracing.endpoint() is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
    assert tracing.endpoint() == "http://collector:4318/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4318/custom")
    assert tracing.endpoint() == "http://traces:4318/custom"
    monkeypatch.setattr(get_settings(), "otlp_endpoint", "http://foyer-collector:4318")
    assert tracing.endpoint() == "http://foyer-collector:4318/v1/traces"  # FOYER_OTLP_ENDPOINT wins
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert tracing.endpoint() is None
