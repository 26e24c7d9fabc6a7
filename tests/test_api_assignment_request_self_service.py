"""A guest asks for an access package through the Graph-shaped API, gets it delivered, reads their
assignment, and gives it back; a second request while one is open is refused."""

from datetime import datetime, timedelta, timezone

from foyer.db import session_scope
from foyer.models.directory import GroupMember
from tests.support import until, getter
from tests.factories import make_package, make_user, self_service, stage

EM = "/v1.0/identityGovernance/entitlementManagement"


async def test_guest_request_is_delivered_and_shows_as_an_assignment(api, make_token, organization_id):
    guest = await make_user(organization_id, "Gina Guest", guest=True)
    package, policy, group, _ = await make_package(organization_id, policy=self_service())
    headers = await make_token("guest", user_id=guest.id)

    response = await api.post(f"{EM}/assignmentRequests", headers=headers, json={
        "requestType": "userAdd", "justification": "Working on the Q3 launch",
        "assignment": {"accessPackageId": package.id, "assignmentPolicyId": policy.id}})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["requestType"] == "userAdd"
    assert created["state"] in ("submitted", "delivering", "delivered")
    assert created["requestor"]["id"] == guest.id
    assert created["accessPackage"] == {"id": package.id}
    assert created["assignment"]["targetId"] == guest.id
    assert created["assignment"]["assignmentPolicyId"] == policy.id
    assert created["justification"] == "Working on the Q3 launch"
    assert created["foyerWorkflowId"] == f"access-request:{package.id}:{guest.id}"

    done = await until(getter(api, f"{EM}/assignmentRequests/{created['id']}", headers),
                       lambda r: r["state"] == "delivered")
    assert done["completedDateTime"] and done["assignment"]["id"]

    listed = (await api.get(f"{EM}/assignments", headers=headers,
                            params={"$filter": f"accessPackageId eq '{package.id}'"})).json()["value"]
    assert [a["id"] for a in listed] == [done["assignment"]["id"]]
    assignment = listed[0]
    assert assignment["state"] == "delivered"
    assert assignment["target"]["id"] == guest.id and assignment["target"]["email"] == guest.mail
    assert assignment["accessPackage"] == {"id": package.id, "displayName": package.display_name}
    assert assignment["assignmentPolicy"] == {"id": policy.id}
    assert {s["state"] for s in assignment["foyerResourceStates"]} == {"delivered"}
    assert len(assignment["foyerResourceStates"]) == 2
    end = datetime.fromisoformat(assignment["schedule"]["expiration"]["endDateTime"].replace("Z", "+00:00"))
    assert assignment["schedule"]["expiration"]["type"] == "afterDateTime"
    assert timedelta(days=29) < end - datetime.now(timezone.utc) <= timedelta(days=30)
    async with session_scope() as session:
        assert await session.get(GroupMember, (group.id, guest.id)) is not None

    # The same assignment, by id and by the target filter.
    one = await api.get(f"{EM}/assignments/{assignment['id']}", headers=headers)
    assert one.status_code == 200 and one.json()["id"] == assignment["id"]
    mine = (await api.get(f"{EM}/assignments", headers=headers,
                          params={"$filter": f"targetId eq '{guest.id}' and state eq 'delivered'"})).json()
    assert [a["id"] for a in mine["value"]] == [assignment["id"]]
    graph_mine = await api.get(f"{EM}/assignments/filterByCurrentUser(on='target')", headers=headers)
    assert graph_mine.status_code == 200, graph_mine.text
    assert [a["id"] for a in graph_mine.json()["value"]] == [assignment["id"]]


async def test_user_remove_expires_the_assignment(api, make_token, organization_id):
    guest = await make_user(organization_id, "Rex Guest", guest=True)
    package, policy, group, _ = await make_package(organization_id, policy=self_service())
    headers = await make_token("guest", user_id=guest.id)
    added = await api.post(f"{EM}/assignmentRequests", headers=headers, json={
        "requestType": "userAdd", "assignment": {"accessPackageId": package.id, "assignmentPolicyId": policy.id}})
    assert added.status_code == 201, added.text
    delivered = await until(getter(api, f"{EM}/assignmentRequests/{added.json()['id']}", headers),
                            lambda r: r["state"] == "delivered")

    # Right after delivery: the add request's run may still be closing; this is not a double submit.
    removed = await api.post(f"{EM}/assignmentRequests", headers=headers, json={
        "requestType": "userRemove", "assignment": {"accessPackageId": package.id}})
    assert removed.status_code == 201, removed.text
    assert removed.json()["assignment"]["id"] == delivered["assignment"]["id"]
    await until(getter(api, f"{EM}/assignmentRequests/{removed.json()['id']}", headers),
                lambda r: r["state"] == "delivered")

    assignment = (await api.get(f"{EM}/assignments/{delivered['assignment']['id']}", headers=headers)).json()
    assert assignment["state"] == "expired" and assignment["expiredDateTime"]
    assert {s["state"] for s in assignment["foyerResourceStates"]} == {"removed"}
    async with session_scope() as session:
        assert await session.get(GroupMember, (group.id, guest.id)) is None

    # Nothing left to remove.
    again = await api.post(f"{EM}/assignmentRequests", headers=headers, json={
        "requestType": "userRemove", "assignment": {"accessPackageId": package.id}})
    assert again.status_code == 409 and again.json()["error"]["code"] == "notAssigned"


async def test_second_request_while_one_is_pending_is_refused(api, make_token, organization_id):
    guest = await make_user(organization_id, "Dora Guest", guest=True)
    approver = await make_user(organization_id, "Abe Approver")
    package, policy, _, _ = await make_package(organization_id, policy=self_service(
        request_approval_settings={"isApprovalRequiredForAdd": True, "stages": [stage([approver])]}))
    headers = await make_token("guest", user_id=guest.id)
    body = {"requestType": "userAdd", "assignment": {"accessPackageId": package.id, "assignmentPolicyId": policy.id}}

    first = await api.post(f"{EM}/assignmentRequests", headers=headers, json=body)
    assert first.status_code == 201, first.text
    assert first.json()["state"] == "pendingApproval"
    second = await api.post(f"{EM}/assignmentRequests", headers=headers, json=body)
    assert second.status_code == 409, second.text
    assert second.json()["error"]["code"] == "pendingRequestExists"

    mine = (await api.get(f"{EM}/assignmentRequests", headers=headers,
                          params={"$filter": "state eq 'pendingApproval'"})).json()["value"]
    assert [r["id"] for r in mine] == [first.json()["id"]]
    # Leave nothing waiting behind.
    canceled = await api.post(f"{EM}/assignmentRequests/{first.json()['id']}/cancel", headers=headers)
    assert canceled.status_code == 200 and canceled.json()["state"] == "canceled"


async def test_already_assigned_is_refused(api, make_token, organization_id):
    guest = await make_user(organization_id, "Al Guest", guest=True)
    package, policy, _, _ = await make_package(organization_id, policy=self_service())
    headers = await make_token("guest", user_id=guest.id)
    body = {"requestType": "userAdd", "assignment": {"accessPackageId": package.id, "assignmentPolicyId": policy.id}}
    first = await api.post(f"{EM}/assignmentRequests", headers=headers, json=body)
    assert first.status_code == 201, first.text
    await until(getter(api, f"{EM}/assignmentRequests/{first.json()['id']}", headers),
                lambda r: r["state"] == "delivered")
    again = await api.post(f"{EM}/assignmentRequests", headers=headers, json=body)
    assert again.status_code == 409 and again.json()["error"]["code"] == "alreadyAssigned", again.text
