"""The token request authenticates Foyer as the provider's client the way the provider was set up
with: client_secret_jwt (an RFC 7523 assertion keyed by the secret) and private_key_jwt (signed
with Foyer's own key, which the provider fetches from Foyer's published JWKS). The provider checks
the assertion (authlib's verifier); a client set up for another method is refused."""

import pytest

from foyer.usecases.federation import FederationRefused
from foyer.usecases.federation_oidc import CLIENT_ASSERTION_TYPE, client_jwks_uri
from tests.oidc_idp import claims_of, oidc_provider  # noqa: F401


async def test_client_secret_jwt(organization_id, oidc_provider):  # noqa: F811
    row = oidc_provider.provider_row(organization_id, "client_secret_jwt")
    identity = await oidc_provider.round_trip(row, "dana-1", email="dana@fabrikam.example", email_verified=True)
    assert identity.email_verified
    request = oidc_provider.token_requests[-1]
    assert request["client_assertion_type"] == CLIENT_ASSERTION_TYPE and "client_secret" not in request
    assertion = claims_of(request["client_assertion"])
    assert assertion["iss"] == assertion["sub"] == row.client_id
    assert assertion["aud"] == oidc_provider.token_endpoint and assertion["jti"]


async def test_private_key_jwt_verified_with_foyers_jwks(organization_id, server, oidc_provider):  # noqa: F811
    row = oidc_provider.provider_row(organization_id, "private_key_jwt", jwks_uri=client_jwks_uri(organization_id))
    assert row.client_secret is None
    identity = await oidc_provider.round_trip(row, "eve-1", email="eve@fabrikam.example", email_verified=True)
    assert identity.issuer_assigned_id == "eve-1"
    assert "client_assertion" in oidc_provider.token_requests[-1]


async def test_method_the_provider_does_not_expect_is_refused(organization_id, server, oidc_provider):  # noqa: F811
    # The provider expects client_secret_jwt; Foyer was set up with client_secret_post.
    row = oidc_provider.provider_row(organization_id, "client_secret_jwt")
    row.client_authentication_method = "client_secret_post"
    with pytest.raises(FederationRefused) as refused:
        await oidc_provider.round_trip(row, "fay-1", email="fay@fabrikam.example", email_verified=True)
    assert refused.value.code == "codeRejected"
    assert "invalid_client" in refused.value.message
