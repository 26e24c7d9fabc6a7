"""A long approval wait continues as new (time-skipping): with an approver reminded every hour,
the SignUpWorkflow starts a fresh run every REMINDERS_PER_RUN reminders, carrying the deadline
and the reminders already sent (each reminder is mailed once, none repeated or skipped), and the
latest run still takes the approver's decision: the guest is created."""

from datetime import timedelta

from foyer.workflows.client import sign_ups
from tests.factories import make_user
from tests.sign_up_support import sign_up_row, start_on
from tests.factories import make_flow
from tests.support import find_user, unique_email, until
from foyer.workflows.messages import SignUpDecision
from foyer.workflows.sign_up import REMINDERS_PER_RUN, SignUpWorkflow

REMINDERS = 2 * REMINDERS_PER_RUN + 3  # two continues-as-new, and a third run under way


async def runs(client, workflow_id: str) -> list[str]:
    """The run ids of the chain, latest first, following each run's link to the run it
    continued."""
    chain = [(await client.get_workflow_handle(workflow_id).describe()).run_id]
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=chain[-1]).fetch_history()
        previous = history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
        if not previous:
            return chain
        chain.append(previous)


async def test_hourly_reminders_continue_as_new_and_the_last_run_is_approved(time_env, mail, organization_id):
    approver = await make_user(organization_id, "Hana Hourly")
    flow_id = await make_flow(organization_id, approval={
        "approverIds": [approver.id], "timeout": "P3D", "reminderInterval": "PT1H"})
    email = unique_email()
    sign_up_id, handle, status = await start_on(time_env.client, mail, organization_id, flow_id, email)
    assert status.state == "pendingApproval"
    await mail.wait_for(approver.mail, count=1)

    await time_env.sleep(timedelta(hours=REMINDERS, minutes=30))
    messages = await mail.wait_for(approver.mail, count=1 + REMINDERS, timeout=60)
    reminders = messages[1:]
    assert len(reminders) == REMINDERS  # one an hour, none repeated, none skipped
    assert all(m.subject.startswith("Reminder") for m in reminders)
    # Each reminder its own outbox entry (keyed by its number, carried across runs).
    assert len({m.message["Message-ID"] for m in reminders}) == REMINDERS

    chain = await runs(time_env.client, handle.id)
    assert len(chain) == 3, chain  # continued as new after reminder 10 and after reminder 20

    decided = await sign_ups.decide(time_env.client, sign_up_id, SignUpDecision(
        decision="approve", reason="Still wanted", actor_id=approver.id, actor_name="Hana Hourly"))
    assert decided.decision == "approve"
    result = await time_env.client.get_workflow_handle_for(SignUpWorkflow.run, handle.id).result()
    assert result.state == "completed"
    row = await until(lambda: sign_up_row(email), lambda r: r.state == "completed")
    user = await find_user(email)
    assert user is not None and user.id == row.user_id
    assert row.decided_by_id == approver.id
    assert len(mail.to(approver.mail)) == 1 + REMINDERS  # no reminder after the decision
    assert len(await runs(time_env.client, handle.id)) == 3
