"""Approval by people, under time skipping: approvers are mailed when the sign-up starts to
wait, reminded every reminderInterval, and the sign-up is denied at the timeout — nothing
created, the person mailed, the decision recorded as Foyer's."""

from datetime import timedelta

from tests.factories import make_user
from tests.sign_up_support import sign_up_row, start_on
from tests.factories import make_flow
from tests.support import find_user, unique_email, until


async def test_reminders_then_auto_deny_at_the_deadline(time_env, mail, organization_id):
    approver = await make_user(organization_id, "Rita Reminded")
    flow_id = await make_flow(organization_id, approval={
        "approverIds": [approver.id], "timeout": "P3D", "reminderInterval": "P1D"})
    email = unique_email()
    sign_up_id, handle, status = await start_on(time_env.client, mail, organization_id, flow_id, email)
    assert status.state == "pendingApproval"
    notice = await mail.wait_for(approver.mail, count=1)
    assert "Reminder" not in notice[0].subject

    await time_env.sleep(timedelta(days=1, hours=1))
    await mail.wait_for(approver.mail, count=2)
    await time_env.sleep(timedelta(days=1))
    reminders = await mail.wait_for(approver.mail, count=3)
    assert all(m.subject.startswith("Reminder") for m in reminders[1:])

    await time_env.sleep(timedelta(days=1))
    result = await handle.result()
    assert (result.state, result.decision) == ("denied", "deny")
    row = await until(lambda: sign_up_row(email), lambda r: r.state == "denied")
    assert row.decided_by_id == "foyer" and row.user_id is None
    assert await find_user(email) is None
    denied = (await mail.wait_for(email, count=2))[-1]
    assert "not approved" in denied.subject and "No decision was made in time." in denied.text
    assert len(mail.to(approver.mail)) == 3  # no reminder after the deadline
