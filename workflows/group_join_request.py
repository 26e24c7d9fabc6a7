"""GroupJoinRequestWorkflow: a person's request to join a group, waiting for one of its owners in
My Groups (Entra's "Owners can manage group membership requests in My Groups"), id
`group-join:{group_id}:{user_id}`.

Started by the page with update-with-start (the Update `opened` answers once the request is
recorded, or refused): `record_group_join_request` checks again that the organization lets owners
manage requests and that the person may ask, and writes the GroupJoinRequest row. Then the wait: the
Update `decide` (approve or deny; who may decide is checked before it is sent) ends it, and
`apply_group_join_decision` adds the member (foyer.usecases.groups.add_member) and records the
decision; after `expires_after` (P14D by default) with no answer, `expire_group_join_request` marks
it expired. The query `status` tells where it stands."""

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from foyer.activities import group_join as acts
    from foyer.durations import parse_duration
    from foyer.workflows.messages.group_join import (
        ApplyJoinDecisionInput, GroupJoinInput, JoinDecision, JoinStatus,
    )
    from foyer.workflows.retries import DB_RETRY, DB_TIMEOUT

DECISIONS = ("approve", "deny")


@workflow.defn
class GroupJoinRequestWorkflow:
    @workflow.init
    def __init__(self, data: GroupJoinInput) -> None:
        self.status = JoinStatus(request_id=data.request_id, state="opening")
        self.decision: JoinDecision | None = None

    @workflow.run
    async def run(self, data: GroupJoinInput) -> JoinStatus:
        recorded = await workflow.execute_activity(acts.record_group_join_request, data,
                                                   start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
        if recorded.refusal is not None:
            self.status = JoinStatus(request_id=data.request_id, state="refused", message=recorded.refusal)
        else:
            self.status.state = "pending"
            try:
                await workflow.wait_condition(lambda: self.decision is not None,
                                              timeout=parse_duration(data.expires_after))
            except asyncio.TimeoutError:
                pass
            if self.decision is None:
                await workflow.execute_activity(acts.expire_group_join_request, data.request_id,
                                                start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
                self.status.state = "expired"
            else:
                state = await workflow.execute_activity(
                    acts.apply_group_join_decision,
                    ApplyJoinDecisionInput(request_id=data.request_id, decision=self.decision),
                    start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
                self.status.state = state
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    @workflow.update
    async def opened(self) -> JoinStatus:
        """The request once recorded (pending) or refused; sent with the start."""
        await workflow.wait_condition(lambda: self.status.state != "opening")
        return self.status

    @workflow.update
    async def decide(self, decision: JoinDecision) -> JoinStatus:
        if self.decision is None:
            self.decision = decision
        await workflow.wait_condition(lambda: self.status.state not in ("opening", "pending"))
        return self.status

    @decide.validator
    def _validate_decide(self, decision: JoinDecision) -> None:
        if decision.decision not in DECISIONS:
            raise ApplicationError("decision must be approve or deny", type="invalidRequest")
        if self.decision is not None:
            if self.decision.decision != decision.decision:
                raise ApplicationError(f"this request was already decided: {self.decision.decision}",
                                       type="conflictingDecision")
            return
        if self.status.state != "pending":
            raise ApplicationError(f"this request is {self.status.state}, not pending",
                                   type="requestNotPending")

    @workflow.query(name="status")
    def current(self) -> JoinStatus:
        return self.status
