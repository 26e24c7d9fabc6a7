"""Whatever a client sends to the entitlement-management API, the answer is a Graph error with a
4xx status, never a 500: malformed JSON, wrong types, nulls, huge values, unknown ids."""

import uuid

import pytest

BASE = "/v1.0/identityGovernance/entitlementManagement"

JUNK = [None, [], "text", 7, True, {"@odata.type": "#microsoft.graph.nothing"},
        {"id": None}, {"id": ["x"]}, "x" * 5000, -1, 1e308, {"": {}}]


@pytest.fixture
async def ids(api, admin) -> dict:
    catalog = (await api.post(f"{BASE}/catalogs", headers=admin,
                              json={"displayName": f"Junk {uuid.uuid4().hex[:6]}"})).json()
    package = (await api.post(f"{BASE}/accessPackages", headers=admin, json={
        "displayName": "Junk package", "catalog": {"id": catalog["id"]}})).json()
    policy = (await api.post(f"{BASE}/assignmentPolicies", headers=admin, json={
        "displayName": "Junk policy", "accessPackage": {"id": package["id"]}})).json()
    connected = (await api.post(f"{BASE}/connectedOrganizations", headers=admin, json={
        "displayName": "Junk partner", "identitySources": [{
            "@odata.type": "#microsoft.graph.domainIdentitySource",
            "domainName": f"junk-{uuid.uuid4().hex[:6]}.example"}]})).json()
    return {"catalog": catalog["id"], "package": package["id"], "policy": policy["id"],
            "connected": connected["id"]}


