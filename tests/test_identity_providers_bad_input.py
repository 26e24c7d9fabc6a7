"""Bad identity provider bodies answer Graph-style 400s (409 for a clash), never a 500: "****" as
a secret, client_secret_basic, Facebook, http endpoints off this machine, an issuer the discovery
document does not name, a provider that does not answer, a domain another provider signs in."""

import pytest

from tests.oidc_idp import oidc_body, oidc_idp, oidc_provider  # noqa: F401

PATH = "/v1.0/identity/identityProviders"
SECRET = "#microsoft.graph.oidcClientSecretAuthentication"


def google(**extra) -> dict:
    return {"@odata.type": "#microsoft.graph.socialIdentityProvider", "displayName": "Google",
            "identityProviderType": "Google", "clientId": "c", "clientSecret": "s", **extra}


@pytest.mark.parametrize("change, words", [
    ({"clientAuthentication": {"@odata.type": SECRET, "clientSecret": "****"}}, "****"),
    ({"clientSecret": "s"}, "has no property clientSecret"),
    ({"clientAuthentication": {"@odata.type": SECRET, "clientSecret": "s",
                               "foyerTokenEndpointAuthMethod": "client_secret_basic"}}, "client_secret_basic is not supported"),
    ({"clientAuthentication": {"@odata.type": SECRET}}, "needs a clientSecret"),
    ({"clientAuthentication": {"@odata.type": "#microsoft.graph.nope"}}, "@odata.type must be"),
    ({"wellKnownEndpoint": "http://idp.fabrikam.example/.well-known/openid-configuration"}, "must use https"),
    ({"wellKnownEndpoint": "ftp://idp"}, "absolute https URL"),
    ({"responseType": "id_token"}, "responseType must be code"),
    ({"scope": "profile email"}, "includes openid"),
    ({"issuer": "https://someone-else.example"}, "not https://someone-else.example"),
    ({"domains": ["not a domain"]}, "is not a domain name"),
    ({"inboundClaimMapping": {"shoe_size": "x"}}, "inboundClaimMapping has no property"),
    ({"metadataUrl": "https://x"}, "has no property metadataUrl"),
    ({"issuer": None}, "may not be null"),
    ({"displayName": "Fabrikam\u0007ID"}, "control character U+0007"),
])
async def test_bad_oidc_bodies(api, admin, oidc_provider, change, words):  # noqa: F811
    client = oidc_provider.register_client()
    answer = await api.post(PATH, headers=admin, json={**oidc_body(oidc_provider, client), **change})
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["error"]["message"]


async def test_bad_social_bodies(api, admin):
    for body, words in ((google(identityProviderType="Facebook"), "Facebook is not supported"),
                        (google(identityProviderType="Amazon"), "must be Google"),
                        (google(clientSecret="****"), "****"),
                        ({**google(), "@odata.type": "microsoft.graph.openIdConnectIdentityProvider"}, "beta"),
                        ({"displayName": "x"}, "@odata.type must be"),
                        ([1, 2], "JSON object")):
        answer = await api.post(PATH, headers=admin, json=body)
        assert answer.status_code == 400, answer.text
        assert words in answer.json()["error"]["message"]


async def test_provider_that_does_not_answer(api, admin):
    with oidc_idp() as idp:
        client = idp.register_client()
    answer = await api.post(PATH, headers=admin, json=oidc_body(idp, client))
    assert answer.status_code == 400 and "could not be reached" in answer.json()["error"]["message"], answer.text


async def test_clashes_and_patch(api, admin, oidc_provider):  # noqa: F811
    client = oidc_provider.register_client()
    first = await api.post(PATH, headers=admin, json=oidc_body(oidc_provider, client, domains=["clash.example"]))
    assert first.status_code == 201, first.text
    again = await api.post(PATH, headers=admin, json=oidc_body(oidc_provider, client, domains=["other.example"]))
    assert again.status_code == 409 and "issuer" in again.json()["error"]["message"]
    provider_id = first.json()["id"]
    for body, status, words in (({"clientSecret": "s"}, 400, "has no property"),
                                ({}, 400, "nothing to update"),
                                ({"@odata.type": "#microsoft.graph.socialIdentityProvider"}, 400, "cannot be changed"),
                                ({"identityProviderType": "Google"}, 400, "has no property")):
        answer = await api.patch(f"{PATH}/{provider_id}", headers=admin, json=body)
        assert answer.status_code == status and words in answer.json()["error"]["message"], answer.text
    # A "****" read back inside clientAuthentication keeps the stored secret.
    kept = await api.patch(f"{PATH}/{provider_id}", headers=admin, json={"clientAuthentication": {
        "@odata.type": SECRET, "clientSecret": "****", "foyerTokenEndpointAuthMethod": "client_secret_post"}})
    assert kept.status_code == 204, kept.text
    assert (await api.get(f"{PATH}/nope", headers=admin)).status_code == 404
    assert (await api.delete(f"{PATH}/{provider_id}", headers=admin)).status_code == 204
