"""AccessRequestWorkflow: one access-package assignment request, from submission to delivery.

Its id is the business key `access-request:{accessPackageId}:{targetId}`: one open request per
package and person, so a double submit is refused instead of counted twice. It checks the
request against its policy, runs up to three approval stages (each with approvers mailed,
a reminder, escalation, and automatic denial at its deadline), then delivers through the
assignment's own AssignmentWorkflow. Approver decisions are Updates with validators; states
follow Graph (submitted → pendingApproval → delivering → delivered / partiallyDelivered /
deliveryFailed, or denied / canceled).
"""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from foyer.workflows.messages.access import (
        ADD_TYPES, DELIVERY_FINISHED, REMOVE_TYPES, AccessRequestInput, AccessRequestSpec, CancelRequest, Decision, DecisionInput,
        DecisionResult, RecordRequestInput, RequestPlan, RequestStateInput, RequestStatus, ResumeRequest,
        StageEventInput, StagePlan,
    )
    from foyer.workflows.messages.assignment import (
        AssignmentInput, DeliveryResult, ExtendSignal, RemoveSignal, assignment_workflow_id,
    )
    from foyer.workflows.messages.extensions import BLOCKING_STAGES, CalloutInput, ResumeRecord
    from foyer.workflows.retries import CALLOUT_RETRY, DB_RETRY, DB_TIMEOUT, MAIL_RETRY
    from foyer.activities import access as acts
    from foyer.activities import extensions
    from foyer.workflows.assignment import AssignmentWorkflow

SUBMIT_WAIT = timedelta(minutes=10)
CANCELABLE = ("submitted", "pendingApproval")
# A submission is answered synchronously: retry a database hiccup, not forever.
SUBMIT_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=5)


