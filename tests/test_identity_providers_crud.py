"""identity/identityProviders: an administrator adds Google and a partner's OpenID provider,
reads them back (secrets as "****"), changes and deletes them; availableProviderTypes() answers
what Foyer supports."""

from sqlmodel import select

from foyer.db import reading
from foyer.models.audit import AuditRecord
from foyer.settings import get_settings
from tests.oidc_idp import oidc_body, oidc_provider  # noqa: F401

PATH = "/v1.0/identity/identityProviders"


async def test_crud(api, admin, oidc_provider, monkeypatch):  # noqa: F811
    monkeypatch.setattr(get_settings(), "google_well_known_endpoint", oidc_provider.well_known)
    types = await api.get(f"{PATH}/availableProviderTypes()", headers=admin)
    assert types.status_code == 200 and types.json()["value"] == ["Google", "OpenIDConnect"]

    google = await api.post(PATH, headers=admin, json={
        "@odata.type": "microsoft.graph.socialIdentityProvider", "displayName": "Google",
        "identityProviderType": "Google", "clientId": "google-client", "clientSecret": "google-secret"})
    assert google.status_code == 201, google.text
    assert google.json()["clientSecret"] == "****"
    assert google.json()["domains"] == ["gmail.com", "googlemail.com"]

    client = oidc_provider.register_client("client_secret_jwt")
    created = await api.post(PATH, headers=admin, json=oidc_body(oidc_provider, client, clientAuthentication={
        "@odata.type": "#microsoft.graph.oidcClientSecretAuthentication", "clientSecret": client["client_secret"],
        "foyerTokenEndpointAuthMethod": "client_secret_jwt"}, inboundClaimMapping={"email": "mail"},
        domains=["crud.fabrikam.example"]))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["@odata.type"] == "#microsoft.graph.oidcIdentityProvider"
    assert body["clientAuthentication"] == {"@odata.type": "#microsoft.graph.oidcClientSecretAuthentication",
                                            "clientSecret": "****", "foyerTokenEndpointAuthMethod": "client_secret_jwt"}
    assert body["issuer"] == oidc_provider.issuer and body["responseType"] == "code"
    assert body["inboundClaimMapping"] == {"email": "mail"} and body["domains"] == ["crud.fabrikam.example"]
    assert body["foyerRedirectUri"].endswith("/federation/oidc/callback")
    assert client["client_secret"] not in created.text

    listed = await api.get(PATH, headers=admin)
    assert {p["id"] for p in listed.json()["value"]} >= {google.json()["id"], body["id"]}
    assert client["client_secret"] not in listed.text and "google-secret" not in listed.text

    # PATCH: to private_key_jwt, another name; the secret is gone, Foyer's JWKS is named.
    changed = await api.patch(f"{PATH}/{body['id']}", headers=admin, json={
        "displayName": "Fabrikam", "clientAuthentication": {
            "@odata.type": "#microsoft.graph.oidcPrivateJwtKeyClientAuthentication"}})
    assert changed.status_code == 204, changed.text
    read = (await api.get(f"{PATH}/{body['id']}", headers=admin)).json()
    assert read["displayName"] == "Fabrikam"
    assert read["clientAuthentication"]["@odata.type"] == "#microsoft.graph.oidcPrivateJwtKeyClientAuthentication"
    assert read["clientAuthentication"]["foyerJwksUri"].endswith("/discovery/v2.0/keys")

    for provider_id in (body["id"], google.json()["id"]):
        assert (await api.delete(f"{PATH}/{provider_id}", headers=admin)).status_code == 204
        assert (await api.get(f"{PATH}/{provider_id}", headers=admin)).status_code == 404
    async with reading() as session:
        records = [r.model_dump() for r in (await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == body["id"]))).all()]
    assert {r["activity_display_name"] for r in records} == {
        "Add identity provider", "Update identity provider", "Delete identity provider"}
    assert client["client_secret"] not in str(records)


async def test_only_administrators(api, make_token):
    member = await make_token("member")
    assert (await api.get(PATH, headers=member)).status_code == 403
    assert (await api.post(PATH, headers=member, json={})).status_code == 403
