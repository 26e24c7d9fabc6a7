"""Approvers find what waits for them, read the stages and decide through the Graph-shaped API;
the requestor cannot approve, a stage is decided once, and the requestor can cancel."""


from tests.support import until, getter
from tests.factories import make_package, make_user, self_service, stage

EM = "/v1.0/identityGovernance/entitlementManagement"
WAITING = f"{EM}/assignmentApprovals/filterByCurrentUser(on='approver')"


async def pending_request(api, make_token, organization_id, stages_of):
    """A guest's request waiting for approval; stages_of(approvers) builds the policy's stages."""
    guest = await make_user(organization_id, "Quinn Guest", guest=True)
    approvers = [await make_user(organization_id, f"Approver {i}") for i in range(2)]
    package, policy, group, _ = await make_package(organization_id, policy=self_service(
        request_approval_settings={"isApprovalRequiredForAdd": True, "stages": stages_of(approvers)}))
    guest_headers = await make_token("guest", user_id=guest.id)
    response = await api.post(f"{EM}/assignmentRequests", headers=guest_headers, json={
        "requestType": "userAdd", "justification": "Vendor onboarding",
        "assignment": {"accessPackageId": package.id, "assignmentPolicyId": policy.id}})
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "pendingApproval"
    approver_headers = [await make_token("member", user_id=a.id) for a in approvers]
    return response.json(), guest_headers, approver_headers, approvers


async def waiting_ids(api, headers) -> list[str]:
    response = await api.get(WAITING, headers=headers)
    assert response.status_code == 200, response.text
    return [a["id"] for a in response.json()["value"]]


