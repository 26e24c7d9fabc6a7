"""Assignment policies: a full Graph body round-trips in Graph's shape (and is stored that way for
the workflows); every invalid body is a 400 whose message names the field; PUT, PATCH, DELETE."""

import uuid

import pytest

from foyer.db import session_scope
from foyer.models.directory import Group
from foyer.models.entitlement import AssignmentPolicy, ConnectedOrganization

BASE = "/v1.0/identityGovernance/entitlementManagement"
SINGLE = "#microsoft.graph.singleUser"


@pytest.fixture
async def world(api, admin, make_member, organization_id) -> dict:
    catalog = (await api.post(f"{BASE}/catalogs", headers=admin,
                              json={"displayName": f"Policies {uuid.uuid4().hex[:8]}"})).json()
    package = (await api.post(f"{BASE}/accessPackages", headers=admin, json={
        "displayName": f"Policy package {uuid.uuid4().hex[:8]}", "catalog": {"id": catalog["id"]}})).json()
    approver, backup, escalation, requestor = [await make_member(n) for n in
                                               ("Ann Approver", "Bob Backup", "Eve Escalation", "Rita")]
    async with session_scope() as session:
        group = Group(organization_id=organization_id, display_name=f"Approvers {uuid.uuid4().hex[:6]}")
        partner = ConnectedOrganization(
            organization_id=organization_id, display_name="Partner",
            identity_sources=[{"@odata.type": "#microsoft.graph.domainIdentitySource",
                               "domainName": f"p{uuid.uuid4().hex[:8]}.example", "displayName": "P"}])
        session.add_all([group, partner])
    return {"package": package, "approver": approver.id, "backup": backup.id,
            "escalation": escalation.id, "requestor": requestor.id, "group": group.id,
            "partner": partner.id}


def full_policy(w: dict) -> dict:
    return {
        "displayName": "Partners with approval",
        "description": "Two stages",
        "accessPackage": {"id": w["package"]["id"]},
        "allowedTargetScope": "specificConnectedOrganizationUsers",
        "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers",
                                    "connectedOrganizationId": w["partner"]}],
        "expiration": {"type": "afterDuration", "duration": "P90D"},
        "requestorSettings": {
            "enableTargetsToSelfAddAccess": True, "enableTargetsToSelfUpdateAccess": True,
            "enableTargetsToSelfRemoveAccess": True, "allowCustomAssignmentSchedule": False,
            "enableOnBehalfRequestorsToAddAccess": True,
            "onBehalfRequestors": [{"@odata.type": "#microsoft.graph.internalSponsors"},
                                   {"@odata.type": SINGLE, "userId": w["requestor"]}]},
        "requestApprovalSettings": {
            "isApprovalRequiredForAdd": True, "isApprovalRequiredForUpdate": False,
            "isRequestorJustificationRequired": True,
            "stages": [
                {"durationBeforeAutomaticDenial": "P7D", "isApproverJustificationRequired": True,
                 "isEscalationEnabled": True, "durationBeforeEscalation": "P2D",
                 "primaryApprovers": [{"@odata.type": SINGLE, "userId": w["approver"]}],
                 "fallbackPrimaryApprovers": [{"@odata.type": "#microsoft.graph.groupMembers",
                                               "groupId": w["group"]}],
                 "escalationApprovers": [{"@odata.type": SINGLE, "userId": w["escalation"]}],
                 "fallbackEscalationApprovers": []},
                {"durationBeforeAutomaticDenial": "PT12H",
                 "primaryApprovers": [{"@odata.type": "#microsoft.graph.requestorManager",
                                       "managerLevel": 1}],
                 "fallbackPrimaryApprovers": [{"@odata.type": SINGLE, "userId": w["backup"]}]},
            ]},
        "questions": [
            {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion",
             "text": "Employee number", "isRequired": True, "isSingleLineQuestion": True,
             "regexPattern": "^[0-9]{6}$"},
            {"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "id": "site",
             "text": {"defaultText": "Which site?", "localizedTexts": [{"text": "Quel site ?",
                                                                        "languageCode": "fr"}]},
             "isRequired": False, "allowsMultipleSelection": True,
             "choices": [{"actualValue": "paris", "text": "Paris"},
                         {"actualValue": "oslo", "displayValue": {"defaultText": "Oslo"}}]},
        ],
        "customExtensionStageSettings": [
            {"stage": "assignmentRequestCreated", "customExtension": {"id": "ext-1"}}],
    }


