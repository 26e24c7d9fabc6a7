"""verified_identity: an answer issued for another service provider (audience) is refused
(FederationRefused "wrongAudience"), never accepted, never a pysaml2 error."""

from tests.saml_support import idp_for, make_federation, refusal, requested

OTHER_AUDIENCE = "https://login.microsoftonline.com/other-tenant/"


async def test_refused(organization_id):
    async with idp_for(organization_id) as idp:
        federation = await make_federation(organization_id, idp)
        request_id = await requested(organization_id, federation)
        assert await refusal(federation, idp.for_audience(request_id, OTHER_AUDIENCE), request_id) == "wrongAudience"
