"""A user flow offers the organization's own identity providers (identity/identityProviders) beside
the email one-time passcode: added by $ref, listed and expanded in Graph's shapes, and a provider a
flow offers cannot be deleted until the flow stops offering it."""

import uuid

from tests.oidc_idp import oidc_body, oidc_provider  # noqa: F401

FLOWS = "/v1.0/identity/b2xUserFlows"
PROVIDERS = "/v1.0/identity/identityProviders"


async def test_flow_offers_an_oidc_provider(api, admin, oidc_provider):  # noqa: F811
    provider = await api.post(PROVIDERS, headers=admin, json=oidc_body(oidc_provider, oidc_provider.register_client()))
    assert provider.status_code == 201, provider.text
    provider_id = provider.json()["id"]
    flow = await api.post(FLOWS, headers=admin, json={
        "id": f"partners_{uuid.uuid4().hex[:6]}", "userFlowType": "signUpOrSignIn", "userFlowTypeVersion": 3,
        "identityProviders": [{"id": "EmailOtpSignup-OAUTH"}]})
    flow_id = flow.json()["id"]

    added = await api.post(f"{FLOWS}/{flow_id}/identityProviders/$ref", headers=admin,
                           json={"@odata.id": f"https://graph.microsoft.com/v1.0/identity/identityProviders/{provider_id}"})
    assert added.status_code == 204, added.text
    listed = (await api.get(f"{FLOWS}/{flow_id}/identityProviders", headers=admin)).json()["value"]
    assert listed[1] == {"@odata.type": "#microsoft.graph.oidcIdentityProvider", "id": provider_id,
                         "displayName": "Fabrikam ID", "identityProviderType": "OpenIDConnect"}
    expanded = (await api.get(f"{FLOWS}/{flow_id}", headers=admin, params={"$expand": "identityProviders"})).json()
    assert [p["id"] for p in expanded["identityProviders"]] == ["EmailOtpSignup-OAUTH", provider_id]

    in_use = await api.delete(f"{PROVIDERS}/{provider_id}", headers=admin)
    assert in_use.status_code == 409 and flow_id in in_use.json()["error"]["message"]
    removed = await api.delete(f"{FLOWS}/{flow_id}/identityProviders/{provider_id}/$ref", headers=admin)
    assert removed.status_code == 204
    assert (await api.delete(f"{PROVIDERS}/{provider_id}", headers=admin)).status_code == 204


async def test_flow_created_with_a_provider(api, admin, oidc_provider):  # noqa: F811
    provider_id = (await api.post(PROVIDERS, headers=admin, json=oidc_body(
        oidc_provider, oidc_provider.register_client()))).json()["id"]
    flow = await api.post(FLOWS, headers=admin, json={
        "id": f"partners_{uuid.uuid4().hex[:6]}", "userFlowType": "signUpOrSignIn",
        "identityProviders": [{"id": "EmailOtpSignup-OAUTH"}, {"id": provider_id}]})
    assert flow.status_code == 201, flow.text
    unknown = await api.post(FLOWS, headers=admin, json={
        "id": f"partners_{uuid.uuid4().hex[:6]}", "userFlowType": "signUpOrSignIn",
        "identityProviders": [{"id": "no-such-provider"}]})
    assert unknown.status_code == 400 and "unknown identity provider" in unknown.json()["error"]["message"]