async def test_full_policy_round_trip(api, admin, world):
    body = full_policy(world)
    created = await api.post(f"{BASE}/assignmentPolicies", headers=admin, json=body)
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["accessPackage"] == {"id": world["package"]["id"]}
    assert policy["specificAllowedTargets"] == body["specificAllowedTargets"]
    assert policy["expiration"] == {"type": "afterDuration", "duration": "P90D", "endDateTime": None}
    stages = policy["requestApprovalSettings"]["stages"]
    assert stages[0]["primaryApprovers"] == [{"@odata.type": SINGLE, "userId": world["approver"]}]
    assert stages[0]["durationBeforeEscalation"] == "P2D" and stages[1]["isEscalationEnabled"] is False
    assert policy["requestApprovalSettings"]["isRequestorJustificationRequired"] is True
    text_q, choice_q = policy["questions"]
    assert text_q["id"] and text_q["regexPattern"] == "^[0-9]{6}$" and text_q["isRequired"] is True
    assert choice_q["id"] == "site" and choice_q["text"] == "Which site?"
    assert choice_q["localizations"] == [{"text": "Quel site ?", "languageCode": "fr"}]
    assert [(c["actualValue"], c["text"]) for c in choice_q["choices"]] == [("paris", "Paris"),
                                                                          ("oslo", "Oslo")]
    assert policy["customExtensionStageSettings"] == body["customExtensionStageSettings"]

    async with session_scope() as session:
        row = await session.get(AssignmentPolicy, policy["id"])
    assert row.request_approval_settings == policy["requestApprovalSettings"]
    assert row.requestor_settings["onBehalfRequestors"][0] == {
        "@odata.type": "#microsoft.graph.internalSponsors"}
    assert row.questions == policy["questions"] and row.expiration["duration"] == "P90D"

    # GET answers the same; a question's generated id stays the same across updates.
    assert (await api.get(f"{BASE}/assignmentPolicies/{policy['id']}", headers=admin)).json() == policy
    patched = await api.patch(f"{BASE}/assignmentPolicies/{policy['id']}", headers=admin,
                              json={"displayName": "Renamed", "expiration": {"type": "noExpiration"}})
    assert patched.status_code == 204, patched.text
    got = (await api.get(f"{BASE}/assignmentPolicies/{policy['id']}", headers=admin)).json()
    assert got["displayName"] == "Renamed" and got["expiration"]["type"] == "noExpiration"
    assert got["questions"] == policy["questions"]
    assert got["requestApprovalSettings"] == policy["requestApprovalSettings"]

    listed = await api.get(f"{BASE}/assignmentPolicies", headers=admin,
                           params={"accessPackageId": world["package"]["id"]})
    assert [p["id"] for p in listed.json()["value"]] == [policy["id"]]
    under = await api.get(f"{BASE}/accessPackages/{world['package']['id']}/assignmentPolicies",
                          headers=admin)
    assert [p["id"] for p in under.json()["value"]] == [policy["id"]]


