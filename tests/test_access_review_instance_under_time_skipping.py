"""One access review instance from start to end, under time skipping: a 14-day review of a group's
guests by one reviewer, with reminders, the default decision Deny and auto-apply.

- At the start each guest gets a decision row with a recommendation from their last successful
  sign-in against the 30-day look-back (a guest who never signed in counts from their redemption),
  members are out of scope, and the reviewer is mailed once.
- Halfway and the day before the end, the reviewer is reminded (something is left to decide).
- At the end the unreviewed guest is denied by default, and what was denied is taken back: those
  guests leave the group, the approved one stays, and every decision records its applyResult."""

from datetime import timedelta

from foyer.settings import get_settings
from foyer.workflows.access_review import AccessReviewOccurrenceWorkflow, AccessReviewWorkflow
from foyer.workflows.messages.access_review import AccessReviewOccurrenceInput, access_review_workflow_id
from tests.access_review_support import (
    GUESTS_OF, decide, decisions_of, group_with_people, instances_of, make_definition, members,
)
from tests.factories import make_user
from tests.support import until


async def test_a_review_reminds_closes_with_the_default_and_applies(time_env, organization_id, mail):
    group, people = await group_with_people(
        organization_id, {"Ada Active": timedelta(days=3), "Ian Idle": timedelta(days=90), "Una Unseen": None},
        members=("Mo Member",))
    reviewer = await make_user(organization_id, "Rita Reviewer")
    definition = await make_definition(
        organization_id, {"query": GUESTS_OF.format(group.id), "queryType": "MicrosoftGraph"},
        [{"query": f"/users/{reviewer.id}", "queryType": "MicrosoftGraph"}],
        defaultDecisionEnabled=True, defaultDecision="Deny", autoApplyDecisionsEnabled=True)
    client = time_env.client
    [instance_id] = await client.execute_workflow(
        AccessReviewOccurrenceWorkflow.run,
        AccessReviewOccurrenceInput(organization_id=organization_id, definition_id=definition.id),
        id=f"access-review-occurrence:{definition.id}:test", task_queue=get_settings().task_queue)
    handle = client.get_workflow_handle_for(AccessReviewWorkflow.run, access_review_workflow_id(instance_id))
    await until(lambda: handle.query(AccessReviewWorkflow.current), lambda state: state == "inProgress")

    [instance] = await instances_of(definition.id)
    assert instance.status == "InProgress" and instance.reviewer_ids == [reviewer.id]
    decisions = await decisions_of(instance_id)
    ada, ian, una = (people[n] for n in ("Ada Active", "Ian Idle", "Una Unseen"))
    assert set(decisions) == {ada.id, ian.id, una.id}
    assert {decisions[u.id].recommendation for u in (ada,)} == {"Approve"}
    assert decisions[ian.id].recommendation == "Deny" and decisions[una.id].recommendation == "Deny"
    assert len(await mail.wait_for(reviewer.mail, count=1)) == 1

    await decide(decisions[ada.id].id, reviewer, "Approve", "Works with us")
    await decide(decisions[ian.id].id, reviewer, "Deny", "Left the project")
    await time_env.sleep(timedelta(days=7, hours=1))
    reminded = await mail.wait_for(reviewer.mail, count=2)
    assert reminded[-1].subject.startswith("Reminder:")
    await time_env.sleep(timedelta(days=6))
    assert len(await mail.wait_for(reviewer.mail, count=3)) == 3

    await time_env.sleep(timedelta(days=1, hours=1))
    assert (await handle.result()).state == "applied"
    decisions = await decisions_of(instance_id)
    assert decisions[una.id].decision == "Deny" and decisions[una.id].reviewed_by_id == "00000000-0000-0000-0000-000000000000"
    assert await members(group.id) == {ada.id, people["Mo Member"].id}
    assert {decisions[u.id].apply_result for u in (ada, ian, una)} == {"AppliedSuccessfully"}
    [instance] = await instances_of(definition.id)
    assert instance.status == "Completed" and instance.applied_date_time is not None
    assert len(mail.to(reviewer.mail)) == 3
