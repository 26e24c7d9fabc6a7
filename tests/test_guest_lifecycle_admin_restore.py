"""An administrator ends a guest's external-user lifecycle: enabling the blocked account
(PATCH users/{id} accountEnabled true) cancels the deletion and clears the lifecycle's marks;
deleting the user ends the lifecycle too (it finds them gone). Starting one twice is a no-op."""

from foyer.models.enums import UserType
from foyer.workflows.client.guest_lifecycle import cancel_lifecycle, lifecycle_status, start_lifecycle
from foyer.workflows.guest_lifecycle import GuestLifecycleWorkflow
from foyer.workflows.messages.guest_lifecycle import (
    ACCESS_REVIEW_DENIED, CancelLifecycle, GuestLifecycleInput, guest_lifecycle_workflow_id,
)
from tests.factories import make_user
from tests.lifecycle_support import user_row, wait_for_lifecycle


def denied(organization_id: str, user_id: str) -> GuestLifecycleInput:
    """What an access review's disableAndDeleteUserApplyAction starts."""
    return GuestLifecycleInput(organization_id=organization_id, user_id=user_id, reason=ACCESS_REVIEW_DENIED,
                               delete_after="P30D", started_by="access-review:test")


async def test_enabling_the_account_cancels_the_deletion(api, admin, temporal, organization_id):
    guest = await make_user(organization_id, "Rhea Restored", guest=True)
    assert await start_lifecycle(temporal.client, denied(organization_id, guest.id)) is True
    assert await start_lifecycle(temporal.client, denied(organization_id, guest.id)) is False  # already running
    blocked = await wait_for_lifecycle(temporal.client, guest.id, "blocked")
    assert blocked.deletion_date_time is not None
    row = await user_row(guest.id)
    assert row.account_enabled is False and row.user_type == UserType.guest

    answer = await api.patch(f"/v1.0/users/{guest.id}", headers=admin, json={"accountEnabled": True})
    assert answer.status_code == 204, answer.text
    handle = temporal.client.get_workflow_handle_for(GuestLifecycleWorkflow.run, guest_lifecycle_workflow_id(guest.id))
    assert (await handle.result()).state == "cancelled"
    row = await user_row(guest.id)
    assert row.account_enabled is True
    assert row.lifecycle_blocked_date_time is None and row.scheduled_deletion_date_time is None
    # Nothing runs any more: cancelling again is a no-op.
    assert await cancel_lifecycle(temporal.client, guest.id, CancelLifecycle(reason="again")) is False


async def test_deleting_a_blocked_guest_ends_their_lifecycle(api, admin, temporal, organization_id):
    guest = await make_user(organization_id, "Dot Deleted", guest=True)
    await start_lifecycle(temporal.client, denied(organization_id, guest.id))
    await wait_for_lifecycle(temporal.client, guest.id, "blocked")
    assert (await api.delete(f"/v1.0/users/{guest.id}", headers=admin)).status_code == 204
    handle = temporal.client.get_workflow_handle_for(GuestLifecycleWorkflow.run, guest_lifecycle_workflow_id(guest.id))
    assert (await handle.result()).state == "gone"
    assert await user_row(guest.id) is None
    assert (await lifecycle_status(temporal.client, guest.id)).state == "gone"


async def test_a_lifecycle_for_someone_gone_ends_at_once(temporal, worker, organization_id):
    status = await start_lifecycle(temporal.client, denied(organization_id, "no-such-user"))
    assert status is True
    handle = temporal.client.get_workflow_handle_for(GuestLifecycleWorkflow.run,
                                                     guest_lifecycle_workflow_id("no-such-user"))
    assert (await handle.result()).state == "gone"
