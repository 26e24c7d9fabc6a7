"""Starting and steering access reviews: a definition's recurrence becomes a Temporal Schedule
(`access-review-schedule:{definition id}`) whose action starts an AccessReviewOccurrenceWorkflow;
a definition without recurrence gets one occurrence. Instances are steered through their
AccessReviewWorkflow (`stop`, `send_reminder`, the `apply` Update). Every failure is raised as
`Refused`.

Recurrence (Graph's patternedRecurrence, validated by the API): `weekly` every `interval` weeks
(an interval schedule aligned on range.startDate), `absoluteMonthly` on `dayOfMonth` every
`interval` months (a calendar schedule; the interval divides 12); occurrences at 00:00 UTC. The
range's `startDate` opens it (today or earlier: the first occurrence starts at once), `endDate`
closes it, `numbered` limits the schedule to `numberOfOccurrences` actions.
"""

from datetime import date, datetime, time, timedelta, timezone

from temporalio.client import (
    Client, Schedule, ScheduleActionStartWorkflow, ScheduleCalendarSpec, ScheduleIntervalSpec,
    ScheduleOverlapPolicy, SchedulePolicy, ScheduleRange, ScheduleSpec, ScheduleState, WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from foyer.errors import Refused
from foyer.settings import get_settings
from foyer.workflows.access_review import AccessReviewOccurrenceWorkflow, AccessReviewWorkflow
from foyer.workflows.client.failures import refusal, unavailable, workflow_failed
from foyer.models.access_reviews import AccessReviewDefinition
from foyer.workflows.messages.access_review import (
    AccessReviewOccurrenceInput, access_review_schedule_id, access_review_workflow_id,
)

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _start_of(recurrence: dict, now: datetime) -> datetime:
    start = (recurrence.get("range") or {}).get("startDate")
    day = date.fromisoformat(start) if isinstance(start, str) else now.date()
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def schedule_spec(recurrence: dict, now: datetime) -> tuple[ScheduleSpec, ScheduleState, bool]:
    """The schedule's spec and state for a recurrence, and whether to trigger the first
    occurrence at once (its start date is today or past)."""
    pattern, span = recurrence.get("pattern") or {}, recurrence.get("range") or {}
    start = _start_of(recurrence, now)
    interval = int(pattern.get("interval") or 1)
    immediately = start <= now
    # Started already: the schedule takes over from the next occurrence after today's.
    opens = start + timedelta(days=1) if immediately else start
    if pattern.get("type") == "absoluteMonthly":
        day = int(pattern.get("dayOfMonth") or start.day)
        first_month = (start.month - 1) % interval + 1
        spec = ScheduleSpec(calendars=[ScheduleCalendarSpec(
            day_of_month=[ScheduleRange(day)], month=[ScheduleRange(first_month, 12, interval)],
            hour=[ScheduleRange(0)], minute=[ScheduleRange(0)], second=[ScheduleRange(0)])], start_at=opens)
    else:  # weekly
        every = timedelta(weeks=interval)
        spec = ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every, offset=(start - EPOCH) % every)],
                            start_at=opens)
    end = span.get("endDate") if span.get("type") == "endDate" else None
    if isinstance(end, str):
        spec.end_at = datetime.combine(date.fromisoformat(end), time(23, 59, 59), tzinfo=timezone.utc)
    state = ScheduleState(note="Foyer access review")
    if span.get("type") == "numbered":
        remaining = int(span.get("numberOfOccurrences") or 1) - (1 if immediately else 0)
        state = ScheduleState(note="Foyer access review", limited_actions=True, remaining_actions=max(remaining, 0))
    return spec, state, immediately


def _failure(error: BaseException) -> Refused:
    found = refusal(error, also={"instanceNotCompleted": 409})
    if found is not None:
        return found
    if isinstance(error, WorkflowUpdateFailedError):
        return workflow_failed(error)
    return unavailable(error)


