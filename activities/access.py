"""Activities of access-package requests and assignments. Each one is safe to retry."""

import re
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col, select
from temporalio import activity
from temporalio.client import Client

from foyer.activities import mail
from foyer.activities.store import audit, insert_ignore
from foyer.db import session_scope
from foyer.errors import Refused
from foyer.durations import parse_duration
from foyer.settings import get_settings
from foyer.templating import render_mail
from foyer.usecases.access import subjects, target_allowed
from foyer.models.base import utcnow
from foyer.models.directory import AppRoleAssignment, Application, Group, GroupMember, User
from foyer.models.entitlement import (
    AccessPackage, ApprovalStage, Assignment, AssignmentPolicy, AssignmentRequest,
)
from foyer.models.enums import LIVE_ASSIGNMENT_STATES
from foyer.workflows.client.assignments import start_assignment
from foyer.workflows.messages.access import (
    ADD_TYPES, REMOVE_TYPES, UPDATE_TYPES, AccessRequestSpec, DecisionInput, RecordRequestInput, RequestPlan,
    RequestStateInput, StageEventInput, StagePlan,
)
from foyer.workflows.messages.assignment import (
    AssignmentInput, DeliverInput, DeliveryResult, ExpiryNoticeInput, ExtendInput, RemoveInput,
    assignment_id_for_request,
)


# --- policy checks --------------------------------------------------------------------------

def _check_answers(policy: AssignmentPolicy, answers: list[dict]) -> list[dict]:
    given = {a.get("question", {}).get("id") or a.get("questionId"): a for a in answers}
    cleaned = []
    for question in policy.questions:
        answer = given.get(question.get("id"))
        value = (answer or {}).get("answeredValue", (answer or {}).get("value"))
        text = question.get("text") if isinstance(question.get("text"), str) else \
            (question.get("text") or {}).get("defaultText", question.get("id"))
        if value in (None, "", []):
            if question.get("isRequired"):
                raise Refused("invalidRequest", f"the question '{text}' needs an answer")
            continue
        if question.get("@odata.type", "").endswith("MultipleChoiceQuestion"):
            allowed = {c.get("actualValue") for c in question.get("choices", [])}
            values = value if isinstance(value, list) else [value]
            if not question.get("allowsMultipleSelection") and len(values) > 1:
                raise Refused("invalidRequest", f"the question '{text}' takes one choice")
            if not set(values) <= allowed:
                raise Refused("invalidRequest", f"'{value}' is not a choice of the question '{text}'")
        elif question.get("regexPattern") and not re.fullmatch(question["regexPattern"], str(value)):
            raise Refused("invalidRequest", f"the answer to '{text}' does not have the expected form")
        cleaned.append({"question": {"id": question.get("id")}, "answeredValue": value,
                        "displayValue": str(value)})
    return cleaned


async def _separation_of_duties(session, package: AccessPackage, target: User) -> None:
    live = (await session.exec(select(Assignment.access_package_id).where(
        Assignment.target_id == target.id, col(Assignment.state).in_(LIVE_ASSIGNMENT_STATES)))).all()
    if live:
        others = (await session.exec(select(AccessPackage).where(col(AccessPackage.id).in_(live)))).all()
        for other in others:
            if other.id in package.incompatible_access_package_ids or \
                    package.id in other.incompatible_access_package_ids:
                raise Refused("separationOfDutiesConflict",
                              f"the target already has '{other.display_name}', which is incompatible "
                              f"with '{package.display_name}'")
    if package.incompatible_group_ids:
        member_of = (await session.exec(select(GroupMember.group_id).where(
            GroupMember.user_id == target.id,
            col(GroupMember.group_id).in_(package.incompatible_group_ids)))).all()
        if member_of:
            raise Refused("separationOfDutiesConflict",
                          f"the target is a member of a group incompatible with '{package.display_name}'")


def _end_at(policy: AssignmentPolicy, schedule: dict, now: datetime) -> datetime | None:
    expiration = dict(policy.expiration or {})
    requested = (schedule or {}).get("expiration") or {}
    if requested and policy.requestor_settings.get("allowCustomAssignmentSchedule"):
        expiration = requested
    kind = expiration.get("type", "noExpiration")
    if kind == "afterDuration" and expiration.get("duration"):
        return now + parse_duration(expiration["duration"])
    if kind == "afterDateTime" and expiration.get("endDateTime"):
        return datetime.fromisoformat(expiration["endDateTime"].replace("Z", "+00:00"))
    return None


