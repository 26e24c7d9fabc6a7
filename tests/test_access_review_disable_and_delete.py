"""An access review with disableAndDeleteUserApplyAction and auto-apply, under time skipping: at
the end the guest the reviewer denied is blocked at once (their lifecycle started by the review)
and deleted 30 days later; the approved guest stays, enabled and in the group."""

from datetime import timedelta

from foyer.settings import get_settings
from foyer.workflows.access_review import AccessReviewOccurrenceWorkflow, AccessReviewWorkflow
from foyer.workflows.messages.access_review import AccessReviewOccurrenceInput, access_review_workflow_id
from tests.access_review_support import GUESTS_OF, decide, decisions_of, group_with_people, make_definition, members
from tests.factories import make_user
from tests.lifecycle_support import user_row, wait_for_lifecycle
from tests.support import until


async def test_a_denied_guest_is_blocked_then_deleted(time_env, organization_id):
    group, people = await group_with_people(organization_id, {"Kai Kept": timedelta(days=2), "Dex Denied": None})
    reviewer = await make_user(organization_id, "Rhea Reviewer")
    definition = await make_definition(
        organization_id, {"query": GUESTS_OF.format(group.id), "queryType": "MicrosoftGraph"},
        [{"query": f"/users/{reviewer.id}", "queryType": "MicrosoftGraph"}], mailNotificationsEnabled=False,
        autoApplyDecisionsEnabled=True,
        applyActions=[{"@odata.type": "#microsoft.graph.disableAndDeleteUserApplyAction"}])
    client = time_env.client
    [instance_id] = await client.execute_workflow(
        AccessReviewOccurrenceWorkflow.run,
        AccessReviewOccurrenceInput(organization_id=organization_id, definition_id=definition.id),
        id=f"access-review-occurrence:{definition.id}:test", task_queue=get_settings().task_queue)
    handle = client.get_workflow_handle_for(AccessReviewWorkflow.run, access_review_workflow_id(instance_id))
    await until(lambda: handle.query(AccessReviewWorkflow.current), lambda state: state == "inProgress")
    decisions = await decisions_of(instance_id)
    kept, denied = people["Kai Kept"], people["Dex Denied"]
    await decide(decisions[kept.id].id, reviewer, "Approve", "Still with us")
    await decide(decisions[denied.id].id, reviewer, "Deny", "Contract ended")

    await time_env.sleep(timedelta(days=14, hours=1))
    assert (await handle.result()).state == "applied"
    await wait_for_lifecycle(client, denied.id, "blocked")
    assert (await user_row(denied.id)).account_enabled is False
    assert (await user_row(kept.id)).account_enabled is True and kept.id in await members(group.id)
    assert (await decisions_of(instance_id))[denied.id].apply_result == "AppliedSuccessfully"

    await time_env.sleep(timedelta(days=30, hours=1))
    await wait_for_lifecycle(client, denied.id, "deleted")
    assert await user_row(denied.id) is None and await user_row(kept.id) is not None
