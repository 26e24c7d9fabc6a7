"""Who may ask for what, and who sees which requests, assignments and approvals: 401 without a
valid token, 403 for admin-only request types, 404 for what is someone else's."""


import pytest

from foyer.db import session_scope
from foyer.models.entitlement import Catalog
from foyer.models.enums import Role
from tests.support import until
from tests.factories import make_package, make_user, self_service, single, stage

EM = "/v1.0/identityGovernance/entitlementManagement"


async def state_of(api, headers, request_id: str) -> str:
    response = await api.get(f"{EM}/assignmentRequests/{request_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["state"]


async def delivered_request(api, make_token, organization_id, name: str):
    guest = await make_user(organization_id, name, guest=True)
    package, policy, _, _ = await make_package(organization_id, policy=self_service())
    headers = await make_token("guest", user_id=guest.id)
    response = await api.post(f"{EM}/assignmentRequests", headers=headers, json={
        "requestType": "userAdd", "assignment": {"accessPackageId": package.id, "assignmentPolicyId": policy.id}})
    assert response.status_code == 201, response.text
    request_id = response.json()["id"]
    await until(lambda: state_of(api, headers, request_id), lambda s: s == "delivered")
    body = (await api.get(f"{EM}/assignmentRequests/{request_id}", headers=headers)).json()
    return guest, headers, package, policy, body


@pytest.mark.parametrize("method, path", [
    ("GET", "/assignmentRequests"), ("POST", "/assignmentRequests"),
    ("GET", "/assignmentRequests/x"), ("POST", "/assignmentRequests/x/cancel"),
    ("GET", "/assignments"), ("GET", "/assignments/x"),
    ("GET", "/assignmentApprovals/filterByCurrentUser(on='approver')"),
    ("GET", "/assignmentApprovals/x/stages"), ("PATCH", "/assignmentApprovals/x/stages/y"),
])
async def test_no_token_or_a_bad_one_is_401(api, method, path):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = await api.request(method, f"{EM}{path}", headers=headers,
                                     json={} if method in ("POST", "PATCH") else None)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


async def test_admin_types_need_an_admin(api, make_token, admin, organization_id):
    guest = await make_user(organization_id, "Ada Target", guest=True)
    member = await make_user(organization_id, "Mo Member")
    package, policy, _, _ = await make_package(organization_id, policy=self_service())
    body = {"requestType": "adminAdd",
            "assignment": {"accessPackageId": package.id, "assignmentPolicyId": policy.id, "targetId": guest.id}}
    for headers in (await make_token("member", user_id=member.id), await make_token("guest", user_id=guest.id),
                    await make_token(Role.guest_inviter)):
        refused = await api.post(f"{EM}/assignmentRequests", headers=headers, json=body)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "Authorization_RequestDenied"

    # An administrator's token (not a directory user) assigns directly, and takes it back.
    created = await api.post(f"{EM}/assignmentRequests", headers=admin, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["requestor"] is None and created.json()["assignment"]["targetId"] == guest.id
    await until(lambda: state_of(api, admin, created.json()["id"]), lambda s: s == "delivered")
    removed = await api.post(f"{EM}/assignmentRequests", headers=admin, json={
        "requestType": "adminRemove", "assignment": {"accessPackageId": package.id, "targetId": guest.id}})
    assert removed.status_code == 201, removed.text
    await until(lambda: state_of(api, admin, removed.json()["id"]), lambda s: s == "delivered")
    assignments = (await api.get(f"{EM}/assignments", headers=admin, params={
        "$filter": f"accessPackageId eq '{package.id}'"})).json()["value"]
    assert [a["state"] for a in assignments] == ["expired"]

    # A token that is not a person asks for itself: there is no self to ask for.
    no_person = await api.post(f"{EM}/assignmentRequests", headers=admin, json={
        "requestType": "userAdd", "assignment": {"accessPackageId": package.id, "assignmentPolicyId": policy.id}})
    assert no_person.status_code == 400 and no_person.json()["error"]["code"] == "invalidRequest"


async def test_requests_and_assignments_are_seen_by_their_people_and_admins(api, make_token, admin,
                                                                           organization_id):
    guest, headers, package, _, request = await delivered_request(api, make_token, organization_id, "Vi Guest")
    other = await make_user(organization_id, "Otto Guest", guest=True)
    other_headers = await make_token("guest", user_id=other.id)
    member_headers = await make_token("member", user_id=(await make_user(organization_id, "Meg Member")).id)
    assignment_id = request["assignment"]["id"]

    for outsider in (other_headers, member_headers):
        assert (await api.get(f"{EM}/assignmentRequests/{request['id']}", headers=outsider)).status_code == 404
        assert (await api.get(f"{EM}/assignments/{assignment_id}", headers=outsider)).status_code == 404
        assert (await api.get(f"{EM}/assignmentApprovals/{request['id']}/stages",
                              headers=outsider)).status_code == 404
        listed = (await api.get(f"{EM}/assignmentRequests", headers=outsider)).json()["value"]
        assert request["id"] not in [r["id"] for r in listed]
        listed = (await api.get(f"{EM}/assignments", headers=outsider)).json()["value"]
        assert assignment_id not in [a["id"] for a in listed]
        refused = await api.post(f"{EM}/assignmentRequests/{request['id']}/cancel", headers=outsider)
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "Request_ResourceNotFound"

    for insider in (headers, admin):
        assert (await api.get(f"{EM}/assignmentRequests/{request['id']}", headers=insider)).status_code == 200
        assert (await api.get(f"{EM}/assignments/{assignment_id}", headers=insider)).status_code == 200
        listed = (await api.get(f"{EM}/assignmentRequests", headers=insider,
                                params={"$filter": f"accessPackageId eq '{package.id}'"})).json()["value"]
        assert [r["id"] for r in listed] == [request["id"]]

    # The owners of the package's catalog see its requests and assignments.
    owner = await make_user(organization_id, "Cat Owner")
    async with session_scope() as session:
        catalog = await session.get(Catalog, package.catalog_id)
        catalog.owner_ids = [owner.id]
        session.add(catalog)
    owner_headers = await make_token("member", user_id=owner.id)
    listed = (await api.get(f"{EM}/assignments", headers=owner_headers)).json()["value"]
    assert assignment_id in [a["id"] for a in listed]
    assert (await api.get(f"{EM}/assignmentRequests/{request['id']}", headers=owner_headers)).status_code == 200


async def test_on_behalf_requests_are_seen_by_requestor_and_target(api, make_token, organization_id):
    sponsor = await make_user(organization_id, "Sam Sponsor")
    outsider = await make_user(organization_id, "Nat Nobody")
    guest = await make_user(organization_id, "Bea Guest", guest=True)
    approver = await make_user(organization_id, "Ari Approver")
    package, policy, _, _ = await make_package(organization_id, policy=self_service(
        requestor_settings={"enableOnBehalfRequestorsToAddAccess": True, "onBehalfRequestors": [single(sponsor)]},
        request_approval_settings={"isApprovalRequiredForAdd": True, "stages": [stage([approver])]}))
    body = {"requestType": "userAdd",
            "assignment": {"accessPackageId": package.id, "assignmentPolicyId": policy.id, "targetId": guest.id}}

    refused = await api.post(f"{EM}/assignmentRequests", headers=await make_token("member", user_id=outsider.id),
                             json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "requestNotAllowed", refused.text

    sponsor_headers = await make_token("member", user_id=sponsor.id)
    created = await api.post(f"{EM}/assignmentRequests", headers=sponsor_headers, json=body)
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["requestor"]["id"] == sponsor.id and request["assignment"]["targetId"] == guest.id
    guest_headers = await make_token("guest", user_id=guest.id)
    for headers in (sponsor_headers, guest_headers):
        listed = (await api.get(f"{EM}/assignmentRequests", headers=headers)).json()["value"]
        assert [r["id"] for r in listed] == [request["id"]]
    # Graph's functions for my own requests: made by me, or for me.
    mine = f"{EM}/assignmentRequests/filterByCurrentUser"
    for headers, on, expected in ((sponsor_headers, "createdBy", [request["id"]]), (sponsor_headers, "target", []),
                                  (guest_headers, "target", [request["id"]]), (guest_headers, "createdBy", [])):
        listed = await api.get(f"{mine}(on='{on}')", headers=headers)
        assert listed.status_code == 200, listed.text
        assert [r["id"] for r in listed.json()["value"]] == expected, on
    stages = await api.get(f"{EM}/assignmentApprovals/{request['id']}/stages", headers=guest_headers)
    assert stages.status_code == 200 and stages.json()["value"][0]["assignedToMe"] is False

    # Only the requestor (or an admin) cancels: not the target.
    by_target = await api.post(f"{EM}/assignmentRequests/{request['id']}/cancel", headers=guest_headers)
    assert by_target.status_code == 403, by_target.text
    by_sponsor = await api.post(f"{EM}/assignmentRequests/{request['id']}/cancel", headers=sponsor_headers)
    assert by_sponsor.status_code == 200 and by_sponsor.json()["state"] == "canceled"


async def test_approvals_belong_to_people(api, admin, organization_id):
    for path in ("/assignmentRequests/filterByCurrentUser(on='target')",
                 "/assignments/filterByCurrentUser(on='target')"):
        refused = await api.get(f"{EM}{path}", headers=admin)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "Authorization_RequestDenied"
    waiting = await api.get(f"{EM}/assignmentApprovals/filterByCurrentUser(on='approver')", headers=admin)
    assert waiting.status_code == 403 and waiting.json()["error"]["code"] == "Authorization_RequestDenied"
    decided = await api.patch(f"{EM}/assignmentApprovals/x/stages/y", headers=admin,
                              json={"reviewResult": "Approve"})
    assert decided.status_code == 403 and decided.json()["error"]["code"] == "Authorization_RequestDenied"
