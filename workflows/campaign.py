"""CampaignWorkflow: one bulk onboarding campaign, id `campaign:{campaign_id}`.

The rows live in the directory (campaign_rows), never in the workflow: it asks for the next page
of pending rows, keeps at most `concurrency` row invitations in flight (a sliding window), starts
no more than `rate_per_minute` in any minute (the SMTP provider's limit), and continues as new
every few hundred rows so its history stays small at 10,000 or 100,000 rows. Each row goes
through the address's own InvitationWorkflow. Pause and resume are signals; cancel (new rows
stop, invited rows stay invited) and retry of failed rows are Updates; `current` is the query.
"""

import asyncio
from collections import deque
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from foyer.activities import campaigns as acts
    from foyer.workflows.messages.campaign import (
        PAUSE, RESUME, BatchInput, CampaignInput, CampaignStateInput, CampaignStatus, NextRowsInput, RowInput,
    )
    from foyer.workflows.retries import DB_RETRY, DB_TIMEOUT, HEARTBEAT_TIMEOUT

PAGE = 100
# Rows started per run before continuing as new: ~6 events a row keeps a run under 4,096 events.
ROWS_PER_RUN = 500
ROW_TIMEOUT = timedelta(minutes=2)
# Since "campaign-row-batches": rows go in batches, one activity each (~7 events a batch of up to
# BATCH rows, plus a page read every BATCH_PAGE), so a run can take many more rows.
BATCHES = "campaign-row-batches"
BATCH = 50
BATCH_PAGE = 200
BATCHED_ROWS_PER_RUN = 2_000
BATCH_TIMEOUT = timedelta(minutes=10)


