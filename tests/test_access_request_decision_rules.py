"""Who may decide: never the requestor or the target; one decision per stage, however many
approvers answer at once; justification when the stage requires it."""

import asyncio

import pytest

from foyer.workflows.client import access_requests
from foyer.errors import Refused
from tests.entitlement_support import stage_open
from tests.factories import make_package, make_user, request, self_service, stage
from foyer.workflows.access_request import AccessRequestWorkflow, Decision


async def test_requestor_cannot_approve_their_own_request(time_env, organization_id):
    owner = await make_user(organization_id, "Olga Owner")
    guest = await make_user(organization_id, "Gus Guest", guest=True)
    package, policy, _, _ = await make_package(organization_id, policy=self_service(
        requestor_settings={"enableOnBehalfRequestorsToAddAccess": True,
                            "onBehalfRequestors": [{"@odata.type": "#microsoft.graph.singleUser", "userId": owner.id}]},
        request_approval_settings={"isApprovalRequiredForAdd": True, "stages": [stage([owner, guest])]}))
    plan = await access_requests.submit_request(time_env.client, request(
        organization_id, package, policy, guest, requestor=owner))
    workflow_id = f"access-request:{package.id}:{guest.id}"
    await stage_open(time_env.client, workflow_id)
    for approver in (owner, guest):
        with pytest.raises(Refused) as refused:
            await access_requests.decide_stage(time_env.client, Decision(
                stage_id=plan.stages[0].stage_id, approver_id=approver.id, review_result="Approve"))
        assert refused.value.status == 403 and refused.value.code == "selfApprovalNotAllowed"
    status = await time_env.client.get_workflow_handle_for(AccessRequestWorkflow.run, workflow_id).query(
        AccessRequestWorkflow.current)
    assert status.state == "pendingApproval"


async def test_two_approvers_at_once_make_one_decision(time_env, organization_id):
    guest = await make_user(organization_id, "Gwen Guest", guest=True)
    approvers = [await make_user(organization_id, f"Approver {i}") for i in range(2)]
    package, policy, group, _ = await make_package(organization_id, policy=self_service(
        request_approval_settings={"isApprovalRequiredForAdd": True, "stages": [stage(approvers)]}))
    plan = await access_requests.submit_request(time_env.client, request(organization_id, package, policy, guest))
    workflow_id = f"access-request:{package.id}:{guest.id}"
    await stage_open(time_env.client, workflow_id)
    results = await asyncio.gather(*(
        access_requests.decide_stage(time_env.client, Decision(
            stage_id=plan.stages[0].stage_id, approver_id=a.id, review_result=result))
        for a, result in zip(approvers, ("Approve", "Deny"))), return_exceptions=True)
    decided = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(decided) == 1 and len(refused) == 1, results
    assert refused[0].status == 409 and refused[0].code == "stageAlreadyDecided"
    final = await time_env.client.get_workflow_handle_for(AccessRequestWorkflow.run, workflow_id).result()
    assert final.state == ("delivered" if decided[0].review_result == "Approve" else "denied")


async def test_justification_required_by_the_stage(time_env, organization_id):
    guest = await make_user(organization_id, "Jo Guest", guest=True)
    approver = await make_user(organization_id, "Jay Approver")
    package, policy, _, _ = await make_package(organization_id, policy=self_service(
        request_approval_settings={"isApprovalRequiredForAdd": True,
                                   "stages": [stage([approver], justification=True)]}))
    plan = await access_requests.submit_request(time_env.client, request(organization_id, package, policy, guest))
    workflow_id = f"access-request:{package.id}:{guest.id}"
    await stage_open(time_env.client, workflow_id)
    with pytest.raises(Refused) as refused:
        await access_requests.decide_stage(time_env.client, Decision(
            stage_id=plan.stages[0].stage_id, approver_id=approver.id, review_result="Deny"))
    assert refused.value.status == 400
    # The stage is found through its own request and organization only.
    for elsewhere in ({"request_id": "another-request"}, {"organization_id": "another-organization"}):
        with pytest.raises(Refused) as refused:
            await access_requests.decide_stage(time_env.client, Decision(
                stage_id=plan.stages[0].stage_id, approver_id=approver.id, review_result="Deny",
                justification="Not a project member"), **elsewhere)
        assert refused.value.status == 404, elsewhere
    await access_requests.decide_stage(time_env.client, Decision(
        stage_id=plan.stages[0].stage_id, approver_id=approver.id, review_result="Deny",
        justification="Not a project member"))
    final = await time_env.client.get_workflow_handle_for(AccessRequestWorkflow.run, workflow_id).result()
    assert final.state == "denied"
    # Decided: a second decision is refused before it reaches the (closed) workflow.
    with pytest.raises(Refused) as refused:
        await access_requests.decide_stage(time_env.client, Decision(
            stage_id=plan.stages[0].stage_id, approver_id=approver.id, review_result="Approve"))
    assert refused.value.status == 409 and refused.value.code == "stageAlreadyDecided"


async def test_second_open_request_for_the_same_package_is_refused(time_env, organization_id):
    guest = await make_user(organization_id, "Dee Guest", guest=True)
    approver = await make_user(organization_id, "Dan Approver")
    package, policy, _, _ = await make_package(organization_id, policy=self_service(
        request_approval_settings={"isApprovalRequiredForAdd": True, "stages": [stage([approver])]}))
    await access_requests.submit_request(time_env.client, request(organization_id, package, policy, guest))
    with pytest.raises(Refused) as refused:
        await access_requests.submit_request(time_env.client, request(organization_id, package, policy, guest))
    assert refused.value.status == 409 and refused.value.code == "pendingRequestExists"
