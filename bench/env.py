"""Isolated settings for one bench / recording run. Call `configure()` before importing Foyer.

The database is SQLite (a fresh file in the run's state folder) unless the run is asked for
PostgreSQL: `--database postgres` on the command line or FOYER_BENCH_DATABASE=postgres, with the
server in FOYER_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test). Each run
then gets a fresh schema of its own (`foyer_bench_<run id>`, reached through the connection's
search_path, as the suite isolates its runs: tests/conftest.py), dropped when the process ends
(`--keep-schema` keeps it for a look afterwards). Unlike the suite, commits stay synchronous.
"""

import atexit
import os
import socket
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class BenchEnv:
    run_id: str
    state: Path
    smtp_port: int
    temporal_port: int
    database_url: str
    task_queue: str
    database: str = "sqlite"  # or "postgres"
    pg_schema: str | None = None

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def database_label(self) -> str:
        return "SQLite" if self.database == "sqlite" else f"PostgreSQL (schema {self.pg_schema})"


def database_choice(argv: list[str] | None = None) -> str:
    """`--database sqlite|postgres` (also `--database=…`), read before argparse runs (settings are
    fixed at import time), else FOYER_BENCH_DATABASE, else sqlite."""
    argv = sys.argv[1:] if argv is None else argv
    choice = os.environ.get("FOYER_BENCH_DATABASE", "sqlite")
    for i, arg in enumerate(argv):
        if arg == "--database" and i + 1 < len(argv):
            choice = argv[i + 1]
        elif arg.startswith("--database="):
            choice = arg.split("=", 1)[1]
    if choice not in ("sqlite", "postgres"):
        raise SystemExit(f"--database must be sqlite or postgres, not {choice!r}")
    return choice


def _postgres_schema(base: str, schema: str, *, create: bool) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        if create:
            conn.execute(f'CREATE SCHEMA "{schema}"')


def configure(prefix: str = "foyer-bench") -> BenchEnv:
    run_id = uuid.uuid4().hex[:8]
    state = Path(tempfile.mkdtemp(prefix=f"{prefix}-{run_id}-"))
    database = database_choice()
    schema = None
    if database == "postgres":
        base = os.environ.get("FOYER_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
        schema = f"{prefix.replace('-', '_')}_{run_id}"
        _postgres_schema(base, schema, create=True)
        if "--keep-schema" not in sys.argv:
            atexit.register(_postgres_schema, base, schema, create=False)
        separator = "&" if "?" in base else "?"
        database_url = f"{base}{separator}options=-csearch_path%3D{schema}"
    else:
        database_url = f"sqlite:///{state / 'foyer.db'}"
    env = BenchEnv(run_id=run_id, state=state, smtp_port=free_port(), temporal_port=free_port(),
                   database_url=database_url, task_queue=f"{prefix}-{run_id}", database=database,
                   pg_schema=schema)
    os.environ.update({
        "FOYER_DATABASE_URL": env.database_url,
        "FOYER_SMTP_HOST": "127.0.0.1",
        "FOYER_SMTP_PORT": str(env.smtp_port),
        "FOYER_SMTP_TIMEOUT_SECONDS": "30",
        "FOYER_TEMPORAL_ADDRESS": env.temporal_address,
        "FOYER_TEMPORAL_NAMESPACE": "default",
        "FOYER_TASK_QUEUE": env.task_queue,
        "FOYER_PUBLIC_URL": "http://127.0.0.1:8000",
        "FOYER_SECRET_KEY": f"bench-secret-{run_id}-0123456789abcdef",
        "FOYER_ORGANIZATION_NAME": "Bench Org",
        "FOYER_ORGANIZATION_DOMAIN": "bench.test",
        # The bench holds 50 in flight; keep the load-shedding valve out of the way.
        "FOYER_API_MAX_INFLIGHT": "10000",
        # The recorded scenarios' connector servers listen on 127.0.0.1 (see FOYER_OUTBOUND_ALLOWED_NETWORKS).
        "FOYER_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
    })
    return env
