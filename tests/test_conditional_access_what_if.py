"""POST identity/conditionalAccess/evaluate (Graph's what-if): for a user signing in to an
application, which policies would apply (policyApplies) and why the others would not
(analysisReasons), assuming no second factor done yet: a partner's guest, an app-only policy, an
excluded group, report-only and disabled policies; refusals name the parameter."""

import uuid

from foyer.models.enums import Role
from foyer.models.directory import GroupMember
from foyer.db import session_scope
from tests import factories
from tests.conditional_access_support import EVALUATE, POLICIES, no_policies  # noqa: F401

PARTNER = str(uuid.uuid4())


def policy(name, users, apps=("All",), grant=("mfa",), state="enabled", **extra):
    return {"displayName": name, "state": state,
            "conditions": {"users": users, "applications": {"includeApplications": list(apps)}, **extra},
            "grantControls": {"operator": "OR", "builtInControls": list(grant)}}


def ask(user_id, *, tenant=None, app=None, applied_only=None, client=None):
    body = {"signInIdentity": {"@odata.type": "#microsoft.graph.userSignIn", "userId": user_id}}
    if tenant:
        body["signInIdentity"]["externalTenantId"] = tenant
    if app:
        body["signInContext"] = {"@odata.type": "#microsoft.graph.applicationContext", "includeApplications": [app]}
    if applied_only is not None:
        body["appliedPoliciesOnly"] = applied_only
    if client:
        body["signInConditions"] = {"clientAppType": client}
    return body


async def test_what_if(api, admin, organization_id):
    guest = await factories.make_user(organization_id, "Gus Guest", guest=True)
    member = await factories.make_user(organization_id, "Mia Member")
    group, app = await factories.make_group_and_app(organization_id, "Contractors")
    async with session_scope() as session:
        session.add(GroupMember(group_id=group.id, user_id=guest.id))
    policies = [
        policy("MFA for the partner's guests", {"includeGuestsOrExternalUsers": {
            "guestOrExternalUserTypes": "b2bCollaborationGuest",
            "externalTenants": {"membershipKind": "enumerated", "members": [PARTNER]}}}),
        policy("Block the portal", {"includeUsers": ["All"], "excludeGroups": [group.id]}, apps=[app.app_id],
               grant=["block"]),
        policy("Report: MFA everywhere", {"includeUsers": ["All"]}, state="enabledForReportingButNotEnforced"),
        policy("Off", {"includeUsers": ["All"]}, state="disabled"),
        policy("Desktop apps only", {"includeUsers": ["All"]}, clientAppTypes=["mobileAppsAndDesktopClients"]),
    ]
    for body in policies:
        created = await api.post(POLICIES, headers=admin, json=body)
        assert created.status_code == 201, created.text

    async def reasons(body, path=EVALUATE):
        response = await api.post(path, headers=admin, json=body)
        assert response.status_code == 200, response.text
        value = response.json()["value"]
        assert all(r["@odata.type"] == "#microsoft.graph.whatIfAnalysisResult" and "conditions" in r for r in value)
        return {r["displayName"]: (r["policyApplies"], r["analysisReasons"]) for r in value}

    # The partner's guest, in the excluded group, to the portal.
    assert await reasons(ask(guest.id, tenant=PARTNER, app=app.app_id)) == {
        "MFA for the partner's guests": (True, "notSet"),
        "Block the portal": (False, "users"),
        "Report: MFA everywhere": (True, "notSet"),
        "Off": (False, "policyNotEnabled"),
        "Desktop apps only": (False, "clientApps")}
    # The same guest from no partner (an email passcode guest), to Foyer's own pages.
    found = await reasons(ask(guest.id), path="/v1.0/identity/conditionalAccess/microsoft.graph.evaluate")
    assert found["MFA for the partner's guests"] == (False, "users")
    assert found["Block the portal"] == (False, "users,application")
    # A member to the portal: blocked; to Foyer's own pages: the app-only policy does not apply.
    found = await reasons(ask(member.id, app=app.app_id))
    assert found["Block the portal"] == (True, "notSet")
    assert found["MFA for the partner's guests"] == (False, "users")
    assert (await reasons(ask(member.id)))["Block the portal"] == (False, "application")
    # From a desktop client.
    assert (await reasons(ask(member.id, client="mobileAppsAndDesktopClients")))["Desktop apps only"] == (True, "notSet")
    # Only the policies that apply.
    assert set(await reasons(ask(member.id, app=app.app_id, applied_only=True))) == {
        "Block the portal", "Report: MFA everywhere"}
    # The expanded policy body comes along.
    response = await api.post(EVALUATE, headers=admin, json=ask(member.id, app=app.app_id, applied_only=True))
    blocked = next(r for r in response.json()["value"] if r["displayName"] == "Block the portal")
    assert blocked["grantControls"]["builtInControls"] == ["block"] and blocked["state"] == "enabled"


async def test_refusals_name_the_parameter(api, admin, make_token, organization_id):
    member = await factories.make_user(organization_id, "Mia Member")
    for body, message in (
            ({}, "signInIdentity is required"),
            ({"signInIdentity": "me"}, "signInIdentity must be an object"),
            ({"signInIdentity": {}}, "signInIdentity.userId must be a user's id"),
            (ask("no-such-user"), "signInIdentity.userId: no user no-such-user"),
            (ask(member.id, tenant="contoso"), "signInIdentity.externalTenantId must be a tenant id"),
            ({"signInIdentity": {"@odata.type": "#microsoft.graph.servicePrincipalSignIn", "userId": member.id}},
             "signInIdentity.@odata.type must be #microsoft.graph.userSignIn"),
            ({"signInIdentity": {"userId": member.id, "externalUserType": "alien"}},
             "signInIdentity.externalUserType must be one of"),
            (ask(member.id, app="no-such-app"), "signInContext.includeApplications: no application with appId"),
            ({**ask(member.id), "signInContext": {"includeApplications": ["a", "b"]}},
             "signInContext.includeApplications must be a list of one application's appId"),
            (ask(member.id, client="fax"), "signInConditions.clientAppType must be one of"),
            (ask(member.id, applied_only="yes"), "appliedPoliciesOnly must be true or false"),
            ({**ask(member.id), "weather": 1}, "evaluate has no parameter weather")):
        response = await api.post(EVALUATE, headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
        assert message in response.json()["error"]["message"], (body, response.text)
    response = await api.post(EVALUATE, headers={**admin, "Content-Type": "application/json"}, content=b"{")
    assert response.status_code == 400
    response = await api.post(EVALUATE, headers=await make_token(Role.member), json=ask(member.id))
    assert response.status_code == 403
    empty = await api.post(EVALUATE, headers=admin, json=ask(member.id))
    assert empty.status_code == 200 and empty.json()["value"] == []
