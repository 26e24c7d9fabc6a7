"""`/v1.0/directory/federationConfigurations` refuses bad input with Graph errors (4xx, never 500):
missing required properties, wsFed ("not supported"), plain-http or relative URLs, a certificate
that is not base64 DER X.509 or has expired, a sign-in URL outside the federated domains unless
confirmed (`foyerPassiveSignInUriOutsideDomainsConfirmed`), a domain or issuerUri another
federation has (409), the organization's own domain, metadata on an address Foyer may not call."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.saml_idp import SigningKey

ROOT = "/v1.0/directory/federationConfigurations"
CREATE = f"{ROOT}/microsoft.graph.samlOrWsFedExternalDomainFederation"
CERTIFICATE = SigningKey().certificate


def domain() -> str:
    return f"partner-{uuid.uuid4().hex[:8]}.example.com"


def body(name: str | None = None, **extra) -> dict:
    name = name or domain()
    return {"displayName": "Partner", "issuerUri": f"https://sts.{name}/trust",
            "passiveSignInUri": f"https://sts.{name}/adfs/ls/", "preferredAuthenticationProtocol": "saml",
            "signingCertificate": CERTIFICATE, "domains": [{"id": name}], **extra}


def error(answer, status: int) -> str:
    assert answer.status_code == status, answer.text
    return answer.json()["error"]["message"]


@pytest.mark.parametrize("missing", ["displayName", "issuerUri", "passiveSignInUri",
                                     "preferredAuthenticationProtocol", "signingCertificate"])
async def test_required(api, admin, missing):
    sent = body()
    del sent[missing]
    assert missing in error(await api.post(CREATE, json=sent, headers=admin), 400)


async def test_ws_federation_is_not_supported(api, admin):
    message = error(await api.post(CREATE, json=body(preferredAuthenticationProtocol="wsFed"), headers=admin), 400)
    assert "wsFed is not supported" in message


@pytest.mark.parametrize("changes, words", [
    ({"passiveSignInUri": "http://sts.partner.example.com/ls"}, "https"),
    ({"passiveSignInUri": "/adfs/ls"}, "absolute"),
    ({"passiveSignInUri": "javascript:alert(1)"}, "absolute"),
    ({"metadataExchangeUri": "ftp://partner.example.com/metadata.xml"}, "absolute"),
    ({"signingCertificate": "not base64!"}, "base64"),
    ({"signingCertificate": "aGVsbG8gd29ybGQ="}, "X.509"),
    ({"signingCertificate": SigningKey(not_after=datetime.now(timezone.utc) - timedelta(days=1)).certificate},
     "expired"),
    ({"preferredAuthenticationProtocol": "oidc"}, "saml"),
    ({"domains": [{"id": "not a domain"}]}, "not a domain"),
    ({"displayName": ""}, "displayName"),
    ({"unknownThing": 1}, "unknownThing"),
])
async def test_bad_values(api, admin, changes, words):
    assert words in error(await api.post(CREATE, json=body(**changes), headers=admin), 400)


async def test_not_a_json_object(api, admin):
    error(await api.post(CREATE, json=["x"], headers=admin), 400)
    error(await api.post(CREATE, content=b"{", headers={**admin, "content-type": "application/json"}), 400)


async def test_sign_in_url_outside_the_domains_needs_confirmation(api, admin):
    sent = body(passiveSignInUri="https://idp.elsewhere.example.net/saml")
    assert "foyerPassiveSignInUriOutsideDomainsConfirmed" in error(await api.post(CREATE, json=sent, headers=admin),
                                                                   400)
    confirmed = await api.post(CREATE, json={**sent, "foyerPassiveSignInUriOutsideDomainsConfirmed": True},
                               headers=admin)
    assert confirmed.status_code == 201, confirmed.text
    # A host inside the domain needs none; nor does the domain itself.
    name = domain()
    assert (await api.post(CREATE, json=body(name, passiveSignInUri=f"https://{name}/saml"),
                           headers=admin)).status_code == 201
    # Moving it outside later needs the confirmation again.
    federation_id = confirmed.json()["id"]
    error(await api.patch(f"{ROOT}/{federation_id}", json={"passiveSignInUri": "https://other.example.org/x"},
                          headers=admin), 400)


async def test_domain_and_issuer_belong_to_one_federation(api, admin):
    name = domain()
    first = await api.post(CREATE, json=body(name), headers=admin)
    assert first.status_code == 201
    assert name in error(await api.post(CREATE, json=body(name, issuerUri="https://other/trust",
                                                          passiveSignInUri=f"https://sts.{name}/x"),
                                        headers=admin), 409)
    other = body()
    assert "issuerUri" in error(await api.post(CREATE, json={**other, "issuerUri": first.json()["issuerUri"]},
                                               headers=admin), 409)
    second = await api.post(CREATE, json=other, headers=admin)
    domains = f"{ROOT}/{second.json()['id']}/microsoft.graph.samlOrWsFedExternalDomainFederation/domains"
    error(await api.post(domains, json={"id": name}, headers=admin), 409)
    error(await api.post(domains, json={"id": other["domains"][0]["id"]}, headers=admin), 409)  # already its own
    error(await api.post(domains, json={"id": "bad domain"}, headers=admin), 400)
    error(await api.delete(f"{domains}/not-there.example.com", headers=admin), 404)


async def test_own_domain_cannot_be_federated(api, admin):
    assert "domain of this organization" in error(await api.post(
        CREATE, json=body("contoso.test", passiveSignInUri="https://sts.contoso.test/ls"), headers=admin), 400)


async def test_metadata_on_an_internal_address_is_refused(api, admin):
    sent = body(metadataExchangeUri="https://10.0.0.1/metadata.xml")
    assert "metadataExchangeUri" in error(await api.post(CREATE, json=sent, headers=admin), 400)


async def test_patch_and_delete_refusals(api, admin):
    created = (await api.post(CREATE, json=body(), headers=admin)).json()
    path = f"{ROOT}/{created['id']}"
    assert "nothing to update" in error(await api.patch(path, json={}, headers=admin), 400)
    error(await api.patch(path, json={"displayName": None}, headers=admin), 400)
    error(await api.patch(path, json={"preferredAuthenticationProtocol": "wsFed"}, headers=admin), 400)
    error(await api.patch(path, json={"domains": []}, headers=admin), 400)
    error(await api.get(f"{ROOT}/does-not-exist", headers=admin), 404)
    error(await api.patch(f"{ROOT}/does-not-exist", json={"displayName": "x"}, headers=admin), 404)
    error(await api.delete(f"{ROOT}/does-not-exist", headers=admin), 404)
    error(await api.get(f"{ROOT}?$expand=owners", headers=admin), 400)


async def test_odd_types(api, admin):
    error(await api.post(CREATE, json=body(**{"@odata.type": 5}), headers=admin), 400)
    error(await api.post(CREATE, json=body(**{"@odata.type": "#microsoft.graph.socialIdentityProvider"}),
                         headers=admin), 400)
    error(await api.post(CREATE, json=body(foyerPassiveSignInUriOutsideDomainsConfirmed="yes",
                                           passiveSignInUri="https://elsewhere.example.net/x"), headers=admin), 400)
    error(await api.post(CREATE, json=body(domains="contoso.com"), headers=admin), 400)
    error(await api.post(CREATE, json=body(domains=[5]), headers=admin), 400)
    created = (await api.post(CREATE, json=body(), headers=admin)).json()
    domains = f"{ROOT}/{created['id']}/microsoft.graph.samlOrWsFedExternalDomainFederation/domains"
    error(await api.post(domains, json={"@odata.type": 5, "id": "x.example.com"}, headers=admin), 400)
    error(await api.post(domains, json=["x.example.com"], headers=admin), 400)
    error(await api.post(domains, json={"id": "x.example.com", "extra": 1}, headers=admin), 400)
