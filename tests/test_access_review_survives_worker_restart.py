"""A worker killed in the middle of a review instance (SIGKILL, then started again; tests.process_stack)
loses no decision and sends no mail twice: the reviewer's first mail went before the kill, the
decisions written meanwhile are all there after it, a reminder asked for after the restart goes
once, and the instance, stopped, closes with the reviewers' decisions and the default for the rest."""

import pytest

from foyer.workflows.client import access_reviews
from tests.access_review_support import GUESTS_OF, decide, decisions_of, group_with_people, instances_of, make_definition
from tests.factories import make_user
from tests.process_stack import eventually, stack  # noqa: F401 (the fixture)

pytestmark = pytest.mark.long_running(15)


async def test_a_kill_mid_review_loses_nothing_and_repeats_no_mail(stack, organization_id):  # noqa: F811
    group, people = await group_with_people(organization_id, {"Kim Kept": None, "Dee Denied": None,
                                                              "Nat Nobody": None})
    reviewer = await make_user(organization_id, "Ray Reviewer")
    definition = await make_definition(
        organization_id, {"query": GUESTS_OF.format(group.id), "queryType": "MicrosoftGraph"},
        [{"query": f"/users/{reviewer.id}", "queryType": "MicrosoftGraph"}],
        defaultDecisionEnabled=True, defaultDecision="Approve")
    await access_reviews.schedule_definition(stack.client, definition)

    async def started():
        found = await instances_of(definition.id)
        return found[0] if found and found[0].status == "InProgress" else None

    instance = await eventually(started, "the instance to start", 30)
    await eventually(lambda: stack.mail.per_recipient()[reviewer.mail] == 1, "the reviewer's mail", 30)
    decisions = await decisions_of(instance.id)
    stack.worker.kill()
    await decide(decisions[people["Kim Kept"].id].id, reviewer, "Approve", "Still needed")
    await decide(decisions[people["Dee Denied"].id].id, reviewer, "Deny", "Gone")
    stack.worker.start()
    await stack.worker.wait_polling()

    await access_reviews.send_reminder(stack.client, instance.id)
    await eventually(lambda: stack.mail.per_recipient()[reviewer.mail] == 2, "one reminder", 30)
    await access_reviews.stop_instance(stack.client, instance.id)

    async def closed():
        found = await instances_of(definition.id)
        return found[0].status == "Completed"

    await eventually(closed, "the instance to close", 30)
    after = await decisions_of(instance.id)
    assert {people[n].id: after[people[n].id].decision for n in people} == {
        people["Kim Kept"].id: "Approve", people["Dee Denied"].id: "Deny", people["Nat Nobody"].id: "Approve"}
    assert after[people["Kim Kept"].id].justification == "Still needed"
    assert after[people["Nat Nobody"].id].reviewed_by_id == "00000000-0000-0000-0000-000000000000"
    assert stack.mail.per_recipient()[reviewer.mail] == 2
