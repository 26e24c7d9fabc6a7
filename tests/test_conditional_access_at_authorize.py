"""Conditional Access at the OpenID Provider's authorize step, for a member of the organization:
a policy requiring MFA for one app sends a passcode session to /mfa, with the authorize request
to come back to; a silent request (prompt=none) cannot prompt and gets interaction_required; a
sign-in frequency of one hour sends a two-hour-old session to sign in again; a disabled policy
changes nothing and is logged notEnabled."""

from datetime import datetime, timedelta, timezone

from foyer.models.enums import Role
from tests.factories import make_user
from tests.openid_support import assign, authorize, browser, query_of, register_app, signed_in

REDIRECT = "https://app.contoso.test/callback"
POLICIES = "/v1.0/identity/conditionalAccess/policies"


def policy(name: str, app_id: str, state: str = "enabled", **blocks) -> dict:
    return {"displayName": name, "state": state,
            "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": [app_id]},
                           "clientAppTypes": ["all"]}, **blocks}


async def test_mfa_prompt_none_and_sign_in_frequency(api, make_token, server, organization_id):
    admin = await make_token(Role.global_administrator, name="CA admin")
    member = await make_user(organization_id, "Cai Member")
    app, _ = await register_app(organization_id, web=[REDIRECT])
    await assign(app, member)
    disabled = await api.post(POLICIES, headers=admin, json=policy(
        "Off", app.app_id, state="disabled", grantControls={"operator": "OR", "builtInControls": ["block"]}))
    assert disabled.status_code == 201, disabled.text
    async with browser(base_url=server) as client:
        signed_in(client, member)
        plain = await authorize(client, organization_id, app, REDIRECT)
        assert "code=" in plain.headers["location"]

        created = await api.post(POLICIES, headers=admin, json=policy(
            "App needs MFA", app.app_id, grantControls={"operator": "OR", "builtInControls": ["mfa"]}))
        assert created.status_code == 201, created.text
        asked = await authorize(client, organization_id, app, REDIRECT)
        assert asked.status_code == 303 and asked.headers["location"].startswith("/mfa?")
        assert query_of(asked.headers["location"])["next"].startswith(f"/{organization_id}/oauth2/v2.0/authorize?")
        silent = await authorize(client, organization_id, app, REDIRECT, prompt="none")
        assert query_of(silent.headers["location"])["error"] == "interaction_required"

        frequency = await api.patch(f"{POLICIES}/{created.json()['id']}", headers=admin, json={
            "grantControls": None,
            "sessionControls": {"signInFrequency": {"isEnabled": True, "type": "hours", "value": 1,
                                                    "frequencyInterval": "timeBased"}}})
        assert frequency.status_code == 204, frequency.text
        signed_in(client, member, at=datetime.now(timezone.utc) - timedelta(hours=2))
        again = await authorize(client, organization_id, app, REDIRECT)
        assert again.status_code == 303 and again.headers["location"].startswith("/signin?")
        assert query_of(again.headers["location"])["prompt"] == "login"
        signed_in(client, member)
        fresh = await authorize(client, organization_id, app, REDIRECT)
        assert "code=" in fresh.headers["location"]

    logged = (await api.get("/v1.0/auditLogs/signIns", headers=admin, params={
        "$filter": f"userId eq '{member.id}'", "$orderby": "createdDateTime"})).json()["value"]
    first = logged[0]
    assert first["status"]["errorCode"] == 0 and first["conditionalAccessStatus"] == "notApplied"
    assert [p["result"] for p in first["appliedConditionalAccessPolicies"]] == ["notEnabled"]
    assert [s["status"]["errorCode"] for s in logged] == [0, 50074, 50074, 0]