def _writes(ids: dict) -> list[tuple[str, str, dict]]:
    """Each write endpoint with a valid body to spoil one property at a time."""
    package = {"id": ids["package"]}
    return [
        ("POST", "/catalogs", {"displayName": "C", "description": "d", "state": "published",
                               "isExternallyVisible": True, "foyerOwnerIds": []}),
        ("PATCH", f"/catalogs/{ids['catalog']}", {"displayName": "C", "foyerOwnerIds": []}),
        ("POST", "/resourceRequests", {"requestType": "adminAdd", "catalog": {"id": ids["catalog"]},
                                       "resource": {"originId": "https://x.example/s",
                                                    "originSystem": "SharePointOnline"}}),
        ("POST", "/accessPackages", {"displayName": "P", "isHidden": False,
                                     "catalog": {"id": ids["catalog"]}}),
        ("PATCH", f"/accessPackages/{ids['package']}", {"displayName": "P", "isHidden": False}),
        ("POST", f"/accessPackages/{ids['package']}/resourceRoleScopes",
         {"role": {"originId": "Member", "resource": {"originId": "g"}}, "scope": {"originId": "g"}}),
        ("POST", f"/accessPackages/{ids['package']}/incompatibleAccessPackages/$ref",
         {"@odata.id": f"{BASE}/accessPackages/{ids['package']}"}),
        ("POST", f"/accessPackages/{ids['package']}/incompatibleGroups/$ref",
         {"@odata.id": "https://graph.microsoft.com/v1.0/groups/g"}),
        ("POST", "/assignmentPolicies", {
            "displayName": "Q", "accessPackage": package, "allowedTargetScope": "allMemberUsers",
            "expiration": {"type": "afterDuration", "duration": "P1D"},
            "requestorSettings": {"onBehalfRequestors": []},
            "requestApprovalSettings": {"stages": [{"durationBeforeAutomaticDenial": "P1D",
                                                    "primaryApprovers": []}]},
            "questions": [{"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "text": "t"}],
            "customExtensionStageSettings": []}),
        ("PUT", f"/assignmentPolicies/{ids['policy']}", {"displayName": "Q", "accessPackage": package,
                                                         "expiration": {"type": "noExpiration"}}),
        ("PATCH", f"/assignmentPolicies/{ids['policy']}", {
            "displayName": "Q", "expiration": {"type": "afterDateTime", "endDateTime": "2030-01-01T00:00:00Z"},
            "requestApprovalSettings": {"stages": []}, "questions": []}),
        ("POST", "/connectedOrganizations", {"displayName": "O", "state": "proposed",
                                             "identitySources": [{"domainName": "a.example"}]}),
        ("PATCH", f"/connectedOrganizations/{ids['connected']}", {"displayName": "O", "state": "configured",
                                                                  "identitySources": []}),
        ("POST", f"/connectedOrganizations/{ids['connected']}/internalSponsors/$ref",
         {"@odata.id": "https://graph.microsoft.com/v1.0/users/u"}),
    ]


def _no_server_error(response, *context) -> None:
    """Some spoiled values are still acceptable (any string is a display name); what must never
    happen is a 5xx, or an error without Graph's error body."""
    assert response.status_code < 500, (*context, response.text)
    if response.status_code >= 400:
        assert response.json()["error"]["code"], response.text


async def test_spoiled_properties_are_never_5xx(api, admin, ids):
    for method, path, good in _writes(ids):
        for key in good:
            for junk in JUNK:
                response = await api.request(method, f"{BASE}{path}", headers=admin, json={**good, key: junk})
                _no_server_error(response, method, path, key, junk)
        for body in JUNK:
            response = await api.request(method, f"{BASE}{path}", headers=admin, json=body)
            _no_server_error(response, method, path, body)
        response = await api.request(method, f"{BASE}{path}", headers={**admin, "Content-Type": "application/json"},
                                     content=b"{not json")
        assert response.status_code == 400, (method, path, response.text)


async def test_nested_junk_in_policies_is_never_5xx(api, admin, ids):
    nested = {
        "expiration": ["type", "endDateTime", "duration"],
        "requestorSettings": ["enableTargetsToSelfAddAccess", "onBehalfRequestors"],
        "requestApprovalSettings": ["isApprovalRequiredForAdd", "stages"],
    }
    for top, keys in nested.items():
        for key in keys:
            for junk in JUNK + ["P99999999999D", "9999-99-99", [{"@odata.type": None}], [[]]]:
                response = await api.post(f"{BASE}/assignmentPolicies", headers=admin, json={
                    "displayName": "N", "accessPackage": {"id": ids["package"]}, top: {key: junk}})
                _no_server_error(response, top, key, junk)
    stage = {"durationBeforeAutomaticDenial": "P1D",
             "primaryApprovers": [{"@odata.type": "#microsoft.graph.requestorManager"}]}
    for key in ("durationBeforeAutomaticDenial", "durationBeforeEscalation", "isEscalationEnabled",
                "primaryApprovers", "escalationApprovers"):
        for junk in JUNK + ["P99999999999D", "PT", [{"@odata.type": "#microsoft.graph.singleUser", "userId": 5}]]:
            response = await api.post(f"{BASE}/assignmentPolicies", headers=admin, json={
                "displayName": "N", "accessPackage": {"id": ids["package"]},
                "requestApprovalSettings": {"isApprovalRequiredForAdd": True,
                                            "stages": [{**stage, key: junk}]}})
            _no_server_error(response, key, junk)
    for question in ({"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "text": "t",
                      "sequence": "first"},
                     {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "text": "t",
                      "regexPattern": 5},
                     {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "text": {"x": 1}},
                     {"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "text": "t",
                      "choices": [None]},
                     {"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "text": "t",
                      "choices": [{"actualValue": 1}]},
                     {"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "text": "t",
                      "choices": [{"actualValue": "a", "displayValue": "A"}]},
                     {"@odata.type": 3, "text": "t"}):
        response = await api.post(f"{BASE}/assignmentPolicies", headers=admin, json={
            "displayName": "N", "accessPackage": {"id": ids["package"]}, "questions": [question]})
        assert response.status_code == 400, (question, response.text)


async def test_queries_and_unknown_ids_are_4xx(api, admin):
    for path in ("/catalogs", "/accessPackages", "/assignmentPolicies", "/connectedOrganizations"):
        for params in ({"$filter": "displayName eq"}, {"$filter": "createdDateTime gt 'yesterday'"},
                       {"$filter": "isHidden eq 'yes'"}, {"$top": "0"}, {"$top": "many"},
                       {"$orderby": "secret"}, {"$skiptoken": "garbage"}, {"$select": "nothing"}):
            response = await api.get(f"{BASE}{path}", headers=admin, params=params)
            assert response.status_code == 400, (path, params, response.text)
    for path in ("/catalogs/x", "/catalogs/x/resources", "/accessPackages/x",
                 "/accessPackages/x/incompatibleGroups", "/assignmentPolicies/x",
                 "/connectedOrganizations/x", "/connectedOrganizations/x/externalSponsors",
                 f"/catalogs/{'x' * 3000}"):
        response = await api.get(f"{BASE}{path}", headers=admin)
        assert response.status_code == 404, (path, response.text)


async def test_nul_characters_are_400_on_every_database(api, admin, ids):
    """PostgreSQL text cannot hold NUL: refused up front, not a database error."""
    for method, path, body, params in (
            ("GET", "/accessPackages/%00", None, None),
            ("GET", "/accessPackages", None, {"catalogId": "\x00"}),
            ("POST", "/catalogs", {"displayName": "nul\u0000name"}, None),
            ("PATCH", f"/catalogs/{ids['catalog']}", {"description": "a\x00b"}, None),
            ("POST", "/assignmentPolicies", {"displayName": "N", "accessPackage": {"id": ids["package"]},
                                             "questions": [{"@odata.type": "#microsoft.graph."
                                                            "accessPackageTextInputQuestion",
                                                            "text": "\x00"}]}, None)):
        response = await api.request(method, f"{BASE}{path}", headers=admin, json=body, params=params)
        assert response.status_code == 400, (method, path, response.text)
        assert "NUL" in response.json()["error"]["message"]
    # An escaped backslash followed by "u0000" is ordinary text.
    fine = await api.post(f"{BASE}/catalogs", headers=admin, json={"displayName": "back\\u0000slash"})
    assert fine.status_code == 201 and fine.json()["displayName"] == "back\\u0000slash", fine.text
