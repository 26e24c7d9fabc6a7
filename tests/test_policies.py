"""Organization profile and the external collaboration policies: read by members, changed only by
a Global Administrator, validated, audited, and enforced on the next invitation."""

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import Organization
from tests.support import invite

EXTERNAL = "/v1.0/policies/externalCollaborationPolicy"
AUTHORIZATION = "/v1.0/policies/authorizationPolicy"


async def _policy_audits(target_id: str) -> list[AuditRecord]:
    async with session_scope() as session:
        return list((await session.exec(select(AuditRecord).where(
            AuditRecord.category == "Policy", AuditRecord.target_id == target_id)
            .order_by(AuditRecord.activity_date_time))).all())


async def test_organization_read_and_update(api, admin, make_token, organization_id):
    member = await make_token("member")
    [org] = (await api.get("/v1.0/organization", headers=member)).json()["value"]
    assert org["id"] == organization_id and org["displayName"] == "Contoso Test"
    assert any(d["name"] == "contoso.test" and d["isDefault"] for d in org["verifiedDomains"])
    assert org["privacyProfile"]["statementUrl"] == "https://contoso.test/privacy"
    async with session_scope() as session:
        original_email = (await session.get(Organization, organization_id)).privacy_contact_email
    try:
        response = await api.patch(f"/v1.0/organization/{organization_id}", headers=admin, json={
            "displayName": "Contoso Renamed",
            "privacyProfile": {"contactEmail": "Privacy@Contoso.test"}})
        assert response.status_code == 204, response.text
        [org] = (await api.get("/v1.0/organization", headers=member)).json()["value"]
        assert org["displayName"] == "Contoso Renamed"
        assert org["privacyProfile"] == {"statementUrl": "https://contoso.test/privacy",
                                         "contactEmail": "privacy@contoso.test"}
        [record] = [r for r in await _policy_audits(organization_id)
                    if r.details.get("displayName") == "Contoso Renamed"]
        assert record.activity_display_name == "Update organization"

        for body in ({"displayName": ""}, {"displayName": None}, {"tenantType": "AAD"}, {},
                     {"privacyProfile": {"statementUrl": "not a url"}},
                     {"privacyProfile": {"contactEmail": "nobody"}}):
            bad = await api.patch(f"/v1.0/organization/{organization_id}", headers=admin, json=body)
            assert bad.status_code == 400, (body, bad.text)
        missing = await api.patch("/v1.0/organization/other-org", headers=admin, json={"displayName": "X"})
        assert missing.status_code == 404
        user_admin = await make_token("User Administrator")
        denied = await api.patch(f"/v1.0/organization/{organization_id}", headers=user_admin,
                                 json={"displayName": "X"})
        assert denied.status_code == 403
    finally:
        async with session_scope() as session:
            row = await session.get(Organization, organization_id)
            row.display_name, row.privacy_contact_email = "Contoso Test", original_email
            session.add(row)


async def test_authorization_policy(api, admin, make_token, organization_id, new_email):
    member = await make_token("member")
    policy = (await api.get(AUTHORIZATION, headers=member)).json()
    assert policy["id"] == "authorizationPolicy"
    assert policy["allowInvitesFrom"] == "adminsGuestInvitersAndAllMembers"

    response = await api.patch(AUTHORIZATION, headers=admin, json={"allowInvitesFrom": "adminsAndGuestInviters"})
    assert response.status_code == 204, response.text
    assert (await api.get(AUTHORIZATION, headers=member)).json()["allowInvitesFrom"] == "adminsAndGuestInviters"
    # Enforced: a member may no longer invite.
    refused = await api.post("/v1.0/invitations", headers=member, json={
        "invitedUserEmailAddress": new_email(), "inviteRedirectUrl": "https://app.contoso.test/"})
    assert refused.status_code == 403
    assert (await _policy_audits("authorizationPolicy"))[-1].details == {
        "allowInvitesFrom": "adminsAndGuestInviters",
        "previousAllowInvitesFrom": "adminsGuestInvitersAndAllMembers"}

    for body in ({"allowInvitesFrom": "somebody"}, {"allowInvitesFrom": None}, {},
                 {"allowInvitesFrom": "everyone", "guestUserRoleId": "x"}):
        bad = await api.patch(AUTHORIZATION, headers=admin, json=body)
        assert bad.status_code == 400, (body, bad.text)
    assert (await api.patch(AUTHORIZATION, headers=member, json={"allowInvitesFrom": "everyone"})).status_code == 403
    async with session_scope() as session:
        assert (await session.get(Organization, organization_id)).allow_invites_from == "adminsAndGuestInviters"


