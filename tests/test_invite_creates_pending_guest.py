
from tests.support import find_user


async def test_invite_creates_pending_guest_and_mails_link(api, admin, mail, new_email):
    email = new_email()
    response = await api.post("/v1.0/invitations", headers=admin, json={
        "invitedUserEmailAddress": email, "inviteRedirectUrl": "https://app.contoso.test/home",
        "sendInvitationMessage": True, "invitedUserDisplayName": "Gina Guest",
    })
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "PendingAcceptance"
    assert body["inviteRedeemUrl"].startswith("http://127.0.0.1:")
    [message] = await mail.wait_for(email)
    assert body["inviteRedeemUrl"] in message.text
    user = await find_user(email)
    assert user.external_user_state == "PendingAcceptance"
    assert user.user_principal_name == email.replace("@", "_") + "#EXT#@contoso.test"