# --- the request ----------------------------------------------------------------------------

@activity.defn
async def record_request(data: RecordRequestInput) -> RequestPlan:
    """Check the request against its policy, write it with its approval stages, and return the
    plan the workflow follows. A retry with the same request id returns the same plan."""
    try:
        return await _record_request(data)
    except (AttributeError, TypeError, ValueError, OverflowError) as error:
        # Malformed answers or schedules are the requester's error: refuse, never retry forever.
        raise Refused("invalidRequest", f"the request is not valid: {error}") from error


async def _record_request(data: RecordRequestInput) -> RequestPlan:
    spec = data.spec
    async with session_scope() as session:
        package = await session.get(AccessPackage, spec.access_package_id)
        if package is None or package.organization_id != spec.organization_id:
            raise Refused("notFound", "the access package does not exist")
        target = await session.get(User, spec.target_id)
        # A guest the external-user lifecycle blocked may be given a package again by an
        # administrator (which restores them); they cannot request one themselves.
        restorable = target is not None and target.lifecycle_blocked_date_time is not None \
            and spec.request_type == "adminAdd"
        if target is None or not (target.account_enabled or restorable):
            raise Refused("notFound", "the target user does not exist or is disabled")
        requestor = await session.get(User, spec.requestor_id) if spec.requestor_id else None

        live = (await session.exec(select(Assignment).where(
            Assignment.access_package_id == package.id, Assignment.target_id == target.id,
            col(Assignment.state).in_(LIVE_ASSIGNMENT_STATES)))).first()
        if spec.request_type in ADD_TYPES and live is not None:
            raise Refused("alreadyAssigned", "the target already has this access package")
        if spec.request_type not in ADD_TYPES and live is None:
            raise Refused("notAssigned", "the target does not have this access package")

        policy = None
        if spec.assignment_policy_id:
            policy = await session.get(AssignmentPolicy, spec.assignment_policy_id)
        elif live is not None and live.assignment_policy_id:
            policy = await session.get(AssignmentPolicy, live.assignment_policy_id)
        if policy is None or policy.access_package_id != package.id:
            raise Refused("invalidRequest", "the assignment policy does not belong to this access package")

        stages: list[StagePlan] = []
        approval = policy.request_approval_settings or {}
        self_request = spec.requestor_id == spec.target_id
        settings = policy.requestor_settings or {}
        if spec.request_type.startswith("user"):
            verb = {"userAdd": "Add", "userUpdate": "Update", "userRemove": "Remove"}[spec.request_type]
            if self_request:
                if not settings.get(f"enableTargetsToSelf{verb}Access"):
                    raise Refused("requestNotAllowed", f"this policy does not let people {verb.lower()} "
                                  "this access for themselves")
            else:
                on_behalf = await subjects(session, settings.get("onBehalfRequestors", []),
                                            requestor=requestor, target=target)
                if not settings.get(f"enableOnBehalfRequestorsTo{verb}Access") or spec.requestor_id not in on_behalf:
                    raise Refused("requestNotAllowed", "you may not request this access for someone else")
            if spec.request_type == "userAdd" and not await target_allowed(session, policy, target):
                raise Refused("requestNotAllowed", "the target is not in this policy's allowed scope")
        elif not spec.requestor_is_admin:
            raise Refused("requestNotAllowed", f"{spec.request_type} needs an administrator")

        answers = spec.answers
        if spec.request_type in ADD_TYPES | UPDATE_TYPES:
            if spec.request_type.startswith("user"):
                if approval.get("isRequestorJustificationRequired") and not (spec.justification or "").strip():
                    raise Refused("invalidRequest", "this policy requires a justification")
                answers = _check_answers(policy, spec.answers)
            if spec.request_type in ADD_TYPES:
                await _separation_of_duties(session, package, target)
            needs_approval = approval.get("isApprovalRequiredForAdd" if spec.request_type in ADD_TYPES
                                          else "isApprovalRequiredForUpdate")
            if needs_approval and spec.request_type.startswith("user"):
                for index, stage in enumerate(approval.get("stages", [])[:3]):
                    stages.append(await _plan_stage(session, spec, index, stage, requestor, target))

        # A new assignment's id is derived from its request, so a retry names the same one.
        assignment_id = live.id if live else assignment_id_for_request(spec.request_id)
        if await session.get(AssignmentRequest, spec.request_id) is None:
            session.add(AssignmentRequest(
                id=spec.request_id, organization_id=spec.organization_id,
                request_type=spec.request_type, state="pendingApproval" if stages else "submitted",
                access_package_id=package.id, assignment_policy_id=policy.id,
                requestor_id=spec.requestor_id, target_id=target.id,
                assignment_id=assignment_id, justification=spec.justification,
                answers=answers, schedule=spec.schedule, workflow_id=data.workflow_id,
                created_date_time=data.now))
            await session.flush()
            for plan in stages:
                session.add(ApprovalStage(
                    id=plan.stage_id, request_id=spec.request_id, stage_index=plan.index,
                    display_name=f"Stage {plan.index + 1}", approver_ids=plan.approver_ids))
            await audit(session, key=f"request:{spec.request_id}", category="EntitlementManagement",
                        activity="Create access package assignment request",
                        organization_id=spec.organization_id, actor_id=spec.requestor_id,
                        target_type="User", target_id=target.id, target_name=target.mail,
                        workflow_id=data.workflow_id,
                        details={"requestType": spec.request_type, "accessPackageId": package.id})
        return RequestPlan(
            request_id=spec.request_id, request_type=spec.request_type,
            requestor_id=spec.requestor_id, target_id=target.id,
            assignment_id=assignment_id,
            stages=stages,
            end_at=_end_at(policy, spec.schedule, data.now) if spec.request_type not in REMOVE_TYPES else None,
            extension_stages=[s.get("stage") for s in policy.custom_extension_stage_settings],
        )