async def test_external_collaboration_policy(api, admin, make_token, organization_id, new_email):
    member = await make_token("member")
    assert (await api.get(EXTERNAL, headers=member)).json() == {
        "id": "externalCollaborationPolicy",
        "domainRestrictions": {"mode": "none", "domains": []},
        "emailOneTimePasscodeEnabled": True, "invitationLifetime": "P30D",
        "invitationReminders": ["P3D", "P10D"]}

    response = await api.patch(EXTERNAL, headers=admin, json={
        "domainRestrictions": {"mode": "allowList", "domains": ["Partner.Example", "partner.example", "b.example"]},
        "invitationLifetime": "P14D", "invitationReminders": ["P7D", "PT12H"],
        "emailOneTimePasscodeEnabled": False})
    assert response.status_code == 204, response.text
    policy = (await api.get(EXTERNAL, headers=member)).json()
    assert policy["domainRestrictions"] == {"mode": "allowList", "domains": ["partner.example", "b.example"]}
    assert policy["invitationLifetime"] == "P14D" and policy["invitationReminders"] == ["PT12H", "P7D"]
    assert policy["emailOneTimePasscodeEnabled"] is False
    async with session_scope() as session:
        org = await session.get(Organization, organization_id)
    assert org.domain_list_mode == "allowList" and org.invitation_lifetime == "P14D"
    record = (await _policy_audits("externalCollaborationPolicy"))[-1]
    assert record.activity_display_name == "Update external collaboration settings"
    assert set(record.details) == {"domainRestrictions", "emailOneTimePasscodeEnabled",
                                   "invitationLifetime", "invitationReminders"}

    # Enforced on the next invitation.
    refused = await api.post("/v1.0/invitations", headers=admin, json={
        "invitedUserEmailAddress": new_email("elsewhere.example"),
        "inviteRedirectUrl": "https://app.contoso.test/"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "domainNotAllowed"
    await invite(api, admin, new_email("partner.example"), sendInvitationMessage=False)

    # A partial update keeps the rest.
    assert (await api.patch(EXTERNAL, headers=admin, json={"invitationReminders": []})).status_code == 204
    policy = (await api.get(EXTERNAL, headers=member)).json()
    assert policy["invitationReminders"] == [] and policy["invitationLifetime"] == "P14D"
    assert policy["domainRestrictions"]["mode"] == "allowList"


async def test_external_collaboration_policy_validation(api, admin, make_token, organization_id):
    bad_bodies = [
        {"domainRestrictions": {"mode": "none", "domains": ["a.example"]}},
        {"domainRestrictions": {"mode": "allowList", "domains": []}},
        {"domainRestrictions": {"mode": "blockList"}},
        {"domainRestrictions": {"mode": "denyList", "domains": ["a.example"]}},
        {"domainRestrictions": {"mode": "blockList", "domains": ["not a domain"]}},
        {"domainRestrictions": {"mode": "blockList", "domains": ["localhost"]}},
        {"domainRestrictions": {"mode": "blockList", "domains": ["@x.example"]}},
        {"domainRestrictions": {"mode": "blockList", "domains": [5]}},
        {"domainRestrictions": None},
        {"invitationLifetime": "30 days"}, {"invitationLifetime": "PT30M"},
        {"invitationLifetime": "P400D"}, {"invitationLifetime": None},
        {"invitationLifetime": "P2D"},  # shorter than the current P3D/P10D reminders
        {"invitationReminders": ["P30D"]}, {"invitationReminders": ["P40D"]},
        {"invitationReminders": ["P1D", "P1D"]}, {"invitationReminders": ["PT0S"]},
        {"invitationReminders": ["soon"]}, {"invitationReminders": None},
        {"invitationLifetime": "P5D", "invitationReminders": ["P1D", "P5D"]},
        {"emailOneTimePasscodeEnabled": "yes"}, {"emailOneTimePasscodeEnabled": None},
        {"guestAccess": "limited"}, {},
    ]
    for body in bad_bodies:
        response = await api.patch(EXTERNAL, headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["message"]
    async with session_scope() as session:
        org = await session.get(Organization, organization_id)
    assert (org.domain_list_mode, org.domain_list, org.invitation_lifetime,
            org.invitation_reminders, org.email_otp_enabled) == ("none", [], "P30D", ["P3D", "P10D"], True)

    assert (await api.patch(EXTERNAL, headers=admin, json={
        "invitationLifetime": "P5D", "invitationReminders": ["P1D", "PT36H"]})).status_code == 204
    for role in ("User Administrator", "Guest Inviter", "member"):
        denied = await api.patch(EXTERNAL, headers=await make_token(role), json={"invitationLifetime": "P1D"})
        assert denied.status_code == 403, role
