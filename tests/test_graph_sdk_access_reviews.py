"""Through the official Graph SDK: an admin creates a monthly access review of a group's guests
(owners review, justification on approval), reads it back with Entra's defaults filled in; the
group's owner, as a reviewer, finds the instance with filterByCurrentUser(on='reviewer'), lists its
decisions, records one (PATCH) and the rest with batchRecordDecisions; an unsupported recurrence
is refused with Graph's error."""

import datetime

import pytest
from kiota_abstractions.api_error import APIError
from msgraph.generated.identity_governance.access_reviews.definitions.item.instances.item.batch_record_decisions.batch_record_decisions_post_request_body import (  # noqa: E501
    BatchRecordDecisionsPostRequestBody,
)
from msgraph.generated.models.access_review_instance_decision_item import AccessReviewInstanceDecisionItem
from msgraph.generated.models.access_review_query_scope import AccessReviewQueryScope
from msgraph.generated.models.access_review_reviewer_scope import AccessReviewReviewerScope
from msgraph.generated.models.access_review_schedule_definition import AccessReviewScheduleDefinition
from msgraph.generated.models.access_review_schedule_settings import AccessReviewScheduleSettings
from msgraph.generated.models.patterned_recurrence import PatternedRecurrence
from msgraph.generated.models.recurrence_pattern import RecurrencePattern
from msgraph.generated.models.recurrence_pattern_type import RecurrencePatternType
from msgraph.generated.models.recurrence_range import RecurrenceRange
from msgraph.generated.models.recurrence_range_type import RecurrenceRangeType

from foyer.models.enums import Role
from tests.access_review_support import group_scope, make_review
from tests.factories import make_group_and_app, make_owner, make_person, make_user
from tests.graph_sdk import graph_client


def definition(group_id: str, pattern: RecurrencePatternType) -> AccessReviewScheduleDefinition:
    scope = group_scope(group_id)
    return AccessReviewScheduleDefinition(
        display_name="Falcon guests, monthly", description_for_reviewers="Keep only who still works with us",
        scope=AccessReviewQueryScope(query=scope["query"], query_type="MicrosoftGraph"),
        reviewers=[AccessReviewReviewerScope(query="./owners", query_type="MicrosoftGraph")],
        settings=AccessReviewScheduleSettings(
            instance_duration_in_days=5, justification_required_on_approval=True, mail_notifications_enabled=True,
            recurrence=PatternedRecurrence(
                pattern=RecurrencePattern(type=pattern, interval=1),
                range=RecurrenceRange(type=RecurrenceRangeType.NoEnd, start_date=datetime.date(2026, 12, 3)))))


async def test_definitions_and_decisions_through_the_sdk(server, admin, organization_id):
    group, _ = await make_group_and_app(organization_id, "Falcon")
    async with graph_client(server, admin) as graph:
        definitions = graph.identity_governance.access_reviews.definitions
        created = await definitions.post(definition(group.id, RecurrencePatternType.AbsoluteMonthly))
        assert created.id and created.display_name == "Falcon guests, monthly"
        read = await definitions.by_access_review_schedule_definition_id(created.id).get()
        assert read.settings.recurrence.pattern.day_of_month == 3
        assert read.settings.recommendation_look_back_duration == datetime.timedelta(days=30)
        assert read.settings.auto_apply_decisions_enabled is False
        assert read.reviewers[0].query == "./owners" and read.created_by.display_name == "Ada Admin"

        with pytest.raises(APIError) as refused:
            await definitions.post(definition(group.id, RecurrencePatternType.Daily))
        assert refused.value.response_status_code == 400
        await definitions.by_access_review_schedule_definition_id(created.id).delete()

    owner, owner_token = await make_person(organization_id, Role.member, "Olga Owner")
    await make_owner(group, owner.id)
    ann = await make_user(organization_id, "Ann Guest", guest=True)
    bob = await make_user(organization_id, "Bob Guest", guest=True)
    review, instance, rows = await make_review(organization_id, group, [ann, bob], reviewers=[owner])
    async with graph_client(server, owner_token) as graph:
        one = graph.identity_governance.access_reviews.definitions.by_access_review_schedule_definition_id(review.id)
        mine = await one.instances.filter_by_current_user_with_on("reviewer").get()
        assert [i.id for i in mine.value] == [instance.id]
        item = one.instances.by_access_review_instance_id(instance.id)
        decisions = (await item.decisions.get()).value
        assert sorted(d.principal.display_name for d in decisions) == ["Ann Guest", "Bob Guest"]
        await item.decisions.by_access_review_instance_decision_item_id(rows[ann.id].id).patch(
            AccessReviewInstanceDecisionItem(decision="Approve", justification="Falcon's lead"))
        await item.batch_record_decisions.post(BatchRecordDecisionsPostRequestBody(
            decision="Deny", justification="Left the project", principal_id=bob.id))
        decided = {d.principal.id: (d.decision, d.reviewed_by.id) for d in (await item.decisions.get()).value}
        assert decided == {ann.id: ("Approve", owner.id), bob.id: ("Deny", owner.id)}
