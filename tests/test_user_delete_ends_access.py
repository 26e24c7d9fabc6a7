"""Deleting a user ends their access workflows too: a pending request is canceled and a live
assignment's workflow takes the access back and ends."""

from foyer.workflows.client import access_requests
from foyer.db import session_scope
from foyer.models.entitlement import Assignment, AssignmentRequest
from tests.entitlement_support import stage_open
from tests.factories import make_package, make_user, request, self_service, stage
from foyer.workflows.access_request import AccessRequestWorkflow
from foyer.workflows.assignment import AssignmentWorkflow


async def test_delete_user_cancels_requests_and_removes_assignments(api, admin, temporal, organization_id):
    guest = await make_user(organization_id, "Del Guest", guest=True)
    approver = await make_user(organization_id, "Del Approver")
    granted, granted_policy, _, _ = await make_package(organization_id, policy=self_service())
    waiting, waiting_policy, _, _ = await make_package(organization_id, policy=self_service(
        request_approval_settings={"isApprovalRequiredForAdd": True, "stages": [stage([approver])]}))
    plan = await access_requests.submit_request(temporal.client, request(organization_id, granted, granted_policy, guest))
    await temporal.client.get_workflow_handle(f"access-request:{granted.id}:{guest.id}").result()
    pending = request(organization_id, waiting, waiting_policy, guest)
    await access_requests.submit_request(temporal.client, pending)
    await stage_open(temporal.client, f"access-request:{waiting.id}:{guest.id}")

    response = await api.delete(f"/v1.0/users/{guest.id}", headers=admin)
    assert response.status_code == 204, response.text

    assignment = temporal.client.get_workflow_handle_for(AssignmentWorkflow.run, f"assignment:{plan.assignment_id}")
    assert (await assignment.result()).state == "expired"
    request_handle = temporal.client.get_workflow_handle_for(
        AccessRequestWorkflow.run, f"access-request:{waiting.id}:{guest.id}")
    assert (await request_handle.result()).state == "canceled"
    async with session_scope() as session:
        assert (await session.get(Assignment, plan.assignment_id)).state == "expired"
        assert (await session.get(AssignmentRequest, pending.request_id)).state == "canceled"
