"""Assignments end on time: notices 14 days and 1 day before, access taken back from the groups
and apps at the end (checked in the directory); an approved extension moves the end."""

from datetime import timedelta

from sqlmodel import select

from foyer.workflows.client import access_requests
from foyer.db import session_scope
from foyer.models.directory import AppRoleAssignment, GroupMember
from foyer.models.entitlement import Assignment, AssignmentRequest
from tests.factories import make_package, make_user, request, self_service
from foyer.workflows.access_request import AccessRequestWorkflow
from foyer.workflows.assignment import AssignmentWorkflow


async def has_access(user_id: str, group_id: str, app_id: str) -> tuple[bool, bool]:
    async with session_scope() as session:
        in_group = await session.get(GroupMember, (group_id, user_id)) is not None
        in_app = (await session.exec(select(AppRoleAssignment).where(
            AppRoleAssignment.application_id == app_id, AppRoleAssignment.principal_id == user_id))).first()
    return in_group, in_app is not None


async def test_expiry_removes_access_after_notices(time_env, organization_id, mail):
    guest = await make_user(organization_id, "Ivy Guest", guest=True)
    package, policy, group, app = await make_package(organization_id, policy=self_service())
    spec = request(organization_id, package, policy, guest)
    plan = await access_requests.submit_request(time_env.client, spec)
    request_handle = time_env.client.get_workflow_handle_for(
        AccessRequestWorkflow.run, f"access-request:{package.id}:{guest.id}")
    assert (await request_handle.result()).state == "delivered"
    assert await has_access(guest.id, group.id, app.id) == (True, True)
    async with session_scope() as session:
        assignment = await session.get(Assignment, plan.assignment_id)
        row = await session.get(AssignmentRequest, spec.request_id)
    assert assignment.state == "delivered" and row.state == "delivered"
    assert assignment.end_date_time - assignment.start_date_time <= timedelta(days=30)

    await time_env.sleep(timedelta(days=16, hours=1))
    [fourteen] = await mail.wait_for(guest.mail)
    assert "ends in 14 days" in fourteen.subject
    await time_env.sleep(timedelta(days=13))
    one = await mail.wait_for(guest.mail, count=2)
    assert "ends in 1 day" in one[1].subject
    assert await has_access(guest.id, group.id, app.id) == (True, True)

    await time_env.sleep(timedelta(days=1, hours=1))
    handle = time_env.client.get_workflow_handle_for(AssignmentWorkflow.run, f"assignment:{plan.assignment_id}")
    assert (await handle.result()).state == "expired"
    assert await has_access(guest.id, group.id, app.id) == (False, False)
    async with session_scope() as session:
        assignment = await session.get(Assignment, plan.assignment_id)
    assert assignment.state == "expired" and assignment.expired_date_time is not None


async def test_extension_moves_the_expiry(time_env, organization_id, mail):
    guest = await make_user(organization_id, "Ezra Guest", guest=True)
    package, policy, group, app = await make_package(organization_id, policy=self_service())
    plan = await access_requests.submit_request(time_env.client, request(organization_id, package, policy, guest))
    await time_env.client.get_workflow_handle(f"access-request:{package.id}:{guest.id}").result()
    assignment_handle = time_env.client.get_workflow_handle_for(
        AssignmentWorkflow.run, f"assignment:{plan.assignment_id}")
    first_end = (await assignment_handle.query(AssignmentWorkflow.current)).end_at

    await time_env.sleep(timedelta(days=20))
    extension = await access_requests.submit_request(time_env.client, request(
        organization_id, package, policy, guest, request_type="userUpdate"))
    assert extension.assignment_id == plan.assignment_id
    await time_env.client.get_workflow_handle(f"access-request:{package.id}:{guest.id}").result()
    status = await assignment_handle.query(AssignmentWorkflow.current)
    assert status.end_at - first_end >= timedelta(days=19)

    await time_env.sleep(timedelta(days=11))  # past the first end
    assert await has_access(guest.id, group.id, app.id) == (True, True)
    assert (await assignment_handle.query(AssignmentWorkflow.current)).state == "delivered"
    async with session_scope() as session:
        assignment = await session.get(Assignment, plan.assignment_id)
    assert assignment.end_date_time == status.end_at

    await time_env.sleep(timedelta(days=20))
    assert (await assignment_handle.result()).state == "expired"
    assert await has_access(guest.id, group.id, app.id) == (False, False)


async def test_remove_request_takes_access_back_but_not_what_was_there_before(time_env, organization_id):
    guest = await make_user(organization_id, "Rae Guest", guest=True)
    package, policy, group, app = await make_package(organization_id, policy=self_service())
    async with session_scope() as session:  # already in the group before the package
        session.add(GroupMember(group_id=group.id, user_id=guest.id))
    plan = await access_requests.submit_request(time_env.client, request(organization_id, package, policy, guest))
    await time_env.client.get_workflow_handle(f"access-request:{package.id}:{guest.id}").result()
    assert await has_access(guest.id, group.id, app.id) == (True, True)

    await access_requests.submit_request(time_env.client, request(
        organization_id, package, policy, guest, request_type="userRemove"))
    final = await time_env.client.get_workflow_handle_for(
        AccessRequestWorkflow.run, f"access-request:{package.id}:{guest.id}").result()
    assert final.state == "delivered"
    assert await has_access(guest.id, group.id, app.id) == (True, False)
    async with session_scope() as session:
        assert (await session.get(Assignment, plan.assignment_id)).state == "expired"
