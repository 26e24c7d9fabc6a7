"""GuestLifecycleWorkflow: entitlement management's external-user lifecycle for one guest, id
`guest-lifecycle:{user_id}` (also an access review's disableAndDeleteUserApplyAction).

`block_guest` disables the account at once (refresh tokens revoked, the block and the planned
deletion marked on the user, audited "Block user" with this workflow's id). Then it waits for the
`cancel` signal (a new package assignment, an administrator enabling the account) or, when
`delete_after` is set, the durable timer: on cancel `unblock_guest` enables the account again and
it ends "cancelled"; at the timer `delete_governed_guest` deletes the guest through the one
"delete user" operation and it ends "deleted" ("gone" when someone deleted them meanwhile).

With `delete_after` None (blockSignIn) it blocks and waits for `cancel` with no timer: it stays
open, so the same signal unblocks. A wait with no timer adds no history: it needs no
continue-as-new. The duration is the setting's when the run started; a later change of the setting
moves nothing already scheduled. The query `status` tells where it stands."""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from foyer.activities import guest_lifecycle as acts
    from foyer.workflows.messages.guest_lifecycle import (
        CANCEL, DELETE_GOVERNED_GUEST, BlockGuestInput, CancelLifecycle, DeleteGuestInput, GuestLifecycleInput, LifecycleStatus,
        LifecycleStep, UnblockGuestInput,
    )
    from foyer.workflows.retries import DB_RETRY, DB_TIMEOUT

# Deleting ends the user's invitations, requests and assignments through their workflows first.
DELETE_TIMEOUT = timedelta(minutes=2)


@workflow.defn
class GuestLifecycleWorkflow:
    @workflow.init
    def __init__(self, data: GuestLifecycleInput) -> None:
        self.status = LifecycleStatus(user_id=data.user_id, state="blocking")
        self.cancellation: CancelLifecycle | None = None

    @workflow.run
    async def run(self, data: GuestLifecycleInput) -> LifecycleStatus:
        workflow_id = workflow.info().workflow_id
        now = workflow.now()
        blocked = await workflow.execute_activity(
            acts.block_guest,
            BlockGuestInput(organization_id=data.organization_id, user_id=data.user_id, reason=data.reason,
                            delete_after=data.delete_after, blocked_at=now.isoformat(),
                            workflow_id=workflow_id, started_by=data.started_by),
            start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
        if blocked.state in ("gone", "assigned"):  # assigned: a new assignment came first
            self.status.state = "gone" if blocked.state == "gone" else "cancelled"
            return self.status
        self.status = LifecycleStatus(user_id=data.user_id, state="blocked",
                                      deletion_date_time=blocked.deletion_date_time)
        timeout = None
        if blocked.deletion_date_time is not None:
            # The date written on the user (blocked_at + delete_after; a guest found already blocked
            # keeps the date they had).
            deletion = datetime.fromisoformat(blocked.deletion_date_time.replace("Z", "+00:00"))
            timeout = max(deletion - workflow.now(), timedelta(0))
        if timeout is None or timeout > timedelta(0):
            try:
                await workflow.wait_condition(lambda: self.cancellation is not None, timeout=timeout)
            except asyncio.TimeoutError:
                pass
        if self.cancellation is not None:
            step = await workflow.execute_activity(
                acts.unblock_guest,
                UnblockGuestInput(organization_id=data.organization_id, user_id=data.user_id,
                                  reason=self.cancellation.reason, by_id=self.cancellation.by_id,
                                  workflow_id=workflow_id),
                start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
            self.status.state = "gone" if step.state == "gone" else "cancelled"
            self.status.deletion_date_time = None
        else:
            step = await workflow.execute_activity(
                DELETE_GOVERNED_GUEST,
                DeleteGuestInput(organization_id=data.organization_id, user_id=data.user_id, reason=data.reason,
                                 workflow_id=workflow_id),
                result_type=LifecycleStep, start_to_close_timeout=DELETE_TIMEOUT, retry_policy=DB_RETRY)
            # skipped: unblocked meanwhile by other means (the account's marks were cleared).
            self.status.state = {"done": "deleted", "gone": "gone"}.get(step.state, "cancelled")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    @workflow.signal(name=CANCEL)
    def cancel(self, cancellation: CancelLifecycle) -> None:
        if self.cancellation is None and self.status.state in ("blocking", "blocked"):
            self.cancellation = cancellation

    @workflow.query(name="status")
    def current(self) -> LifecycleStatus:
        return self.status
