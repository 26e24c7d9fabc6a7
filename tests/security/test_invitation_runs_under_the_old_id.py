"""InvitationWorkflows started before workflow ids stopped carrying addresses run under
`invitation:{organization}:{address}`. They are still found for their own invitation (the page,
revoke and user deletion go by the id recorded in the invitation row); a new invitation to such
an address starts a run under the new id and supersedes the old invitation, as any re-invitation
does."""

import uuid

import httpx
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from foyer.workflows.messages.invitation import InvitationSpec
from foyer.db import session_scope
from foyer.settings import get_settings
from foyer.models.invitation import Invitation
from tests.support import emailed_code, find_user, invite, link_in, submit_code, unique_email
from foyer.workflows.invitation import InvitationWorkflow
from foyer.workflows.messages import InvitationWorkflowInput, invitation_workflow_id


def old_workflow_id(organization_id: str, email: str) -> str:
    return f"invitation:{organization_id}:{email.lower()}"


async def start_under_old_id(client, organization_id: str, email: str) -> str:
    """What `workflows.client.invitations.invite_guest` did before: update-with-start under the address's id."""
    workflow_id = old_workflow_id(organization_id, email)
    spec = InvitationSpec(invitation_id=str(uuid.uuid4()), organization_id=organization_id, email=email,
                          proposed_user_id=str(uuid.uuid4()), invite_redirect_url="https://app.contoso.test/",
                          invited_by_name="Before", send_invitation_message=True)
    operation = WithStartWorkflowOperation(
        InvitationWorkflow.run, InvitationWorkflowInput(organization_id=organization_id, email=email),
        id=workflow_id, task_queue=get_settings().task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    result = await client.execute_update_with_start_workflow(
        InvitationWorkflow.invite, spec, start_workflow_operation=operation)
    return result.invitation_id


async def row(invitation_id: str) -> Invitation:
    async with session_scope() as session:
        return await session.get(Invitation, invitation_id)


async def test_old_run_redeems_its_invitation(mail, server, temporal, organization_id):
    email = unique_email()
    invitation_id = await start_under_old_id(temporal.client, organization_id, email)
    assert (await row(invitation_id)).workflow_id == old_workflow_id(organization_id, email)
    link = link_in((await mail.wait_for(email))[0].text)
    async with httpx.AsyncClient() as browser:
        challenge, code = await emailed_code(browser, link, mail, email)
        redeemed = await submit_code(browser, link, challenge, code)
    assert redeemed.status_code == 303, redeemed.text[:300]
    assert (await find_user(email)).external_user_state == "Accepted"
    status = await temporal.client.get_workflow_handle_for(
        InvitationWorkflow.run, old_workflow_id(organization_id, email)).result()
    assert status.state == "redeemed"


async def test_old_run_is_revoked_by_its_invitation(api, admin, mail, temporal, organization_id):
    email = unique_email()
    invitation_id = await start_under_old_id(temporal.client, organization_id, email)
    revoked = await api.post(f"/v1.0/invitations/{invitation_id}/revoke", headers=admin)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["foyerState"] == "revoked"
    status = await temporal.client.get_workflow_handle_for(
        InvitationWorkflow.run, old_workflow_id(organization_id, email)).result()
    assert status.state == "revoked"


async def test_new_invitation_supersedes_the_old_run(api, admin, mail, server, temporal, organization_id):
    email = unique_email()
    old_invitation = await start_under_old_id(temporal.client, organization_id, email)
    old_link = link_in((await mail.wait_for(email))[0].text)

    created = await invite(api, admin, email)
    assert created["foyerWorkflowId"] == invitation_workflow_id(organization_id, email)
    assert email not in created["foyerWorkflowId"]
    assert (await row(old_invitation)).state == "superseded"
    new_link = link_in((await mail.wait_for(email, count=2))[1].text)
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(old_link)).status_code == 410
        challenge, code = await emailed_code(browser, new_link, mail, email)
        assert (await submit_code(browser, new_link, challenge, code)).status_code == 303
    assert (await find_user(email)).external_user_state == "Accepted"