async def test_put_replaces_and_delete(api, admin, world):
    created = (await api.post(f"{BASE}/assignmentPolicies", headers=admin,
                              json=full_policy(world))).json()
    replacement = {"displayName": "Members, no approval", "accessPackage": {"id": world["package"]["id"]},
                   "allowedTargetScope": "allMemberUsers",
                   "expiration": {"type": "afterDateTime", "endDateTime": "2031-01-31T00:00:00Z"},
                   "requestorSettings": {"enableTargetsToSelfAddAccess": True}}
    put = await api.put(f"{BASE}/assignmentPolicies/{created['id']}", headers=admin, json=replacement)
    assert put.status_code == 200, put.text
    policy = put.json()
    assert policy["questions"] == [] and policy["requestApprovalSettings"]["stages"] == []
    assert policy["specificAllowedTargets"] == [] and policy["customExtensionStageSettings"] == []
    assert policy["expiration"] == {"type": "afterDateTime", "endDateTime": "2031-01-31T00:00:00Z",
                                    "duration": None}
    # A script may PUT back what it read, read-only properties included, and leave out accessPackage.
    read_back = (await api.get(f"{BASE}/assignmentPolicies/{created['id']}", headers=admin)).json()
    again = await api.put(f"{BASE}/assignmentPolicies/{created['id']}", headers=admin, json=read_back)
    assert again.status_code == 200 and again.json()["questions"] == [], again.text
    without_package = {k: v for k, v in replacement.items() if k != "accessPackage"}
    assert (await api.put(f"{BASE}/assignmentPolicies/{created['id']}", headers=admin,
                          json=without_package)).status_code == 200
    other_id = await api.put(f"{BASE}/assignmentPolicies/{created['id']}", headers=admin,
                             json={**replacement, "id": "another-policy"})
    assert other_id.status_code == 400 and "id" in other_id.json()["error"]["message"]
    moved = await api.put(f"{BASE}/assignmentPolicies/{created['id']}", headers=admin,
                          json={**replacement, "accessPackage": {"id": "elsewhere"}})
    assert moved.status_code == 400 and "accessPackage" in moved.json()["error"]["message"]

    assert (await api.delete(f"{BASE}/assignmentPolicies/{created['id']}", headers=admin)).status_code == 204
    assert (await api.get(f"{BASE}/assignmentPolicies/{created['id']}", headers=admin)).status_code == 404
    assert (await api.delete(f"{BASE}/assignmentPolicies/{created['id']}", headers=admin)).status_code == 404


def _stage(w, **changes) -> dict:
    stage = {"durationBeforeAutomaticDenial": "P7D",
             "primaryApprovers": [{"@odata.type": SINGLE, "userId": w["approver"]}]}
    stage.update(changes)
    return stage


def _approval(w, *stages, **flags) -> dict:
    return {"requestApprovalSettings": {"isApprovalRequiredForAdd": True, "stages": list(stages), **flags}}


