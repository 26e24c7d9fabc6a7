"""The access review processes (foyer.workflows.messages.access_review has their contract).

AccessReviewOccurrenceWorkflow: what the definition's Temporal Schedule starts at each occurrence
(`access-review-schedule:{definition id}`; a definition without recurrence starts one by hand).
Its activity opens the occurrence's instances (one per resource) and starts one
AccessReviewWorkflow per instance, each on its own.

AccessReviewWorkflow (`access-review:{instance id}`): one instance, start to end.
1. `begin_access_review` snapshots who is in scope (a decision row each, with its recommendation)
   and resolves the reviewers; the reviewers (or, for a self-review, the people) are mailed.
2. It waits for the end, waking to remind halfway and the day before the end (when reminders are
   on) and whenever `send_reminder` asks; `stop` ends the wait early.
3. `complete_access_review` applies the default decision to what nobody reviewed, and closes.
4. With auto-apply — or on the `apply` Update, any time in the APPLY_WINDOW after the end — the
   denied access is taken back: memberships and app assignments by the activity, a package
   assignment by its own workflow (the `remove` signal), a denied guest under
   disableAndDeleteUserApplyAction by their GuestLifecycleWorkflow (blocked now, deleted later),
   started by an activity.

Decisions are rows, never in this history; a restart of the worker repeats nothing that is done.
"""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from foyer.activities import access_reviews as acts
    from foyer.workflows.messages.access_review import (
        SEND_REMINDER, STOP, AccessReviewInput, AccessReviewOccurrenceInput, GuestLifecyclesInput, OpenedOccurrence,
        OpenOccurrenceInput, ReviewMailInput, ReviewStatus,
    )
    from foyer.workflows.messages.assignment import REMOVE, RemoveSignal
    from foyer.workflows.retries import DB_RETRY, DB_TIMEOUT, MAIL_RETRY

MAIL_TIMEOUT = timedelta(minutes=2)
# How long after its end an instance that does not apply by itself can still be applied.
APPLY_WINDOW = timedelta(days=30)
# Entra deletes a guest denied under disableAndDeleteUserApplyAction 30 days after blocking them.
DISABLE_AND_DELETE_AFTER = "P30D"


@workflow.defn
class AccessReviewOccurrenceWorkflow:
    @workflow.run
    async def run(self, data: AccessReviewOccurrenceInput) -> list[str]:
        opened = await workflow.execute_activity(
            "open_access_review_occurrence",
            OpenOccurrenceInput(organization_id=data.organization_id, definition_id=data.definition_id,
                                started=workflow.info().start_time.isoformat()),
            start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY, result_type=OpenedOccurrence)
        return opened.instance_ids


@workflow.defn
class AccessReviewWorkflow:
    @workflow.init
    def __init__(self, data: AccessReviewInput) -> None:
        self.state = "starting"
        self.stopped = False
        self.reminders_asked = 0
        self.apply_asked = False

    @workflow.run
    async def run(self, data: AccessReviewInput) -> ReviewStatus:
        begun = await workflow.execute_activity(acts.begin_access_review, data,
                                                start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
        if begun.stopped or self.stopped:
            if not begun.stopped:
                await self._complete(data)
            else:
                await workflow.execute_activity(acts.mark_access_review_stopped, data,
                                                start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
            self.state = "stopped"
            return self._status(data)
        self.state = "inProgress"
        if begun.mail_reviewers:
            await self._mail(data, "start")
        start, end = datetime.fromisoformat(begun.start_date_time), datetime.fromisoformat(begun.end_date_time)
        due: list[tuple[datetime, str]] = []
        if begun.mail_reviewers and begun.reminders:
            halfway, last_day = start + (end - start) / 2, end - timedelta(days=1)
            due = sorted({(halfway, "reminder-half"), (last_day, "reminder-last-day")})
            due = [(at, kind) for at, kind in due if start < at < end]
        reminded = 0
        while not self.stopped:
            now = workflow.now()
            while due and due[0][0] <= now:
                await self._mail(data, due.pop(0)[1])
            while reminded < self.reminders_asked:
                reminded += 1
                await self._mail(data, f"reminder-{reminded}")
            if now >= end:
                break
            wake = min([end] + [at for at, _ in due])
            try:
                await workflow.wait_condition(lambda: self.stopped or self.reminders_asked > reminded,
                                              timeout=max(wake - now, timedelta(seconds=1)))
            except asyncio.TimeoutError:
                pass
        await self._complete(data)
        if begun.auto_apply:
            await self._apply(data)
        else:
            try:
                await workflow.wait_condition(lambda: self.apply_asked, timeout=APPLY_WINDOW)
            except asyncio.TimeoutError:
                pass
            if self.apply_asked:
                await self._apply(data)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status(data)

    async def _mail(self, data: AccessReviewInput, kind: str) -> None:
        await workflow.execute_activity(acts.send_access_review_mail, ReviewMailInput(instance_id=data.instance_id,
                                                                                       kind=kind),
                                        start_to_close_timeout=MAIL_TIMEOUT, retry_policy=MAIL_RETRY)

    async def _complete(self, data: AccessReviewInput) -> None:
        self.state = "completing"
        await workflow.execute_activity(acts.complete_access_review, data,
                                        start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
        self.state = "completed"

    async def _apply(self, data: AccessReviewInput) -> None:
        self.state = "applying"
        applied = await workflow.execute_activity(acts.apply_access_review_decisions, data,
                                                  start_to_close_timeout=timedelta(minutes=10),
                                                  retry_policy=DB_RETRY)
        removal = RemoveSignal(request_id=f"access-review:{data.instance_id}")
        for workflow_id in applied.assignment_workflow_ids:
            try:
                await workflow.get_external_workflow_handle(workflow_id).signal(REMOVE, removal)
            except ApplicationError:
                pass  # the assignment ended meanwhile
        if applied.users_to_block_and_delete:
            await workflow.execute_activity(
                "start_guest_lifecycles",
                GuestLifecyclesInput(organization_id=data.organization_id, user_ids=applied.users_to_block_and_delete,
                                     delete_after=DISABLE_AND_DELETE_AFTER, started_by=workflow.info().workflow_id),
                start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
        self.state = "applied"

    def _status(self, data: AccessReviewInput) -> ReviewStatus:
        return ReviewStatus(instance_id=data.instance_id, state=self.state)

    @workflow.signal(name=STOP)
    def stop(self) -> None:
        self.stopped = True

    @workflow.signal(name=SEND_REMINDER)
    def send_reminder(self) -> None:
        if self.state == "inProgress":
            self.reminders_asked += 1

    @workflow.update
    async def apply(self) -> ReviewStatus:
        """applyDecisions: after the end, take back what was denied (once)."""
        self.apply_asked = True
        await workflow.wait_condition(lambda: self.state == "applied")
        return ReviewStatus(instance_id=workflow.info().workflow_id.removeprefix("access-review:"), state=self.state)

    @apply.validator
    def _validate_apply(self) -> None:
        if self.state not in ("completed", "applying", "applied"):
            raise ApplicationError("the review instance has not completed yet: stop it first, or wait for its end",
                                   type="instanceNotCompleted")

    @workflow.query(name="status")
    def current(self) -> str:
        return self.state
