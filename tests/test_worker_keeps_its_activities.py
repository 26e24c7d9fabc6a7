"""A worker busy with local activities still starts the remote activities it has taken at once.

In one SDK worker, the core hands local activities to Python ahead of remote activity tasks, so a
burst of local activities (every invitation records itself in one) held back the remote tasks
the worker had already taken from the server, past their heartbeat timeout: the server retried
them while the worker still ran them (the invitation benchmark's resent mail). Foyer's worker
(worker.workers_for, what build_worker and `foyer worker` run) keeps remote activities on an
SDK worker of their own."""

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from temporalio import activity, workflow
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from foyer.worker import workers_for

LOCAL_RUNS = {"count": 0}


@activity.defn
async def tick() -> None:
    LOCAL_RUNS["count"] += 1


@activity.defn
async def probe() -> tuple[int, float]:
    """(attempt, seconds from the server handing the task out to this code running)."""
    info = activity.info()
    return info.attempt, (datetime.now(timezone.utc) - info.started_time).total_seconds()


@workflow.defn(sandboxed=False)
class LocalBurst:
    @workflow.run
    async def run(self, rounds: int) -> None:
        for _ in range(rounds):
            await asyncio.gather(*(workflow.execute_local_activity(tick, start_to_close_timeout=timedelta(seconds=30))
                                   for _ in range(4)))


@workflow.defn(sandboxed=False)
class RemoteProbe:
    @workflow.run
    async def run(self) -> tuple[int, float]:
        return await workflow.execute_activity(probe, start_to_close_timeout=timedelta(seconds=60),
                                               heartbeat_timeout=timedelta(seconds=3))


async def probe_during_burst(client, worker) -> tuple[tuple[int, float], int, int]:
    """Start a burst of local activities, then a remote one in its midst: (probe's answer, local
    activities run when it was scheduled, and when it answered)."""
    queue = worker.task_queue if isinstance(worker, Worker) else worker.workers[0].task_queue
    LOCAL_RUNS["count"] = 0
    async with worker:
        bursts = [await client.start_workflow(LocalBurst.run, 100, id=f"{queue}-burst-{i}", task_queue=queue)
                  for i in range(24)]
        while LOCAL_RUNS["count"] < 300:
            await asyncio.sleep(0.01)
        before = LOCAL_RUNS["count"]
        answer = await client.execute_workflow(RemoteProbe.run, id=f"{queue}-probe", task_queue=queue,
                                               result_type=tuple[int, float])
        during = LOCAL_RUNS["count"]
        for burst in bursts:
            await burst.terminate()
    return answer, before, during


@pytest.mark.timeout(120)
async def test_remote_activity_starts_at_once_amid_local_activities(temporal):
    queue = f"keep-{uuid.uuid4().hex[:8]}"
    worker = workers_for(temporal.client, queue, [LocalBurst, RemoteProbe], [tick, probe],
                         workflow_runner=UnsandboxedWorkflowRunner())
    (attempt, lag), before, during = await probe_during_burst(temporal.client, worker)
    assert during < 24 * 100 * 4, "the burst ended before the probe ran: no load was measured"
    # With one SDK worker for both (the old shape) the probe's first attempt missed its 3 s heartbeat
    # timeout here and attempt 2 ran once the burst thinned out.
    assert attempt == 1 and lag < 2.0, f"the probe waited {lag:.1f} s in the worker (attempt {attempt})"