@workflow.defn
class CampaignWorkflow:
    @workflow.init
    def __init__(self, data: CampaignInput) -> None:
        self.campaign_id = data.campaign_id
        self.paused = False
        self.canceled = False
        self.retry_requested = False
        self.after_row = 0
        self.in_flight = 0
        self.started = 0
        self.recent_starts: deque[datetime] = deque()
        self.ended: str | None = None  # completed | canceled, once the run is over

    @workflow.run
    async def run(self, data: CampaignInput) -> CampaignStatus:
        self.after_row, self.paused = data.after_row, self.paused or data.paused
        if data.retry_failed:
            await self._activity(acts.reset_failed_rows, data.campaign_id)
            self.after_row = 0
        await self._set_state("paused" if self.paused else "running")
        if workflow.patched(BATCHES):
            await self._drive_batches(data)
        else:
            await self._drive_rows(data)
        await workflow.wait_condition(lambda: self.in_flight == 0)
        if self.canceled:
            await self._activity(acts.cancel_pending_rows, data.campaign_id)
        self.ended = "canceled" if self.canceled else "completed"
        await self._set_state(self.ended)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.current()

    async def _drive_rows(self, data: CampaignInput) -> None:
        """Before BATCHES: one activity per row (kept for runs that started on that code)."""
        while not self.canceled:
            rows = await self._next_page(data, PAGE)
            if not rows:
                return
            for row in rows:
                await self._wait_until_allowed(data)
                if self.canceled:
                    break
                self.in_flight += 1
                self.started += 1
                self.after_row = row
                asyncio.create_task(self._invite(data, row))
            if self.started >= ROWS_PER_RUN or workflow.info().is_continue_as_new_suggested():
                await self._continue_as_new(data)

    async def _drive_batches(self, data: CampaignInput) -> None:
        """A sliding window of row batches: at most `concurrency` rows in flight, batches no bigger
        than the window or a minute's sending budget allows."""
        size = max(1, min(BATCH, data.concurrency // 2 or 1, data.rate_per_minute))
        while not self.canceled:
            rows = await self._next_page(data, BATCH_PAGE)
            if not rows:
                return
            for start in range(0, len(rows), size):
                batch = rows[start:start + size]
                await self._wait_until_allowed(data, len(batch))
                if self.canceled:
                    break
                self.in_flight += len(batch)
                self.started += len(batch)
                self.after_row = batch[-1]
                asyncio.create_task(self._invite_batch(data, batch))
            if self.started >= BATCHED_ROWS_PER_RUN or workflow.info().is_continue_as_new_suggested():
                await self._continue_as_new(data)

    async def _next_page(self, data: CampaignInput, limit: int) -> list[int]:
        """The next pending rows; none once every row has been taken and nothing is in flight.
        Failed rows reset (retry) while the last ones ran start the pages over."""
        while True:
            rows = await self._activity(acts.next_rows, NextRowsInput(
                campaign_id=data.campaign_id, after_row=self.after_row, limit=limit))
            if rows:
                return rows
            await workflow.wait_condition(lambda: self.in_flight == 0)
            if not self.retry_requested:
                return []
            self.retry_requested, self.after_row = False, 0
            if self.canceled:
                return []

    async def _continue_as_new(self, data: CampaignInput) -> None:
        await workflow.wait_condition(lambda: self.in_flight == 0)
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(data.model_copy(update={
            "after_row": self.after_row, "paused": self.paused, "retry_failed": False}))

    async def _wait_until_allowed(self, data: CampaignInput, rows: int = 1) -> None:
        """Not paused, room for `rows` in the window, and in this minute's sending budget."""
        await workflow.wait_condition(
            lambda: self.canceled or (not self.paused and self.in_flight + rows <= max(data.concurrency, rows)))
        if self.canceled:
            return
        now = workflow.now()
        while self.recent_starts and now - self.recent_starts[0] >= timedelta(minutes=1):
            self.recent_starts.popleft()
        if len(self.recent_starts) + rows > max(data.rate_per_minute, rows):
            try:  # until the minute's budget frees up; a pause or cancel ends the wait at once
                await workflow.wait_condition(lambda: self.canceled or self.paused,
                                              timeout=self.recent_starts[0] + timedelta(minutes=1) - now)
            except asyncio.TimeoutError:
                pass
            return await self._wait_until_allowed(data, rows)
        self.recent_starts.extend([now] * rows)

    async def _invite(self, data: CampaignInput, row: int) -> None:
        try:
            # Retried until it goes through: SMTP or Temporal being down makes a row wait, never
            # lose it; the row's own invitation id keeps a retry from inviting twice.
            await workflow.execute_activity_method(
                acts.CampaignInviter.invite_row, RowInput(campaign_id=data.campaign_id, row_number=row),
                start_to_close_timeout=ROW_TIMEOUT, heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=DB_RETRY)
        finally:
            self.in_flight -= 1

    async def _invite_batch(self, data: CampaignInput, rows: list[int]) -> None:
        try:
            # Retried until it goes through (SMTP or Temporal down is a wait, never a loss); a
            # retry sends what was recorded through the one-row path, which never invites twice.
            await workflow.execute_activity_method(
                acts.CampaignInviter.invite_rows, BatchInput(campaign_id=data.campaign_id, row_numbers=rows),
                start_to_close_timeout=BATCH_TIMEOUT, heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=DB_RETRY)
        finally:
            self.in_flight -= len(rows)

    async def _activity(self, activity, argument):
        return await workflow.execute_activity(activity, argument, start_to_close_timeout=DB_TIMEOUT,
                                               retry_policy=DB_RETRY)

    async def _set_state(self, state: str) -> None:
        await self._activity(acts.set_campaign_state, CampaignStateInput(campaign_id=self.campaign_id, state=state))

    @workflow.signal(name=PAUSE)
    async def pause(self) -> None:
        if not self.paused and not self.canceled:
            self.paused = True
            await self._set_state("paused")

    @workflow.signal(name=RESUME)
    async def resume(self) -> None:
        if self.paused and not self.canceled:
            self.paused = False
            await self._set_state("running")

    @workflow.update
    async def cancel(self) -> CampaignStatus:
        self.canceled = True
        return self.current()

    @cancel.validator
    def _validate_cancel(self) -> None:
        if self.canceled:
            raise ApplicationError("the campaign was already canceled", type="campaignEnded")

    @workflow.update
    async def retry_failed(self) -> int:
        count = await self._activity(acts.reset_failed_rows, self.campaign_id)
        self.retry_requested = True
        return count

    @retry_failed.validator
    def _validate_retry(self) -> None:
        if self.canceled:
            raise ApplicationError("the campaign was canceled", type="campaignEnded")

    @workflow.query
    def current(self) -> CampaignStatus:
        state = self.ended or ("canceled" if self.canceled else ("paused" if self.paused else "running"))
        return CampaignStatus(state=state, after_row=self.after_row, in_flight=self.in_flight,
                              started_this_run=self.started)
