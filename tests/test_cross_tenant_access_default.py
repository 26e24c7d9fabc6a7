"""GET|PATCH /v1.0/policies/crossTenantAccessPolicy/default: the redemption order
(invitationRedemptionIdentityProviderConfiguration), Entra's default, a PATCH that answers 204 and
is audited, Graph-style refusals."""

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.enums import Role

PATH = "/v1.0/policies/crossTenantAccessPolicy/default"
DEFAULT = ["azureActiveDirectory", "externalFederation", "socialIdentityProviders"]


async def test_default_change_and_audit(api, admin, make_token):
    member = await make_token(Role.member)
    body = (await api.get(PATH, headers=member)).json()
    assert body["isServiceDefault"] is True
    assert body["invitationRedemptionIdentityProviderConfiguration"] == {
        "primaryIdentityProviderPrecedenceOrder": DEFAULT, "fallbackIdentityProvider": "defaultConfiguredIdp"}

    change = {"invitationRedemptionIdentityProviderConfiguration": {
        "primaryIdentityProviderPrecedenceOrder": ["externalFederation", "socialIdentityProviders"],
        "fallbackIdentityProvider": "emailOneTimePasscode"}}
    patched = await api.patch(PATH, headers=admin, json=change)
    assert patched.status_code == 204 and patched.content == b""
    body = (await api.get(PATH, headers=member)).json()
    assert body["isServiceDefault"] is False
    assert body["invitationRedemptionIdentityProviderConfiguration"] == change[
        "invitationRedemptionIdentityProviderConfiguration"]
    async with session_scope() as session:
        records = (await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == "crossTenantAccessPolicy/default"))).all()
    after = records[-1].details["after"]["invitationRedemptionIdentityProviderConfiguration"]
    assert after["fallbackIdentityProvider"] == "emailOneTimePasscode"
    assert records[-1].details["before"]["invitationRedemptionIdentityProviderConfiguration"][
        "fallbackIdentityProvider"] == "defaultConfiguredIdp"


async def test_refusals(api, admin, make_token):
    def order(precedence, fallback="defaultConfiguredIdp"):
        return {"invitationRedemptionIdentityProviderConfiguration": {
            "primaryIdentityProviderPrecedenceOrder": precedence, "fallbackIdentityProvider": fallback}}

    for body in ({}, {"invitationRedemptionIdentityProviderConfiguration": None}, order(["emailOneTimePasscode"]),
                 order(DEFAULT, "microsoftAccount"), order(DEFAULT, "nobody"), order("externalFederation"),
                 order(["externalFederation", "externalFederation"]),
                 {"invitationRedemptionIdentityProviderConfiguration": {"primaryIdentityProviderPrecedenceOrder": DEFAULT}},
                 {"b2bDirectConnectInbound": {}}, {"b2bCollaborationInbound": None},
                 {"b2bCollaborationInbound": {"usersAndGroups": {"accessType": "allowed", "targets": []}}},
                 {"inboundTrust": {"isMfaAccepted": "yes"}}):
        response = await api.patch(PATH, headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
        assert set(response.json()["error"]) >= {"code", "message"}
    for role in (Role.user_administrator, Role.member, Role.guest):
        response = await api.patch(PATH, headers=await make_token(role), json=order(DEFAULT))
        assert response.status_code == 403, role
    assert (await api.get(PATH)).status_code == 401
    body = (await api.get(PATH, headers=admin)).json()
    assert body["invitationRedemptionIdentityProviderConfiguration"]["primaryIdentityProviderPrecedenceOrder"] == DEFAULT
