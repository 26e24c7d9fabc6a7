"""What the access review processes do to the directory (called by their activities,
activities/access_reviews.py): open an occurrence's instances, snapshot an instance's people and
reviewers with recommendations, close it with the default decision, and apply what was denied.

Every step is safe to run again (activities are retried): an occurrence's instances are found by
their start time, an instance's decisions by (instance, person), a decision already applied is
not applied again.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer.durations import parse_duration
from foyer.models.access_reviews import AccessReviewDecision, AccessReviewDefinition, AccessReviewInstance
from foyer.models.directory import (
    Application, ApplicationOwner, AppRoleAssignment, Group, GroupAppRoleAssignment, GroupMember, GroupOwner, User,
)
from foyer.models.entitlement import AccessPackage, Assignment, Catalog, ConnectedOrganization
from foyer.models.enums import LIVE_ASSIGNMENT_STATES, ExternalUserState, UserType
from foyer.usecases.app_assignments import unassign
from foyer.usecases.groups import remove_member
from foyer.rules.access_review_scope import CATALOG_OWNERS, REVIEWER_USER, ReviewScope, ScopeRefused, read_scope
from foyer.workflows.messages.access_review import (
    AppliedDecisions, BegunReview, OpenedOccurrence, OpenOccurrenceInput, access_review_workflow_id,
)

DEFAULT_DURATION_DAYS = 14
DEFAULT_LOOK_BACK = "P30D"
# Who applies decisions and decides by default: the service, as Entra's "AAD Access Reviews".
SERVICE = {"id": "00000000-0000-0000-0000-000000000000", "displayName": "Foyer access reviews"}
DISABLE_AND_DELETE = "#microsoft.graph.disableAndDeleteUserApplyAction"
# Decisions applied per transaction: each removal keeps its own audit record.
APPLY_BATCH = 200


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def settings_of(definition: AccessReviewDefinition) -> dict:
    return definition.settings or {}


def duration_of(definition: AccessReviewDefinition) -> timedelta:
    days = settings_of(definition).get("instanceDurationInDays") or DEFAULT_DURATION_DAYS
    return timedelta(days=int(days))


def disables_and_deletes(definition: AccessReviewDefinition) -> bool:
    return any((a or {}).get("@odata.type") == DISABLE_AND_DELETE for a in settings_of(definition).get("applyActions") or [])


# --- opening an occurrence -----------------------------------------------------------------------

async def _resources(session: AsyncSession, definition: AccessReviewDefinition,
                     scope: ReviewScope) -> list[tuple[str, str, str | None]]:
    """(id, type, display name) of what each instance reviews."""
    if scope.kind == "group":
        group = await session.get(Group, scope.resource_id)
        return [(scope.resource_id, "group", group.display_name if group else None)]
    if scope.kind == "application":
        app = await session.get(Application, scope.resource_id)
        return [(scope.resource_id, "application", app.display_name if app else None)]
    if scope.kind == "accessPackage":
        package = await session.get(AccessPackage, scope.resource_id)
        return [(scope.resource_id, "accessPackage", package.display_name if package else None)]
    if scope.kind == "eachGroup":
        groups = (await session.exec(select(Group).where(Group.organization_id == definition.organization_id)
                                     .order_by(Group.display_name, Group.id))).all()
        return [(g.id, "group", g.display_name) for g in groups]
    return [("", "directory", "Inactive users")]


async def open_occurrence(session: AsyncSession, data: OpenOccurrenceInput) -> OpenedOccurrence:
    """The instances of one occurrence (one per resource), made once: an occurrence started at
    `data.started` that already has instances answers them."""
    definition = await session.get(AccessReviewDefinition, data.definition_id, with_for_update=True)
    if definition is None or definition.status == "Completed":
        return OpenedOccurrence(instance_ids=[], stopped=True)
    started = datetime.fromisoformat(data.started)
    existing = (await session.exec(select(AccessReviewInstance).where(
        AccessReviewInstance.definition_id == definition.id,
        AccessReviewInstance.start_date_time == started))).all()
    if existing:
        return OpenedOccurrence(instance_ids=[i.id for i in existing])
    try:
        scope = read_scope(definition.scope, definition.instance_enumeration_scope or None)
    except ScopeRefused:
        return OpenedOccurrence(instance_ids=[], stopped=True)
    previous = (await session.exec(select(AccessReviewInstance.occurrence).where(
        AccessReviewInstance.definition_id == definition.id).order_by(col(AccessReviewInstance.occurrence).desc()))).first()
    occurrence = (previous or 0) + 1
    end = started + duration_of(definition)
    instances = []
    for resource_id, resource_type, name in await _resources(session, definition, scope):
        instance = AccessReviewInstance(
            organization_id=definition.organization_id, definition_id=definition.id, occurrence=occurrence,
            resource_id=resource_id, resource_type=resource_type, resource_display_name=name,
            scope=definition.scope, start_date_time=started, end_date_time=end)
        instance.workflow_id = access_review_workflow_id(instance.id)
        instances.append(instance)
    session.add_all(instances)
    definition.status = "InProgress"
    session.add(definition)
    await session.commit()
    return OpenedOccurrence(instance_ids=[i.id for i in instances])


# --- beginning an instance: who is in scope, who reviews -----------------------------------------

@dataclass(frozen=True)
class Principal:
    user: User
    access_id: str | None = None


def _in(users: list[User], guests_only: bool) -> list[User]:
    return [u for u in users if not guests_only or u.user_type == UserType.guest]


async def _group_members(session: AsyncSession, group_id: str) -> list[User]:
    return list((await session.exec(select(User).join(GroupMember, GroupMember.user_id == User.id)
                                    .where(GroupMember.group_id == group_id).order_by(User.id))).all())


def last_activity(user: User) -> datetime | None:
    """The last successful sign-in; for a guest who never signed in, their redemption (failed
    attempts and API-token use are not activity)."""
    if user.last_successful_sign_in_date_time is not None:
        return _aware(user.last_successful_sign_in_date_time)
    if user.user_type == UserType.guest and user.external_user_state == ExternalUserState.accepted:
        return _aware(user.external_user_state_change_date_time)
    return None


async def principals_in_scope(session: AsyncSession, instance: AccessReviewInstance, scope: ReviewScope,
                              now: datetime) -> list[Principal]:
    if instance.resource_type == "group":
        return [Principal(u) for u in _in(await _group_members(session, instance.resource_id), scope.guests_only)]
    if instance.resource_type == "application":
        direct = (await session.exec(select(AppRoleAssignment, User).join(User, User.id == AppRoleAssignment.principal_id)
                                     .where(AppRoleAssignment.application_id == instance.resource_id))).all()
        found = {u.id: Principal(u, a.id) for a, u in direct if not scope.guests_only or u.user_type == UserType.guest}
        groups = (await session.exec(select(GroupAppRoleAssignment.group_id).where(
            GroupAppRoleAssignment.application_id == instance.resource_id))).all()
        for group_id in groups:
            for user in _in(await _group_members(session, group_id), scope.guests_only):
                found.setdefault(user.id, Principal(user))
        return sorted(found.values(), key=lambda p: p.user.id)
    if instance.resource_type == "accessPackage":
        rows = (await session.exec(select(Assignment, User).join(User, User.id == Assignment.target_id).where(
            Assignment.access_package_id == instance.resource_id,
            col(Assignment.state).in_(LIVE_ASSIGNMENT_STATES)).order_by(User.id))).all()
        return [Principal(u, a.id) for a, u in rows if not scope.guests_only or u.user_type == UserType.guest]
    # Inactive users across the directory: no successful sign-in (or redemption) within the duration.
    cutoff = now - parse_duration(scope.inactive_duration or "P30D")
    users = (await session.exec(select(User).where(User.organization_id == instance.organization_id)
                                .order_by(User.id))).all()
    return [Principal(u) for u in _in(list(users), scope.guests_only)
            if (last_activity(u) or _aware(u.created_date_time)) <= cutoff]


def recommendation(user: User, now: datetime, look_back: str) -> str:
    """Approve for a sign-in (or redemption) within the look-back, Deny for one before it,
    NoInfoAvailable for someone never seen."""
    last = last_activity(user)
    if last is None:
        return "NoInfoAvailable"
    return "Approve" if last >= now - parse_duration(look_back) else "Deny"


async def _catalog_owners(session: AsyncSession, catalog_id: str | None) -> list[str]:
    catalog = await session.get(Catalog, catalog_id) if catalog_id else None
    return list(catalog.owner_ids or []) if catalog else []


async def _sponsors(session: AsyncSession, instance: AccessReviewInstance) -> list[str]:
    """The internal sponsors of the connected organizations the reviewed people come from (by the
    domain of their address)."""
    domains = {(mail or "").rpartition("@")[2].lower() for mail in (await session.exec(
        select(User.mail).join(AccessReviewDecision, AccessReviewDecision.principal_id == User.id).where(
            AccessReviewDecision.instance_id == instance.id))).all()}
    sponsors: list[str] = []
    for organization in (await session.exec(select(ConnectedOrganization).where(
            ConnectedOrganization.organization_id == instance.organization_id))).all():
        if any((source.get("domainName") or "").lower() in domains for source in organization.identity_sources or []):
            sponsors += organization.internal_sponsor_ids or []
    return sponsors


async def _reviewer_ids(session: AsyncSession, instance: AccessReviewInstance, reviewers: list[dict]) -> list[str]:
    found: list[str] = []
    for reviewer in reviewers or []:
        query = (reviewer or {}).get("query") or ""
        if match := CATALOG_OWNERS.match(query):
            found += await _catalog_owners(session, match.group(1))
        elif query == "./owners" and instance.resource_type == "accessPackage":
            package = await session.get(AccessPackage, instance.resource_id)
            found += await _catalog_owners(session, package.catalog_id if package else None)
        elif query == "./sponsors":
            found += await _sponsors(session, instance)
        elif match := REVIEWER_USER.match(query):
            user = await session.get(User, match.group(1))
            if user is not None and user.organization_id == instance.organization_id and user.account_enabled:
                found.append(user.id)
        elif query == "./owners" and instance.resource_type == "group":
            found += (await session.exec(select(GroupOwner.user_id).where(
                GroupOwner.group_id == instance.resource_id))).all()
        elif query == "./owners" and instance.resource_type == "application":
            found += (await session.exec(select(ApplicationOwner.user_id).where(
                ApplicationOwner.application_id == instance.resource_id))).all()
    return list(dict.fromkeys(found))


async def begin_review(session: AsyncSession, instance_id: str, now: datetime | None = None) -> BegunReview:
    """Snapshot who is in scope (a decision row each, with its recommendation) and who reviews
    (the reviewers; the fallback reviewers when none resolve; nobody for a self-review), once."""
    now = now or datetime.now(timezone.utc)
    instance = await session.get(AccessReviewInstance, instance_id, with_for_update=True)
    definition = await session.get(AccessReviewDefinition, instance.definition_id) if instance else None
    settings = settings_of(definition) if definition else {}

    def begun(decisions: int, stopped: bool = False) -> BegunReview:
        return BegunReview(end_date_time=_aware(instance.end_date_time).isoformat() if instance else now.isoformat(),
                           start_date_time=_aware(instance.start_date_time).isoformat() if instance else now.isoformat(),
                           decisions=decisions, stopped=stopped,
                           mail_reviewers=bool(settings.get("mailNotificationsEnabled")),
                           reminders=bool(settings.get("reminderNotificationsEnabled")),
                           auto_apply=bool(settings.get("autoApplyDecisionsEnabled")))

    if instance is None or definition is None or instance.status in ("Completed", "Stopped"):
        return begun(0, stopped=True)
    if instance.status != "NotStarted":
        count = len((await session.exec(select(AccessReviewDecision.id).where(
            AccessReviewDecision.instance_id == instance.id))).all())
        return begun(count)
    scope = read_scope(definition.scope, definition.instance_enumeration_scope or None)
    look_back = settings.get("recommendationLookBackDuration") or DEFAULT_LOOK_BACK
    recommend = settings.get("recommendationsEnabled", True) is not False
    principals = await principals_in_scope(session, instance, scope, now)
    session.add_all([AccessReviewDecision(
        organization_id=instance.organization_id, instance_id=instance.id, principal_id=p.user.id,
        principal_display_name=p.user.display_name, principal_user_principal_name=p.user.user_principal_name,
        access_id=p.access_id, last_sign_in_date_time=last_activity(p.user),
        recommendation=recommendation(p.user, now, look_back) if recommend else "NoInfoAvailable")
        for p in principals])
    await session.flush()  # the decisions first: sponsors are found through the people reviewed
    if definition.reviewers:
        reviewer_ids = await _reviewer_ids(session, instance, definition.reviewers)
        if not reviewer_ids:
            reviewer_ids = await _reviewer_ids(session, instance, definition.fallback_reviewers)
        instance.reviewer_ids = reviewer_ids
    else:
        instance.reviewer_ids = []  # a self-review: each person reviews their own access
    instance.status = "InProgress"
    session.add(instance)
    await session.commit()
    return begun(len(principals))


async def reviewers_to_mail(session: AsyncSession, instance: AccessReviewInstance,
                            only_undecided: bool) -> list[User]:
    """Who a mail of this instance goes to: its reviewers, or for a self-review the people
    themselves (for a reminder, only those who have something left to decide)."""
    if instance.reviewer_ids:
        if only_undecided and not (await session.exec(select(AccessReviewDecision.id).where(
                AccessReviewDecision.instance_id == instance.id,
                AccessReviewDecision.decision == "NotReviewed"))).first():
            return []
        return list((await session.exec(select(User).where(col(User.id).in_(instance.reviewer_ids))
                                        .order_by(User.id))).all())
    query = select(User).join(AccessReviewDecision, AccessReviewDecision.principal_id == User.id).where(
        AccessReviewDecision.instance_id == instance.id)
    if only_undecided:
        query = query.where(AccessReviewDecision.decision == "NotReviewed")
    return list((await session.exec(query.order_by(User.id))).all())


# --- closing and applying ---------------------------------------------------------------------------

async def complete_review(session: AsyncSession, instance_id: str, now: datetime | None = None) -> None:
    """The end of the instance: the default decision for what nobody reviewed (when enabled),
    then Completed."""
    now = now or datetime.now(timezone.utc)
    instance = await session.get(AccessReviewInstance, instance_id, with_for_update=True)
    if instance is None or instance.status == "Completed":
        return
    definition = await session.get(AccessReviewDefinition, instance.definition_id)
    settings = settings_of(definition) if definition else {}
    default = settings.get("defaultDecision") if settings.get("defaultDecisionEnabled") else None
    if default:
        undecided = (await session.exec(select(AccessReviewDecision).where(
            AccessReviewDecision.instance_id == instance.id, AccessReviewDecision.decision == "NotReviewed"))).all()
        for row in undecided:
            decided = row.recommendation if default == "Recommendation" else default
            if decided not in ("Approve", "Deny"):
                continue  # Recommendation with none to follow: left NotReviewed
            row.decision, row.justification = decided, "Default decision: nobody reviewed this in time."
            row.reviewed_by_id, row.reviewed_by_display_name, row.reviewed_date_time = (
                SERVICE["id"], SERVICE["displayName"], now)
            session.add(row)
    instance.status = "Completed"
    instance.end_date_time = min(_aware(instance.end_date_time), now)
    session.add(instance)
    await session.commit()


async def apply_review(session: AsyncSession, instance_id: str, *, actor: dict,
                       now: datetime | None = None) -> AppliedDecisions:
    """Take back exactly what was denied, once per decision: the group membership, the app
    assignment here; a package assignment and a guest's disable-and-delete are steered by the
    workflow (their own processes). applyResult is recorded on every decision applied."""
    now = now or datetime.now(timezone.utc)
    instance = await session.get(AccessReviewInstance, instance_id)
    if instance is None:
        return AppliedDecisions(applied=0)
    definition = await session.get(AccessReviewDefinition, instance.definition_id)
    delete_guests = definition is not None and disables_and_deletes(definition)
    rows = (await session.exec(select(AccessReviewDecision).where(
        AccessReviewDecision.instance_id == instance.id, AccessReviewDecision.apply_result == "New",
        col(AccessReviewDecision.decision).in_(("Approve", "Deny"))).order_by(AccessReviewDecision.id))).all()
    # The people and their memberships, read in bulk (and held: the session's identity map keeps
    # only what is referenced), so each removal below reads nothing more.
    denied_ids = [row.principal_id for row in rows if row.decision == "Deny"]
    users: dict[str, User] = {}
    memberships: dict[str, GroupMember] = {}
    for start in range(0, len(denied_ids), 500):
        chunk = denied_ids[start:start + 500]
        users.update({u.id: u for u in (await session.exec(select(User).where(col(User.id).in_(chunk)))).all()})
        if instance.resource_type == "group":
            memberships.update({m.user_id: m for m in (await session.exec(select(GroupMember).where(
                GroupMember.group_id == instance.resource_id, col(GroupMember.user_id).in_(chunk)))).all()})
    group = await session.get(Group, instance.resource_id) if instance.resource_type == "group" else None
    result = AppliedDecisions(applied=0)
    for row in rows:
        outcome = "AppliedSuccessfully"
        if row.decision == "Deny":
            user = users.get(row.principal_id)
            if user is None:
                outcome = "AppliedSuccessfullyButObjectNotFound"
            elif delete_guests and user.user_type == UserType.guest:
                pass  # the guest's lifecycle disables them now and deletes them later (below)
            elif instance.resource_type == "group":
                if group is None or user.id not in memberships:
                    outcome = "AppliedSuccessfullyButObjectNotFound"
                else:
                    await remove_member(session, instance.organization_id, group, user, actor=actor,
                                        capacity="accessReview", commit=False)
            elif instance.resource_type == "application":
                app = await session.get(Application, instance.resource_id)
                if app is None or row.access_id is None or await session.get(AppRoleAssignment, row.access_id) is None:
                    outcome = "AppliedSuccessfullyButObjectNotFound" if row.access_id else "ApplyNotSupported"
                else:
                    await unassign(session, instance.organization_id, app, row.access_id, actor=actor,
                                   capacity="accessReview")
            elif instance.resource_type == "accessPackage":
                assignment = await session.get(Assignment, row.access_id) if row.access_id else None
                if assignment is None or assignment.state not in LIVE_ASSIGNMENT_STATES or not assignment.workflow_id:
                    outcome = "AppliedSuccessfullyButObjectNotFound"
            else:
                outcome = "ApplyNotSupported"  # a directory-wide review removes nothing but with disable-and-delete
        row.apply_result, row.applied_by_id, row.applied_date_time = outcome, actor.get("actor_id"), now
        session.add(row)
        result.applied += 1
        if result.applied % APPLY_BATCH == 0:
            # A batch of removals and their applyResults together: a retry resumes after it.
            await session.commit()
    await session.commit()
    # What the workflow steers, from every denial (not only those applied by this attempt: a retry
    # after a partial apply finds them again; a second removal signal or lifecycle start is a no-op).
    denied = (await session.exec(select(AccessReviewDecision).where(
        AccessReviewDecision.instance_id == instance.id, AccessReviewDecision.decision == "Deny"))).all()
    for row in denied:
        user = await session.get(User, row.principal_id)
        if user is None:
            continue
        if delete_guests and user.user_type == UserType.guest:
            result.users_to_block_and_delete.append(user.id)
        elif instance.resource_type == "accessPackage" and row.access_id:
            assignment = await session.get(Assignment, row.access_id)
            if assignment is not None and assignment.state in LIVE_ASSIGNMENT_STATES and assignment.workflow_id:
                result.assignment_workflow_ids.append(assignment.workflow_id)
    instance = await session.get(AccessReviewInstance, instance_id)
    instance.applied_date_time = now
    session.add(instance)
    await session.commit()
    return result
