"""External collaboration settings are enforced on every invitation and every redemption:
who may invite (allowInvitesFrom), domain allow/block lists, email one-time passcode on/off."""

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.enums import Role
from tests.factories import update_organization
from tests.support import ask_for_code, find_user, invite, link_in


def body(email: str) -> dict:
    return {"invitedUserEmailAddress": email, "inviteRedirectUrl": "https://app.contoso.test/"}


async def test_blocked_domain_is_refused_and_audited(api, admin, organization_id, mail):
    await update_organization(organization_id, domain_list_mode="blockList", domain_list=["blocked.example"])
    email = "eve@sub.blocked.example"
    response = await api.post("/v1.0/invitations", headers=admin, json=body(email))
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "domainNotAllowed" and "sub.blocked.example" in error["message"]
    assert await find_user(email) is None and mail.to(email) == []
    async with session_scope() as session:
        record = (await session.exec(select(AuditRecord).where(
            AuditRecord.target_display_name == email))).one()
    assert record.result == "failure" and "domainNotAllowed" in record.result_reason


async def test_allow_list_admits_only_listed_domains(api, admin, organization_id, new_email):
    await update_organization(organization_id, domain_list_mode="allowList", domain_list=["partner.example"])
    refused = await api.post("/v1.0/invitations", headers=admin, json=body(new_email("other.example")))
    assert refused.status_code == 403
    await invite(api, admin, new_email("partner.example"), sendInvitationMessage=False)


async def test_who_may_invite(api, make_token, organization_id, new_email):
    member = await make_token(Role.member)
    guest_inviter = await make_token(Role.guest_inviter)

    await update_organization(organization_id, allow_invites_from="adminsAndGuestInviters")
    response = await api.post("/v1.0/invitations", headers=member, json=body(new_email()))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "Authorization_RequestDenied"
    assert "adminsAndGuestInviters" in response.json()["error"]["message"]
    await invite(api, guest_inviter, new_email(), sendInvitationMessage=False)

    await update_organization(organization_id, allow_invites_from="adminsGuestInvitersAndAllMembers")
    await invite(api, member, new_email(), sendInvitationMessage=False)

    await update_organization(organization_id, allow_invites_from="none")
    admin = await make_token(Role.global_administrator)
    assert (await api.post("/v1.0/invitations", headers=admin, json=body(new_email()))).status_code == 403


async def test_guests_invite_only_when_everyone_may(api, make_token, organization_id, new_email):
    guest = await make_token(Role.guest)
    assert (await api.post("/v1.0/invitations", headers=guest, json=body(new_email()))).status_code == 403
    await update_organization(organization_id, allow_invites_from="everyone")
    await invite(api, guest, new_email(), sendInvitationMessage=False)


async def test_policy_changed_after_inviting_is_enforced_at_redemption(
        api, admin, mail, server, organization_id, new_email):
    email = new_email("later-blocked.example")
    await invite(api, admin, email)
    link = link_in((await mail.wait_for(email))[0].text)
    await update_organization(organization_id, domain_list_mode="blockList", domain_list=["later-blocked.example"])
    async with httpx.AsyncClient() as browser:
        response, challenge = await ask_for_code(browser, link)
    assert response.status_code == 403 and challenge is None
    assert "no longer accepts guests" in response.text
    assert len(mail.to(email)) == 1  # no passcode was sent


async def test_passcode_sign_in_switched_off(api, admin, mail, server, organization_id, new_email):
    email = new_email()
    await invite(api, admin, email)
    link = link_in((await mail.wait_for(email))[0].text)
    await update_organization(organization_id, email_otp_enabled=False)
    async with httpx.AsyncClient() as browser:
        response, _ = await ask_for_code(browser, link)
    assert response.status_code == 403 and "one-time passcode" in response.text


async def test_bad_invitation_bodies_get_graph_errors(api, admin, organization_id):
    cases = [
        {"inviteRedirectUrl": "https://app.contoso.test/"},
        {"invitedUserEmailAddress": "not-an-address", "inviteRedirectUrl": "https://x.test/"},
        {"invitedUserEmailAddress": "a@b.example"},
        {"invitedUserEmailAddress": "a@b.example", "inviteRedirectUrl": "not a url"},
        {**body("a@b.example"), "invitedUserType": "Admin"},
        {**body("a@b.example"), "foyerLinkLifetime": "forever"},
        {**body("a@b.example"), "foyerLinkLifetime": "P999D"},
        {**body("a@b.example"), "foyerPreAssignedGroupIds": ["no-such-group"]},
        {**body("a@b.example"), "unknownProperty": 1},
        {**body("someone@contoso.test")},  # the organization's own domain
    ]
    for case in cases:
        response = await api.post("/v1.0/invitations", headers=admin, json=case)
        assert response.status_code == 400, (case, response.text)
        assert set(response.json()["error"]) == {"code", "message"}, case
    malformed = await api.post("/v1.0/invitations", headers={**admin, "content-type": "application/json"},
                               content=b"{not json")
    assert malformed.status_code == 400 and "error" in malformed.json()
    anonymous = await api.post("/v1.0/invitations", json=body("a@b.example"))
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "InvalidAuthenticationToken"
    # Graph SDKs annotate bodies with @odata.type; that is accepted, not refused.
    annotated = await api.post("/v1.0/invitations", headers=admin, json={
        **body("annotated@b.example"), "@odata.type": "#microsoft.graph.invitation"})
    assert annotated.status_code == 201
