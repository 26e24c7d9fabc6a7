"""The FastAPI application: Graph-shaped API under /v1.0/, redemption pages, dev mail viewer."""

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from foyer.api import errors, metrics
from foyer.api.limits import BodyLimits
from foyer.api.request_id import RequestId
from foyer.api.security_headers import SecurityHeaders
from foyer.api.pages import approvals, campaign, devmail, myaccess, myapps, mygroups, redeem, sign_up, signin
from foyer.api.routers import applications, audit, groups, invitations, openid, organization, users
from foyer.api.routers import campaigns, entitlement_extensions
from foyer.api.routers import sign_up_connectors, sign_up_flows
from foyer.api.routers import identity_providers, identity_sign_ups
from foyer.api.routers import conditional_access, cross_tenant_access, federation_configurations
from foyer.api.pages import federation as federation_pages
from foyer.api.pages.deps import install_page_refusals
from foyer.api.pages import mfa as mfa_pages
from foyer.api.routers import authentication_methods
from foyer.api.routers import access_reviews
from foyer.api.pages import reviews as review_pages
from foyer.api.routers import (
    entitlement_approvals, entitlement_assignments, entitlement_catalog, entitlement_connected_orgs,
    entitlement_packages, entitlement_policies, entitlement_requests, entitlement_settings,
)
from foyer import health, tracing
from foyer.settings import check_secret_key, get_settings
from foyer.temporal import connect_client, connect_options


@asynccontextmanager
async def lifespan(app: FastAPI):
    # Tests hand in their own client; otherwise connect once per process, lazily: an API replica
    # starts (alive, not ready: /readyz says so) while Temporal is away, and connects when it is back.
    if getattr(app.state, "temporal", None) is None:
        app.state.temporal = await connect_client(lazy=True)
    yield
    tracing.shutdown()  # export the spans still buffered (no-op when tracing is off)


def create_app(temporal_client=None) -> FastAPI:
    # Also when served without `foyer api` (e.g. `uvicorn --factory api.main:create_app`).
    check_secret_key()
    # Before any client or engine: with an OTLP endpoint configured, the Temporal client made in
    # the lifespan carries the tracing interceptor and foyer.db's engine is traced (foyer.tracing).
    tracing.setup("foyer-api")
    if temporal_client is None:
        connect_options()  # unusable FOYER_TEMPORAL_* settings fail here, not at the first request
    app = FastAPI(title="Foyer", version="0.1.0", lifespan=lifespan,
                  description="Guest onboarding and access governance, Graph-shaped.")
    app.state.temporal = temporal_client
    errors.install(app)
    install_page_refusals(app)
    app.add_middleware(BodyLimits)  # inside shed_load: a refused request reads no body
    limit = asyncio.Semaphore(get_settings().api_max_inflight)

    @app.middleware("http")
    async def shed_load(request: Request, call_next):
        # Overload answers 429 with Retry-After (as Graph does), never a 5xx or an unbounded queue.
        if limit.locked():
            return JSONResponse(errors.body("TooManyRequests", "the server is busy; retry shortly"),
                                status_code=429, headers={"Retry-After": "1"})
        async with limit:
            return await call_next(request)

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        # Alive: the process answers (a restart is what a failing liveness probe asks for).
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request):
        # Ready: the database and Temporal answer; a 503 names which does not (take this replica
        # out of the proxy's rotation, do not restart it).
        found = await health.problems(request.app.state.temporal)
        if found:
            return JSONResponse(health.not_ready_body(found), status_code=503)
        return {"status": "ready"}

    for router in (invitations.router, redeem.router, users.router, groups.router,
                   *applications.routers, *organization.routers, audit.router,
                   entitlement_catalog.router, entitlement_packages.router,
                   entitlement_policies.router, entitlement_connected_orgs.router,
                   entitlement_requests.router, entitlement_assignments.router,
                   entitlement_approvals.router, entitlement_settings.router,
                   entitlement_extensions.router, signin.router, myaccess.router, myapps.router, mygroups.router,
                   approvals.router, campaigns.router, campaign.router, openid.router):
        app.include_router(router)
    for router in (sign_up_connectors.router, *sign_up_flows.routers):
        app.include_router(router)
    for router in (identity_sign_ups.router, sign_up.router, identity_providers.router):
        app.include_router(router)
    # Federation with guests' own identity providers: the redemption order, the round trip's pages.
    for router in (cross_tenant_access.router, federation_pages.router):
        app.include_router(router)
    app.include_router(federation_configurations.router)
    app.include_router(conditional_access.router)
    app.include_router(mfa_pages.router)
    app.include_router(authentication_methods.router)
    for router in (access_reviews.router, review_pages.router):  # access reviews: Graph's edge, the reviewers' pages
        app.include_router(router)
    if get_settings().dev_maildir:  # `foyer dev` sets it; elsewhere /dev/mail does not exist
        app.include_router(devmail.make_router(get_settings().dev_maildir))
    if get_settings().metrics_enabled:
        # Outside shed_load, so its 429s are counted too; inside SecurityHeaders.
        metrics.install(app)
    # Added last, so outermost: every answer gets the headers, the 429 of shed_load included.
    app.add_middleware(SecurityHeaders)
    # Outside even SecurityHeaders: every answer, whoever made it, carries X-Request-ID.
    app.add_middleware(RequestId)
    tracing.instrument_app(app)  # server spans, outermost (when tracing is on)
    return app
