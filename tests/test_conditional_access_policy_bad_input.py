"""A Conditional Access policy that cannot be stored is refused with a 400 naming the field at
fault, never a 500: missing or wrong-typed blocks, unknown controls and strengths, conditions and
controls Foyer does not evaluate, ids that are not in the organization, malformed JSON; and a PATCH
is checked on the merged policy."""

import pytest

from tests.conditional_access_support import POLICIES, body, no_policies  # noqa: F401

USERS = {"includeUsers": ["All"]}
APPS = {"includeApplications": ["All"]}


def conditions(**overrides):
    return {"users": USERS, "applications": APPS, **overrides}


def guests(**selector):
    return conditions(users={"includeGuestsOrExternalUsers": selector})


LONG = "x" * 257
CASES = [
    ({"displayName": None}, "displayName is required"),
    ({"displayName": ""}, "displayName must be a non-empty string"),
    ({"displayName": 7}, "displayName must be a non-empty string"),
    ({"displayName": LONG}, "displayName may be at most 256 characters"),
    ({"displayName": "a\u0007b"}, "displayName may not hold control characters"),
    ({"description": ["x"]}, "description must be a non-empty string"),
    ({"state": None}, "state must be one of enabled, disabled, enabledForReportingButNotEnforced"),
    ({"state": "on"}, "state must be one of enabled, disabled, enabledForReportingButNotEnforced"),
    ({"conditions": None}, "conditions is required"),
    ({"conditions": []}, "conditions must be an object"),
    ({"conditions": {"applications": APPS}}, "conditions.users is required"),
    ({"conditions": {"users": USERS}}, "conditions.applications is required"),
    ({"conditions": conditions(users={})}, "conditions.users.includeUsers must name All, None"),
    ({"conditions": conditions(users={"includeUsers": "All"})}, "conditions.users.includeUsers must be a list"),
    ({"conditions": conditions(users={"includeUsers": [1]})}, "conditions.users.includeUsers must be a list of ids"),
    ({"conditions": conditions(users={"includeUsers": ["All", "u1"]})},
     "conditions.users.includeUsers: All cannot be combined"),
    ({"conditions": conditions(users={"includeUsers": ["x"] * 501})},
     "conditions.users.includeUsers may hold at most 500"),
    ({"conditions": conditions(users={"includeUsers": [LONG]})}, "conditions.users.includeUsers must be a list of ids"),
    ({"conditions": conditions(users={"includeUsers": ["All"], "excludeUsers": ["All"]})},
     "conditions.users.excludeUsers may hold user ids and GuestsOrExternalUsers only"),
    ({"conditions": conditions(users={"includeRoles": ["62e90394-69f5-4237-9190-012177145e10"]})},
     "conditions.users.includeRoles is not supported"),
    ({"conditions": conditions(users={"includeUsers": ["All"], "includeSomeone": []})},
     "conditions.users has no property includeSomeone"),
    ({"conditions": guests(guestOrExternalUserTypes="")}, "guestOrExternalUserTypes must be a comma-separated list"),
    ({"conditions": guests(externalTenants={"membershipKind": "all"})},
     "conditions.users.includeGuestsOrExternalUsers.guestOrExternalUserTypes is required"),
    ({"conditions": guests(guestOrExternalUserTypes=[1])}, "guestOrExternalUserTypes must be a comma-separated list"),
    ({"conditions": guests(guestOrExternalUserTypes="b2bCollaborationGuest,alien")},
     "conditions.users.includeGuestsOrExternalUsers.guestOrExternalUserTypes: unknown type 'alien'"),
    ({"conditions": guests(guestOrExternalUserTypes="none", externalTenants={"membershipKind": "all"})},
     "externalTenants may be set only when guestOrExternalUserTypes is not empty"),
    ({"conditions": guests(guestOrExternalUserTypes="b2bCollaborationGuest", externalTenants={"membershipKind": "x"})},
     "externalTenants.membershipKind must be all or enumerated"),
    ({"conditions": guests(guestOrExternalUserTypes="b2bCollaborationGuest",
                           externalTenants={"membershipKind": "enumerated", "members": []})},
     "externalTenants.members must name at least one tenant id"),
    ({"conditions": guests(guestOrExternalUserTypes="b2bCollaborationGuest",
                           externalTenants={"membershipKind": "enumerated", "members": ["contoso"]})},
     "externalTenants.members: 'contoso' is not a tenant id"),
    ({"conditions": conditions(applications={})}, "conditions.applications.includeApplications must name All"),
    ({"conditions": conditions(applications={"includeApplications": ["Office365"]})},
     "conditions.applications.includeApplications: Office365 names Microsoft's apps"),
    ({"conditions": conditions(applications={"includeApplications": ["All"],
                                             "includeUserActions": ["urn:user:registersecurityinfo"]})},
     "conditions.applications.includeUserActions is not supported"),
    ({"conditions": conditions(clientAppTypes=["fax"])}, "conditions.clientAppTypes must be a list of all, browser"),
    ({"conditions": conditions(clientAppTypes=["all", "browser"])}, "conditions.clientAppTypes: all cannot be combined"),
    ({"conditions": conditions(signInRiskLevels=["high"])}, "conditions.signInRiskLevels is not supported"),
    ({"conditions": conditions(locations={"includeLocations": ["All"]})}, "conditions.locations is not supported"),
    ({"conditions": conditions(weather="sunny")}, "conditions has no property weather"),
    ({"grantControls": None, "sessionControls": None}, "a policy needs grantControls or sessionControls"),
    ({"grantControls": {"operator": "OR", "builtInControls": []}, "sessionControls": None},
     "a policy needs grantControls or sessionControls"),
    ({"grantControls": {"operator": "XOR", "builtInControls": ["mfa"]}}, "grantControls.operator must be AND or OR"),
    ({"grantControls": {"builtInControls": ["mfa"]}}, "grantControls.operator must be AND or OR"),
    ({"grantControls": {"operator": "OR", "builtInControls": ["x"]}}, "grantControls.builtInControls: unknown control x"),
    ({"grantControls": {"operator": "OR", "builtInControls": "mfa"}}, "grantControls.builtInControls must be a list"),
    ({"grantControls": {"operator": "OR", "builtInControls": ["block", "mfa"]}},
     "grantControls.builtInControls: block cannot be combined with other controls"),
    ({"grantControls": {"operator": "OR", "builtInControls": ["block"],
                        "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000002"}}},
     "grantControls.builtInControls: block cannot be combined with other controls"),
    ({"grantControls": {"operator": "OR", "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000009"}}},
     "grantControls.authenticationStrength.id is not a known authentication strength"),
    ({"grantControls": {"operator": "OR", "authenticationStrength": "mfa"}},
     "grantControls.authenticationStrength must be an object"),
    ({"grantControls": {"operator": "OR", "builtInControls": ["mfa"], "termsOfUse": ["t"]}},
     "grantControls.termsOfUse is not supported"),
    ({"sessionControls": {"signInFrequency": {"isEnabled": "yes"}}},
     "sessionControls.signInFrequency.isEnabled must be true or false"),
    ({"sessionControls": {"signInFrequency": {"isEnabled": True, "type": "weeks", "value": 1}}},
     "sessionControls.signInFrequency.type must be days or hours"),
    ({"sessionControls": {"signInFrequency": {"isEnabled": True, "type": "hours", "value": 24}}},
     "sessionControls.signInFrequency.value must be a whole number of hours from 1 to 23"),
    ({"sessionControls": {"signInFrequency": {"isEnabled": True, "type": "days", "value": 0}}},
     "sessionControls.signInFrequency.value must be a whole number of days from 1 to 365"),
    ({"sessionControls": {"signInFrequency": {"isEnabled": True, "type": "days", "value": True}}},
     "sessionControls.signInFrequency.value must be a whole number"),
    ({"sessionControls": {"signInFrequency": {"isEnabled": True, "type": "hours", "value": 1,
                                              "frequencyInterval": "everyTime"}}},
     "sessionControls.signInFrequency.frequencyInterval everyTime"),
    ({"sessionControls": {"persistentBrowser": {"isEnabled": True, "mode": "never"}}},
     "sessionControls.persistentBrowser is not supported"),
    ({"colour": "red"}, "conditionalAccessPolicy has no property colour"),
]


