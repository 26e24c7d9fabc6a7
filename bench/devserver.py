"""The Temporal dev server as a subprocess: the bundled binary, file-backed, as `foyer dev` runs it."""

import asyncio
import os
import subprocess
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from foyer.temporal import DEV_SERVER_SQLITE_PRAGMAS, bundled_binary


@dataclass
class DevServer:
    client: Client
    pid: int

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


@asynccontextmanager
async def dev_server(state: Path, port: int, *extra: str):
    """Start `temporal server start-dev` on 127.0.0.1:port with its SQLite file in `state`;
    yields a DevServer (client with the pydantic data converter, pid); stops it on exit."""
    command = [bundled_binary("temporal"), "server", "start-dev",
               "--db-filename", str(state / "temporal.db"), *DEV_SERVER_SQLITE_PRAGMAS, "--ip", "127.0.0.1",
               "--port", str(port), "--headless", "--log-level", "error", *extra]
    log = open(state / "temporal.log", "wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"temporal dev server exited ({process.returncode}); "
                                   f"see {state / 'temporal.log'}")
            try:
                # connect() asks the server for its system info: it answers once it is up.
                client = await Client.connect(f"127.0.0.1:{port}", namespace="default",
                                              data_converter=pydantic_data_converter)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
        yield DevServer(client, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
