"""Liveness and readiness, for the API (/healthz, /readyz in api/main.py) and the worker (a tiny
HTTP server on FOYER_WORKER_HEALTH_PORT, started by worker.py; no FastAPI there).

Alive: the process answers. Ready: the database answers a trivial query and the Temporal frontend
answers GetSystemInfo, each within CHECK_TIMEOUT (and, for the worker, its SDK workers run).
`problems` names what is down, so a probe's 503 says which dependency to look at."""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import text
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

from foyer.db import get_engine

# A probe that waits longer than its own timeout (Kubernetes: 1 s by default) is worse than a 503.
CHECK_TIMEOUT = 2.0
logger = logging.getLogger("foyer.health")


def _reason(error: BaseException) -> str:
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return f"no answer within {CHECK_TIMEOUT:g}s"
    # The first line only: a driver's message may go on with the SQL and its parameters.
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


async def database_problem() -> str | None:
    """None when the database answers SELECT 1, else why not."""
    async def query() -> None:
        async with get_engine().connect() as connection:
            await connection.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(query(), CHECK_TIMEOUT)
    except Exception as error:
        return f"database unreachable: {_reason(error)}"
    return None


async def temporal_problem(client: Client | None) -> str | None:
    """None when the Temporal frontend answers GetSystemInfo, else why not."""
    if client is None:
        return "temporal unreachable: not connected yet"
    try:
        await asyncio.wait_for(client.workflow_service.get_system_info(
            GetSystemInfoRequest(), timeout=timedelta(seconds=CHECK_TIMEOUT)), CHECK_TIMEOUT + 0.5)
    except Exception as error:
        return f"temporal unreachable: {_reason(error)}"
    return None


async def problems(client: Client | None) -> list[str]:
    """What keeps this process from being ready (empty when ready); both checks run at once."""
    found = await asyncio.gather(database_problem(), temporal_problem(client))
    return [problem for problem in found if problem]


def not_ready_body(found: list[str]) -> dict:
    """The Graph-style error body of a 503 from /readyz."""
    return {"error": {"code": "ServiceUnavailable", "message": "not ready: " + "; ".join(found)}}


class HealthServer:
    """/healthz and /readyz over plain HTTP/1.0 on asyncio streams: enough for a probe, nothing
    else (any other path is a 404). `readiness` returns the problems, as `problems` does."""

    def __init__(self, host: str, port: int, readiness: Callable[[], Awaitable[list[str]]]):
        self.host, self.port, self.readiness = host, port, readiness
        self._server: asyncio.Server | None = None

    async def start(self) -> "HealthServer":
        self._server = await asyncio.start_server(self._answer, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]  # when asked for port 0
        logger.info("health checks on http://%s:%s/healthz and /readyz", self.host, self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), 5)
            parts = request_line.decode("latin-1").split()
            path = parts[1].split("?")[0] if len(parts) >= 2 else ""
            if len(parts) < 2 or parts[0] not in ("GET", "HEAD"):
                status, body = 405, {"error": {"code": "MethodNotAllowed", "message": "GET only"}}
            elif path == "/healthz":
                status, body = 200, {"status": "ok"}
            elif path == "/readyz":
                found = await self.readiness()
                status, body = (503, not_ready_body(found)) if found else (200, {"status": "ready"})
            else:
                status, body = 404, {"error": {"code": "Request_ResourceNotFound",
                                               "message": f"{path or 'that'} does not exist"}}
            payload = json.dumps(body).encode()
            reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}[status]
            writer.write(f"HTTP/1.0 {status} {reason}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                         + (payload if parts[:1] != ["HEAD"] else b""))
            await writer.drain()
        except (asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
