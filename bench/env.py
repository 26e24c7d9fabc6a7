"""Isolated settings for one bench / recording run. Call `configure()` before importing Foyer."""

import os
import socket
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path


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

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"


def configure(prefix: str = "foyer-bench") -> BenchEnv:
    run_id = uuid.uuid4().hex[:8]
    state = Path(tempfile.mkdtemp(prefix=f"{prefix}-{run_id}-"))
    env = BenchEnv(run_id=run_id, state=state, smtp_port=free_port(), temporal_port=free_port(),
                   database_url=f"sqlite:///{state / 'foyer.db'}", task_queue=f"{prefix}-{run_id}")
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
