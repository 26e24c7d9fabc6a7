"""A federation created through the API with a partner IdP's metadata URL (tests/saml_idp.py on
127.0.0.1) is refreshed by its SamlMetadataWorkflow at once: the metadata is fetched, a second
certificate the partner already publishes is trusted (foyerSigningCertificates), and the refresh
time shows; a PATCH wakes the workflow, which refreshes again."""

import uuid

from tests.saml_support import idp_for
from tests.support import until

ROOT = "/v1.0/directory/federationConfigurations"


async def test_created_federation_is_refreshed(api, admin, organization_id):
    async with idp_for(organization_id) as idp:
        upcoming = idp.rotate()
        created = await api.post(f"{ROOT}/microsoft.graph.samlOrWsFedExternalDomainFederation",
                                 json=idp.federation_body([f"fab-{uuid.uuid4().hex[:8]}.test"]), headers=admin)
        assert created.status_code == 201, created.text
        path = f"{ROOT}/{created.json()['id']}"

        async def fetch() -> dict:
            return (await api.get(path, headers=admin)).json()

        row = await until(fetch, lambda r: r["foyerMetadataRefreshedDateTime"] is not None, seconds=20)
        assert row["foyerSigningCertificates"] == [idp.certificate, upcoming.certificate]
        assert row["signingCertificate"] == idp.certificate and row["foyerMetadataRefreshError"] is None

        requests = idp.metadata_requests
        assert (await api.patch(path, json={"displayName": "Fabrikam (renamed)"}, headers=admin)).status_code == 204
        await until(lambda: _count(idp), lambda count: count > requests, seconds=20)


async def _count(idp) -> int:
    return idp.metadata_requests
