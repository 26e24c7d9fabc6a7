"""Deleting a guest ends their open invitation workflow and removes everything they held."""

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import AppRoleAssignment, GroupMember, User
from foyer.models.invitation import Invitation, Passcode
from foyer.models.token import ApiToken
from tests.support import ask_for_code, invite, link_in
from tests.factories import make_group_and_app
from foyer.workflows.invitation import InvitationWorkflow


async def test_deleting_pending_guest_revokes_invitation_and_memberships(
        api, admin, mail, server, temporal, organization_id, make_token, new_email):
    group, app = await make_group_and_app(organization_id, "Deletion")
    other_group, _ = await make_group_and_app(organization_id, "Other")
    email = new_email()
    created = await invite(api, admin, email, foyerPreAssignedGroupIds=[group.id],
                           foyerPreAssignedApplicationIds=[app.id])
    guest_id = created["invitedUser"]["id"]
    workflow_id = created["foyerWorkflowId"]
    link = link_in((await mail.wait_for(email))[0].text)

    # The guest asks for a passcode (a row that must go too), is added to a group and an app
    # by hand, and holds an API token of their own.
    async with httpx.AsyncClient() as browser:
        response, challenge = await ask_for_code(browser, link)
        assert response.status_code == 200 and challenge, response.text
    ref = {"@odata.id": f"https://graph.contoso.test/v1.0/directoryObjects/{guest_id}"}
    assert (await api.post(f"/v1.0/groups/{other_group.id}/members/$ref", headers=admin,
                           json=ref)).status_code == 204
    assigned = await api.post(f"/v1.0/applications/{app.id}/appRoleAssignedTo", headers=admin,
                              json={"principalId": guest_id})
    assert assigned.status_code == 201, assigned.text
    await make_token("guest", user_id=guest_id)
    async with session_scope() as session:
        assert (await session.exec(select(Passcode).where(Passcode.email == email))).first()
        assert (await session.exec(select(ApiToken).where(ApiToken.user_id == guest_id))).first()

    deleted = await api.delete(f"/v1.0/users/{guest_id}", headers=admin)
    assert deleted.status_code == 204, deleted.text

    # The workflow was told, and ended as revoked.
    handle = temporal.client.get_workflow_handle_for(InvitationWorkflow.run, workflow_id)
    assert (await handle.query(InvitationWorkflow.current)).state == "revoked"
    assert (await handle.result()).state == "revoked"

    async with session_scope() as session:
        assert await session.get(User, guest_id) is None
        for model, column in ((GroupMember, GroupMember.user_id),
                              (AppRoleAssignment, AppRoleAssignment.principal_id),
                              (ApiToken, ApiToken.user_id), (Invitation, Invitation.user_id)):
            assert (await session.exec(select(model).where(column == guest_id))).all() == [], model
        assert (await session.exec(select(Passcode).where(Passcode.email == email))).all() == []
        records = (await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == guest_id).order_by(AuditRecord.activity_date_time))).all()
    by_activity = {r.activity_display_name: r for r in records}
    revoked = by_activity["Revoke invitation"]
    assert revoked.result_reason == "user deleted"
    assert revoked.workflow_id == workflow_id
    assert revoked.details["invitationId"] == created["id"]
    assert by_activity["Delete user"].details["revokedInvitations"] == created["id"]
    assert records[-1].activity_display_name == "Delete user"

    # The link is dead, the invitation gone from the API, and the address can be invited afresh.
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(link)).status_code in (404, 410)
    assert (await api.get(f"/v1.0/invitations/{created['id']}", headers=admin)).status_code == 404
    again = await invite(api, admin, email, sendInvitationMessage=False)
    assert again["invitedUser"]["id"] != guest_id
    assert again["status"] == "PendingAcceptance"


async def test_deleting_guest_whose_invitation_was_revoked(api, admin, temporal, new_email):
    email = new_email()
    created = await invite(api, admin, email, sendInvitationMessage=False)
    revoked = await api.post(f"/v1.0/invitations/{created['id']}/revoke", headers=admin)
    assert revoked.status_code == 200, revoked.text

    deleted = await api.delete(f"/v1.0/users/{created['invitedUser']['id']}", headers=admin)
    assert deleted.status_code == 204, deleted.text
    async with session_scope() as session:
        assert await session.get(User, created["invitedUser"]["id"]) is None
        assert await session.get(Invitation, created["id"]) is None
