"""The socialIdentityProvider Google speaks the same code flow, with the discovery document at the
setting google_well_known_endpoint (FOYER_GOOGLE_WELL_KNOWN_ENDPOINT; here a real provider on
127.0.0.1 standing in for Google). The identity's issuer is "google.com", as Entra writes it."""

from foyer.models.federation import IdentityProvider
from foyer.settings import get_settings
from foyer.usecases import federation_oidc
from foyer.usecases.federation_oidc import seal_client_secret
from tests.oidc_idp import oidc_provider  # noqa: F401


async def test_google_signs_in_through_the_configured_discovery(organization_id, oidc_provider, monkeypatch):  # noqa: F811
    monkeypatch.setattr(get_settings(), "google_well_known_endpoint", oidc_provider.well_known)
    federation_oidc.forget_cached_documents()
    client = oidc_provider.register_client("client_secret_post")
    row = IdentityProvider(organization_id=organization_id, kind="socialIdentityProvider", display_name="Google",
                           identity_provider_type="Google", client_id=client["client_id"])
    row.client_secret = seal_client_secret(row.id, client["client_secret"])
    assert row.issuer is None and row.well_known_endpoint is None  # Google's come from the setting
    identity = await oidc_provider.round_trip(row, "10769150350006150715113082367", email="gus@gmail.com",
                                              email_verified=True, name="Gus Grant")
    assert identity.issuer == "google.com"
    assert (identity.issuer_assigned_id, identity.email, identity.email_verified) == (
        "10769150350006150715113082367", "gus@gmail.com", True)
    assert oidc_provider.paths.count("/.well-known/openid-configuration") == 1
