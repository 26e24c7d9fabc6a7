"""verified_identity: an XML signature wrapping attempt is refused. The attacker holds a genuinely
signed assertion for themself, moves it into the Response's Extensions, and puts an unsigned
assertion for the victim (same ID, the genuine signature copied in) where the assertion belongs.
Foyer refuses the shape before any signature is checked, and reads identities only from the
assertion pysaml2 verified."""

from tests.saml_idp import SamlUser
from tests.saml_support import idp_for, make_federation, refusal, requested


async def test_wrapped_assertion_is_refused(organization_id):
    async with idp_for(organization_id) as idp:
        federation = await make_federation(organization_id, idp)
        request_id = await requested(organization_id, federation)
        victim = SamlUser(name_id="victim-id", email="ceo@fabrikam.test")
        assert await refusal(federation, idp.wrapped(request_id, victim), request_id) == "invalidResponse"
