"""Admins revoke a pending invitation (its link dies) and resend one (a fresh link, the old one dies)."""

import httpx

from tests.support import invite, link_in
from foyer.workflows.invitation import InvitationWorkflow


async def test_revoke_kills_the_link(api, admin, mail, server, temporal, new_email):
    email = new_email()
    created = await invite(api, admin, email)
    link = link_in((await mail.wait_for(email))[0].text)

    revoked = await api.post(f"/v1.0/invitations/{created['id']}/revoke", headers=admin)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["foyerState"] == "revoked"
    async with httpx.AsyncClient() as browser:
        page = await browser.get(link)
    assert page.status_code == 410 and "withdrawn" in page.text

    handle = temporal.client.get_workflow_handle_for(InvitationWorkflow.run, created["foyerWorkflowId"])
    assert (await handle.result()).state == "revoked"

    again = await api.post(f"/v1.0/invitations/{created['id']}/revoke", headers=admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invitationNotPending"


async def test_resend_issues_a_fresh_link(api, admin, mail, server, new_email):
    email = new_email()
    created = await invite(api, admin, email, sendInvitationMessage=False)
    assert mail.to(email) == []
    old_link = created["inviteRedeemUrl"]

    resent = await api.post(f"/v1.0/invitations/{created['id']}/resend", headers=admin)
    assert resent.status_code == 201, resent.text
    new_link = link_in((await mail.wait_for(email))[0].text)
    assert new_link == resent.json()["inviteRedeemUrl"] != old_link
    assert resent.json()["invitedUser"]["id"] == created["invitedUser"]["id"]
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(old_link)).status_code == 410
        assert (await browser.get(new_link)).status_code == 200


async def test_unknown_invitation_is_404(api, admin):
    response = await api.post("/v1.0/invitations/does-not-exist/revoke", headers=admin)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "Request_ResourceNotFound"
