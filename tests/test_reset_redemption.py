"""resetRedemption: an Accepted guest goes back to PendingAcceptance and re-redeems as the same
user object, keeping their memberships; only admins may reset."""

from datetime import timedelta

import httpx

from foyer.db import session_scope
from foyer.models.directory import GroupMember
from foyer.models.enums import Role
from tests.support import age_passcodes, ask_for_code, find_user, invite, link_in, passcode_in, submit_code
from tests.factories import make_group_and_app


async def redeem(link: str, mail, email: str, count: int) -> None:
    async with httpx.AsyncClient() as browser:
        _, challenge = await ask_for_code(browser, link)
        code = passcode_in((await mail.wait_for(email, count=count))[-1].text)
        assert (await submit_code(browser, link, challenge, code)).status_code == 303


async def test_reset_then_redeem_again_as_the_same_user(api, admin, mail, server, make_token,
                                                        organization_id, new_email):
    email = new_email()
    group, _ = await make_group_and_app(organization_id)
    created = await invite(api, admin, email, foyerPreAssignedGroupIds=[group.id])
    await redeem(link_in((await mail.wait_for(email))[0].text), mail, email, count=2)
    user_id = created["invitedUser"]["id"]
    assert (await find_user(email)).external_user_state == "Accepted"

    # Inviting an Accepted guest without reset answers Completed and needs no redemption.
    again = await invite(api, admin, email, sendInvitationMessage=False)
    assert again["status"] == "Completed"
    assert again["inviteRedeemUrl"] == "https://app.contoso.test/welcome"

    inviter = await make_token(Role.guest_inviter)
    refused = await api.post("/v1.0/invitations", headers=inviter, json={
        "invitedUserEmailAddress": email, "inviteRedirectUrl": "https://app.contoso.test/",
        "resetRedemption": True, "invitedUser": {"id": user_id}})
    assert refused.status_code == 403

    reset = await invite(api, admin, email, resetRedemption=True, invitedUser={"id": user_id})
    assert reset["status"] == "PendingAcceptance" and reset["invitedUser"]["id"] == user_id
    user = await find_user(email)
    assert user.external_user_state == "PendingAcceptance" and user.identities == []

    # Codes are limited to one a minute per address; let that minute pass.
    await age_passcodes(email, timedelta(minutes=2))
    await redeem(link_in((await mail.wait_for(email, count=3))[-1].text), mail, email, count=4)
    user = await find_user(email)
    assert user.id == user_id and user.external_user_state == "Accepted"
    async with session_scope() as session:
        assert await session.get(GroupMember, (group.id, user_id)) is not None


async def test_reset_needs_an_existing_user(api, admin, new_email):
    response = await api.post("/v1.0/invitations", headers=admin, json={
        "invitedUserEmailAddress": new_email(), "inviteRedirectUrl": "https://app.contoso.test/",
        "resetRedemption": True, "invitedUser": {"id": "no-such-user"}})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "userNotFound"
