"""OpenTelemetry tracing: off unless an OTLP endpoint is configured; then one trace runs from the
HTTP request through the workflow to the activity, its SQL and its outbound call.

On when FOYER_OTLP_ENDPOINT (the collector's base URL, spans POSTed to <it>/v1/traces) or the
standard OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, and
OTEL_SDK_DISABLED is not "true". Spans go out over OTLP/HTTP (protobuf) in batches; the exporter
reads the other standard variables itself (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _CERTIFICATE),
the SDK the sampler (OTEL_TRACES_SAMPLER) and the batch settings (OTEL_BSP_*). The service name
is the process's (foyer-api, foyer-worker) unless OTEL_SERVICE_NAME says otherwise.

What is traced when on:
- FastAPI: one server span per request, named by route template; the recorded path and URL
  carry no query string ($filter values hold addresses) and, on the redemption pages, no link
  token (the path's token is replaced by "{token}");
- httpx: every outbound call (custom extensions, API connectors; foyer.outbound's transport is an
  httpx.AsyncHTTPTransport, whose handle_async_request the instrumentation wraps), the query
  string dropped from the recorded URL;
- SQLAlchemy: every statement on the engines foyer.db makes (statement text, never parameters);
- Temporal: temporalio.contrib.opentelemetry.TracingInterceptor on every client
  (foyer.temporal.connect_client), so on the workers made from it: StartWorkflow /
  UpdateWithStart spans on the client side, RunWorkflow, HandleUpdate, StartActivity and
  RunActivity spans in the worker, carried across by Temporal headers.

Off (the default), nothing of the SDK is imported, no instrumentation is installed and the
Temporal client carries no interceptor: the only cost is an `if`.

The API (api.main.create_app), the worker (worker.run_worker) and the CLI's Temporal commands call
`setup(service)` before they build their app, client or worker; it is idempotent (the first
service name of a process wins). `shutdown()` flushes what is buffered (the worker calls it before
it leaves with os._exit, which skips atexit).
"""

import logging
import os
import re
import weakref
from typing import Any

from foyer.settings import get_settings

log = logging.getLogger("foyer.tracing")

_provider: Any = None  # the SDK's TracerProvider once set up
_pending_engines: "weakref.WeakSet[Any]" = weakref.WeakSet()

# The redemption pages carry the link token in their path: never record it.
_SECRET_PATHS = re.compile(r"(/redeem/)[^/?#]+")


def endpoint() -> str | None:
    """Where spans go (the full /v1/traces URL), or None when tracing is off."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    base = get_settings().otlp_endpoint
    if base:
        return base.rstrip("/") + "/v1/traces"
    if traces := os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip():
        return traces
    if base := os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip():
        return base.rstrip("/") + "/v1/traces"
    return None


def enabled() -> bool:
    """Tracing is set up in this process."""
    return _provider is not None


def setup(service: str) -> bool:
    """Set up tracing for this process if an endpoint is configured; True if it is on."""
    global _provider
    if _provider is not None:
        return True
    url = endpoint()
    if url is None:
        return False
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; ours is the default.
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service}
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    trace.set_tracer_provider(provider)
    _provider = provider
    HTTPXClientInstrumentor().instrument(request_hook=_httpx_request_hook,
                                         async_request_hook=_async_httpx_request_hook)
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # Statements of the engines made so far, and (by wrapping the engine factories) of every
    # engine made from now on: spans carry the statement text, never its parameters.
    # skip_dep_check: the instrumentation declares sqlalchemy < 2.1 while Foyer runs 2.1, whose
    # engine events (all it uses) are unchanged; tests/test_tracing_end_to_end.py sees the spans.
    SQLAlchemyInstrumentor().instrument(engines=list(_pending_engines), skip_dep_check=True)
    _pending_engines.clear()
    log.info("tracing on: %s spans to %s", service, _without_query(url))
    return True


def shutdown() -> None:
    """Export what is buffered and stop (at the end of a process)."""
    if _provider is not None:
        _provider.shutdown()


def instrument_engine(engine: Any) -> None:
    """Called by foyer.db for every engine it makes (an AsyncEngine). Made before setup(), it is
    remembered and traced by setup(); made after, SQLAlchemyInstrumentor's wrapper of
    sqlalchemy.ext.asyncio.create_async_engine (which foyer.db calls through the module) already
    traced it."""
    if _provider is None:
        _pending_engines.add(getattr(engine, "sync_engine", engine))


def instrument_app(app: Any) -> None:
    """Server spans for a FastAPI app (when tracing is on)."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # /metrics and the probes are scraped every few seconds: no span each time. No internal span
    # per ASGI receive and send either (two or three a request, for nothing a reader needs).
    FastAPIInstrumentor.instrument_app(app, server_request_hook=_server_request_hook,
                                       excluded_urls="/metrics,/healthz,/readyz",
                                       exclude_spans=["receive", "send"])


def client_interceptors() -> list:
    """The Temporal client's interceptors: the SDK's TracingInterceptor when tracing is on."""
    if _provider is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def workflow_runner_options() -> dict:
    """Worker keywords for the workflow SDK worker: OpenTelemetry passed through the workflow
    sandbox (as the SDK's own plugin does), so the interceptor's context is the real one."""
    if _provider is None:
        return {}
    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

    return {"workflow_runner": SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("opentelemetry"))}


def redact_path(path: str) -> str:
    return _SECRET_PATHS.sub(r"\1{token}", path)


def _without_query(url: str) -> str:
    return url.split("?", 1)[0].split("#", 1)[0]


# Attribute names of both the old and the stable HTTP semantic conventions.
_PATH_ATTRIBUTES = ("http.target", "url.path")
_URL_ATTRIBUTES = ("http.url", "url.full")


def _server_request_hook(span, scope: dict) -> None:
    # The recorded path and URL lose the query string ($filter values carry addresses and names)
    # and, on the redemption pages, the link token.
    if span is None or not span.is_recording():
        return
    path = scope.get("path", "")
    redacted = redact_path(path)
    for name in _PATH_ATTRIBUTES:
        span.set_attribute(name, redacted)
    host = next((value.decode("latin-1") for key, value in scope.get("headers") or [] if key == b"host"), "")
    for name in _URL_ATTRIBUTES:
        span.set_attribute(name, f"{scope.get('scheme', 'http')}://{host}{redacted}")
    if "url.query" in (getattr(span, "attributes", None) or {}):  # the stable conventions' query
        span.set_attribute("url.query", "")
    if redacted != path and span.name.endswith(path):  # a span not named by a route template
        span.update_name(span.name[: -len(path)] + redacted)


def _httpx_request_hook(span, request) -> None:
    # A connector's or extension's URL may carry a key in its query (e.g. ?code=...): keep it out.
    if span is None or not span.is_recording():
        return
    url = str(request.url) if not isinstance(request.url, tuple) else request.url
    if hasattr(request.url, "copy_with"):
        url = str(request.url.copy_with(query=None, fragment=None))
    else:
        url = _without_query(str(url))
    for name in _URL_ATTRIBUTES:
        span.set_attribute(name, url)


async def _async_httpx_request_hook(span, request) -> None:
    _httpx_request_hook(span, request)
