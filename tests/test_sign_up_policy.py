"""Self-service sign-up on/off (Graph's authenticationFlowsPolicy, on by default as in Entra) and
foyer.policy.sign_up_allowed, which also honours the domain allow/block list."""

from foyer.db import reading, session_scope
from foyer.policy import sign_up_allowed
from models.directory import Organization

POLICY = "/v1.0/policies/authenticationFlowsPolicy"


async def allowed(organization_id: str, email: str) -> str | None:
    async with reading() as session:
        return await sign_up_allowed(session, organization_id, email)


async def test_switch_and_domain_lists(api, admin, make_token, organization_id):
    member = await make_token("member")
    try:
        body = (await api.get(POLICY, headers=member)).json()
        assert body["id"] == "authenticationFlowsPolicy"
        assert body["selfServiceSignUp"] == {"isEnabled": True}
        assert await allowed(organization_id, "sam@fabrikam.test") is None

        assert (await api.patch(POLICY, headers=member,
                                json={"selfServiceSignUp": {"isEnabled": False}})).status_code == 403
        assert (await api.patch(POLICY, headers=admin,
                                json={"selfServiceSignUp": {"isEnabled": "no"}})).status_code == 400
        assert (await api.patch(POLICY, headers=admin, json={})).status_code == 400
        off = await api.patch(POLICY, headers=admin, json={"selfServiceSignUp": {"isEnabled": False}})
        assert off.status_code == 204
        assert (await api.get(POLICY, headers=member)).json()["selfServiceSignUp"] == {"isEnabled": False}
        assert "turned off" in await allowed(organization_id, "sam@fabrikam.test")

        assert (await api.patch(POLICY, headers=admin,
                                json={"selfServiceSignUp": {"isEnabled": True}})).status_code == 204
        blocked = await api.patch("/v1.0/policies/externalCollaborationPolicy", headers=admin, json={
            "domainRestrictions": {"mode": "blockList", "domains": ["spam.test"]}})
        assert blocked.status_code == 204
        assert "blocked" in await allowed(organization_id, "eve@mail.spam.test")
        assert await allowed(organization_id, "sam@fabrikam.test") is None
        await api.patch("/v1.0/policies/externalCollaborationPolicy", headers=admin, json={
            "domainRestrictions": {"mode": "allowList", "domains": ["fabrikam.test"]}})
        assert "allow list" in await allowed(organization_id, "eve@other.test")
        assert await allowed(organization_id, "sam@fabrikam.test") is None
    finally:
        async with session_scope() as session:
            org = await session.get(Organization, organization_id)
            org.self_service_sign_up_enabled = True
            session.add(org)
