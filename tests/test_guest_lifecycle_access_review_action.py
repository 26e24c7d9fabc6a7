"""disableAndDeleteUserApplyAction's machinery: an access review starts the lifecycle (reason
accessReviewDenied, P30D) for a guest, governed or not; they are blocked at once and deleted 30
days later, audited "Delete user" with the lifecycle's workflow id."""

from datetime import timedelta

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.workflows.client.guest_lifecycle import start_lifecycle
from foyer.workflows.guest_lifecycle import GuestLifecycleWorkflow
from foyer.workflows.messages.guest_lifecycle import (
    ACCESS_REVIEW_DENIED, GuestLifecycleInput, guest_lifecycle_workflow_id,
)
from tests.factories import make_user
from tests.lifecycle_support import user_row, wait_for_lifecycle


async def test_denied_guest_blocked_then_deleted_after_thirty_days(time_env, organization_id):
    guest = await make_user(organization_id, "Dana Denied", guest=True)
    await start_lifecycle(time_env.client, GuestLifecycleInput(
        organization_id=organization_id, user_id=guest.id, reason=ACCESS_REVIEW_DENIED, delete_after="P30D",
        started_by="access-review:instance-1"))
    await wait_for_lifecycle(time_env.client, guest.id, "blocked")
    assert (await user_row(guest.id)).account_enabled is False
    await time_env.sleep(timedelta(days=29))
    assert await user_row(guest.id) is not None
    await time_env.sleep(timedelta(days=1, hours=1))
    handle = time_env.client.get_workflow_handle_for(GuestLifecycleWorkflow.run, guest_lifecycle_workflow_id(guest.id))
    assert (await handle.result()).state == "deleted"
    assert await user_row(guest.id) is None
    async with session_scope() as session:
        deleted = (await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == guest.id, AuditRecord.activity_display_name == "Delete user"))).one()
        blocked = (await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == guest.id, AuditRecord.activity_display_name == "Block user"))).one()
    assert deleted.workflow_id == guest_lifecycle_workflow_id(guest.id)
    assert blocked.details["startedBy"] == "access-review:instance-1" and blocked.result_reason == ACCESS_REVIEW_DENIED
