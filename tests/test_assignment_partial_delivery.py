"""A resource that cannot be delivered is reported (partiallyDelivered, with the reason), the
rest is delivered, and the failed part is retried later rather than silently dropped."""

import uuid
from datetime import timedelta

from foyer.workflows.client import access_requests
from foyer.db import session_scope
from foyer.models.directory import Group, GroupMember
from foyer.models.entitlement import Assignment, AssignmentRequest
from tests.factories import make_package, make_user, request, self_service
from foyer.workflows.assignment import AssignmentWorkflow


async def test_partial_delivery_is_reported_and_retried(time_env, organization_id):
    guest = await make_user(organization_id, "Pat Guest", guest=True)
    missing_group = str(uuid.uuid4())  # a group that does not exist (yet)
    package, policy, group, _ = await make_package(organization_id, policy=self_service(),
                                                   extra_group_ids=(missing_group,))
    spec = request(organization_id, package, policy, guest)
    plan = await access_requests.submit_request(time_env.client, spec)
    final = await time_env.client.get_workflow_handle(f"access-request:{package.id}:{guest.id}").result()
    assert final["state"] == "partiallyDelivered"
    async with session_scope() as session:
        row = await session.get(AssignmentRequest, spec.request_id)
        assignment = await session.get(Assignment, plan.assignment_id)
        assert await session.get(GroupMember, (group.id, guest.id)) is not None
    assert row.state == "partiallyDelivered" and missing_group in row.status
    assert assignment.state == "partiallyDelivered"
    assert [s["state"] for s in assignment.resource_states].count("failed") == 1

    # The group appears; the next redelivery attempt picks it up.
    async with session_scope() as session:
        session.add(Group(id=missing_group, organization_id=organization_id, display_name="Late group"))
    await time_env.sleep(timedelta(minutes=2))
    handle = time_env.client.get_workflow_handle_for(AssignmentWorkflow.run, f"assignment:{plan.assignment_id}")
    assert (await handle.query(AssignmentWorkflow.current)).state == "delivered"
    async with session_scope() as session:
        assert await session.get(GroupMember, (missing_group, guest.id)) is not None
        assert (await session.get(Assignment, plan.assignment_id)).state == "delivered"
