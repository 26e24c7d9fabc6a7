"""A new access package assignment during the wait cancels the external-user lifecycle: the guest is
unblocked at once (the `cancel` signal from the AssignmentWorkflow's delivery) and not deleted when
the timer would have fired. With blockSignIn (no deletion) the lifecycle waits without a timer, and
a new assignment unblocks the same way."""

from datetime import timedelta

import pytest

from foyer.errors import Refused
from foyer.workflows.client import access_requests

from foyer.workflows.client.guest_lifecycle import lifecycle_status
from foyer.workflows.guest_lifecycle import GuestLifecycleWorkflow
from foyer.workflows.messages.guest_lifecycle import guest_lifecycle_workflow_id
from tests.factories import make_package, request, self_service, update_organization
from tests.lifecycle_support import assign, governed_guest, user_row, wait_for_lifecycle


async def test_new_assignment_during_the_wait_cancels_the_deletion(time_env, organization_id):
    await update_organization(organization_id, external_user_lifecycle_action="blockSignInAndDelete",
                              duration_until_external_user_deleted_after_blocked="P30D")
    guest = await governed_guest(organization_id, "Cass Cancelled")
    first, first_policy, _, _ = await make_package(organization_id, policy=self_service())
    second, second_policy, group, _ = await make_package(organization_id, policy=self_service(), name="Second")
    await assign(time_env.client, organization_id, first, first_policy, guest)
    await assign(time_env.client, organization_id, first, first_policy, guest, request_type="adminRemove")
    await wait_for_lifecycle(time_env.client, guest.id, "blocked")
    assert (await user_row(guest.id)).account_enabled is False

    await time_env.sleep(timedelta(days=10))
    await assign(time_env.client, organization_id, second, second_policy, guest)  # an administrator's
    handle = time_env.client.get_workflow_handle_for(GuestLifecycleWorkflow.run, guest_lifecycle_workflow_id(guest.id))
    assert (await handle.result()).state == "cancelled"
    row = await user_row(guest.id)
    assert row.account_enabled is True
    assert row.lifecycle_blocked_date_time is None and row.scheduled_deletion_date_time is None

    await time_env.sleep(timedelta(days=25))  # past the deletion that was planned
    assert await user_row(guest.id) is not None
    assert (await lifecycle_status(time_env.client, guest.id)).state == "cancelled"


async def test_block_sign_in_only_waits_without_a_timer(time_env, organization_id):
    await update_organization(organization_id, external_user_lifecycle_action="blockSignIn")
    guest = await governed_guest(organization_id, "Bo Blocked")
    package, policy, _, _ = await make_package(organization_id, policy=self_service())
    await assign(time_env.client, organization_id, package, policy, guest)
    await assign(time_env.client, organization_id, package, policy, guest, request_type="adminRemove")
    status = await wait_for_lifecycle(time_env.client, guest.id, "blocked")
    assert status.deletion_date_time is None
    await time_env.sleep(timedelta(days=400))
    row = await user_row(guest.id)
    assert row is not None and row.account_enabled is False and row.scheduled_deletion_date_time is None
    assert (await lifecycle_status(time_env.client, guest.id)).state == "blocked"
    # A blocked guest cannot ask for a package themselves; an administrator's assignment restores them.
    with pytest.raises(Refused):
        await access_requests.submit_request(time_env.client, request(organization_id, package, policy, guest))

    await assign(time_env.client, organization_id, package, policy, guest)
    await wait_for_lifecycle(time_env.client, guest.id, "cancelled")
    assert (await user_row(guest.id)).account_enabled is True