async def schedule_definition(client: Client, definition: AccessReviewDefinition) -> None:
    """Put the definition's recurrence on a Temporal Schedule (replacing an earlier one), or, with
    no recurrence, start its one occurrence (at its start date). Called once its row is committed."""
    now = datetime.now(timezone.utc)
    settings = get_settings()
    data = AccessReviewOccurrenceInput(organization_id=definition.organization_id, definition_id=definition.id)
    occurrence_id = f"access-review-occurrence:{definition.id}"
    recurrence = (definition.settings or {}).get("recurrence") or {}
    try:
        if not recurrence.get("pattern"):
            # One occurrence, on the range's start date (today when none is given).
            start = _start_of(recurrence, now)
            await client.start_workflow(AccessReviewOccurrenceWorkflow.run, data, id=f"{occurrence_id}:once",
                                        task_queue=settings.task_queue,
                                        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                                        start_delay=max(start - now, timedelta(0)) or None)
            return
        spec, state, immediately = schedule_spec(recurrence, now)
        schedule = Schedule(action=ScheduleActionStartWorkflow(AccessReviewOccurrenceWorkflow.run, data, id=occurrence_id,
                                                               task_queue=settings.task_queue),
                            spec=spec, state=state,
                            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.ALLOW_ALL))
        await delete_schedule(client, definition.id)
        await client.create_schedule(access_review_schedule_id(definition.id), schedule)
        if immediately:
            await client.start_workflow(AccessReviewOccurrenceWorkflow.run, data, id=f"{occurrence_id}:first",
                                        task_queue=settings.task_queue,
                                        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    except WorkflowAlreadyStartedError:
        return  # the first occurrence was started by an earlier call
    except RPCError as error:
        raise _failure(error) from error


async def trigger_occurrence(client: Client, definition_id: str) -> None:
    """Start the next occurrence now (as the schedule would), e.g. an administrator's "start now"."""
    try:
        await client.get_schedule_handle(access_review_schedule_id(definition_id)).trigger(
            overlap=ScheduleOverlapPolicy.ALLOW_ALL)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise Refused("Request_ResourceNotFound", "this review has no recurrence to trigger", status_hint=404)
        raise _failure(error) from error


async def delete_schedule(client: Client, definition_id: str) -> None:
    try:
        await client.get_schedule_handle(access_review_schedule_id(definition_id)).delete()
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise _failure(error) from error


async def _signal(client: Client, instance_id: str, signal) -> None:
    handle = client.get_workflow_handle_for(AccessReviewWorkflow.run, access_review_workflow_id(instance_id))
    try:
        await handle.signal(signal)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:  # ended already
            raise _failure(error) from error


async def stop_instance(client: Client, instance_id: str) -> None:
    """End the instance now: the default decision, then (with auto-apply) applying."""
    await _signal(client, instance_id, AccessReviewWorkflow.stop)


async def send_reminder(client: Client, instance_id: str) -> None:
    await _signal(client, instance_id, AccessReviewWorkflow.send_reminder)


async def stop_definition(client: Client, definition_id: str, instance_ids: list[str] = ()) -> None:
    """No more occurrences, and the open instances stopped."""
    await delete_schedule(client, definition_id)
    for instance_id in instance_ids:
        await stop_instance(client, instance_id)


async def apply_decisions(client: Client, instance_id: str) -> None:
    """applyDecisions: take back what was denied; `instanceNotCompleted` (409) before the end."""
    handle = client.get_workflow_handle_for(AccessReviewWorkflow.run, access_review_workflow_id(instance_id))
    try:
        await handle.execute_update(AccessReviewWorkflow.apply)
    except (WorkflowUpdateFailedError, RPCError) as error:
        if isinstance(error, RPCError) and error.status == RPCStatusCode.NOT_FOUND:
            raise Refused("instanceNotCompleted", "this review instance can no longer be applied", status_hint=409)
        raise _failure(error) from error