async def _plan_stage(session, spec: AccessRequestSpec, index: int, stage: dict,
                      requestor: User | None, target: User) -> StagePlan:
    primary = await subjects(session, stage.get("primaryApprovers", []), requestor=requestor, target=target)
    if not primary:
        primary = await subjects(session, stage.get("fallbackPrimaryApprovers", []),
                                  requestor=requestor, target=target)
    escalation: set[str] = set()
    escalate_after = None
    if stage.get("isEscalationEnabled"):
        escalation = await subjects(session, stage.get("escalationApprovers", []),
                                     requestor=requestor, target=target)
        if not escalation:
            escalation = await subjects(session, stage.get("fallbackEscalationApprovers", []),
                                         requestor=requestor, target=target)
        escalate_after = parse_duration(stage.get("durationBeforeEscalation", "P1D"))
    return StagePlan(
        stage_id=f"{spec.request_id}-stage-{index + 1}", index=index, approver_ids=sorted(primary),
        escalation_approver_ids=sorted(escalation),
        deny_after=parse_duration(stage.get("durationBeforeAutomaticDenial", "P14D")),
        escalate_after=escalate_after,
        justification_required=bool(stage.get("isApproverJustificationRequired")),
    )


@activity.defn
async def announce_stage(data: StageEventInput) -> None:
    """Mark a stage open (or escalated) and mail its approvers a link to the approval page."""
    async with session_scope() as session:
        stage = await session.get(ApprovalStage, data.stage_id)
        request = await session.get(AssignmentRequest, data.request_id)
        package = await session.get(AccessPackage, request.access_package_id)
        target = await session.get(User, request.target_id)
        requestor = await session.get(User, request.requestor_id) if request.requestor_id else None
        if data.event == "opened":
            stage.status = "InProgress"
            stage.due_date_time = data.due_at
        if data.event == "escalated":
            stage.escalated = True
        stage.approver_ids = sorted(set(stage.approver_ids) | set(data.approver_ids))
        session.add(stage)
        approvers = (await session.exec(select(User).where(col(User.id).in_(data.approver_ids)))).all()
        link = f"{get_settings().public_url.rstrip('/')}/approvals/{request.id}"
        for approver in approvers:
            if not approver.mail:
                continue
            subject, text, html = render_mail(
                "approval_request", event=data.event, package=package.display_name,
                target=target.display_name or target.mail,
                requestor=(requestor.display_name if requestor else "An administrator"),
                justification=request.justification, link=link, due=data.due_at)
            await mail.enqueue(session, key=f"stage:{stage.id}:{data.event}:{approver.id}",
                               to=[approver.mail], subject=subject, text=text, html=html)
        keys = [f"stage:{stage.id}:{data.event}:{a.id}" for a in approvers if a.mail]
    for key in keys:
        await mail.deliver(key)


