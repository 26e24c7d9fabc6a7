"""A definition's recurrence is a Temporal Schedule (on the dev server; the time-skipping test
server has no schedules): monthly on today's day of the month from today, the first occurrence
starts at once, and each further occurrence the schedule fires (triggered here,
as the calendar would) opens its own instance over the group's guests — three occurrences, three
instances, numbered 1, 2, 3, each with a decision per guest. Stopping the definition deletes the
schedule and ends its open instances."""

from datetime import datetime, timezone

import pytest
from temporalio.service import RPCError

from foyer.workflows.client import access_reviews
from foyer.workflows.messages.access_review import access_review_schedule_id
from tests.access_review_support import GUESTS_OF, decisions_of, group_with_people, instances_of, make_definition
from tests.factories import make_user
from tests.support import until


async def test_three_occurrences_then_stop(temporal, worker, organization_id):
    group, people = await group_with_people(organization_id, {"Gia Guest": None, "Gus Guest": None},
                                            members=("Meg Member",))
    reviewer = await make_user(organization_id, "Rex Reviewer")
    now = datetime.now(timezone.utc)
    today = now.date().isoformat()
    definition = await make_definition(
        organization_id, {"query": GUESTS_OF.format(group.id), "queryType": "MicrosoftGraph"},
        [{"query": f"/users/{reviewer.id}", "queryType": "MicrosoftGraph"}], mailNotificationsEnabled=False,
        recurrence={"pattern": {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": min(now.day, 28)},
                    "range": {"type": "noEnd", "startDate": today}})
    client = temporal.client
    await access_reviews.schedule_definition(client, definition)
    described = await client.get_schedule_handle(access_review_schedule_id(definition.id)).describe()
    [calendar] = described.schedule.spec.calendars
    assert [(r.start, r.end, r.step) for r in calendar.day_of_month] == [(min(now.day, 28), min(now.day, 28), 1)]
    assert [(r.start, r.end, r.step) for r in calendar.month] == [(1, 12, 1)]

    async def opened():
        return [i for i in await instances_of(definition.id) if i.status == "InProgress"]

    await until(opened, lambda found: len(found) == 1, seconds=20)
    for count in (2, 3):
        await access_reviews.trigger_occurrence(client, definition.id)
        await until(opened, lambda found, count=count: len(found) == count, seconds=20)
    instances = await instances_of(definition.id)
    assert [i.occurrence for i in instances] == [1, 2, 3]
    for instance in instances:
        assert set(await decisions_of(instance.id)) == {people["Gia Guest"].id, people["Gus Guest"].id}

    await access_reviews.stop_definition(client, definition.id, [i.id for i in instances])
    with pytest.raises(RPCError):
        await client.get_schedule_handle(access_review_schedule_id(definition.id)).describe()
    await until(lambda: instances_of(definition.id),
                lambda found: all(i.status == "Completed" for i in found), seconds=20)
