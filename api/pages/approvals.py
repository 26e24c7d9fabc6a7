"""Approvals: the requests waiting for the signed-in user's decision, and the decision form that
approvers' mail links to (/approvals/{requestId}). A decision is an Update on the request's
AccessRequestWorkflow (through `workflows.client.access_requests.decide_stage`), whose validator has the last word:
the page only decides what to offer."""

import asyncio

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse
from sqlalchemy import String, cast
from sqlmodel import col, select

from foyer.api import sign_ups
from foyer.workflows.client import access_requests
from foyer.api.deps import SessionDep, TemporalDep
from foyer.errors import Refused
from foyer.api.pages.deps import PageUser, SignedIn, forbidden_form, page
from foyer.models.directory import User
from foyer.models.base import utcnow
from foyer.models.entitlement import AccessPackage, ApprovalStage, AssignmentPolicy, AssignmentRequest
from foyer.workflows.messages.access import Decision

router = APIRouter(prefix="/approvals", tags=["pages"], include_in_schema=False)

DECISION_ERRORS = {
    "selfApprovalNotAllowed": "You cannot approve or deny a request you made or that is for you.",
    "notAnApprover": "You are not an approver of the stage this request is at.",
    "stageAlreadyDecided": "This request was already decided, or its stage moved on. Nothing was changed.",
    "requestNotPending": "This request is no longer waiting for a decision. Nothing was changed.",
}


def _questions(policy: AssignmentPolicy | None) -> dict:
    """question id → (text, {choice value: label})."""
    found = {}
    for question in (policy.questions if policy else []) or []:
        text = question.get("text")
        labels = {c.get("actualValue"): c.get("text") or (c.get("displayValue") or {}).get("defaultText")
                  for c in question.get("choices") or []}
        found[question.get("id")] = (text.get("defaultText") if isinstance(text, dict) else text, labels)
    return found


def _answers(request: AssignmentRequest, policy: AssignmentPolicy | None) -> list[tuple[str, str]]:
    questions = _questions(policy)
    shown = []
    for answer in request.answers or []:
        qid = (answer.get("question") or {}).get("id") or answer.get("questionId")
        text, labels = questions.get(qid, (None, {}))
        value = answer.get("answeredValue", answer.get("value"))
        values = value if isinstance(value, list) else [value]
        shown.append((text or qid or "Question", ", ".join(str(labels.get(v) or v) for v in values)))
    return shown


async def _describe(session, request: AssignmentRequest) -> dict:
    package = await session.get(AccessPackage, request.access_package_id)
    policy = await session.get(AssignmentPolicy, request.assignment_policy_id) \
        if request.assignment_policy_id else None
    target = await session.get(User, request.target_id)
    requestor = await session.get(User, request.requestor_id) if request.requestor_id else None
    stages = (await session.exec(select(ApprovalStage).where(ApprovalStage.request_id == request.id)
                                 .order_by(ApprovalStage.stage_index))).all()
    return {"request": request, "package": package, "policy": policy, "target": target,
            "requestor": requestor, "stages": stages, "answers": _answers(request, policy)}


def _open_stage(view: dict) -> ApprovalStage | None:
    if view["request"].state != "pendingApproval":
        return None
    return next((s for s in view["stages"] if s.status == "InProgress"), None)


def _justification_required(view: dict, stage: ApprovalStage) -> bool:
    settings = (view["policy"].request_approval_settings if view["policy"] else None) or {}
    stages = settings.get("stages") or []
    return stage.stage_index < len(stages) and bool(stages[stage.stage_index].get("isApproverJustificationRequired"))


@router.get("")
async def waiting_for_me(me: PageUser, session: SessionDep) -> HTMLResponse:
    # JSON containment differs between SQLite and PostgreSQL: narrow with LIKE on the JSON text
    # (ids are UUIDs, no LIKE wildcards), then check exactly.
    rows = (await session.exec(
        select(ApprovalStage, AssignmentRequest)
        .join(AssignmentRequest, AssignmentRequest.id == ApprovalStage.request_id)
        .where(ApprovalStage.status == "InProgress", AssignmentRequest.state == "pendingApproval",
               AssignmentRequest.organization_id == me.user.organization_id,
               cast(ApprovalStage.approver_ids, String).like(f'%"{me.id}"%'))
        .order_by(col(ApprovalStage.due_date_time).asc(), AssignmentRequest.created_date_time))).all()
    waiting = []
    for stage, request in rows:
        if me.id not in stage.approver_ids or me.id in (request.requestor_id, request.target_id):
            continue  # nothing this user can decide
        view = await _describe(session, request)
        waiting.append({**view, "stage": stage})
    now = utcnow()
    signups = [{**item, "summary": _attribute_summary(item["sign_up"], item["flow"]),
                "age": _age(now - item["sign_up"].created_date_time)}
               for item in await sign_ups.waiting_for(session, me.user.organization_id, me.id)]
    return page("approvals", me=me, waiting=waiting, signups=signups)


