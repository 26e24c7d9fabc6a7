"""`/v1.0/identityGovernance/entitlementManagement/accessPackageAssignmentApprovals`: what waits for
the calling approver, the approval stages of a request, and deciding one.

That is Graph v1.0's path (the one the msgraph SDKs call). `…/assignmentApprovals`, where Foyer
served these first, stays as an alias of the same handlers for the scripts that use it.

A decision is workflows.client.access_requests.decide_stage (the request workflow's `decide`
Update); its validator is what says who may decide: a current approver of the open stage, never
the requestor or the target, once per stage, with a justification when the stage asks for one.
"""

from fastapi import APIRouter, Request, Response
from sqlmodel import col, select

import foyer.api.schemas.entitlement_responses as shapes
from foyer.api.deps import Caller, CallerDep, OrganizationDep, SessionDep, TemporalDep, person
from foyer.api.errors import not_found
from foyer.api.graph import ENTITLEMENT_PREFIX, GraphRouter
from foyer.api.odata import select_fields
from foyer.api.schemas import iso
from foyer.api.schemas.entitlement import StageDecision
from foyer.usecases.authz import visible_request
from foyer.models.directory import Organization
from foyer.models.entitlement import ApprovalStage, AssignmentRequest
from foyer.workflows.client import access_requests
from foyer.workflows.messages.access import Decision

approvals = GraphRouter(tags=["entitlement management"])


def stage_body(stage: ApprovalStage, caller: Caller) -> dict:
    reviewed = stage.reviewed_by_id is not None
    return {
        "id": stage.id,
        "displayName": stage.display_name,
        "assignedToMe": caller.user_id is not None and caller.user_id in (stage.approver_ids or []),
        "reviewResult": stage.review_result,
        "justification": stage.justification,
        "reviewedBy": {"id": stage.reviewed_by_id, "displayName": stage.reviewed_by_name} if reviewed else None,
        "reviewedDateTime": iso(stage.reviewed_date_time),
        "status": stage.status,
        "foyerDueDateTime": iso(stage.due_date_time),
        "foyerEscalated": stage.escalated,
    }


async def _stages(session, request_ids: list[str]) -> dict[str, list[ApprovalStage]]:
    found: dict[str, list[ApprovalStage]] = {i: [] for i in request_ids}
    if request_ids:
        rows = (await session.exec(select(ApprovalStage).where(
            col(ApprovalStage.request_id).in_(request_ids)).order_by(
            ApprovalStage.request_id, ApprovalStage.stage_index))).all()
        for row in rows:
            found[row.request_id].append(row)
    return found


def approval_body(request_id: str, stages: list[ApprovalStage], caller: Caller) -> dict:
    return {"id": request_id, "stages": [stage_body(s, caller) for s in stages]}


async def _visible_request(session, org: Organization, caller: Caller, request_id: str) -> AssignmentRequest:
    """Approvers of the request, its requestor and target, its catalog's owners and admins."""
    return await visible_request(session, org.id, caller, request_id, approvers=True)


@approvals.get("/filterByCurrentUser(on='approver')", response_model=shapes.ApprovalCollection)
async def waiting_for_me(request: Request, caller: CallerDep, session: SessionDep,
                         org: OrganizationDep) -> dict:
    """The requests whose open stage lists the caller among its approvers."""
    me = person(caller)
    open_stages = (await session.exec(
        select(ApprovalStage).join(AssignmentRequest, ApprovalStage.request_id == AssignmentRequest.id)
        .where(AssignmentRequest.organization_id == org.id, AssignmentRequest.state == "pendingApproval",
               ApprovalStage.status == "InProgress")
        .order_by(AssignmentRequest.created_date_time, AssignmentRequest.id))).all()
    request_ids = list(dict.fromkeys(s.request_id for s in open_stages if me in (s.approver_ids or [])))
    stages = await _stages(session, request_ids)
    return {"value": [select_fields(request.query_params, approval_body(i, stages[i], caller))
                      for i in request_ids]}


@approvals.get("/{request_id}", response_model=shapes.AssignmentApproval)
async def get_approval(request_id: str, request: Request, caller: CallerDep, session: SessionDep,
                       org: OrganizationDep) -> dict:
    row = await _visible_request(session, org, caller, request_id)
    stages = await _stages(session, [row.id])
    return select_fields(request.query_params, approval_body(row.id, stages[row.id], caller))


@approvals.get("/{request_id}/stages", response_model=shapes.ApprovalStageCollection)
async def list_stages(request_id: str, request: Request, caller: CallerDep, session: SessionDep,
                      org: OrganizationDep) -> dict:
    row = await _visible_request(session, org, caller, request_id)
    stages = await _stages(session, [row.id])
    return {"value": [select_fields(request.query_params, stage_body(s, caller)) for s in stages[row.id]]}


@approvals.get("/{request_id}/stages/{stage_id}", response_model=shapes.AssignmentApprovalStage)
async def get_stage(request_id: str, stage_id: str, request: Request, caller: CallerDep,
                    session: SessionDep, org: OrganizationDep) -> dict:
    row = await _visible_request(session, org, caller, request_id)
    stage = await session.get(ApprovalStage, stage_id)
    if stage is None or stage.request_id != row.id:
        raise not_found(f"approval stage {stage_id}")
    return select_fields(request.query_params, stage_body(stage, caller))


@approvals.patch("/{request_id}/stages/{stage_id}", status_code=204)
async def decide_stage(request_id: str, stage_id: str, body: StageDecision, caller: CallerDep,
                       session: SessionDep, org: OrganizationDep, client: TemporalDep) -> Response:
    approver = person(caller)
    await session.close()  # nothing to hold open while the workflow decides
    await access_requests.decide_stage(client, Decision(
        stage_id=stage_id, approver_id=approver, approver_name=caller.name,
        review_result=body.review_result, justification=body.justification),
        request_id=request_id, organization_id=org.id)
    return Response(status_code=204)


# The handlers above, mounted twice: at Graph's path, and at Foyer's first path as an alias.
router = APIRouter()
router.include_router(approvals, prefix=f"{ENTITLEMENT_PREFIX}/accessPackageAssignmentApprovals")
router.include_router(approvals, prefix=f"{ENTITLEMENT_PREFIX}/assignmentApprovals", deprecated=True)
