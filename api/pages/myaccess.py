"""My Access: what a signed-in member or guest may request, their requests and assignments.

Reading is plain SQL; every change (request, extend, remove) goes through
`workflows.client.access_requests.submit_request`, i.e. the (package, person) AccessRequestWorkflow, which checks the
policy again: this page only decides what to offer.
"""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col, or_, select

from foyer.usecases.access import target_allowed
from foyer.workflows.messages.access import AccessRequestSpec
from foyer.workflows.client import access_requests
from foyer.api.deps import SessionDep, TemporalDep
from foyer.errors import Refused
from foyer.api.pages.deps import PageUser, SignedIn, forbidden_form, page
from foyer.models.entitlement import AccessPackage, Assignment, AssignmentPolicy, AssignmentRequest, Catalog
from foyer.models.enums import LIVE_ASSIGNMENT_STATES, OPEN_REQUEST_STATES, UserType

router = APIRouter(prefix="/myaccess", tags=["pages"], include_in_schema=False)
MC = "MultipleChoiceQuestion"


# --- what the user may ask for --------------------------------------------------------------

async def may_request(session, me: SignedIn, package: AccessPackage, policy: AssignmentPolicy,
                      catalog: Catalog) -> bool:
    """Whether the policy lets this user ask for the package for themselves (the same target
    rule the request workflow applies, reused from activities.access)."""
    user = me.user
    if package.organization_id != user.organization_id or package.is_hidden:
        return False
    if catalog.state != "published":
        return False
    if user.user_type == UserType.guest and not catalog.is_externally_visible:
        return False
    if not (policy.requestor_settings or {}).get("enableTargetsToSelfAddAccess"):
        return False
    return await target_allowed(session, policy, user)


async def requestable(session, me: SignedIn) -> list[tuple[AccessPackage, AssignmentPolicy, Catalog]]:
    rows = (await session.exec(
        select(AccessPackage, AssignmentPolicy, Catalog)
        .join(AssignmentPolicy, AssignmentPolicy.access_package_id == AccessPackage.id)
        .join(Catalog, Catalog.id == AccessPackage.catalog_id)
        .where(AccessPackage.organization_id == me.user.organization_id,
               col(AccessPackage.is_hidden).is_(False), Catalog.state == "published")
        .order_by(AccessPackage.display_name, AssignmentPolicy.display_name))).all()
    return [(p, pol, c) for p, pol, c in rows if await may_request(session, me, p, pol, c)]


def question_fields(policy: AssignmentPolicy) -> list[dict]:
    """The policy's questions as the form shows them; field names are q0, q1… in this order."""
    fields = []
    ordered = sorted(policy.questions or [], key=lambda q: q.get("sequence", 0))
    for number, question in enumerate(ordered):
        text = question.get("text")
        if isinstance(text, dict):
            text = text.get("defaultText")
        choice = question.get("@odata.type", "").endswith(MC)
        choices = []
        for option in question.get("choices", []) if choice else []:
            label = option.get("text") or (option.get("displayValue") or {}).get("defaultText")
            choices.append({"value": option.get("actualValue"), "label": label or option.get("actualValue")})
        fields.append({
            "name": f"q{number}", "id": question.get("id"), "text": text or question.get("id"),
            "required": bool(question.get("isRequired")), "kind": "choice" if choice else "text",
            "multiple": bool(question.get("allowsMultipleSelection")), "choices": choices,
            "single_line": question.get("isSingleLineQuestion", True),
            "odata_type": question.get("@odata.type"),
        })
    return fields


def answers_from(form, fields: list[dict]) -> tuple[list[dict], dict]:
    """(Graph answers for the request, the values to refill the form with)."""
    answers, values = [], {}
    for field in fields:
        if field["kind"] == "choice" and field["multiple"]:
            value = [v for v in form.getlist(field["name"]) if v]
        else:
            value = (form.get(field["name"]) or "").strip()
        values[field["name"]] = value
        if value in ("", []):
            continue
        kind = "accessPackageAnswerChoice" if field["kind"] == "choice" else "accessPackageAnswerString"
        answers.append({"@odata.type": f"#microsoft.graph.{kind}", "question": {"id": field["id"]},
                        "answeredValue": value})
    return answers, values


# --- pages ----------------------------------------------------------------------------------

@router.get("")
async def my_access(me: PageUser, session: SessionDep) -> HTMLResponse:
    return await _overview(me, session)