@workflow.defn
class AccessRequestWorkflow:
    def __init__(self) -> None:
        self.status = RequestStatus(state="new")
        self.plan: RequestPlan | None = None
        self.spec: AccessRequestSpec | None = None
        self.stage: StagePlan | None = None
        self.decision: Decision | None = None
        self.claimed = False  # a decision for the open stage is being recorded
        self.canceled = False
        self.delivery: DeliveryResult | None = None
        self.resumes: dict[str, str] = {}

    @workflow.run
    async def run(self, data: AccessRequestInput) -> RequestStatus:
        try:
            await workflow.wait_condition(lambda: self.plan is not None, timeout=SUBMIT_WAIT)
        except asyncio.TimeoutError:
            return self.status  # the submission was refused: nothing to look after
        await self._process(data, self.plan)
        # A decision or resume may still be writing its record: let it finish first.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    async def _process(self, data: AccessRequestInput, plan: RequestPlan) -> None:
        if await self._callout("assignmentRequestCreated") != "continue":
            return
        for stage in plan.stages:
            if await self._run_stage(stage) != "Approve":
                return
        if self.canceled:
            await self._set_state("canceled", "Canceled")
            return
        if await self._callout("assignmentRequestApproved") != "continue":
            return
        await self._set_state("delivering", "Delivering")
        await self._deliver(data, plan)
        await self._set_state(self.delivery.state, _delivery_status(self.delivery))

    # --- custom extensions --------------------------------------------------------------------

    async def _callout(self, stage: str) -> str:
        """Call the policy's extension for `stage`; at a blocking stage, wait for its resume.
        Returns "continue", or why the request stopped (it is then denied)."""
        if stage not in self.plan.extension_stages:
            return "continue"
        blocking = stage in BLOCKING_STAGES
        try:
            result = await workflow.execute_activity(
                extensions.call_custom_extension,
                CalloutInput(stage=stage, request_id=self.plan.request_id,
                             workflow_id=workflow.info().workflow_id),
                start_to_close_timeout=timedelta(seconds=30), retry_policy=CALLOUT_RETRY)
        except ActivityError as error:
            if not blocking:
                return "continue"  # a notification that failed; recorded on the call row
            await self._set_state("denied", f"{error.cause.message if error.cause else error}; "
                                  "the request cannot continue")
            return "failed"
        if not result.wait:
            return "continue"
        try:
            await workflow.wait_condition(lambda: result.instance_id in self.resumes or self.canceled,
                                          timeout=result.timeout)
        except asyncio.TimeoutError:
            self.resumes[result.instance_id] = "timedOut"
            await workflow.execute_activity(
                extensions.record_resume, ResumeRecord(instance_id=result.instance_id, state="timedOut"),
                start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
            await self._set_state("denied", f"custom extension '{result.extension_name}' did not "
                                  "resume the request in time")
            return "timedOut"
        if result.instance_id not in self.resumes:  # canceled while waiting
            await self._set_state("canceled", "Canceled by the requestor")
            return "canceled"
        if self.resumes[result.instance_id] == "deny":
            await self._set_state("denied", f"denied by custom extension '{result.extension_name}'")
            return "deny"
        return "continue"

    # --- approval stages ----------------------------------------------------------------------

    async def _run_stage(self, stage: StagePlan) -> str:
        self.stage, self.decision, self.claimed = stage, None, False
        opened = workflow.now()
        deny_at = opened + stage.deny_after
        escalate_at = opened + stage.escalate_after if stage.escalate_after and stage.escalation_approver_ids else None
        remind_at = opened + (escalate_at - opened if escalate_at else stage.deny_after) / 2
        self.status = self.status.model_copy(update={
            "state": "pendingApproval", "stage_index": stage.index, "stage_id": stage.stage_id,
            "approver_ids": list(stage.approver_ids), "escalated": False})
        await self._announce(stage, "opened", stage.approver_ids, deny_at)
        reminded = False
        while True:
            moments = [m for m in (None if reminded else remind_at,
                                   None if self.status.escalated else escalate_at, deny_at) if m]
            try:
                await workflow.wait_condition(lambda: self.decision is not None or self.canceled,
                                              timeout=max(min(moments) - workflow.now(), timedelta(seconds=1)))
            except asyncio.TimeoutError:
                pass
            if self.canceled:
                await self._set_state("canceled", "Canceled by the requestor", stage.stage_id)
                return "Canceled"
            if self.decision is not None:
                if self.decision.review_result == "Deny":
                    await self._set_state("denied", f"Denied at stage {stage.index + 1}")
                return self.decision.review_result
            now = workflow.now()
            if now >= deny_at:
                await self._set_state("denied", f"Not decided in time at stage {stage.index + 1}",
                                      stage.stage_id)
                return "Expired"
            if escalate_at and not self.status.escalated and now >= escalate_at:
                self.status.escalated = True
                self.status.approver_ids = sorted(set(self.status.approver_ids) | set(stage.escalation_approver_ids))
                await self._announce(stage, "escalated", stage.escalation_approver_ids, deny_at)
            elif not reminded and now >= remind_at:
                reminded = True
                await self._announce(stage, "reminder", self.status.approver_ids, deny_at)

    async def _announce(self, stage: StagePlan, event: str, approver_ids: list[str], due) -> None:
        await workflow.execute_activity(
            acts.announce_stage,
            StageEventInput(request_id=self.plan.request_id, stage_id=stage.stage_id, event=event,
                            approver_ids=approver_ids, now=workflow.now(), due_at=due),
            start_to_close_timeout=timedelta(seconds=60), retry_policy=MAIL_RETRY)

    async def _set_state(self, state: str, status: str, expired_stage_id: str | None = None) -> None:
        await workflow.execute_activity(
            acts.set_request_state,
            RequestStateInput(request_id=self.plan.request_id, state=state, status=status,
                              workflow_id=workflow.info().workflow_id, stage_id=expired_stage_id),
            start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
        self.status.state = state

    # --- delivery -----------------------------------------------------------------------------

    async def _deliver(self, data: AccessRequestInput, plan: RequestPlan) -> None:
        self.status.assignment_id = plan.assignment_id
        target = assignment_workflow_id(plan.assignment_id)
        if plan.request_type in ADD_TYPES:
            await workflow.execute_activity_method(
                acts.AssignmentStarter.start_assignment_workflow,
                AssignmentInput(assignment_id=plan.assignment_id, request_id=plan.request_id,
                                request_workflow_id=workflow.info().workflow_id,
                                organization_id=self.spec.organization_id,
                                access_package_id=data.access_package_id,
                                assignment_policy_id=self.spec.assignment_policy_id,
                                target_id=data.target_id, end_at=plan.end_at,
                                extension_stages=plan.extension_stages),
                start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
            await workflow.wait_condition(lambda: self.delivery is not None)
        elif plan.request_type in REMOVE_TYPES:
            await workflow.get_external_workflow_handle_for(AssignmentWorkflow.run, target).signal(
                AssignmentWorkflow.remove,
                RemoveSignal(request_id=plan.request_id, request_workflow_id=workflow.info().workflow_id))
            await workflow.wait_condition(lambda: self.delivery is not None)
        else:
            await workflow.get_external_workflow_handle_for(AssignmentWorkflow.run, target).signal(
                AssignmentWorkflow.extend,
                ExtendSignal(request_id=plan.request_id, end_at=plan.end_at,
                             request_workflow_id=workflow.info().workflow_id))
            await workflow.wait_condition(lambda: self.delivery is not None)

    @workflow.signal(name=DELIVERY_FINISHED)
    def delivery_finished(self, result: DeliveryResult) -> None:
        self.delivery = result

    # --- messages -----------------------------------------------------------------------------

    @workflow.update
    async def submit(self, spec: AccessRequestSpec) -> RequestPlan:
        plan = await workflow.execute_activity(
            acts.record_request,
            RecordRequestInput(spec=spec, workflow_id=workflow.info().workflow_id, now=workflow.now()),
            start_to_close_timeout=DB_TIMEOUT, retry_policy=SUBMIT_RETRY)
        self.spec = spec
        self.status = RequestStatus(state="pendingApproval" if plan.stages else "submitted",
                                    request_id=plan.request_id, assignment_id=plan.assignment_id)
        self.plan = plan
        return plan

    @submit.validator
    def _validate_submit(self, spec: AccessRequestSpec) -> None:
        if self.status.state != "new":
            raise ApplicationError("a request for this access package and person is already open",
                                   type="pendingRequestExists")

    @workflow.update
    async def decide(self, decision: Decision) -> DecisionResult:
        # Re-checked after the validator: two approvers deciding at once both pass validation,
        # but only the first to reach here decides the stage.
        if self.claimed or self.stage is None or decision.stage_id != self.stage.stage_id:
            raise ApplicationError("this stage was already decided", type="stageAlreadyDecided")
        self.claimed = True  # from here on the stage has its decision; the record follows
        await workflow.execute_activity(
            acts.record_decision,
            DecisionInput(request_id=self.plan.request_id, stage_id=decision.stage_id,
                          approver_id=decision.approver_id, approver_name=decision.approver_name,
                          review_result=decision.review_result, justification=decision.justification,
                          workflow_id=workflow.info().workflow_id),
            start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
        # Only now does the stage loop act on it: the decision is on record before anything follows.
        self.decision = decision
        return DecisionResult(stage_id=decision.stage_id, review_result=decision.review_result,
                              request_state=self.status.state)

    @decide.validator
    def _validate_decide(self, decision: Decision) -> None:
        stage = self.stage
        if self.status.state != "pendingApproval" or stage is None or self.claimed:
            raise ApplicationError("no approval stage is waiting for a decision", type="stageAlreadyDecided")
        if decision.stage_id != stage.stage_id:
            raise ApplicationError("that approval stage is not the open one", type="stageAlreadyDecided")
        if decision.approver_id in (self.plan.requestor_id, self.plan.target_id):
            raise ApplicationError("you cannot approve a request you made or that is for you",
                                   type="selfApprovalNotAllowed")
        if decision.approver_id not in self.status.approver_ids:
            raise ApplicationError("you are not an approver of this stage", type="notAnApprover")
        if decision.review_result not in ("Approve", "Deny"):
            raise ApplicationError("reviewResult must be Approve or Deny", type="invalidRequest")
        if stage.justification_required and not (decision.justification or "").strip():
            raise ApplicationError("this stage requires a justification", type="invalidRequest")

    @workflow.update
    async def resume(self, request: ResumeRequest) -> str:
        if request.instance_id in self.resumes:
            return self.resumes[request.instance_id]  # the same answer again: accepted once
        self.resumes[request.instance_id] = request.state
        await workflow.execute_activity(
            extensions.record_resume, ResumeRecord(instance_id=request.instance_id, state=request.state),
            start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY)
        return request.state

    @resume.validator
    def _validate_resume(self, request: ResumeRequest) -> None:
        if request.state not in ("continue", "deny"):
            raise ApplicationError("state must be continue, approve or deny", type="invalidRequest")
        earlier = self.resumes.get(request.instance_id)
        if earlier is not None and earlier != request.state:
            raise ApplicationError(f"this stage was already resumed with '{earlier}'",
                                   type="conflictingDecision")
        # A resume may arrive before the workflow has even seen the callout's answer (the
        # external system is quick): it is kept, and the wait for that call ends at once.
        # The API has checked that the call exists, belongs to this request and is signed.

    @workflow.update
    async def cancel(self, request: CancelRequest) -> RequestStatus:
        self.canceled = True
        # Canceled — or it moved on (approved and delivering) before the cancel could land.
        await workflow.wait_condition(lambda: self.status.state not in CANCELABLE)
        if self.status.state != "canceled":
            raise ApplicationError(f"the request is already {self.status.state}", type="requestNotCancelable")
        return self.status

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        if self.status.state not in CANCELABLE:
            raise ApplicationError("only a request waiting for approval can be canceled",
                                   type="requestNotCancelable")
        if not request.by_admin and request.by_user_id != self.plan.requestor_id:
            raise ApplicationError("only the requestor or an administrator can cancel",
                                   type="requestNotAllowed")

    @workflow.query
    def current(self) -> RequestStatus:
        return self.status


def _delivery_status(result: DeliveryResult) -> str:
    failed = [s for s in result.resource_states if s.get("state") == "failed"]
    if not failed:
        return "Delivered"
    return "; ".join(s.get("error", "not delivered") for s in failed)
