"""verified_identity: the same assertion (same ID) a second time is refused as replayed, even for a
new AuthnRequest; the first use recorded the ID (saml_assertions_seen) until its NotOnOrAfter."""

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.federation import SamlAssertionSeen
from tests.saml_support import idp_for, make_federation, refusal, requested, verify


async def test_same_assertion_twice_is_replayed(organization_id):
    async with idp_for(organization_id) as idp:
        federation = await make_federation(organization_id, idp)
        request_id = await requested(organization_id, federation)
        saml_response = idp.response(request_id)
        await verify(federation, saml_response, request_id)
        assert await refusal(federation, saml_response, request_id) == "replayed"
        # A new request answered with an assertion that reuses the ID: also a replay.
        second = await requested(organization_id, federation)
        async with session_scope() as session:
            seen = (await session.exec(select(SamlAssertionSeen).where(
                SamlAssertionSeen.federation_id == federation.id))).one()
        assert await refusal(federation, idp.response(second, assertion_id=seen.assertion_id), second) == "replayed"
        # Another assertion for the new request is fine.
        identity = await verify(federation, idp.response(second), second)
    assert identity.issuer_assigned_id == idp.user.name_id