async def _overview(me: SignedIn, session, status: int = 200, **context) -> HTMLResponse:
    user = me.user
    requests = (await session.exec(
        select(AssignmentRequest, AccessPackage)
        .join(AccessPackage, AccessPackage.id == AssignmentRequest.access_package_id)
        .where(or_(AssignmentRequest.target_id == user.id, AssignmentRequest.requestor_id == user.id))
        .order_by(col(AssignmentRequest.created_date_time).desc()).limit(50))).all()
    open_packages = {r.access_package_id for r, _ in requests
                     if r.target_id == user.id and r.state in OPEN_REQUEST_STATES}
    assignments = (await session.exec(
        select(Assignment, AccessPackage, AssignmentPolicy)
        .join(AccessPackage, AccessPackage.id == Assignment.access_package_id)
        .join(AssignmentPolicy, AssignmentPolicy.id == Assignment.assignment_policy_id, isouter=True)
        .where(Assignment.target_id == user.id, col(Assignment.state).in_(LIVE_ASSIGNMENT_STATES))
        .order_by(AccessPackage.display_name))).all()
    assigned = {a.access_package_id for a, _, _ in assignments}
    offers = []
    for package, policy, catalog in await requestable(session, me):
        offers.append({"package": package, "policy": policy, "catalog": catalog,
                       "assigned": package.id in assigned, "open": package.id in open_packages})
    rows = []
    for assignment, package, policy in assignments:
        settings = (policy.requestor_settings if policy else None) or {}
        rows.append({
            "assignment": assignment, "package": package,
            "open": package.id in open_packages,
            "can_extend": bool(settings.get("enableTargetsToSelfUpdateAccess")) and assignment.end_date_time is not None,
            "can_remove": bool(settings.get("enableTargetsToSelfRemoveAccess")),
            "remove_token": me.csrf(f"remove:{assignment.id}"),
        })
    return page("myaccess", status=status, me=me, offers=offers, requests=requests, assignments=rows,
                **context)


async def _policy(session, me: SignedIn, policy_id: str):
    policy = await session.get(AssignmentPolicy, policy_id)
    if policy is None:
        return None
    package = await session.get(AccessPackage, policy.access_package_id)
    catalog = await session.get(Catalog, package.catalog_id) if package else None
    if package is None or catalog is None or not await may_request(session, me, package, policy, catalog):
        return None
    return package, policy


def _unavailable(me: SignedIn) -> HTMLResponse:
    return page("portal_message", status=404, me=me, headline="This access package is not available to you",
                explanation="It does not exist, is hidden, or its policy does not let you ask for it.",
                link="/myaccess", link_text="Back to My Access")


def _form_page(me: SignedIn, package, policy, *, mode: str, action: str, form_name: str,
               status: int = 200, values: dict | None = None, justification: str = "",
               assignment: Assignment | None = None, **context) -> HTMLResponse:
    approval = policy.request_approval_settings or {}
    needs_approval = approval.get("isApprovalRequiredForAdd" if mode == "add" else "isApprovalRequiredForUpdate")
    return page("myaccess_request", status=status, me=me, package=package, policy=policy, mode=mode,
                action=action, csrf=me.csrf(form_name), fields=question_fields(policy),
                values=values or {}, justification=justification, assignment=assignment,
                justification_required=bool(approval.get("isRequestorJustificationRequired")),
                approval_stages=len(approval.get("stages") or []) if needs_approval else 0,
                expiration=policy.expiration or {}, **context)


def _add_form(policy) -> dict:
    return {"mode": "add", "action": f"/myaccess/request/{policy.id}", "form_name": f"request:{policy.id}"}


def _extend_form(assignment) -> dict:
    return {"mode": "extend", "assignment": assignment,
            "action": f"/myaccess/assignments/{assignment.id}/extend", "form_name": f"extend:{assignment.id}"}


async def _submit_form(form, me, session, client, package, policy, request_type: str, kind: str,
                       page: dict) -> HTMLResponse:
    """Submit the request the form describes; if it is refused, the same form again, with what
    was typed and the reason."""
    answers, values = answers_from(form, question_fields(policy))
    justification = (form.get("justification") or "").strip()
    await session.close()
    spec = AccessRequestSpec(
        request_id=str(uuid.uuid4()), organization_id=me.user.organization_id, request_type=request_type,
        access_package_id=package.id, assignment_policy_id=policy.id, requestor_id=me.id,
        target_id=me.id, justification=justification or None, answers=answers)
    try:
        plan = await access_requests.submit_request(client, spec)
    except Refused as error:
        return _form_page(me, package, policy, **page, status=error.status, values=values,
                          justification=justification, error=_refusal_text(error))
    return _submitted(me, package, plan, kind)


@router.get("/request/{policy_id}")
async def request_form(policy_id: str, me: PageUser, session: SessionDep) -> HTMLResponse:
    found = await _policy(session, me, policy_id)
    if found is None:
        return _unavailable(me)
    package, policy = found
    return _form_page(me, package, policy, **_add_form(policy))