SUMMARY_LENGTH = 4


def _attribute_summary(row, flow) -> list[tuple[str, str]]:
    """The first few submitted attributes, labelled as the flow's form labels them."""
    labels = {(a.get("userAttribute") or {}).get("id") or a.get("id"): a.get("displayName")
              for a in flow.user_attribute_assignments or []}
    shown = []
    for key, value in (row.attributes or {}).items():
        if value in (None, "", []):
            continue
        shown.append((labels.get(key) or key, ", ".join(map(str, value)) if isinstance(value, list) else str(value)))
    return shown[:SUMMARY_LENGTH]


def _age(elapsed) -> str:
    seconds = max(int(elapsed.total_seconds()), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "under a minute"


async def _load(session, me: SignedIn, request_id: str) -> dict | None:
    """The request, if the user is (or was) one of its approvers; otherwise None (404, whether
    or not it exists)."""
    request = await session.get(AssignmentRequest, request_id)
    if request is None or request.organization_id != me.user.organization_id:
        return None
    view = await _describe(session, request)
    if not any(me.id in stage.approver_ids for stage in view["stages"]):
        return None
    return view


def _not_found(me: SignedIn) -> HTMLResponse:
    return page("portal_message", status=404, me=me, headline="No request of yours to review here",
                explanation="This request does not exist, or you are not one of its approvers.",
                link="/approvals", link_text="See what waits for you")


def _detail(me: SignedIn, view: dict, status: int = 200, *, reason: str = "", **context) -> HTMLResponse:
    stage = _open_stage(view)
    request = view["request"]
    own = me.id in (request.requestor_id, request.target_id)
    can_decide = stage is not None and me.id in stage.approver_ids and not own
    return page("approval", status=status, me=me, **view, stage=stage, own=own, can_decide=can_decide,
                stage_count=len(view["stages"]), reason=reason,
                justification_required=bool(stage and _justification_required(view, stage)),
                csrf=me.csrf(f"decide:{request.id}"), **context)


async def _recorded(session, stage_id: str, approver_id: str, decision: str, error: Refused) -> bool:
    """Whether this very decision was recorded although the Update did not answer: a denial
    ends the request workflow, which may close before the decide handler returns (the client
    then sees "workflow execution already completed"). The stage row is the truth."""
    if error.code in ("selfApprovalNotAllowed", "notAnApprover", "invalidRequest"):
        return False
    for _ in range(20):
        await session.close()
        row = await session.get(ApprovalStage, stage_id, populate_existing=True)
        if row is not None and row.status == "Completed":
            return row.reviewed_by_id == approver_id and row.review_result == decision
        await asyncio.sleep(0.2)
    return False


@router.get("/{request_id}")
async def review(request_id: str, me: PageUser, session: SessionDep) -> HTMLResponse:
    view = await _load(session, me, request_id)
    if view is None:
        return _not_found(me)
    return _detail(me, view)


@router.post("/{request_id}")
async def decide(request_id: str, me: PageUser, session: SessionDep, client: TemporalDep,
                 decision: str = Form(""), reason: str = Form(""), stage_id: str = Form(""),
                 csrf: str = Form("")) -> HTMLResponse:
    if not me.csrf_ok(f"decide:{request_id}", csrf):
        return forbidden_form(me)
    view = await _load(session, me, request_id)
    if view is None:
        return _not_found(me)
    reason = reason.strip()
    if decision not in ("Approve", "Deny"):
        return _detail(me, view, status=400, reason=reason, error="Choose Approve or Deny.")
    stage = _open_stage(view)
    if stage is None or stage.id != stage_id:
        return _detail(me, view, status=409, reason=reason, error=DECISION_ERRORS["stageAlreadyDecided"])
    if _justification_required(view, stage) and not reason:
        return _detail(me, view, status=400, reason=reason,
                       error="Give a reason: this stage requires one from its approvers.")
    await session.close()
    try:
        await access_requests.decide_stage(client, Decision(
            stage_id=stage.id, approver_id=me.id, approver_name=me.user.display_name or me.user.mail,
            review_result=decision, justification=reason or None), request_id=request_id)
    except Refused as error:
        if not await _recorded(session, stage.id, me.id, decision, error):
            view = await _load(session, me, request_id)
            return _detail(me, view, status=error.status, reason=reason,
                           error=DECISION_ERRORS.get(error.code) or error.message)
    view = await _load(session, me, request_id)
    verb = "approved" if decision == "Approve" else "denied"
    following = next((s for s in view["stages"] if s.stage_index == stage.stage_index + 1), None)
    if decision == "Deny":
        after = "The request is denied."
    elif following is not None:
        after = f"It moves on to stage {following.stage_index + 1}."
    else:
        after = "Foyer is delivering the access now."
    return _detail(me, view, notice=f"You {verb} this request. {after}", decided=decision)