async def test_approver_approves_and_the_request_is_delivered(api, make_token, organization_id):
    request, guest_headers, (approver, other), approvers = await pending_request(
        api, make_token, organization_id, lambda a: [stage([a[0]])])
    request_id = request["id"]

    waiting = await until(lambda: waiting_ids(api, approver), lambda ids: request_id in ids)
    assert request_id in waiting
    assert request_id not in await waiting_ids(api, other)
    listed = (await api.get(WAITING, headers=approver)).json()["value"]
    approval = next(a for a in listed if a["id"] == request_id)
    assert [s["status"] for s in approval["stages"]] == ["InProgress"]

    stages = (await api.get(f"{EM}/assignmentApprovals/{request_id}/stages", headers=approver)).json()["value"]
    assert len(stages) == 1
    open_stage = stages[0]
    assert open_stage["assignedToMe"] is True and open_stage["reviewResult"] == "NotReviewed"
    assert open_stage["status"] == "InProgress" and open_stage["reviewedBy"] is None
    # The approver reads the request itself (justification, answers) to decide.
    seen = await api.get(f"{EM}/assignmentRequests/{request_id}", headers=approver)
    assert seen.status_code == 200 and seen.json()["justification"] == "Vendor onboarding"

    stage_path = f"{EM}/assignmentApprovals/{request_id}/stages/{open_stage['id']}"
    own = await api.patch(stage_path, headers=guest_headers, json={"reviewResult": "Approve"})
    assert own.status_code == 403 and own.json()["error"]["code"] == "selfApprovalNotAllowed", own.text
    stranger = await api.patch(stage_path, headers=other, json={"reviewResult": "Approve"})
    assert stranger.status_code == 403 and stranger.json()["error"]["code"] == "notAnApprover", stranger.text

    decided = await api.patch(stage_path, headers=approver,
                              json={"reviewResult": "Approve", "justification": "Known vendor"})
    assert decided.status_code == 204, decided.text
    again = await api.patch(stage_path, headers=approver, json={"reviewResult": "Deny", "justification": "oops"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "stageAlreadyDecided", again.text

    await until(getter(api, f"{EM}/assignmentRequests/{request_id}", guest_headers),
                lambda r: r["state"] == "delivered")
    stages = (await api.get(f"{EM}/assignmentApprovals/{request_id}/stages", headers=guest_headers)).json()["value"]
    assert stages[0]["status"] == "Completed" and stages[0]["reviewResult"] == "Approve"
    assert stages[0]["justification"] == "Known vendor" and stages[0]["reviewedDateTime"]
    assert stages[0]["reviewedBy"] == {"id": approvers[0].id, "displayName": approvers[0].display_name}
    assert stages[0]["assignedToMe"] is False  # the guest reads it, but is not its approver
    assert request_id not in await waiting_ids(api, approver)


async def test_two_stages_and_a_denial(api, make_token, organization_id):
    request, guest_headers, (first, second), _ = await pending_request(
        api, make_token, organization_id, lambda a: [stage([a[0]]), stage([a[1]], justification=True)])
    request_id = request["id"]
    await until(lambda: waiting_ids(api, first), lambda ids: request_id in ids)
    assert request_id not in await waiting_ids(api, second)
    stages = (await api.get(f"{EM}/assignmentApprovals/{request_id}/stages", headers=first)).json()["value"]
    assert [s["status"] for s in stages] == ["InProgress", "NotStarted"]
    # The second stage is not open yet.
    early = await api.patch(f"{EM}/assignmentApprovals/{request_id}/stages/{stages[1]['id']}",
                            headers=second, json={"reviewResult": "Approve", "justification": "ok"})
    assert early.status_code == 409, early.text
    ok = await api.patch(f"{EM}/assignmentApprovals/{request_id}/stages/{stages[0]['id']}",
                         headers=first, json={"reviewResult": "Approve"})
    assert ok.status_code == 204, ok.text

    await until(lambda: waiting_ids(api, second), lambda ids: request_id in ids)
    second_stage = f"{EM}/assignmentApprovals/{request_id}/stages/{stages[1]['id']}"
    unjustified = await api.patch(second_stage, headers=second, json={"reviewResult": "Deny"})
    assert unjustified.status_code == 400 and unjustified.json()["error"]["code"] == "invalidRequest"
    denied = await api.patch(second_stage, headers=second,
                             json={"reviewResult": "Deny", "justification": "No contract yet"})
    assert denied.status_code == 204, denied.text
    final = await until(getter(api, f"{EM}/assignmentRequests/{request_id}", guest_headers),
                        lambda r: r["state"] == "denied")
    assert final["completedDateTime"]
    assignments = (await api.get(f"{EM}/assignments", headers=guest_headers,
                                 params={"$filter": f"accessPackageId eq '{request['accessPackage']['id']}'"}))
    assert assignments.json()["value"] == []


async def test_requestor_cancels_a_pending_request(api, make_token, organization_id):
    request, guest_headers, (approver, _), _ = await pending_request(
        api, make_token, organization_id, lambda a: [stage([a[0]])])
    request_id = request["id"]
    await until(lambda: waiting_ids(api, approver), lambda ids: request_id in ids)

    not_theirs = await api.post(f"{EM}/assignmentRequests/{request_id}/cancel", headers=approver)
    assert not_theirs.status_code == 403, not_theirs.text
    canceled = await api.post(f"{EM}/assignmentRequests/{request_id}/cancel", headers=guest_headers)
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["state"] == "canceled" and canceled.json()["completedDateTime"]
    assert request_id not in await waiting_ids(api, approver)

    twice = await api.post(f"{EM}/assignmentRequests/{request_id}/cancel", headers=guest_headers)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "requestNotCancelable"
    stages = (await api.get(f"{EM}/assignmentApprovals/{request_id}/stages", headers=approver)).json()["value"]
    late = await api.patch(f"{EM}/assignmentApprovals/{request_id}/stages/{stages[0]['id']}",
                           headers=approver, json={"reviewResult": "Approve"})
    assert late.status_code == 409 and late.json()["error"]["code"] == "stageAlreadyDecided", late.text


async def test_admin_cancels_and_the_path_is_reached_however_it_is_quoted(api, make_token, admin,
                                                                          organization_id):
    request, _, (approver, _), _ = await pending_request(
        api, make_token, organization_id, lambda a: [stage([a[0]])])
    request_id = request["id"]
    await until(lambda: waiting_ids(api, approver), lambda ids: request_id in ids)
    # The literal Graph path, and the same with its quotes percent-encoded.
    encoded = await api.get(f"{EM}/assignmentApprovals/filterByCurrentUser(on=%27approver%27)", headers=approver)
    assert encoded.status_code == 200 and request_id in [a["id"] for a in encoded.json()["value"]]
    one = await api.get(f"{EM}/assignmentApprovals/{request_id}", headers=approver)
    assert one.status_code == 200 and one.json()["id"] == request_id and len(one.json()["stages"]) == 1

    canceled = await api.post(f"{EM}/assignmentRequests/{request_id}/cancel", headers=admin)
    assert canceled.status_code == 200 and canceled.json()["state"] == "canceled", canceled.text