@router.post("/request/{policy_id}")
async def submit_request(policy_id: str, request: Request, me: PageUser, session: SessionDep,
                         client: TemporalDep) -> HTMLResponse:
    form = await request.form()
    if not me.csrf_ok(f"request:{policy_id}", form.get("csrf")):
        return forbidden_form(me)
    found = await _policy(session, me, policy_id)
    if found is None:
        return _unavailable(me)
    package, policy = found
    return await _submit_form(form, me, session, client, package, policy, "userAdd", "request",
                              _add_form(policy))


@router.get("/assignments/{assignment_id}/extend")
async def extend_form(assignment_id: str, me: PageUser, session: SessionDep) -> HTMLResponse:
    found = await _own_assignment(session, me, assignment_id)
    if found is None:
        return _no_assignment(me)
    assignment, package, policy = found
    return _form_page(me, package, policy, **_extend_form(assignment))


@router.post("/assignments/{assignment_id}/extend")
async def extend(assignment_id: str, request: Request, me: PageUser, session: SessionDep,
                 client: TemporalDep) -> HTMLResponse:
    form = await request.form()
    if not me.csrf_ok(f"extend:{assignment_id}", form.get("csrf")):
        return forbidden_form(me)
    found = await _own_assignment(session, me, assignment_id)
    if found is None:
        return _no_assignment(me)
    assignment, package, policy = found
    return await _submit_form(form, me, session, client, package, policy, "userUpdate", "extend",
                              _extend_form(assignment))


@router.post("/assignments/{assignment_id}/remove")
async def remove(assignment_id: str, request: Request, me: PageUser, session: SessionDep,
                 client: TemporalDep) -> HTMLResponse:
    form = await request.form()
    if not me.csrf_ok(f"remove:{assignment_id}", form.get("csrf")):
        return forbidden_form(me)
    found = await _own_assignment(session, me, assignment_id)
    if found is None:
        return _no_assignment(me)
    assignment, package, policy = found
    await session.close()
    spec = AccessRequestSpec(
        request_id=str(uuid.uuid4()), organization_id=me.user.organization_id, request_type="userRemove",
        access_package_id=package.id, assignment_policy_id=policy.id, requestor_id=me.id, target_id=me.id)
    try:
        plan = await access_requests.submit_request(client, spec)
    except Refused as error:
        return await _overview(me, session, status=error.status, error=_refusal_text(error))
    return _submitted(me, package, plan, "remove")


async def _own_assignment(session, me: SignedIn, assignment_id: str):
    assignment = await session.get(Assignment, assignment_id)
    if assignment is None or assignment.target_id != me.id or assignment.state not in LIVE_ASSIGNMENT_STATES:
        return None
    package = await session.get(AccessPackage, assignment.access_package_id)
    policy = await session.get(AssignmentPolicy, assignment.assignment_policy_id) \
        if assignment.assignment_policy_id else None
    if package is None or policy is None:
        return None
    return assignment, package, policy


def _no_assignment(me: SignedIn) -> HTMLResponse:
    return page("portal_message", status=404, me=me, headline="This assignment is not yours or has ended",
                explanation="Only your own, current assignments can be extended or removed here.",
                link="/myaccess", link_text="Back to My Access")


REFUSAL_TEXT = {
    "pendingRequestExists": "You already have an open request for this access package. Wait for it to finish.",
    "alreadyAssigned": "You already have this access package.",
    "notAssigned": "You no longer have this access package.",
    "requestNotAllowed": "This policy does not let you do that: {message}.",
    "separationOfDutiesConflict": "You cannot have this access package together with what you have: {message}.",
}


def _refusal_text(error: Refused) -> str:
    template = REFUSAL_TEXT.get(error.code)
    if template:
        return template.format(message=error.message)
    text = error.message or "The request was refused."
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _submitted(me: SignedIn, package: AccessPackage, plan, kind: str) -> HTMLResponse:
    if kind == "remove":
        headline = "Removal requested"
        explanation = f"Foyer is taking back {package.display_name}. It disappears from your assignments shortly."
    elif plan.stages:
        headline = "Request submitted"
        explanation = (f"Your request for {package.display_name} is waiting for approval "
                       f"({len(plan.stages)} stage{'s' if len(plan.stages) > 1 else ''}). "
                       "You will find its state under My requests.")
    else:
        headline = "Extension requested" if kind == "extend" else "Request submitted"
        explanation = (f"No approval is needed: Foyer is {'extending' if kind == 'extend' else 'delivering'} "
                       f"{package.display_name} now.")
    return page("portal_message", me=me, headline=headline, explanation=explanation,
                link="/myaccess", link_text="Back to My Access", request_id=plan.request_id)
