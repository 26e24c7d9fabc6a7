"""AssignmentWorkflow: one per access-package assignment, alive as long as the assignment.

It delivers the package's resource roles to the target (reporting a partial delivery to the
request that asked for it), notifies 14 days and 1 day before the end, takes access back at the
end or on a remove request, and moves the end when an extension is approved. A long life is
kept small with continue-as-new.
"""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from foyer.activities import access as acts
    from foyer.activities import extensions
    from foyer.workflows.messages.access import DELIVERY_FINISHED
    from foyer.workflows.messages.assignment import (
        EXTEND, REMOVE, AssignmentInput, AssignmentStatus, DeliverInput, DeliveryResult, ExpiryNoticeInput, ExtendInput,
        ExtendSignal, RemoveInput, RemoveSignal,
    )
    from foyer.workflows.messages.extensions import CalloutInput
    from foyer.workflows.messages.guest_lifecycle import (
        END_LIFECYCLE_ON_ASSIGNMENT, START_LIFECYCLE_IF_LAST, AssignmentEndedInput,
    )
    from foyer.workflows.retries import CALLOUT_RETRY, DB_RETRY, DB_TIMEOUT

NOTICE_STAGES = {14: "assignmentFourteenDaysBeforeExpiration", 1: "assignmentOneDayBeforeExpiration"}
# A resource that could not be delivered is tried again later, a few times, then left reported.
REDELIVERY_DELAYS = [timedelta(minutes=1), timedelta(minutes=10), timedelta(hours=1)]
NOTICES = (14, 1)
# The external-user lifecycle's hooks, added with runs in flight: one patch id per new step (a run
# delivered before them may be removed after them).
LIFECYCLE_DELIVERED_PATCH = "guest-lifecycle-delivered"
LIFECYCLE_REMOVED_PATCH = "guest-lifecycle-removed"


