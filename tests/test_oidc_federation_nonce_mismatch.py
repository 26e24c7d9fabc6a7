"""An ID token whose nonce is not the one this sign-in sent (an answer meant for another sign-in,
or replayed) is refused, though everything else about it is valid."""

import pytest

from foyer.usecases.federation import FederationRefused
from tests.oidc_idp import oidc_provider  # noqa: F401


async def test_nonce_mismatch_is_refused(organization_id, oidc_provider):  # noqa: F811
    row = oidc_provider.provider_row(organization_id)
    with pytest.raises(FederationRefused) as refused:
        await oidc_provider.round_trip(row, "hal-1", nonce="the-nonce-foyer-expects",
                                       answered_nonce="another-sign-ins-nonce", email="hal@fabrikam.example",
                                       email_verified=True)
    assert refused.value.code == "nonceMismatch"