INVALID = {
    # name: (changes to the full policy, words the message must contain)
    "no displayName": (lambda w: {"displayName": None}, ["displayName"]),
    "no accessPackage": (lambda w: {"accessPackage": None}, ["accessPackage"]),
    "unknown package": (lambda w: {"accessPackage": {"id": "nope"}}, ["accessPackage.id", "nope"]),
    "bad scope": (lambda w: {"allowedTargetScope": "everyone"}, ["allowedTargetScope"]),
    "targets without scope": (lambda w: {"allowedTargetScope": "allMemberUsers"}, ["specificAllowedTargets"]),
    "specific users without targets": (lambda w: {"allowedTargetScope": "specificDirectoryUsers",
                                                  "specificAllowedTargets": []}, ["specificAllowedTargets"]),
    "org target for directory scope": (lambda w: {"allowedTargetScope": "specificDirectoryUsers"},
                                       ["specificAllowedTargets", "singleUser"]),
    "subject set without type": (lambda w: {"allowedTargetScope": "specificDirectoryUsers",
                                            "specificAllowedTargets": [{"userId": w["approver"]}]},
                                 ["specificAllowedTargets", "@odata.type"]),
    "unknown subject type": (lambda w: {"allowedTargetScope": "specificDirectoryUsers",
                                        "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.everyone"}]},
                             ["specificAllowedTargets", "everyone"]),
    "singleUser without userId": (lambda w: {"allowedTargetScope": "specificDirectoryUsers",
                                             "specificAllowedTargets": [{"@odata.type": SINGLE}]},
                                  ["specificAllowedTargets", "userId"]),
    "unknown user": (lambda w: {"allowedTargetScope": "specificDirectoryUsers",
                                "specificAllowedTargets": [{"@odata.type": SINGLE, "userId": "ghost-1"}]},
                     ["specificAllowedTargets", "ghost-1"]),
    "unknown group": (lambda w: {"allowedTargetScope": "specificDirectoryUsers",
                                 "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.groupMembers",
                                                             "groupId": "ghost-group"}]},
                      ["specificAllowedTargets", "ghost-group"]),
    "unknown connected org": (lambda w: {"specificAllowedTargets": [
        {"@odata.type": "#microsoft.graph.connectedOrganizationMembers",
         "connectedOrganizationId": "ghost-org"}]}, ["connected organization", "ghost-org"]),
    "subject set extra key": (lambda w: {"allowedTargetScope": "specificDirectoryUsers",
                                         "specificAllowedTargets": [{"@odata.type": SINGLE, "userId": w["approver"],
                                                                     "mail": "x@y"}]},
                              ["specificAllowedTargets", "mail"]),
    "bad expiration type": (lambda w: {"expiration": {"type": "never"}}, ["expiration.type"]),
    "afterDuration without duration": (lambda w: {"expiration": {"type": "afterDuration"}}, ["expiration", "duration"]),
    "bad duration": (lambda w: {"expiration": {"type": "afterDuration", "duration": "30 days"}},
                     ["expiration.duration", "ISO 8601"]),
    "afterDateTime without date": (lambda w: {"expiration": {"type": "afterDateTime"}}, ["expiration", "endDateTime"]),
    "bad endDateTime": (lambda w: {"expiration": {"type": "afterDateTime", "endDateTime": "soon"}},
                        ["expiration.endDateTime"]),
    "requestor flag not bool": (lambda w: {"requestorSettings": {"enableTargetsToSelfAddAccess": "yes"}},
                                ["requestorSettings.enableTargetsToSelfAddAccess"]),
    "on behalf without requestors": (lambda w: {"requestorSettings": {"enableOnBehalfRequestorsToAddAccess": True}},
                                     ["requestorSettings", "onBehalfRequestors"]),
    "unknown on-behalf user": (lambda w: {"requestorSettings": {
        "enableOnBehalfRequestorsToAddAccess": True,
        "onBehalfRequestors": [{"@odata.type": SINGLE, "userId": "ghost-2"}]}},
        ["requestorSettings.onBehalfRequestors", "ghost-2"]),
    "approval without stages": (lambda w: _approval(w), ["stages"]),
    "four stages": (lambda w: _approval(w, *[_stage(w)] * 4), ["requestApprovalSettings.stages"]),
    "stage without denial duration": (lambda w: _approval(w, {"primaryApprovers": _stage(w)["primaryApprovers"]}),
                                      ["durationBeforeAutomaticDenial"]),
    "denial too short": (lambda w: _approval(w, _stage(w, durationBeforeAutomaticDenial="PT30M")),
                         ["durationBeforeAutomaticDenial", "PT1H"]),
    "denial too long": (lambda w: _approval(w, _stage(w, durationBeforeAutomaticDenial="P15D")),
                        ["durationBeforeAutomaticDenial", "P14D"]),
    "no primary approvers": (lambda w: _approval(w, _stage(w, primaryApprovers=[])), ["primaryApprovers"]),
    "connected org as approver": (lambda w: _approval(w, _stage(w, primaryApprovers=[
        {"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": w["partner"]}])),
        ["primaryApprovers", "connectedOrganizationMembers"]),
    "unknown approver": (lambda w: _approval(w, _stage(w), _stage(w, fallbackPrimaryApprovers=[
        {"@odata.type": SINGLE, "userId": "ghost-3"}])),
        ["requestApprovalSettings.stages.1.fallbackPrimaryApprovers", "ghost-3"]),
    "escalation without duration": (lambda w: _approval(w, _stage(w, isEscalationEnabled=True, escalationApprovers=[
        {"@odata.type": SINGLE, "userId": w["escalation"]}])), ["durationBeforeEscalation"]),
    "escalation not shorter": (lambda w: _approval(w, _stage(w, isEscalationEnabled=True, durationBeforeEscalation="P7D",
                                                             escalationApprovers=[{"@odata.type": SINGLE, "userId": w["escalation"]}])),
                               ["durationBeforeEscalation", "shorter"]),
    "escalation without approvers": (lambda w: _approval(w, _stage(w, isEscalationEnabled=True,
                                                                   durationBeforeEscalation="P1D")),
                                     ["escalationApprovers"]),
    "question without type": (lambda w: {"questions": [{"text": "Why?"}]}, ["questions", "@odata.type"]),
    "question without text": (lambda w: {"questions": [{"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion"}]},
                              ["questions", "text"]),
    "regex does not compile": (lambda w: {"questions": [{"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion",
                                                         "text": "Code", "regexPattern": "([a-z"}]},
                               ["questions", "regexPattern"]),
    "choice question without choices": (lambda w: {"questions": [{"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion",
                                                                  "text": "Pick", "choices": []}]},
                                        ["questions", "choices"]),
    "repeated choice value": (lambda w: {"questions": [{"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion",
                                                        "text": "Pick", "choices": [{"actualValue": "a", "text": "A"},
                                                                                    {"actualValue": "a", "text": "B"}]}]},
                              ["questions", "actualValue"]),
    "choice without value": (lambda w: {"questions": [{"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion",
                                                       "text": "Pick", "choices": [{"text": "A"}]}]},
                             ["questions", "actualValue"]),
    "repeated question id": (lambda w: {"questions": [
        {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "id": "q", "text": "A"},
        {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "id": "q", "text": "B"}]},
        ["questions", "unique"]),
    "bad extension stage": (lambda w: {"customExtensionStageSettings": [
        {"stage": "whenever", "customExtension": {"id": "e"}}]}, ["customExtensionStageSettings", "whenever"]),
    "extension without id": (lambda w: {"customExtensionStageSettings": [
        {"stage": "assignmentRequestGranted", "customExtension": {}}]},
        ["customExtensionStageSettings", "customExtension"]),
    "unknown property": (lambda w: {"automaticRequestSettings": {}}, ["automaticRequestSettings"]),
    "review settings": (lambda w: {"reviewSettings": {"isEnabled": True}}, ["reviewSettings"]),
}