@workflow.defn
class AssignmentWorkflow:
    def __init__(self) -> None:
        self.state = "delivering"
        self.end_at: datetime | None = None
        self.pending_extensions: list[ExtendSignal] = []
        self.removal: RemoveSignal | None = None
        self.notices_sent: list[str] = []

    @workflow.run
    async def run(self, data: AssignmentInput) -> AssignmentStatus:
        self.end_at = data.end_at
        self.notices_sent = list(data.notices_sent)
        if not data.delivered:
            result = await self._deliver(data)
            if data.request_workflow_id:
                await workflow.get_external_workflow_handle(data.request_workflow_id).signal(
                    DELIVERY_FINISHED, result)
            if workflow.patched(LIFECYCLE_DELIVERED_PATCH):
                # A guest the external-user lifecycle blocked is restored by a new assignment.
                await self._lifecycle_hook(data, END_LIFECYCLE_ON_ASSIGNMENT, None)
            if result.state != "deliveryFailed":
                # Here rather than in the request: a slow extension must not hold the request open.
                await self._callout(data, "assignmentRequestGranted", request_id=data.request_id)
            for delay in REDELIVERY_DELAYS:
                if result.state == "delivered" or self.removal:
                    break
                await self._wait_for_change(delay)
                if not self.removal:
                    result = await self._deliver(data)
        self.state = "delivered"

        while True:
            while self.pending_extensions:
                extension = self.pending_extensions.pop(0)
                await self._extend(data, extension)
                await self._report(extension.request_workflow_id)
            if self.removal is not None:
                await self._remove(data, "removed", self.removal.request_id)
                await self._report(self.removal.request_workflow_id)
                return self._status()
            now = workflow.now()
            if self.end_at is not None and now >= self.end_at:
                await self._remove(data, "expired", None)
                return self._status()
            days = self._due_notice(now)
            if days is not None:
                await workflow.execute_activity(
                    acts.notify_expiring,
                    ExpiryNoticeInput(assignment_id=data.assignment_id, days_before=days, end_at=self.end_at),
                    start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
                await self._callout(data, NOTICE_STAGES[days])
                continue
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(data.model_copy(update={
                    "end_at": self.end_at, "delivered": True, "notices_sent": self.notices_sent}))
            await self._wait_for_change(self._next_wake(now))

    async def _report(self, request_workflow_id: str | None) -> None:
        """Tell the request that asked for a change that it is done."""
        if request_workflow_id:
            await workflow.get_external_workflow_handle(request_workflow_id).signal(
                DELIVERY_FINISHED, DeliveryResult(state="delivered", resource_states=[]))

    def _status(self) -> AssignmentStatus:
        return AssignmentStatus(state=self.state, end_at=self.end_at, notices_sent=self.notices_sent)

    async def _deliver(self, data: AssignmentInput) -> DeliveryResult:
        result = await workflow.execute_activity(
            acts.deliver_assignment,
            DeliverInput(assignment_id=data.assignment_id, request_id=data.request_id,
                         organization_id=data.organization_id, access_package_id=data.access_package_id,
                         assignment_policy_id=data.assignment_policy_id, target_id=data.target_id,
                         start_at=workflow.now(), end_at=self.end_at,
                         workflow_id=workflow.info().workflow_id),
            start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
        self.state = result.state
        return result

    async def _extend(self, data: AssignmentInput, extension: ExtendSignal) -> None:
        await workflow.execute_activity(
            acts.extend_assignment,
            ExtendInput(assignment_id=data.assignment_id, end_at=extension.end_at,
                        request_id=extension.request_id, workflow_id=workflow.info().workflow_id),
            start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
        self.end_at = extension.end_at

    async def _remove(self, data: AssignmentInput, reason: str, request_id: str | None) -> None:
        await workflow.execute_activity(
            acts.remove_assignment,
            RemoveInput(assignment_id=data.assignment_id, reason=reason, request_id=request_id,
                        workflow_id=workflow.info().workflow_id),
            start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
        self.state = "expired"
        if workflow.patched(LIFECYCLE_REMOVED_PATCH):
            # A governed guest's last assignment gone: the lifecycle starts (block, then delete).
            await self._lifecycle_hook(data, START_LIFECYCLE_IF_LAST, request_id)
        await self._callout(data, "assignmentRequestRemoved")

    async def _lifecycle_hook(self, data: AssignmentInput, hook: str, request_id: str | None) -> None:
        await workflow.execute_activity(
            hook, AssignmentEndedInput(organization_id=data.organization_id, assignment_id=data.assignment_id,
                                       target_id=data.target_id, workflow_id=workflow.info().workflow_id,
                                       request_id=request_id),
            result_type=bool, start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)

    async def _callout(self, data: AssignmentInput, stage: str, request_id: str | None = None) -> None:
        """Tell the policy's custom extension, if any; a failed notification does not stop the
        assignment's own lifecycle (the call row records the failure)."""
        if stage not in data.extension_stages:
            return
        try:
            await workflow.execute_activity(
                extensions.call_custom_extension,
                CalloutInput(stage=stage, assignment_id=data.assignment_id, request_id=request_id,
                             workflow_id=workflow.info().workflow_id),
                start_to_close_timeout=timedelta(seconds=30), retry_policy=CALLOUT_RETRY)
        except ActivityError:
            pass

    def _due_notice(self, now: datetime) -> int | None:
        """The notice (days before the end) to send now, if any; marks it sent."""
        if self.end_at is None:
            return None
        for days in NOTICES:
            moment = self.end_at - timedelta(days=days)
            key = f"{self.end_at.isoformat()}:{days}"
            if key in self.notices_sent or now < moment:
                continue
            self.notices_sent.append(key)
            # A 14-day notice for an assignment that never had 14 days left is skipped, not sent late.
            if days == 1 or now < moment + timedelta(days=1):
                return days
        return None

    def _next_wake(self, now: datetime) -> timedelta | None:
        if self.end_at is None:
            return None
        moments = [self.end_at - timedelta(days=d) for d in NOTICES] + [self.end_at]
        upcoming = [m for m in moments if m > now]
        return max(min(upcoming) - now, timedelta(seconds=1)) if upcoming else timedelta(seconds=1)

    async def _wait_for_change(self, timeout: timedelta | None) -> None:
        try:
            await workflow.wait_condition(
                lambda: bool(self.pending_extensions) or self.removal is not None, timeout=timeout)
        except asyncio.TimeoutError:
            pass

    @workflow.signal(name=EXTEND)
    def extend(self, extension: ExtendSignal) -> None:
        self.pending_extensions.append(extension)

    @workflow.signal(name=REMOVE)
    def remove(self, removal: RemoveSignal) -> None:
        if self.removal is None:
            self.removal = removal

    @workflow.query
    def current(self) -> AssignmentStatus:
        return self._status()
