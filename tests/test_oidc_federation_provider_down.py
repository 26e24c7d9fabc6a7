"""An identity provider that does not answer gives FederationRefused providerUnavailable (a page
can say so), never an httpx error: before the browser is sent there, and when the code is
redeemed."""

import pytest

from foyer.usecases import federation_oidc
from foyer.usecases.federation import FederationRefused, oidc_redirect_uri
from tests.oidc_idp import oidc_idp


async def test_down_before_the_round_trip(organization_id):
    with oidc_idp() as idp:
        row = idp.provider_row(organization_id)
    federation_oidc.forget_cached_documents()
    with pytest.raises(FederationRefused) as refused:
        await federation_oidc.authorization_url(row, state="s", nonce="n", code_verifier="v" * 50,
                                                redirect_uri=oidc_redirect_uri(), login_hint=None)
    assert refused.value.code == "providerUnavailable"


async def test_down_when_the_code_is_redeemed(organization_id):
    with oidc_idp() as idp:
        row = idp.provider_row(organization_id)
        url = await federation_oidc.authorization_url(row, state="s", nonce="n", code_verifier="v" * 50,
                                                      redirect_uri=oidc_redirect_uri(), login_hint=None)
        callback = await idp.sign_in(url, "ivy-1", email="ivy@fabrikam.example", email_verified=True)
    # The discovery document is cached; the token endpoint no longer answers.
    code = callback.split("code=", 1)[1].split("&", 1)[0]
    with pytest.raises(FederationRefused) as refused:
        await federation_oidc.verified_identity(row, code=code, nonce="n", code_verifier="v" * 50,
                                                redirect_uri=oidc_redirect_uri())
    assert refused.value.code == "providerUnavailable"
    assert "could not be reached" in refused.value.message
