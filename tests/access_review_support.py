"""Access review definitions, instances and decisions written straight to the database (as the
review workflows would have made them), and Graph bodies for the API's tests."""

from datetime import timedelta

from foyer.db import session_scope
from foyer.models.access_reviews import AccessReviewDecision, AccessReviewDefinition, AccessReviewInstance
from foyer.models.base import utcnow
from foyer.models.directory import Group, User
from foyer.usecases.access_reviews import normalized_settings
from foyer.rules.access_review_scope import read_scope

DEFINITIONS = "/v1.0/identityGovernance/accessReviews/definitions"
QUERY_SCOPE = "#microsoft.graph.accessReviewQueryScope"


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
