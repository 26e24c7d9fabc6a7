"""A person who cancels at their provider comes back with error=access_denied and no code:
callback_refusal says so (signInCancelled); another error is the provider's refusal."""

import httpx

from foyer.usecases import federation_oidc
from foyer.usecases.federation import oidc_redirect_uri
from tests.oidc_idp import oidc_provider  # noqa: F401


async def test_cancelled_at_the_provider(organization_id, oidc_provider):  # noqa: F811
    row = oidc_provider.provider_row(organization_id)
    url = await federation_oidc.authorization_url(row, state="s", nonce="n", code_verifier="v" * 50,
                                                  redirect_uri=oidc_redirect_uri(), login_hint=None)
    params = httpx.URL(await oidc_provider.sign_in(url, "zed-1", deny=True)).params
    # (RFC 6749 says the state comes back with an error too; this provider leaves it out on Deny,
    # so a callback must cope with an error without a state.)
    assert "code" not in params and params["error"] == "access_denied"
    refused = federation_oidc.callback_refusal(params.get("error"), params.get("error_description"))
    assert refused.code == "signInCancelled"
    other = federation_oidc.callback_refusal("temporarily_unavailable", "try later")
    assert other.code == "providerRefused" and "temporarily_unavailable: try later" in other.message
    assert federation_oidc.callback_refusal(None) is None
