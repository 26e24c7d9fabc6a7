"""Foyer checks every ID token it is answered: signed (with a key the provider publishes, an
asymmetric algorithm), by the discovery document's issuer, for this client (and, with several
audiences, authorized for it), not expired, issued just now, and with a subject. Each failure is
FederationRefused tokenRejected. The tokens here are signed by the real provider's own key; only
the token endpoint's answer is replaced, to carry them."""

import time

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from foyer.usecases import federation_oidc
from foyer.usecases.federation import FederationRefused
from tests.oidc_idp import oidc_provider  # noqa: F401

NONCE = "the-nonce"


def good_claims(idp, row) -> dict:
    now = int(time.time())
    return {"iss": idp.issuer, "aud": row.client_id, "sub": "lee-1", "iat": now, "exp": now + 300,
            "nonce": NONCE, "email": "lee@fabrikam.example", "email_verified": True}


async def answered(row, id_token: str, monkeypatch):
    async def token_response(provider, document, **_):
        return {"id_token": id_token, "access_token": "at"}

    monkeypatch.setattr(federation_oidc, "_token_response", token_response)
    return await federation_oidc.verified_identity(row, code="c", nonce=NONCE, code_verifier="v" * 50,
                                                   redirect_uri="https://foyer.example/cb")


async def test_a_good_token_passes(organization_id, oidc_provider, monkeypatch):  # noqa: F811
    row = oidc_provider.provider_row(organization_id)
    identity = await answered(row, oidc_provider.signed(good_claims(oidc_provider, row)), monkeypatch)
    assert (identity.issuer_assigned_id, identity.email_verified) == ("lee-1", True)
    # Several audiences: accepted when the token names this client as its authorized party.
    claims = {**good_claims(oidc_provider, row), "aud": [row.client_id, "other"], "azp": row.client_id}
    assert (await answered(row, oidc_provider.signed(claims), monkeypatch)).issuer_assigned_id == "lee-1"


@pytest.mark.parametrize("change, words", [
    ({"iss": "https://evil.example"}, "was issued by"),
    ({"aud": "another-client"}, "another application"),
    ({"aud": ["CLIENT", "other"]}, "several applications"),
    ({"exp": int(time.time()) - 3600}, "expired"),
    ({"iat": int(time.time()) + 3600}, "issue time"),
    ({"iat": int(time.time()) - 86400}, "issue time"),
    ({"sub": ""}, "no subject"),
    ({"exp": "tomorrow"}, "expired"),
])
async def test_bad_claims_are_refused(organization_id, oidc_provider, monkeypatch, change, words):  # noqa: F811
    row = oidc_provider.provider_row(organization_id)
    claims = {**good_claims(oidc_provider, row), **change}
    if claims["aud"] == ["CLIENT", "other"]:
        claims["aud"] = [row.client_id, "other"]
    with pytest.raises(FederationRefused) as refused:
        await answered(row, oidc_provider.signed(claims), monkeypatch)
    assert refused.value.code == "tokenRejected" and words in refused.value.message


async def test_bad_signatures_are_refused(organization_id, oidc_provider, monkeypatch):  # noqa: F811
    row = oidc_provider.provider_row(organization_id)
    claims = good_claims(oidc_provider, row)
    stranger = RSAKey.generate_key(2048, parameters={"kid": oidc_provider.kids()[0]})
    forged = jwt.encode({"alg": "RS256", "kid": oidc_provider.kids()[0]}, claims, stranger)
    secret = OctKey.import_key(federation_oidc.client_secret(row).encode())
    mac = jwt.encode({"alg": "HS256"}, claims, secret)
    genuine = oidc_provider.signed(claims).split(".")
    unsigned = f"eyJhbGciOiJub25lIn0.{genuine[1]}."
    for token, words in ((forged, "does not verify"), (mac, "'HS256'"), (unsigned, "'none'"),
                         ("not-a-jwt", "not a signed JWT"), (f"{genuine[0]}.{genuine[1]}.AAAA", "does not verify")):
        with pytest.raises(FederationRefused) as refused:
            await answered(row, token, monkeypatch)
        assert refused.value.code == "tokenRejected" and words in refused.value.message, (words, refused.value.message)


def test_google_tokens_may_name_either_form_of_its_issuer():
    from foyer.models.federation import IdentityProvider

    row = IdentityProvider(organization_id="o", kind="socialIdentityProvider", display_name="Google",
                           identity_provider_type="Google", client_id="c")
    document = {"issuer": "https://accounts.google.com"}
    now = int(time.time())
    for issuer in ("https://accounts.google.com", "accounts.google.com"):
        federation_oidc._check_claims(row, document, {"iss": issuer, "aud": "c", "sub": "1", "iat": now,
                                                      "exp": now + 60, "nonce": NONCE}, NONCE)
    with pytest.raises(FederationRefused):
        federation_oidc._check_claims(row, document, {"iss": "google.com", "aud": "c", "sub": "1", "iat": now,
                                                      "exp": now + 60, "nonce": NONCE}, NONCE)
