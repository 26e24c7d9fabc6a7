"""The provider's JWKS is cached; when it rotates its signing key, the first ID token signed with
the new key (a kid the cache does not know) makes one fresh JWKS fetch and is accepted. A token
signed with a key the provider does not publish is still refused after that one fetch."""

import pytest

from foyer.usecases import federation_oidc
from foyer.usecases.federation import FederationRefused
from tests.oidc_idp import oidc_provider  # noqa: F401


async def test_unknown_kid_refetches_the_jwks_once(organization_id, oidc_provider):  # noqa: F811
    row = oidc_provider.provider_row(organization_id)
    await oidc_provider.round_trip(row, "jo-1", email="jo@fabrikam.example", email_verified=True)
    await oidc_provider.round_trip(row, "jo-1", email="jo@fabrikam.example", email_verified=True)
    assert oidc_provider.paths.count("/jwks") == 1  # cached
    oidc_provider.rotate_key()
    identity = await oidc_provider.round_trip(row, "jo-1", email="jo@fabrikam.example", email_verified=True)
    assert identity.issuer_assigned_id == "jo-1"
    assert oidc_provider.paths.count("/jwks") == 2


async def test_key_not_published_is_refused(organization_id, oidc_provider, monkeypatch):  # noqa: F811
    row = oidc_provider.provider_row(organization_id)
    federation_oidc.forget_cached_documents()
    fetched = []
    original = federation_oidc._jwks

    async def stale_jwks(jwks_uri, *, fresh=False):
        # A provider whose JWKS never has the key its tokens are signed with.
        fetched.append(fresh)
        document = await original(jwks_uri, fresh=fresh)
        return {"keys": [{**key, "kid": "someone-else"} for key in document["keys"]]}

    monkeypatch.setattr(federation_oidc, "_jwks", stale_jwks)
    with pytest.raises(FederationRefused) as refused:
        await oidc_provider.round_trip(row, "kim-1", email="kim@fabrikam.example", email_verified=True)
    assert refused.value.code == "tokenRejected"
    assert fetched == [False, True]
