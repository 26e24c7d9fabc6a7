"""Builders for access review tests: a group with guests whose last sign-ins are set, and a
definition row (as the API would store it) over that group's guests."""

from datetime import datetime, timedelta, timezone

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.access_reviews import AccessReviewDecision, AccessReviewDefinition, AccessReviewInstance
from foyer.models.directory import Group, GroupMember, User
from tests.factories import user_row

GUESTS_OF = "/groups/{}/transitiveMembers/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')"


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
