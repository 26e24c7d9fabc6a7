"""Access reviews, for reviewers: `/reviews` (the instances in progress that wait for me: those I
review, and my own self-reviews) and `/reviews/{instanceId}` (the page the review mail links to:
each person with their last sign-in and the recommendation, Approve / Deny / Don't know with a
justification, and "Accept recommendations"). In a self-review the person sees only their own
access, asked "Do you still need access to …?". The same use cases as the Graph API
(foyer.usecases.access_reviews) decide who may write what."""

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse
from sqlmodel import select

from foyer.api.deps import SessionDep
from foyer.api.pages.deps import PageUser, SignedIn, forbidden_form, page, refusal_text
from foyer.errors import Refused
from foyer.models.access_reviews import AccessReviewDecision, AccessReviewDefinition, AccessReviewInstance
from foyer.usecases import access_reviews as reviews

router = APIRouter(prefix="/reviews", tags=["pages"], include_in_schema=False)

CHOICES = {"Approve": "Approve", "Deny": "Deny", "DontKnow": "Don't know"}


@router.get("")
async def waiting_for_me(me: PageUser, session: SessionDep) -> HTMLResponse:
    instances = await reviews.instances_for_reviewer(session, me.user.organization_id, me.id, in_progress_only=True)
    waiting = []
    for instance in instances:
        definition = await session.get(AccessReviewDefinition, instance.definition_id)
        people, left = await reviews.decision_counts(session, instance, me.id)
        waiting.append({"instance": instance, "definition": definition,
                        "self_review": not reviews.is_reviewer(instance, me.id) and await reviews.self_review(session, instance),
                        "people": people, "left": left})
    return page("reviews", me=me, waiting=waiting)


async def _load(session, me: SignedIn, instance_id: str) -> dict | None:
    """The instance and the decisions this person may see, or None (a 404 whether or not it
    exists) when they are neither its reviewer nor the person a self-review is about."""
    instance = await session.get(AccessReviewInstance, instance_id) if len(instance_id) <= 64 else None
    if instance is None or instance.organization_id != me.user.organization_id:
        return None
    try:
        rows = await reviews.visible_decisions(session, instance, me.id, False)
    except Refused:
        return None
    definition = await session.get(AccessReviewDefinition, instance.definition_id)
    settings = (definition.settings if definition else None) or {}
    return {"instance": instance, "definition": definition, "decisions": rows,
            "reviewer": reviews.is_reviewer(instance, me.id),
            "self_review": not reviews.is_reviewer(instance, me.id) and await reviews.self_review(session, instance),
            "open": instance.status == reviews.IN_PROGRESS,
            "justification_required": bool(settings.get("justificationRequiredOnApproval")),
            "recommendations": any(r.decision == "NotReviewed" and r.recommendation in ("Approve", "Deny")
                                   for r in rows)}


def _not_found(me: SignedIn) -> HTMLResponse:
    return page("portal_message", status=404, me=me, headline="No access review of yours here",
                explanation="This access review does not exist, or you are not one of its reviewers.",
                link="/reviews", link_text="See what waits for you")


def _detail(me: SignedIn, view: dict, status: int = 200, **context) -> HTMLResponse:
    context.setdefault("failed", None)
    context.setdefault("justification", "")
    return page("review", status=status, me=me, **view, choices=CHOICES,
                csrf=me.csrf(f"review:{view['instance'].id}"), **context)


@router.get("/{instance_id}")
async def review(instance_id: str, me: PageUser, session: SessionDep) -> HTMLResponse:
    view = await _load(session, me, instance_id)
    if view is None:
        return _not_found(me)
    return _detail(me, view)


@router.post("/{instance_id}/decisions/{decision_id}")
async def decide(instance_id: str, decision_id: str, me: PageUser, session: SessionDep,
                 decision: str = Form(""), justification: str = Form(""), csrf: str = Form("")) -> HTMLResponse:
    if not me.csrf_ok(f"review:{instance_id}", csrf):
        return forbidden_form(me)
    view = await _load(session, me, instance_id)
    if view is None:
        return _not_found(me)
    if decision not in CHOICES:
        return _detail(me, view, status=400, error="Choose Approve, Deny or Don't know.", failed=decision_id)
    try:
        row = await reviews.record_decision(session, view["instance"], decision_id, me.user, decision, justification)
    except Refused as refused:
        view = await _load(session, me, instance_id)
        return _detail(me, view, status=refused.status, error=refusal_text(refused), failed=decision_id,
                       justification=justification)
    name = "your access" if view["self_review"] else (row.principal_display_name or "this person")
    view = await _load(session, me, instance_id)
    return _detail(me, view, notice=f"Recorded: {CHOICES[decision]} for {name}.")


@router.post("/{instance_id}/accept")
async def accept(instance_id: str, me: PageUser, session: SessionDep, csrf: str = Form("")) -> HTMLResponse:
    if not me.csrf_ok(f"review:{instance_id}", csrf):
        return forbidden_form(me)
    view = await _load(session, me, instance_id)
    if view is None:
        return _not_found(me)
    try:
        decided = await reviews.accept_recommendations(session, view["instance"], me.user)
    except Refused as refused:
        return _detail(me, await _load(session, me, instance_id), status=refused.status, error=refusal_text(refused))
    view = await _load(session, me, instance_id)
    left = (await session.exec(select(AccessReviewDecision.id).where(
        AccessReviewDecision.instance_id == instance_id, AccessReviewDecision.decision == "NotReviewed"))).all()
    tail = f" {len(left)} without a recommendation still wait for you." if left and view["reviewer"] else ""
    return _detail(me, view, notice=f"Accepted {decided} recommendation{'' if decided == 1 else 's'}.{tail}")
