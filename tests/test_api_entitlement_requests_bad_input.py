"""Bad requests to the request/approval API answer 4xx with a Graph error body, never 500, and
never reach (or hang) a workflow."""

import pytest

from tests.factories import make_package, make_user, self_service, stage

EM = "/v1.0/identityGovernance/entitlementManagement"


@pytest.fixture
async def setup(api, make_token, organization_id):
    guest = await make_user(organization_id, "Bad Input Guest", guest=True)
    package, policy, _, _ = await make_package(organization_id, policy=self_service(
        requestor_settings={"enableTargetsToSelfAddAccess": True, "allowCustomAssignmentSchedule": True},
        questions=[{"id": "why", "@odata.type": "#microsoft.graph.accessPackageTextInputQuestion",
                    "text": "Which project?", "isRequired": True}]))
    other, other_policy, _, _ = await make_package(organization_id, policy=self_service())
    headers = await make_token("guest", user_id=guest.id)
    return {"guest": guest, "package": package, "policy": policy, "other_policy": other_policy,
            "headers": headers}


def add(setup, **assignment) -> dict:
    return {"requestType": "userAdd",
            "assignment": {"accessPackageId": setup["package"].id, "assignmentPolicyId": setup["policy"].id,
                           **assignment},
            "answers": [{"question": {"id": "why"}, "answeredValue": "Apollo"}]}


def graph_error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] and error["message"]
    return error


CASES = {
    "unknown requestType": lambda s: {**add(s), "requestType": "userSteal"},
    "systemRemove is the system's": lambda s: {**add(s), "requestType": "systemRemove"},
    "no requestType": lambda s: {k: v for k, v in add(s).items() if k != "requestType"},
    "no assignment": lambda s: {"requestType": "userAdd"},
    "assignment not an object": lambda s: {**add(s), "assignment": "x"},
    "no accessPackageId": lambda s: {**add(s), "assignment": {"assignmentPolicyId": s["policy"].id}},
    "empty accessPackageId": lambda s: add(s, accessPackageId=""),
    "no policy to add with": lambda s: add(s, assignmentPolicyId=None),
    "policy of another package": lambda s: add(s, assignmentPolicyId=s["other_policy"].id),
    "unknown property": lambda s: {**add(s), "priority": "high"},
    "justification too long": lambda s: {**add(s), "justification": "x" * 5000},
    "NUL in justification": lambda s: {**add(s), "justification": "a\u0000b"},
    "answers not a list": lambda s: {**add(s), "answers": "Apollo"},
    "answer not an object": lambda s: {**add(s), "answers": ["Apollo"]},
    "answer without question": lambda s: {**add(s), "answers": [{"answeredValue": "Apollo"}]},
    "question not an object": lambda s: {**add(s), "answers": [{"question": "why", "answeredValue": "x"}]},
    "answer of an object": lambda s: {**add(s), "answers": [{"question": {"id": "why"}, "answeredValue": {"a": 1}}]},
    "answer of nested lists": lambda s: {**add(s), "answers": [{"question": {"id": "why"}, "answeredValue": [["a"]]}]},
    "same question twice": lambda s: {**add(s), "answers": [{"question": {"id": "why"}, "answeredValue": "a"}] * 2},
    "required question unanswered": lambda s: {**add(s), "answers": []},
    "naive endDateTime": lambda s: {**add(s), "schedule": {"expiration": {
        "type": "afterDateTime", "endDateTime": "2040-01-01T00:00:00"}}},
    "endDateTime in the past": lambda s: {**add(s), "schedule": {"expiration": {
        "type": "afterDateTime", "endDateTime": "2001-01-01T00:00:00Z"}}},
    "endDateTime not a date": lambda s: {**add(s), "schedule": {"expiration": {
        "type": "afterDateTime", "endDateTime": "next week"}}},
    "afterDateTime without endDateTime": lambda s: {**add(s), "schedule": {"expiration": {"type": "afterDateTime"}}},
    "bad duration": lambda s: {**add(s), "schedule": {"expiration": {"type": "afterDuration", "duration": "30 days"}}},
    "zero duration": lambda s: {**add(s), "schedule": {"expiration": {"type": "afterDuration", "duration": "P0D"}}},
    "endless duration": lambda s: {**add(s), "schedule": {"expiration": {
        "type": "afterDuration", "duration": "P99999999D"}}},
    "duration past any calendar": lambda s: {**add(s), "schedule": {"expiration": {
        "type": "afterDuration", "duration": "P99999999999999D"}}},
    "unknown expiration type": lambda s: {**add(s), "schedule": {"expiration": {"type": "whenever"}}},
    "future start": lambda s: {**add(s), "schedule": {"startDateTime": "2090-01-01T00:00:00Z"}},
    "schedule not an object": lambda s: {**add(s), "schedule": "P30D"},
}


@pytest.mark.parametrize("case", CASES)
async def test_bad_request_bodies_are_400(api, setup, case):
    response = await api.post(f"{EM}/assignmentRequests", headers=setup["headers"], json=CASES[case](setup))
    graph_error(response, 400)


async def test_bodies_that_are_not_json_objects(api, setup):
    for content in (b"not json", b"[]", b"null", b""):
        response = await api.post(f"{EM}/assignmentRequests", headers={
            **setup["headers"], "Content-Type": "application/json"}, content=content)
        graph_error(response, 400)


