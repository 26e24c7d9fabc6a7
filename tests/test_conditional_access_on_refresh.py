"""Conditional Access on refresh grants (non-interactive sign-ins), as the policies are now: a
block made after the sign-in refuses the next refresh (invalid_grant, AADSTS53003, logged with the
policy) without spending the token, which works again once the policy is off; an MFA requirement
the original sign-in did not meet answers interaction_required (AADSTS50074) — the app must send
the person through an interactive sign-in."""

from foyer.models.enums import Role
from tests.factories import make_user
from tests.openid_support import assign, browser, relying_party, signed_in, token_request

POLICIES = "/v1.0/identity/conditionalAccess/policies"


def policy(name: str, app_id: str, control: str) -> dict:
    return {"displayName": name, "state": "enabled",
            "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": [app_id]},
                           "clientAppTypes": ["all"]},
            "grantControls": {"operator": "OR", "builtInControls": [control]}}


async def test_refresh_grants_meet_the_policies_of_now(api, make_token, server, organization_id):
    admin = await make_token(Role.global_administrator, name="CA admin")
    member = await make_user(organization_id, "Rey Refresh")
    async with relying_party(organization_id) as (rp, app):
        await assign(app, member)
        async with browser(follow_redirects=True) as client:
            signed_in(client, member)
            assert (await client.get(f"{rp.url}/login")).status_code == 200
            token = rp.last_token["refresh_token"]
            credentials = (app.app_id, rp.client.client_secret)

            block = await api.post(POLICIES, headers=admin, json=policy("Block the portal", app.app_id, "block"))
            assert block.status_code == 201, block.text
            refused = await token_request(organization_id, {"grant_type": "refresh_token", "refresh_token": token},
                                          auth=credentials)
            assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
            assert "AADSTS53003" in refused.json()["error_description"]
            assert "Block the portal" in refused.json()["error_description"]

            assert (await api.delete(f"{POLICIES}/{block.json()['id']}", headers=admin)).status_code == 204
            # Not spent by the refusal: the same token refreshes now.
            allowed = await token_request(organization_id, {"grant_type": "refresh_token", "refresh_token": token},
                                          auth=credentials)
            assert allowed.status_code == 200, allowed.text
            token = allowed.json()["refresh_token"]

            mfa = await api.post(POLICIES, headers=admin, json=policy("Portal needs MFA", app.app_id, "mfa"))
            assert mfa.status_code == 201, mfa.text
            asked = await token_request(organization_id, {"grant_type": "refresh_token", "refresh_token": token},
                                        auth=credentials)
            assert asked.status_code == 400 and asked.json()["error"] == "interaction_required"
            assert "AADSTS50074" in asked.json()["error_description"]

    logged = (await api.get("/v1.0/auditLogs/signIns", headers=admin, params={
        "$filter": f"userId eq '{member.id}'", "$orderby": "createdDateTime"})).json()["value"]
    refreshes = [s for s in logged if not s["isInteractive"]]
    assert [(s["status"]["errorCode"], s["conditionalAccessStatus"]) for s in refreshes] == [
        (53003, "failure"), (0, "notApplied"), (50074, "failure")]
