"""GET /metrics for Prometheus: the HTTP metrics of prometheus-fastapi-instrumentator and the
directory's gauges (foyer.metrics), in one registry per app.

Not part of the Graph API (no OpenAPI entry). Nothing in it is secret (route templates, status
codes, counts by state), but it is meant for Prometheus on a private network, not the public:
FOYER_METRICS_ENABLED=false removes it, FOYER_METRICS_TOKEN makes it require a bearer token.
"""

import hmac

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_fastapi_instrumentator import Instrumentator

from foyer.api import errors
from foyer.metrics import DirectoryCollector
from foyer.settings import get_settings


def install(app: FastAPI) -> None:
    """Instrument `app` (call it before SecurityHeaders is added, so that stays outermost) and add
    GET /metrics. The registry is the app's own: a second app in the same process (the tests)
    registers its metrics again without clashing."""
    registry = CollectorRegistry()
    # Handlers are labelled by route template (/v1.0/users/{id}), never by the path itself, so
    # no id or token in a URL reaches a label; unmatched paths share the handler label "none".
    Instrumentator(registry=registry, excluded_handlers=["/metrics"]).instrument(app)
    directory = DirectoryCollector()
    registry.register(directory)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        token = get_settings().metrics_token
        if token is not None:
            expected = f"Bearer {token.get_secret_value()}".encode()
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return JSONResponse(errors.body("InvalidAuthenticationToken", "a valid metrics token is required"),
                                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
        await directory.refresh()
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
