"""Small helpers the activities share: heartbeating; and insert-if-absent and audit records, which
live in foyer.audit (re-exported here for the activities and routers that import them from here)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from temporalio import activity

from foyer.audit import audit, insert_ignore

__all__ = ["audit", "heartbeating", "insert_ignore"]


@asynccontextmanager
async def heartbeating(every: float = 2.0) -> AsyncIterator[None]:
    """Heartbeat while the block runs, so a worker that dies is noticed within the activity's
    heartbeat timeout (seconds) rather than its start-to-close timeout (minutes).

    The first beat comes after `every`, not at once: the server counts the heartbeat timeout from
    the start anyway, and most activities (a mail, a row) are done before it, so they cost the
    server no heartbeat at all. The beat is a task on the event loop: a loop kept busy delays it,
    which is why HEARTBEAT_TIMEOUT (workflows/retries.py) leaves room for a busy worker."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(every)
            activity.heartbeat()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
