"""Two approval stages under the time-skipping server: stage 1 escalates to its escalation
approver, who approves; stage 2 is never decided and is denied automatically at its deadline."""

from datetime import timedelta

import pytest

from foyer.workflows.client import access_requests
from foyer.errors import Refused
from foyer.db import session_scope
from foyer.models.entitlement import ApprovalStage, AssignmentRequest
from tests.entitlement_support import stage_open
from tests.factories import make_package, make_user, request, self_service, stage
from foyer.workflows.access_request import AccessRequestWorkflow, Decision


async def test_escalation_then_automatic_denial(time_env, organization_id, mail):
    guest = await make_user(organization_id, "Greta Guest", guest=True)
    first = await make_user(organization_id, "Fay First")
    escalation = await make_user(organization_id, "Eli Escalation")
    second = await make_user(organization_id, "Sid Second")
    package, policy, _, _ = await make_package(organization_id, policy=self_service(
        request_approval_settings={"isApprovalRequiredForAdd": True, "stages": [
            stage([first], escalate_after="P1D", deny_after="P3D", escalation=[escalation]),
            stage([second], deny_after="P2D"),
        ]}))
    spec = request(organization_id, package, policy, guest, justification="Working on the Q3 audit")
    plan = await access_requests.submit_request(time_env.client, spec)
    assert [s.approver_ids for s in plan.stages] == [[first.id], [second.id]]
    handle = time_env.client.get_workflow_handle_for(AccessRequestWorkflow.run, f"access-request:{package.id}:{guest.id}")

    await stage_open(time_env.client, handle.id)
    [opened] = await mail.wait_for(first.mail)
    assert "Approve or deny access" in opened.subject and "Q3 audit" in opened.text
    assert f"/approvals/{spec.request_id}" in opened.text

    # Before escalation the escalation approver may not decide.
    with pytest.raises(Refused) as refused:
        await access_requests.decide_stage(time_env.client, Decision(
            stage_id=plan.stages[0].stage_id, approver_id=escalation.id, review_result="Approve"))
    assert refused.value.status == 403 and refused.value.code == "notAnApprover"

    await time_env.sleep(timedelta(hours=13))  # halfway to escalation: a reminder
    reminders = await mail.wait_for(first.mail, count=2)
    assert reminders[1].subject.startswith("Reminder:")

    await time_env.sleep(timedelta(hours=12))
    [escalated] = await mail.wait_for(escalation.mail)
    assert escalated.subject.startswith("Escalated:")
    status = await handle.query(AccessRequestWorkflow.current)
    assert status.escalated and set(status.approver_ids) == {first.id, escalation.id}

    decided = await access_requests.decide_stage(time_env.client, Decision(
        stage_id=plan.stages[0].stage_id, approver_id=escalation.id, approver_name="Eli Escalation",
        review_result="Approve", justification="Fine by me"))
    assert decided.review_result == "Approve"
    await mail.wait_for(second.mail)

    await time_env.sleep(timedelta(days=2, hours=1))
    final = await handle.result()
    assert final.state == "denied"
    async with session_scope() as session:
        row = await session.get(AssignmentRequest, spec.request_id)
        stage_1 = await session.get(ApprovalStage, plan.stages[0].stage_id)
        stage_2 = await session.get(ApprovalStage, plan.stages[1].stage_id)
    assert row.state == "denied" and "Not decided in time at stage 2" in row.status
    assert (stage_1.status, stage_1.review_result, stage_1.reviewed_by_id, stage_1.escalated) == \
        ("Completed", "Approve", escalation.id, True)
    assert (stage_2.status, stage_2.review_result) == ("Expired", "NotReviewed")
