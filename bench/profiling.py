"""Light instrumentation for the bench: named wall-clock spans, without touching Foyer's code.

- activity execution time per activity type, and schedule→start wait (a worker interceptor);
- SMTP connect / send / quit (wrapping aiosmtplib.SMTP methods in this process only);
- database transactions of the activities (wrapping the `session_scope` they imported);
- the update-with-start round trip inside POST /invitations (wrapping the router's `invite_guest`).
"""

import functools
import statistics
import time
from collections import defaultdict
from contextlib import asynccontextmanager

from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

SPANS: dict[str, list[float]] = defaultdict(list)
COUNTS: dict[str, int] = defaultdict(int)


def record(name: str, seconds: float) -> None:
    SPANS[name].append(seconds)


def reset() -> None:
    SPANS.clear()
    COUNTS.clear()


def summary(names: list[str] | None = None) -> list[tuple[str, int, float, float, float, float]]:
    """(name, count, total s, mean ms, p50 ms, p95 ms) per span."""
    rows = []
    for name in names or sorted(SPANS):
        values = SPANS.get(name) or []
        if not values:
            continue
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        rows.append((name, len(values), sum(values), 1000 * statistics.fmean(values),
                     1000 * statistics.median(ordered), 1000 * p95))
    return rows


class _TimedActivities(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput):
        info = activity.info()
        waited = (info.started_time - info.current_attempt_scheduled_time).total_seconds()
        record(f"activity wait schedule→start: {info.activity_type}", max(waited, 0.0))
        if info.attempt > 1:
            COUNTS[f"activity retried: {info.activity_type}"] += 1
        started = time.perf_counter()
        try:
            return await self.next.execute_activity(input)
        except BaseException as error:
            COUNTS[f"activity failed: {info.activity_type}: {type(error).__name__}: {str(error)[:80]}"] += 1
            raise
        finally:
            record(f"activity run: {info.activity_type}", time.perf_counter() - started)


class TimingInterceptor(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _TimedActivities(next)


def _timed_async(name: str, function):
    @functools.wraps(function)
    async def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return await function(*args, **kwargs)
        finally:
            record(name, time.perf_counter() - started)
    return wrapper


def _timed_scope(name: str, scope):
    @asynccontextmanager
    async def wrapper():
        started = time.perf_counter()
        try:
            async with scope() as session:
                yield session
        finally:
            record(name, time.perf_counter() - started)
    return wrapper


def instrument() -> None:
    """Patch, in this process only, the few calls whose time we want to see."""
    import aiosmtplib

    import foyer.activities.invitations
    import foyer.activities.mail
    import foyer.api.routers.invitations

    smtp = aiosmtplib.SMTP
    smtp.connect = _timed_async("smtp connect (new connection per message)", smtp.connect)
    smtp.send_message = _timed_async("smtp send_message", smtp.send_message)
    smtp.quit = _timed_async("smtp quit", smtp.quit)
    foyer.activities.invitations.session_scope = _timed_scope(
        "db transaction (activities.invitations)", foyer.activities.invitations.session_scope)
    foyer.activities.mail.session_scope = _timed_scope(
        "db transaction (activities.mail outbox)", foyer.activities.mail.session_scope)
    foyer.api.routers.invitations.invite_guest = _timed_async(
        "api: update-with-start round trip (invite_guest())", foyer.api.routers.invitations.invite_guest)


def history_breakdown(events) -> dict[str, list[float]]:
    """Server-side timings of one run from its history: how long workflow tasks waited for the
    worker and took on it, how long each activity took from scheduling to completion, and how
    long the update took from acceptance to completion."""
    from temporalio.api.enums.v1 import EventType as E

    out: dict[str, list[float]] = defaultdict(list)
    scheduled: dict[int, tuple] = {}
    wft_scheduled = wft_started = update_accepted = None
    first = events[0].event_time.ToDatetime()
    for event in events:
        at = event.event_time.ToDatetime()
        kind = event.event_type
        if kind == E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            wft_scheduled = at
        elif kind == E.EVENT_TYPE_WORKFLOW_TASK_STARTED and wft_scheduled:
            out["workflow task waiting for the worker (scheduled→started)"].append(
                (at - wft_scheduled).total_seconds())
            wft_started = at
        elif kind == E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED and wft_started:
            out["workflow task on the worker (started→completed)"].append((at - wft_started).total_seconds())
        elif kind == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled[event.event_id] = (at, event.activity_task_scheduled_event_attributes.activity_type.name)
        elif kind == E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            when, name = scheduled.get(event.activity_task_completed_event_attributes.scheduled_event_id,
                                       (None, "?"))
            if when:
                out[f"activity {name} (scheduled→completed)"].append((at - when).total_seconds())
                out[f"run start → {name} completed"].append((at - first).total_seconds())
        elif kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            update_accepted = at
            out["run start → update accepted"].append((at - first).total_seconds())
        elif kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED and update_accepted:
            out["update accepted → completed"].append((at - update_accepted).total_seconds())
    out["workflow tasks per run"].append(
        sum(1 for e in events if e.event_type == E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED))
    return out


async def sample_histories(client, workflow_ids: list[str]) -> list[tuple[str, float, float, int]]:
    """(what, mean s, p95 s, count) over the sampled runs' histories."""
    merged: dict[str, list[float]] = defaultdict(list)
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        for name, values in history_breakdown(history.events).items():
            merged[name].extend(values)
    rows = []
    for name, values in merged.items():
        ordered = sorted(values)
        rows.append((name, statistics.fmean(values), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
                     len(values)))
    return rows
