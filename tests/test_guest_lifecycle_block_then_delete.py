"""The external-user lifecycle (entitlement management's externalUserLifecycleAction): a governed
guest whose last access package assignment expires is blocked at once (their refresh token stops
working) and deleted after durationUntilExternalUserDeletedAfterBlocked, through the one "delete
user" operation, audited with the lifecycle's workflow id. Changing the setting meanwhile does not
move the scheduled deletion; an ungoverned guest stays."""

from datetime import timedelta

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import GroupMember
from foyer.models.openid import RefreshTokenFamily
from foyer.workflows.assignment import AssignmentWorkflow
from foyer.workflows.client.guest_lifecycle import lifecycle_status
from foyer.workflows.guest_lifecycle import GuestLifecycleWorkflow
from foyer.workflows.messages.guest_lifecycle import guest_lifecycle_workflow_id
from tests import openid_support
from tests.factories import make_package, make_user, self_service, update_organization
from tests.lifecycle_support import assign, governed_guest, user_row, wait_for_lifecycle


async def refresh_token_of(organization_id, guest) -> tuple[str, tuple[str, str]]:
    """A refresh token the guest got by signing in to an app (the OpenID Provider's code flow)."""
    async with openid_support.relying_party(organization_id) as (rp, app):
        await openid_support.assign(app, guest)
        async with openid_support.browser(follow_redirects=True) as client:
            openid_support.signed_in(client, guest)
            answer = await client.get(f"{rp.url}/login")
            assert answer.status_code == 200, answer.text
            return rp.last_token["refresh_token"], (app.app_id, rp.client.client_secret)


async def refresh(organization_id, token: str, auth) -> int:
    answer = await openid_support.token_request(
        organization_id, {"grant_type": "refresh_token", "refresh_token": token}, auth=auth)
    return answer.status_code


async def test_last_assignment_expires_blocks_then_deletes(time_env, organization_id, server):
    await update_organization(organization_id, external_user_lifecycle_action="blockSignInAndDelete",
                              duration_until_external_user_deleted_after_blocked="P30D")
    guest = await governed_guest(organization_id, "Gail Governed")
    token, auth = await refresh_token_of(organization_id, guest)
    package, policy, group, _ = await make_package(organization_id, policy=self_service())
    assignment_id = await assign(time_env.client, organization_id, package, policy, guest)
    assert await lifecycle_status(time_env.client, guest.id) is None

    await time_env.sleep(timedelta(days=30, hours=1))  # the assignment's P30D ends
    ended = time_env.client.get_workflow_handle_for(AssignmentWorkflow.run, f"assignment:{assignment_id}")
    assert (await ended.result()).state == "expired"
    status = await wait_for_lifecycle(time_env.client, guest.id, "blocked")
    row = await user_row(guest.id)
    assert row.account_enabled is False and row.lifecycle_blocked_date_time is not None
    assert row.scheduled_deletion_date_time - row.lifecycle_blocked_date_time == timedelta(days=30)
    assert status.deletion_date_time is not None
    assert await refresh(organization_id, token, auth) == 400  # blocked at once: the token is dead
    async with session_scope() as session:
        family = (await session.exec(select(RefreshTokenFamily).where(
            RefreshTokenFamily.user_id == guest.id))).first()
    assert family.revoked_date_time is not None

    # The setting changes: the deletion already scheduled keeps its date.
    await update_organization(organization_id, duration_until_external_user_deleted_after_blocked="P1D")
    await time_env.sleep(timedelta(days=3))
    assert (await lifecycle_status(time_env.client, guest.id)).state == "blocked"
    assert await user_row(guest.id) is not None

    await time_env.sleep(timedelta(days=27, hours=1))
    handle = time_env.client.get_workflow_handle_for(GuestLifecycleWorkflow.run, guest_lifecycle_workflow_id(guest.id))
    assert (await handle.result()).state == "deleted"
    assert await user_row(guest.id) is None
    async with session_scope() as session:
        assert await session.get(GroupMember, (group.id, guest.id)) is None
        records = (await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == guest.id, AuditRecord.workflow_id == guest_lifecycle_workflow_id(guest.id))
            .order_by(AuditRecord.id))).all()
    assert {r.activity_display_name for r in records} == {"Block user", "Delete user"}


async def test_ungoverned_guest_stays(time_env, organization_id):
    await update_organization(organization_id, external_user_lifecycle_action="blockSignInAndDelete",
                              duration_until_external_user_deleted_after_blocked="P30D")
    guest = await make_user(organization_id, "Una Ungoverned", guest=True)  # existed before the package
    package, policy, _, _ = await make_package(organization_id, policy=self_service())
    assignment_id = await assign(time_env.client, organization_id, package, policy, guest)
    await time_env.sleep(timedelta(days=30, hours=1))
    ended = time_env.client.get_workflow_handle_for(AssignmentWorkflow.run, f"assignment:{assignment_id}")
    assert (await ended.result()).state == "expired"
    await time_env.sleep(timedelta(days=31))
    assert await lifecycle_status(time_env.client, guest.id) is None
    row = await user_row(guest.id)
    assert row is not None and row.account_enabled is True and row.lifecycle_blocked_date_time is None


async def test_setting_none_does_nothing(time_env, organization_id):
    await update_organization(organization_id, external_user_lifecycle_action="none")
    guest = await governed_guest(organization_id, "Nora None")
    package, policy, _, _ = await make_package(organization_id, policy=self_service())
    await assign(time_env.client, organization_id, package, policy, guest)
    await assign(time_env.client, organization_id, package, policy, guest, request_type="adminRemove")
    await time_env.sleep(timedelta(days=1))
    assert await lifecycle_status(time_env.client, guest.id) is None
    assert (await user_row(guest.id)).account_enabled is True