@pytest.mark.parametrize(("change", "message"), CASES, ids=[m[:60] for _, m in CASES])
async def test_a_bad_body_is_refused_naming_the_field(api, admin, change, message):
    response = await api.post(POLICIES, headers=admin, json=body(**change))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalidRequest"
    assert message in response.json()["error"]["message"]


async def test_not_json_or_not_an_object(api, admin):
    for content in (b"{", b"[]", b'"policy"', b"null"):
        response = await api.post(POLICIES, headers={**admin, "Content-Type": "application/json"}, content=content)
        assert response.status_code == 400, (content, response.text)
        assert "error" in response.json()


async def test_ids_a_policy_names_must_be_in_the_organization(api, admin):
    for users, apps, message in (
            ({"includeUsers": ["no-such-user"]}, APPS,
             "conditions.users.includeUsers/excludeUsers: no user no-such-user"),
            ({"includeGroups": ["no-such-group"]}, APPS, "conditions.users.includeGroups/excludeGroups: no group"),
            (USERS, {"includeApplications": ["no-such-app"]},
             "conditions.applications.includeApplications/excludeApplications: no application (appId) no-such-app")):
        response = await api.post(POLICIES, headers=admin, json=body(conditions={"users": users, "applications": apps}))
        assert response.status_code == 400 and message in response.json()["error"]["message"], response.text


async def test_a_patch_is_checked_on_the_merged_policy(api, admin):
    policy_id = (await api.post(POLICIES, headers=admin, json=body())).json()["id"]
    for change, message in (
            ({"grantControls": None, "sessionControls": None}, "a policy needs grantControls or sessionControls"),
            ({"state": "paused"}, "state must be one of"),
            ({"conditions": {"applications": None}}, "conditions.applications is required"),
            ({"conditions": None}, "conditions is required"),
            ({"id": "another"}, "id is read-only"),
            ({}, "nothing to update"),
            ({"displayName": None}, "displayName is required")):
        response = await api.patch(f"{POLICIES}/{policy_id}", headers=admin, json=change)
        assert response.status_code == 400 and message in response.json()["error"]["message"], (change, response.text)
    response = await api.patch(f"{POLICIES}/{policy_id}", headers={**admin, "Content-Type": "application/json"},
                               content=b"[1]")
    assert response.status_code == 400
    assert (await api.get(f"{POLICIES}/{policy_id}", headers=admin)).json()["state"] == \
        "enabledForReportingButNotEnforced"
    missing = await api.patch(f"{POLICIES}/nope", headers=admin, json={"state": "enabled"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "Request_ResourceNotFound"
    assert (await api.get(f"{POLICIES}/{'x' * 300}", headers=admin)).status_code == 404
