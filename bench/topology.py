"""The production topology on one machine, started the way an operator starts it (the README's
production recipe), for tests/test_production_topology.py and `python -m bench.production`:

1. PostgreSQL for the directory: a fresh schema of its own on the given server (dropped on close).
2. One Temporal server: the bundled dev server, file-backed (bench.devserver), standing in for
   the cluster.
3. One strong FOYER_SECRET_KEY, the same for every process; FOYER_ENV left at production.
4. `foyer db upgrade`, once, before anything serves.
5. N `foyer api --host 127.0.0.1 --port P` processes (the installed entry point of this
   virtualenv, each its own OS process), ready when GET /readyz answers 200.
6. M `foyer worker --health-port H` processes on the same task queue, each with its SDK metrics on
   FOYER_WORKER_METRICS_ADDRESS, ready when their /readyz answers 200.
7. An SMTP server: foyer.mailcatcher.MailCatcher in this process (a thread), counting Message-IDs.

Any API or worker can be SIGKILLed (its whole process group, as a crash would) and more started.
`foyer token create` makes the bearer token the callers use. Nothing here imports the settings of
the calling process: every child gets its environment from `Topology.env`, so a test process
(whose own FOYER_* point at the suite's database) and a bench process both can use it.
"""

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx

from bench.devserver import DevServer, dev_server
from bench.env import free_port
from foyer.mailcatcher import MailCatcher

# The `foyer` console script of the virtualenv running this: what `pip install` put on the PATH.
FOYER = str(Path(sys.executable).with_name("foyer"))
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def schema_url(base: str, schema: str, *settings: str) -> str:
    """`base` with every connection's search_path set to `schema`, and any other server
    `settings` ("name=value"), through libpq's `options`."""
    separator = "&" if "?" in base else "?"
    options = " ".join(f"-c{setting}" for setting in (f"search_path={schema}", *settings))
    return f"{base}{separator}options={quote(options)}"