@pytest.mark.parametrize("case", sorted(INVALID))
async def test_invalid_policy_is_400_naming_the_field(api, admin, world, case):
    change, words = INVALID[case]
    body = full_policy(world)
    body.update(change(world))
    body = {k: v for k, v in body.items() if v is not None or k == "description"}
    response = await api.post(f"{BASE}/assignmentPolicies", headers=admin, json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalidRequest"
    for word in words:
        assert word in error["message"], (case, error["message"])


async def test_invalid_patch_is_400_and_changes_nothing(api, admin, world):
    policy = (await api.post(f"{BASE}/assignmentPolicies", headers=admin, json=full_policy(world))).json()
    for case in ("escalation not shorter", "unknown approver", "bad duration", "unknown property"):
        change, words = INVALID[case]
        response = await api.patch(f"{BASE}/assignmentPolicies/{policy['id']}", headers=admin,
                                   json=change(world))
        assert response.status_code == 400, (case, response.text)
        for word in words:
            assert word in response.json()["error"]["message"], (case, response.text)
    for body in ([], {}, "text"):
        response = await api.patch(f"{BASE}/assignmentPolicies/{policy['id']}", headers=admin, json=body)
        assert response.status_code == 400, (body, response.text)
    assert (await api.get(f"{BASE}/assignmentPolicies/{policy['id']}", headers=admin)).json() == policy
