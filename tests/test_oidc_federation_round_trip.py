"""Signing in at a partner's OpenID provider (a real one on 127.0.0.1): Foyer's authorization URL
carries the code flow with PKCE S256, a nonce, the provider's scope and the login hint; the code
the browser brings back becomes a VerifiedIdentity with what the provider vouched for, an
unverified address reported as unverified."""

import base64
import hashlib

import httpx

from foyer.usecases import federation_oidc
from foyer.usecases.federation import oidc_redirect_uri
from tests.oidc_idp import oidc_provider  # noqa: F401


async def test_round_trip_gives_the_verified_identity(organization_id, oidc_provider):  # noqa: F811
    row = oidc_provider.provider_row(organization_id)
    identity = await oidc_provider.round_trip(
        row, "ann-1", login_hint="ann@fabrikam.example", email="Ann@Fabrikam.example", email_verified=True,
        name="Ann Lee", given_name="Ann", family_name="Lee")
    assert identity.issuer == oidc_provider.issuer
    assert identity.issuer_assigned_id == "ann-1"
    assert (identity.email, identity.email_verified) == ("Ann@Fabrikam.example", True)
    assert (identity.display_name, identity.given_name, identity.surname) == ("Ann Lee", "Ann", "Lee")
    # client_secret_post: the secret went in the form, with the PKCE verifier.
    request = oidc_provider.token_requests[-1]
    assert request["client_secret"] and request["code_verifier"] and "client_assertion" not in request


async def test_unverified_address_is_reported_unverified(organization_id, oidc_provider):  # noqa: F811
    row = oidc_provider.provider_row(organization_id)
    identity = await oidc_provider.round_trip(row, "bob-1", email="bob@fabrikam.example", email_verified=False)
    assert (identity.email, identity.email_verified) == ("bob@fabrikam.example", False)
    # No email_verified claim at all is not verified either.
    identity = await oidc_provider.round_trip(row, "bob-2", email="bob2@fabrikam.example")
    assert identity.email_verified is False


async def test_authorization_url_has_pkce_nonce_scope_and_hint(organization_id, oidc_provider):  # noqa: F811
    row = oidc_provider.provider_row(organization_id, scope="openid email")
    url = httpx.URL(await federation_oidc.authorization_url(
        row, state="the-state", nonce="the-nonce", code_verifier="v" * 50, redirect_uri=oidc_redirect_uri(),
        login_hint="ann@fabrikam.example"))
    assert str(url).startswith(f"{oidc_provider.base_url}/oauth2/authorize?")
    expected = base64.urlsafe_b64encode(hashlib.sha256(b"v" * 50).digest()).rstrip(b"=").decode()
    assert dict(url.params) == {
        "response_type": "code", "client_id": row.client_id, "redirect_uri": oidc_redirect_uri(),
        "scope": "openid email", "state": "the-state", "nonce": "the-nonce", "code_challenge": expected,
        "code_challenge_method": "S256", "login_hint": "ann@fabrikam.example"}


async def test_inbound_claim_mapping(organization_id, oidc_provider):  # noqa: F811
    row = oidc_provider.provider_row(organization_id, inbound_claim_mapping={
        "sub": "employee_id", "email": "mail", "email_verified": "mail_checked", "name": "display"})
    identity = await oidc_provider.round_trip(
        row, "carl-1", employee_id="E-42", mail="carl@fabrikam.example", mail_checked=True,
        display="Carl Diaz", email="other@fabrikam.example", email_verified=False)
    assert identity.issuer_assigned_id == "E-42"
    assert (identity.email, identity.email_verified, identity.display_name) == ("carl@fabrikam.example", True, "Carl Diaz")


async def test_address_only_at_the_userinfo_endpoint(organization_id, oidc_provider):  # noqa: F811
    oidc_provider.userinfo_only.update({"email", "email_verified"})
    row = oidc_provider.provider_row(organization_id)
    identity = await oidc_provider.round_trip(row, "dee-1", email="dee@fabrikam.example", email_verified=True,
                                              name="Dee Dunn")
    assert (identity.email, identity.email_verified, identity.display_name) == ("dee@fabrikam.example", True, "Dee Dunn")
    assert "/userinfo" in oidc_provider.paths
