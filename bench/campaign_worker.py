"""The worker the campaign benchmark measures, in its own process (so its memory is its own):
Foyer's worker (`worker.build_worker`) plus the raw-ceiling workflow on `<task queue>-raw`, so
both phases run on the same worker process and the same Temporal server."""

import asyncio

from temporalio.worker import Worker

from bench import raw
from foyer.settings import get_settings
from foyer.temporal import connect_client
from foyer.worker import build_worker


async def main() -> None:
    client = await connect_client()
    raw_worker = Worker(client, task_queue=f"{get_settings().task_queue}-raw", workflows=[raw.NoopWorkflow],
                        activities=[raw.noop], max_concurrent_activities=100)
    async with build_worker(client), raw_worker:
        print("worker polling", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
