"""verified_identity: an answer whose NotOnOrAfter has passed is refused as expired (FederationRefused
"expired"), never accepted, never a pysaml2 error."""

from tests.saml_support import idp_for, make_federation, refusal, requested


async def test_refused(organization_id):
    async with idp_for(organization_id) as idp:
        federation = await make_federation(organization_id, idp)
        request_id = await requested(organization_id, federation)
        assert await refusal(federation, idp.expired(request_id), request_id) == "expired"
