"""Invite through the API → invitation mail on a real SMTP server → follow the link over HTTP →
consent → passcode from the second mail → redeemed: the guest is Accepted, has an email identity
and is in the pre-assigned group and application."""

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import AppRoleAssignment, GroupMember
from foyer import sessions
from tests.support import ask_for_code, find_user, invite, link_in, passcode_in, submit_code
from tests.factories import make_group_and_app


async def test_guest_redeems_with_emailed_passcode(api, admin, mail, server, organization_id, new_email):
    email = new_email()
    group, app = await make_group_and_app(organization_id)
    created = await invite(api, admin, email, invitedUserDisplayName="Gail Guest",
                           invitedUserMessageInfo={"customizedMessageBody": "Welcome aboard, Gail!",
                                                   "ccRecipients": [{"emailAddress": {
                                                       "name": "Sam Sponsor", "address": "sam@contoso.test"}}]},
                           foyerPreAssignedGroupIds=[group.id],
                           foyerPreAssignedApplicationIds=[app.id])
    assert created["invitedUser"]["id"]
    assert created["foyerPreAssignedGroupIds"] == [group.id]

    [invitation_mail] = await mail.wait_for(email)
    assert "sam@contoso.test" in invitation_mail.recipients
    assert invitation_mail.message["Cc"] == "sam@contoso.test"
    assert "Welcome aboard, Gail!" in invitation_mail.text
    assert "Contoso Test" in invitation_mail.subject
    assert invitation_mail.html and "Accept invitation" in invitation_mail.html
    link = link_in(invitation_mail.text)
    assert link == created["inviteRedeemUrl"]

    async with httpx.AsyncClient(follow_redirects=False) as browser:
        page = await browser.get(link)
        assert page.status_code == 200
        assert "Contoso Test" in page.text and "Ada Admin" in page.text
        assert "https://contoso.test/privacy" in page.text

        response, challenge = await ask_for_code(browser, link)
        assert response.status_code == 200 and challenge
        messages = await mail.wait_for(email, count=2)
        code = passcode_in(messages[1].text)

        redeemed = await submit_code(browser, link, challenge, code)
        assert redeemed.status_code == 303
        assert redeemed.headers["location"] == "https://app.contoso.test/welcome"
        # The passcode signed the guest in to Foyer: their apps open without a second code.
        signed_in = sessions.read(redeemed.cookies.get(sessions.SESSION_COOKIE))
        assert signed_in is not None and signed_in.user_id == created["invitedUser"]["id"]

        # Single use: the same link now says it was used.
        again = await browser.get(link)
        assert again.status_code == 410 and "already accepted" in again.text

    user = await find_user(email)
    assert user.id == created["invitedUser"]["id"]
    assert user.external_user_state == "Accepted"
    assert user.identities == [{"signInType": "emailAddress", "issuer": "mail",
                                "issuerAssignedId": email}]
    async with session_scope() as session:
        assert await session.get(GroupMember, (group.id, user.id)) is not None
        assignments = (await session.exec(select(AppRoleAssignment).where(
            AppRoleAssignment.principal_id == user.id))).all()
        assert [a.application_id for a in assignments] == [app.id]
        audits = (await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == user.id))).all()
    assert {"Invite external user", "Redeem external user invite"} <= {a.activity_display_name for a in audits}
    assert all(a.workflow_id == created["foyerWorkflowId"] for a in audits)

    listed = await api.get(f"/v1.0/invitations/{created['id']}", headers=admin)
    assert listed.json()["foyerState"] == "redeemed"
    assert listed.json()["inviteRedeemUrl"] is None  # the live link is shown only once
