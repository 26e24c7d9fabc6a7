"""Reminders and expiry under the time-skipping server: 30 days pass in well under a second."""

import uuid
from datetime import timedelta

import httpx

from foyer.workflows.messages.invitation import InvitationSpec
from foyer.workflows.client.invitations import invite_guest
from foyer.db import session_scope
from foyer.models.invitation import Invitation
from tests.support import find_user, link_in
from foyer.workflows.invitation import InvitationWorkflow
from foyer.workflows.messages import invitation_workflow_id


def spec_for(organization_id: str, email: str, **extra) -> InvitationSpec:
    return InvitationSpec(invitation_id=str(uuid.uuid4()), organization_id=organization_id,
                          email=email, proposed_user_id=str(uuid.uuid4()),
                          invite_redirect_url="https://app.contoso.test/", invited_by_name="Timer Test",
                          send_invitation_message=True, **extra)


async def test_reminders_then_expiry(time_env, organization_id, mail, app, server, new_email):
    email = new_email()
    result = await invite_guest(time_env.client, spec_for(organization_id, email))
    assert result.status == "PendingAcceptance"
    link = link_in((await mail.wait_for(email))[0].text)

    await time_env.sleep(timedelta(days=2))
    assert len(mail.to(email)) == 1  # nothing before day 3

    await time_env.sleep(timedelta(days=1, hours=1))
    reminders = await mail.wait_for(email, count=2)
    assert reminders[1].subject.startswith("Reminder:")
    assert link_in(reminders[1].text) == link  # the same, still valid link

    await time_env.sleep(timedelta(days=7))
    await mail.wait_for(email, count=3)

    await time_env.sleep(timedelta(days=20))
    handle = time_env.client.get_workflow_handle_for(InvitationWorkflow.run, invitation_workflow_id(organization_id, email))
    final = await handle.result()
    assert final.state == "expired"
    assert final.reminders_sent == 2

    async with session_scope() as session:
        row = await session.get(Invitation, result.invitation_id)
        assert row.state == "expired" and row.ended_date_time is not None
    assert len(mail.to(email)) == 3  # invitation + 2 reminders, no mail at expiry
    # The guest stays in the directory as PendingAcceptance; the link shows the expired page.
    assert (await find_user(email)).external_user_state == "PendingAcceptance"
    async with httpx.AsyncClient() as browser:
        page = await browser.get(link)
    assert page.status_code == 410 and "expired" in page.text and "new invitation" in page.text


async def test_per_invitation_lifetime_and_no_reminders_without_mail(time_env, organization_id, mail, new_email):
    email = new_email()
    spec = spec_for(organization_id, email, lifetime="P2D")
    spec.send_invitation_message = False
    await invite_guest(time_env.client, spec)
    handle = time_env.client.get_workflow_handle_for(InvitationWorkflow.run, invitation_workflow_id(organization_id, email))
    status = await handle.query(InvitationWorkflow.current)
    async with session_scope() as session:
        row = await session.get(Invitation, status.invitation_id)
    assert row.expires_date_time - row.link_issued_date_time == timedelta(days=2)
    await time_env.sleep(timedelta(days=1, hours=23))
    assert (await handle.query(InvitationWorkflow.current)).state == "pending"
    await time_env.sleep(timedelta(hours=2))
    final = await handle.result()
    assert final.state == "expired" and final.reminders_sent == 0
    assert mail.to(email) == []


async def test_refused_first_invitation_leaves_no_waiting_workflow(time_env, organization_id, mail, new_email):
    email = new_email()
    spec = spec_for(organization_id, email, reset_redemption=True, reset_user_id="nobody")
    try:
        await invite_guest(time_env.client, spec)
        raise AssertionError("a reset of an unknown user was accepted")
    except Exception as error:  # the API maps this refusal to 404 userNotFound
        assert getattr(error, "code", None) == "userNotFound", error
    handle = time_env.client.get_workflow_handle_for(
        InvitationWorkflow.run, invitation_workflow_id(organization_id, email))
    await time_env.sleep(timedelta(minutes=11))
    assert (await handle.result()).state == "new"
    assert await find_user(email) is None
