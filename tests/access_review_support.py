"""Access review tests' builders: a group with guests whose last sign-ins are set, definition,
instance and decision rows written straight to the database (as the API and the review workflows
would have made them), and Graph bodies for the API's tests."""

from datetime import datetime, timedelta, timezone

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.access_reviews import AccessReviewDecision, AccessReviewDefinition, AccessReviewInstance
from foyer.models.base import utcnow
from foyer.models.directory import Group, GroupMember, User
from foyer.rules.access_review_scope import read_scope
from foyer.usecases.access_reviews import normalized_settings
from tests.factories import user_row

GUESTS_OF = "/groups/{}/transitiveMembers/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')"
DEFINITIONS = "/v1.0/identityGovernance/accessReviews/definitions"
QUERY_SCOPE = "#microsoft.graph.accessReviewQueryScope"


async def group_with_people(organization_id: str, people: dict[str, timedelta | None],
                            members: tuple[str, ...] = ()) -> tuple[Group, dict[str, User]]:
    """A group whose guests last signed in `people[name]` ago (None: never, redeemed 60 days ago),
    plus members by name."""
    now = datetime.now(timezone.utc)
    made: dict[str, User] = {}
    async with session_scope() as session:
        group = Group(organization_id=organization_id, display_name=f"Reviewed partners {now.timestamp():.0f}")
        session.add(group)
        for name, ago in people.items():
            user = user_row(organization_id, name, guest=True)
            user.external_user_state_change_date_time = now - timedelta(days=60)
            user.last_successful_sign_in_date_time = None if ago is None else now - ago
            made[name] = user
        for name in members:
            made[name] = user_row(organization_id, name)
        session.add_all(made.values())
        await session.flush()
        session.add_all([GroupMember(group_id=group.id, user_id=u.id) for u in made.values()])
    return group, made


async def make_definition(organization_id: str, scope: dict, reviewers: list[dict], **settings) -> AccessReviewDefinition:
    async with session_scope() as session:
        definition = AccessReviewDefinition(
            organization_id=organization_id, display_name="Quarterly partner review",
            description_for_reviewers="Keep only the partners who still work with us.",
            scope=scope, reviewers=reviewers,
            settings={"instanceDurationInDays": 14, "mailNotificationsEnabled": True,
                      "reminderNotificationsEnabled": True, "recommendationsEnabled": True,
                      "recommendationLookBackDuration": "P30D", **settings})
        session.add(definition)
    return definition


async def instances_of(definition_id: str) -> list[AccessReviewInstance]:
    async with session_scope() as session:
        return list((await session.exec(select(AccessReviewInstance).where(
            AccessReviewInstance.definition_id == definition_id).order_by(AccessReviewInstance.occurrence))).all())


async def decisions_of(instance_id: str) -> dict[str, AccessReviewDecision]:
    async with session_scope() as session:
        rows = (await session.exec(select(AccessReviewDecision).where(
            AccessReviewDecision.instance_id == instance_id))).all()
    return {row.principal_id: row for row in rows}


async def decide(decision_id: str, reviewer: User, decision: str, justification: str = "") -> None:
    async with session_scope() as session:
        row = await session.get(AccessReviewDecision, decision_id)
        row.decision, row.justification = decision, justification
        row.reviewed_by_id, row.reviewed_by_display_name = reviewer.id, reviewer.display_name
        row.reviewed_date_time = datetime.now(timezone.utc)
        session.add(row)


async def members(group_id: str) -> set[str]:
    async with session_scope() as session:
        return set((await session.exec(select(GroupMember.user_id).where(GroupMember.group_id == group_id))).all())


def group_scope(group_id: str) -> dict:
    return {"@odata.type": QUERY_SCOPE, "queryType": "MicrosoftGraph",
            "query": f"/groups/{group_id}/transitiveMembers/microsoft.graph.user/?$count=true"
                     "&$filter=(userType eq 'Guest')"}


def definition_body(group_id: str, **overrides) -> dict:
    body = {"displayName": "Partners' guests", "descriptionForReviewers": "Do they still need it?",
            "scope": group_scope(group_id),
            "reviewers": [{"query": "./owners", "queryType": "MicrosoftGraph"}],
            "settings": {"instanceDurationInDays": 7, "mailNotificationsEnabled": True,
                         "recurrence": {"pattern": {"type": "absoluteMonthly", "interval": 1},
                                        "range": {"type": "noEnd", "startDate": "2026-12-01"}}}}
    body.update(overrides)
    return body


async def make_review(organization_id: str, group: Group, people: list[User], *, reviewers: list[User] | None,
                      status: str = "InProgress", settings: dict | None = None,
                      recommendations: dict[str, str] | None = None) -> tuple[AccessReviewDefinition,
                                                                             AccessReviewInstance,
                                                                             dict[str, AccessReviewDecision]]:
    """A definition over `group`'s guests, one instance (`status`) reviewed by `reviewers` (None:
    a self-review) and one decision per person: (definition, instance, {user id: decision})."""
    scope = group_scope(group.id)
    now = utcnow()
    async with session_scope() as session:
        definition = AccessReviewDefinition(
            organization_id=organization_id, display_name=f"Review of {group.display_name}", scope=scope,
            reviewers=[] if reviewers is None else [{"query": f"/users/{u.id}", "queryType": "MicrosoftGraph"}
                                                    for u in reviewers],
            fallback_reviewers=[], settings=normalized_settings(settings or {}, read_scope(scope)),
            status="InProgress", created_by={"id": "admin", "displayName": "Ada Admin"})
        instance = AccessReviewInstance(
            organization_id=organization_id, definition_id=definition.id, occurrence=1, resource_id=group.id,
            resource_type="group", resource_display_name=group.display_name, scope=scope,
            reviewer_ids=[u.id for u in reviewers or []], start_date_time=now - timedelta(days=1),
            end_date_time=now + timedelta(days=6), status=status, workflow_id=f"access-review:{group.id}")
        decisions = {}
        for person in people:
            decisions[person.id] = AccessReviewDecision(
                organization_id=organization_id, instance_id=instance.id, principal_id=person.id,
                principal_display_name=person.display_name, principal_user_principal_name=person.user_principal_name,
                access_id=group.id, recommendation=(recommendations or {}).get(person.id, "NoInfoAvailable"),
                last_sign_in_date_time=now - timedelta(days=3))
        session.add(definition)
        await session.flush()
        session.add(instance)
        await session.flush()
        session.add_all(decisions.values())
    return definition, instance, decisions


def instance_path(definition: AccessReviewDefinition, instance: AccessReviewInstance) -> str:
    return f"{DEFINITIONS}/{definition.id}/instances/{instance.id}"