class Service:
    """One `foyer api` or `foyer worker` process, in a process group of its own."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path, health: str):
        self.name, self.argv, self.env, self.log, self.health = name, argv, env, log, health
        self.process: subprocess.Popen | None = None

    def start(self) -> "Service":
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def wait_ready(self, timeout: float = 60) -> None:
        """Until GET {health}/readyz answers 200 (database and Temporal reachable)."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                if not self.alive():
                    raise RuntimeError(f"{self.name} exited ({self.process.returncode}):\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{self.health}/readyz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s:\n{self.tail()}")
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the process group (uvicorn's workers, the SDK's threads: all of it), and reap."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self, grace: float = 10) -> None:
        """SIGTERM (graceful: a worker finishes its activities), SIGKILL after `grace` seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return f"--- {self.name} ({self.log}) ---\n" + "\n".join(text[-lines:])


class Api(Service):
    def __init__(self, index: int, env: dict, root: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(f"api-{index}", [FOYER, "api", "--host", "127.0.0.1", "--port", str(self.port),
                                          "--log-level", "warning"],
                         env, root / f"api-{index}.log", self.url)


class Worker(Service):
    def __init__(self, index: int, env: dict, root: Path):
        self.health_port, self.metrics_port = free_port(), free_port()
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        env = {**env, "FOYER_WORKER_METRICS_ADDRESS": f"127.0.0.1:{self.metrics_port}"}
        super().__init__(f"worker-{index}", [FOYER, "worker", "--health-port", str(self.health_port)],
                         env, root / f"worker-{index}.log", f"http://127.0.0.1:{self.health_port}")


class Topology:
    """PostgreSQL schema + Temporal + mail + N APIs + M workers. `async with Topology(...) as t`."""

    def __init__(self, root: Path, postgres_url: str = DEFAULT_POSTGRES_URL, *, apis: int = 2, workers: int = 2,
                 env: dict | None = None, database_settings: tuple[str, ...] = ()):
        self.root = root
        self.run_id = uuid.uuid4().hex[:8]
        self.postgres_url = postgres_url
        self.schema = f"foyer_topology_{self.run_id}"
        # database_settings: e.g. ("synchronous_commit=off",) for a throwaway test schema, as
        # tests/conftest.py does; an operator's database keeps the server's defaults.
        self.database_url = schema_url(postgres_url, self.schema, *database_settings)
        self.task_queue = f"foyer-topology-{self.run_id}"
        self.temporal_port = free_port()
        self.mail = MailCatcher(port=free_port())
        self.initial = (apis, workers)
        self.apis: list[Api] = []
        self.workers: list[Worker] = []
        self.temporal: DevServer | None = None
        self.organization_id: str | None = None
        self._stack = contextlib.AsyncExitStack()
        self._extra_env = env or {}
        self.secret_key = secrets.token_urlsafe(48)  # production strength: FOYER_ENV stays unset

    @property
    def env(self) -> dict:
        """What every Foyer process of the deployment gets (the operator's environment file)."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("FOYER_")}
        return {**inherited,
                "FOYER_DATABASE_URL": self.database_url,
                "FOYER_SECRET_KEY": self.secret_key,
                "FOYER_TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
                "FOYER_TEMPORAL_NAMESPACE": "default",
                "FOYER_TASK_QUEUE": self.task_queue,
                "FOYER_SMTP_HOST": "127.0.0.1",
                "FOYER_SMTP_PORT": str(self.mail.controller.port),
                "FOYER_PUBLIC_URL": "https://foyer.topology.test",
                "FOYER_STATE_DIR": str(self.root / "state"),
                "FOYER_ORGANIZATION_NAME": "Topology Org",
                "FOYER_ORGANIZATION_DOMAIN": "topology.test",
                "PYTHONUNBUFFERED": "1",
                **self._extra_env}

    # --- the steps ----------------------------------------------------------------------------

    def _schema(self, create: bool) -> None:
        import psycopg

        with psycopg.connect(self.postgres_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
            if create:
                conn.execute(f'CREATE SCHEMA "{self.schema}"')

    def foyer(self, *args: str) -> str:
        """Run a `foyer` command with the deployment's environment; its stdout."""
        done = subprocess.run([FOYER, *args], env=self.env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"foyer {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
        return done.stdout.strip()

    def token(self, role: str = "Global Administrator", name: str = "topology") -> dict:
        token = self.foyer("token", "create", "--name", name, "--role", role).splitlines()[-1].strip()
        return {"Authorization": f"Bearer {token}"}

    def add_api(self) -> Api:
        api = Api(len(self.apis), self.env, self.root)
        self.apis.append(api.start())
        return api

    def add_worker(self) -> Worker:
        worker = Worker(len(self.workers), self.env, self.root)
        self.workers.append(worker.start())
        return worker

    async def __aenter__(self) -> "Topology":
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._schema(create=True)
            self._stack.callback(self._schema, False)
            self.mail.start()
            self._stack.callback(self.mail.stop)
            self.temporal = await self._stack.enter_async_context(dev_server(self.root, self.temporal_port))
            self.organization_id = self.foyer("db", "upgrade").splitlines()[-1].strip()
            self._stack.callback(self._stop_all)
            apis, workers = self.initial
            started = [self.add_api() for _ in range(apis)] + [self.add_worker() for _ in range(workers)]
            await asyncio.gather(*(service.wait_ready() for service in started))
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        await self._stack.aclose()

    def _stop_all(self) -> None:
        for service in [*self.apis, *self.workers]:
            service.kill()

    def tails(self) -> str:
        return "\n".join(service.tail() for service in [*self.apis, *self.workers])

    # --- what the outside sees ------------------------------------------------------------------

    def sql(self, query: str, *params) -> list[tuple]:
        """Rows of a read in the deployment's schema (for checks after the fact)."""
        import psycopg

        with psycopg.connect(self.postgres_url, options=f"-csearch_path={self.schema}", connect_timeout=10) as conn:
            return conn.execute(query, params).fetchall()