async def test_what_does_not_exist_is_404(api, setup):
    missing_package = await api.post(f"{EM}/assignmentRequests", headers=setup["headers"],
                                     json=add(setup, accessPackageId="no-such-package"))
    graph_error(missing_package, 404)
    missing_target = await api.post(f"{EM}/assignmentRequests", headers=setup["headers"],
                                    json=add(setup, targetId="no-such-user"))
    graph_error(missing_target, 404)
    for method, path in [("GET", "/assignmentRequests/nope"), ("POST", "/assignmentRequests/nope/cancel"),
                         ("GET", "/assignments/nope"), ("GET", "/assignmentApprovals/nope"),
                         ("GET", "/assignmentApprovals/nope/stages"),
                         ("GET", "/assignmentApprovals/filterByCurrentUser(on='requestor')")]:
        graph_error(await api.request(method, f"{EM}{path}", headers=setup["headers"]), 404)
    unknown_on = await api.get(f"{EM}/assignmentRequests/filterByCurrentUser(on='approver')",
                               headers=setup["headers"])
    graph_error(unknown_on, 400)
    patch = await api.patch(f"{EM}/assignmentApprovals/nope/stages/nope", headers=setup["headers"],
                            json={"reviewResult": "Approve"})
    graph_error(patch, 404)


async def test_a_valid_body_with_a_custom_schedule_is_accepted(api, setup):
    """The control case: the same body, well formed, goes through."""
    body = {**add(setup), "schedule": {"startDateTime": "2020-01-01T00:00:00Z",
                                       "expiration": {"type": "afterDuration", "duration": "P7D"}}}
    response = await api.post(f"{EM}/assignmentRequests", headers=setup["headers"], json=body)
    assert response.status_code == 201, response.text
    assert response.json()["schedule"]["expiration"] == {"type": "afterDuration", "duration": "P7D"}
    assert response.json()["answers"][0]["answeredValue"] == "Apollo"


@pytest.mark.parametrize("path", ["/assignmentRequests", "/assignments"])
@pytest.mark.parametrize("params", [
    {"$filter": "nosuchproperty eq 'x'"}, {"$filter": "state eq"}, {"$filter": "state eq 5"},
    {"$filter": "createdDateTime gt 'yesterday'"}, {"$filter": "createdDateTime gt 2024-13-45T00:00:00Z"},
    {"$filter": "target/id eq 'x'"}, {"$filter": "accessPackage/displayName eq 'x'"},
    {"$filter": "accessPackage/id eq 5"},
    {"$filter": "startswith(state, 5)"}, {"$top": "0"}, {"$top": "many"}, {"$skiptoken": "garbage"},
    {"$orderby": "secret"}, {"$select": "nothing"},
])
async def test_bad_queries_are_400(api, admin, path, params):
    graph_error(await api.get(f"{EM}{path}", headers=admin, params=params), 400)


async def test_the_filters_that_exist_work(api, admin, setup):
    created = await api.post(f"{EM}/assignmentRequests", headers=setup["headers"], json=add(setup))
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    for expression in (f"requestType eq 'userAdd' and accessPackageId eq '{setup['package'].id}'",
                       "createdDateTime gt 2020-01-01T00:00:00Z and state ne 'canceled'",
                       f"id eq '{request_id}'",
                       # Graph's paths to the package and the requestor
                       f"accessPackage/id eq '{setup['package'].id}' and "
                       f"requestor/objectId eq '{setup['guest'].id}'"):
        response = await api.get(f"{EM}/assignmentRequests", headers=admin, params={"$filter": expression})
        assert response.status_code == 200, response.text
        assert request_id in [r["id"] for r in response.json()["value"]], expression
    none = await api.get(f"{EM}/assignmentRequests", headers=admin, params={
        "$filter": "createdDateTime lt 2000-01-01T00:00:00Z"})
    assert none.status_code == 200 and none.json()["value"] == []


@pytest.mark.parametrize("body", [{}, {"reviewResult": "Maybe"}, {"reviewResult": "Approve", "extra": 1},
                                  {"reviewResult": "Approve", "justification": "x" * 5000}, []])
async def test_bad_decisions_are_400(api, make_token, organization_id, body):
    guest = await make_user(organization_id, "Dec Guest", guest=True)
    approver = await make_user(organization_id, "Dec Approver")
    package, policy, _, _ = await make_package(organization_id, policy=self_service(
        request_approval_settings={"isApprovalRequiredForAdd": True, "stages": [stage([approver])]}))
    created = await api.post(f"{EM}/assignmentRequests", headers=await make_token("guest", user_id=guest.id), json={
        "requestType": "userAdd", "assignment": {"accessPackageId": package.id, "assignmentPolicyId": policy.id}})
    assert created.status_code == 201, created.text
    approver_headers = await make_token("member", user_id=approver.id)
    stages = (await api.get(f"{EM}/assignmentApprovals/{created.json()['id']}/stages",
                            headers=approver_headers)).json()["value"]
    response = await api.patch(f"{EM}/assignmentApprovals/{created.json()['id']}/stages/{stages[0]['id']}",
                               headers=approver_headers, json=body)
    graph_error(response, 400)
    # Still waiting: a bad body decided nothing.
    assert (await api.get(f"{EM}/assignmentRequests/{created.json()['id']}",
                          headers=approver_headers)).json()["state"] == "pendingApproval"
    cancel = await api.post(f"{EM}/assignmentRequests/{created.json()['id']}/cancel",
                            headers=await make_token("guest", user_id=guest.id))
    assert cancel.status_code == 200, cancel.text
