"""Conditional Access at the resource organization, for a partner's guest signed in at home:

- a report-only policy asking every guest for MFA is evaluated and logged
  (reportOnlyInterrupted: it would have prompted; unknownFutureValue to a client that does not
  send `Prefer: include-unknown-enum-members`), never enforced: the app gets its token;
- a policy that blocks one application refuses that app only (the log names the policy, error
  53003); another app and Foyer's own pages are not affected;
- the what-if endpoint answers for the same user, tenant and apps as the sign-ins went."""

import httpx

from tests.openid_support import relying_party
from tests.partner_foyer import redeem_at_home, register_at_resource, step
from tests.support import invite

POLICIES = "/v1.0/identity/conditionalAccess/policies"
ALL_GUESTS = {"guestOrExternalUserTypes": "b2bCollaborationGuest",
              "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants",
                                  "membershipKind": "all"}}


async def _latest_sign_in(api, admin, user_id: str, app_id: str, evolvable: bool = True) -> dict:
    prefer = {"Prefer": "include-unknown-enum-members"} if evolvable else {}
    logged = (await api.get("/v1.0/auditLogs/signIns", headers={**admin, **prefer},
                            params={"$filter": f"userId eq '{user_id}' and appId eq '{app_id}'"})).json()["value"]
    return max(logged, key=lambda row: row["createdDateTime"])


async def test_report_only_is_logged_and_a_per_app_policy_spares_other_apps(api, admin, server, organization_id,
                                                                          mail, home_foyer):
    home = home_foyer
    await register_at_resource(api, admin, home, server, organization_id)
    alice = await home.make_member("Alice Home")
    report_only = await api.post(POLICIES, headers=admin, json={
        "displayName": "Guests: MFA (report-only)", "state": "enabledForReportingButNotEnforced",
        "conditions": {"users": {"includeGuestsOrExternalUsers": ALL_GUESTS},
                       "applications": {"includeApplications": ["All"]}, "clientAppTypes": ["all"]},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}})
    assert report_only.status_code == 201, report_only.text
    async with relying_party(organization_id) as (rp, app), relying_party(organization_id) as (other_rp, other):
        invitation = await invite(api, admin, alice["mail"], inviteRedirectUrl=f"{rp.url}/login",
                                  foyerPreAssignedApplicationIds=[app.id, other.id])
        async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
            redeemed = await redeem_at_home(browser, invitation["inviteRedeemUrl"], mail, alice["mail"])
            assert redeemed.status_code == 303, redeemed.text[:500]
            user_id = invitation["invitedUser"]["id"]

            authorize = await step(browser, await browser.get(f"{rp.url}/login"))
            assert authorize.status_code == 303 and authorize.headers["location"].startswith(rp.redirect_uri)
            logged = await _latest_sign_in(api, admin, user_id, app.app_id)
            assert logged["status"]["errorCode"] == 0 and logged["conditionalAccessStatus"] == "notApplied"
            assert [(p["displayName"], p["result"]) for p in logged["appliedConditionalAccessPolicies"]] == [
                ("Guests: MFA (report-only)", "reportOnlyInterrupted")]
            # Without the Prefer header, as Graph does, the evolvable member reads unknownFutureValue.
            plain = await _latest_sign_in(api, admin, user_id, app.app_id, evolvable=False)
            assert [p["result"] for p in plain["appliedConditionalAccessPolicies"]] == ["unknownFutureValue"]

            block = await api.post(POLICIES, headers=admin, json={
                "displayName": "Block the first app", "state": "enabled",
                "conditions": {"users": {"includeUsers": ["All"]},
                               "applications": {"includeApplications": [app.app_id]}, "clientAppTypes": ["all"]},
                "grantControls": {"operator": "OR", "builtInControls": ["block"]}})
            assert block.status_code == 201, block.text
            refused = await step(browser, await browser.get(f"{rp.url}/login"))
            assert refused.status_code == 403 and "Block the first app" in refused.text
            logged = await _latest_sign_in(api, admin, user_id, app.app_id)
            assert logged["status"]["errorCode"] == 53003 and logged["conditionalAccessStatus"] == "failure"
            assert "Block the first app" in logged["status"]["failureReason"]
            results = {p["displayName"]: p["result"] for p in logged["appliedConditionalAccessPolicies"]}
            assert results["Block the first app"] == "failure"

            opened = await step(browser, await browser.get(f"{other_rp.url}/login"))
            assert opened.status_code == 303 and opened.headers["location"].startswith(other_rp.redirect_uri)
            logged = await _latest_sign_in(api, admin, user_id, other.app_id)
            results = {p["displayName"]: p["result"] for p in logged["appliedConditionalAccessPolicies"]}
            assert logged["status"]["errorCode"] == 0 and results["Block the first app"] == "notApplied"
            assert (await browser.get(f"{server}/myapps")).status_code == 200

            # The what-if answers for these sign-ins as they went.
            for app_id, blocked in ((app.app_id, True), (other.app_id, False)):
                what_if = await api.post("/v1.0/identity/conditionalAccess/evaluate", headers=admin, json={
                    "signInIdentity": {"@odata.type": "#microsoft.graph.userSignIn", "userId": user_id,
                                       "externalTenantId": home.organization_id},
                    "signInContext": {"@odata.type": "#microsoft.graph.applicationContext",
                                      "includeApplications": [app_id]}})
                assert what_if.status_code == 200, what_if.text
                applies = {p["displayName"]: p["policyApplies"] for p in what_if.json()["value"]}
                assert applies == {"Block the first app": blocked, "Guests: MFA (report-only)": True}