@activity.defn
async def record_decision(data: DecisionInput) -> None:
    async with session_scope() as session:
        stage = await session.get(ApprovalStage, data.stage_id)
        if stage.status == "Completed":
            return
        stage.status = "Completed"
        stage.review_result = data.review_result
        stage.justification = data.justification
        stage.reviewed_by_id = data.approver_id
        stage.reviewed_by_name = data.approver_name
        stage.reviewed_date_time = utcnow()
        session.add(stage)
        request = await session.get(AssignmentRequest, data.request_id)
        await audit(session, key=f"decision:{stage.id}", category="EntitlementManagement",
                    activity=f"{data.review_result} access package assignment request",
                    organization_id=request.organization_id, actor_id=data.approver_id,
                    actor_name=data.approver_name, target_type="AssignmentRequest",
                    target_id=request.id, workflow_id=data.workflow_id,
                    details={"stage": stage.stage_index + 1, "justification": data.justification})


@activity.defn
async def set_request_state(data: RequestStateInput) -> None:
    async with session_scope() as session:
        request = await session.get(AssignmentRequest, data.request_id)
        if data.stage_id:
            stage = await session.get(ApprovalStage, data.stage_id)
            if stage.status != "Completed":
                stage.status = "Expired"
                session.add(stage)
        if request.state == data.state:
            return
        request.state = data.state
        request.status = data.status
        if data.state in ("delivered", "partiallyDelivered", "deliveryFailed", "denied", "canceled"):
            request.completed_date_time = utcnow()
        session.add(request)
        await audit(session, key=f"request-state:{request.id}:{data.state}",
                    category="EntitlementManagement", activity=f"Access package request {data.state}",
                    organization_id=request.organization_id, target_type="AssignmentRequest",
                    target_id=request.id, workflow_id=data.workflow_id, reason=data.status)


# --- the assignment -------------------------------------------------------------------------

@activity.defn
async def deliver_assignment(data: DeliverInput) -> DeliveryResult:
    """Apply every resource role scope of the package to the target. A scope that cannot be
    applied (its group or app is gone) is reported as failed; the rest still apply."""
    async with session_scope() as session:
        package = await session.get(AccessPackage, data.access_package_id)
        assignment = await session.get(Assignment, data.assignment_id)
        if assignment is None:
            assignment = Assignment(
                id=data.assignment_id, organization_id=data.organization_id,
                access_package_id=package.id, assignment_policy_id=data.assignment_policy_id,
                target_id=data.target_id, state="delivering", start_date_time=data.start_at,
                end_date_time=data.end_at, workflow_id=data.workflow_id)
            session.add(assignment)
            await session.flush()
        previous = {s["scopeId"]: s for s in assignment.resource_states}
        states = []
        for scope in package.resource_role_scopes:
            scope_id = scope.get("id") or f"{scope.get('resourceId')}:{scope.get('role')}"
            earlier = previous.get(scope_id)
            if earlier and earlier["state"] == "delivered":
                states.append(earlier)
                continue
            states.append(await _grant_scope(session, scope, scope_id, data.target_id))
        failed = [s for s in states if s["state"] == "failed"]
        state = "delivered" if not failed else ("deliveryFailed" if len(failed) == len(states) else
                                                 "partiallyDelivered")
        assignment.resource_states = states
        assignment.state = state
        assignment.status = (f"{len(failed)} of {len(states)} resources could not be delivered"
                             if failed else "Delivered")
        session.add(assignment)
        await audit(session, key=f"deliver:{assignment.id}:{len(failed)}:{len(states)}",
                    category="EntitlementManagement", activity="Deliver access package assignment",
                    organization_id=data.organization_id, target_type="User", target_id=data.target_id,
                    result="failure" if failed else "success", workflow_id=data.workflow_id,
                    reason=assignment.status,
                    details={"assignmentId": assignment.id, "resources": states})
        return DeliveryResult(state=state, resource_states=states)


async def _grant_scope(session, scope: dict, scope_id: str, user_id: str) -> dict:
    system = scope.get("originSystem")
    origin = scope.get("originId") or scope.get("resourceOriginId")
    state = {"scopeId": scope_id, "originSystem": system, "originId": origin,
             "role": scope.get("role"), "state": "delivered", "preexisting": False}
    if system == "AadGroup":
        if await session.get(Group, origin) is None:
            return {**state, "state": "failed", "error": f"group {origin} no longer exists"}
        state["preexisting"] = await session.get(GroupMember, (origin, user_id)) is not None
        await insert_ignore(session, GroupMember, [{"group_id": origin, "user_id": user_id,
                                                    "added_date_time": utcnow()}], ["group_id", "user_id"])
    elif system == "AadApplication":
        if await session.get(Application, origin) is None:
            return {**state, "state": "failed", "error": f"application {origin} no longer exists"}
        existing = (await session.exec(select(AppRoleAssignment).where(
            AppRoleAssignment.application_id == origin, AppRoleAssignment.principal_id == user_id))).first()
        state["preexisting"] = existing is not None
        if existing is None:
            session.add(AppRoleAssignment(application_id=origin, principal_id=user_id))
    # SharePointOnline and other generic resources: Foyer records the grant; the site is managed
    # outside Foyer's directory.
    return state


@activity.defn
async def remove_assignment(data: RemoveInput) -> None:
    """Take back what the assignment granted (not what the user had before it, nor what another
    live assignment still grants), and mark it expired."""
    async with session_scope() as session:
        assignment = await session.get(Assignment, data.assignment_id)
        if assignment is None or assignment.state == "expired":
            return
        others = (await session.exec(select(Assignment).where(
            Assignment.target_id == assignment.target_id, Assignment.id != assignment.id,
            col(Assignment.state).in_(LIVE_ASSIGNMENT_STATES)))).all()
        still_granted = {(s["originSystem"], s["originId"]) for other in others
                         for s in other.resource_states if s.get("state") == "delivered"}
        states = []
        for scope in assignment.resource_states:
            key = (scope.get("originSystem"), scope.get("originId"))
            if scope.get("state") == "delivered" and not scope.get("preexisting") and key not in still_granted:
                # Set-based deletes: idempotent, and fine if the rows already went (user deleted).
                if key[0] == "AadGroup":
                    await session.exec(delete(GroupMember).where(  # type: ignore[call-overload]
                        GroupMember.group_id == key[1], GroupMember.user_id == assignment.target_id))
                elif key[0] == "AadApplication":
                    await session.exec(delete(AppRoleAssignment).where(  # type: ignore[call-overload]
                        AppRoleAssignment.application_id == key[1],
                        AppRoleAssignment.principal_id == assignment.target_id))
            states.append({**scope, "state": "removed"})
        assignment.resource_states = states
        assignment.state = "expired"
        assignment.status = "Expired" if data.reason == "expired" else "Removed"
        assignment.expired_date_time = utcnow()
        session.add(assignment)
        await audit(session, key=f"remove:{assignment.id}", category="EntitlementManagement",
                    activity="Remove access package assignment", organization_id=assignment.organization_id,
                    target_type="User", target_id=assignment.target_id, workflow_id=data.workflow_id,
                    reason=data.reason, details={"assignmentId": assignment.id})


@activity.defn
async def extend_assignment(data: ExtendInput) -> None:
    async with session_scope() as session:
        assignment = await session.get(Assignment, data.assignment_id)
        assignment.end_date_time = data.end_at
        session.add(assignment)
        await audit(session, key=f"extend:{assignment.id}:{data.request_id}",
                    category="EntitlementManagement", activity="Extend access package assignment",
                    organization_id=assignment.organization_id, target_type="User",
                    target_id=assignment.target_id, workflow_id=data.workflow_id,
                    details={"endDateTime": data.end_at.isoformat() if data.end_at else None})


@activity.defn
async def notify_expiring(data: ExpiryNoticeInput) -> None:
    key = f"expiring:{data.assignment_id}:{data.end_at.isoformat()}:{data.days_before}"
    async with session_scope() as session:
        assignment = await session.get(Assignment, data.assignment_id)
        if assignment is None or assignment.state not in LIVE_ASSIGNMENT_STATES:
            return
        target = await session.get(User, assignment.target_id)
        package = await session.get(AccessPackage, assignment.access_package_id)
        if not target or not target.mail:
            return
        subject, text, html = render_mail(
            "assignment_expiring", package=package.display_name, end=data.end_at,
            days=data.days_before, link=f"{get_settings().public_url.rstrip('/')}/myaccess")
        await mail.enqueue(session, key=key, to=[target.mail], subject=subject, text=text, html=html)
    await mail.deliver(key)


class AssignmentStarter:
    """Starts an assignment's own long-lived workflow. An activity rather than a child workflow:
    the assignment outlives the request by months, and an abandoned child whose parent has
    closed stalls the time-skipping test server."""

    def __init__(self, client: Client):
        self.client = client

    @activity.defn(name="start_assignment_workflow")
    async def start_assignment_workflow(self, data: AssignmentInput) -> None:
        await start_assignment(self.client, data, activity.info().task_queue)


ALL = [record_request, announce_stage, record_decision, set_request_state, deliver_assignment,
       remove_assignment, extend_assignment, notify_expiring]
