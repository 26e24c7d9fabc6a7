"""GET /v1.0/auditLogs/directoryAudits: Graph's directoryAudit shape, newest first, $filter."""

import uuid
from datetime import datetime, timedelta, timezone

from tests.support import invite

AUDITS = "/v1.0/auditLogs/directoryAudits"


async def test_admin_actions_appear_newest_first(api, make_token):
    admin = await make_token("Global Administrator", name="Audrey Auditor")
    name = f"Audited {uuid.uuid4().hex[:8]}"
    group = (await api.post("/v1.0/groups", headers=admin, json={"displayName": name})).json()
    for n in (1, 2):
        response = await api.patch(f"/v1.0/groups/{group['id']}", headers=admin,
                                   json={"description": f"v{n}"})
        assert response.status_code == 204
    assert (await api.delete(f"/v1.0/groups/{group['id']}", headers=admin)).status_code == 204

    response = await api.get(AUDITS, headers=admin, params={"$filter": f"targetResourceId eq '{group['id']}'"})
    assert response.status_code == 200, response.text
    records = response.json()["value"]
    assert [r["activityDisplayName"] for r in records] == [
        "Delete group", "Update group", "Update group", "Add group"]
    times = [r["activityDateTime"] for r in records]
    assert times == sorted(times, reverse=True)

    added = records[-1]
    assert added["category"] == "GroupManagement" and added["result"] == "success"
    assert added["initiatedBy"]["user"]["displayName"] == "Audrey Auditor"
    assert added["targetResources"] == [{"id": group["id"], "displayName": name, "type": "Group"}]
    assert added["correlationId"] is None and added["activityDateTime"].endswith("Z")
    assert {"id", "resultReason", "additionalDetails", "loggedByService"} <= set(added)
    assert records[1]["additionalDetails"] == [{"key": "modifiedProperties", "value": "description"},
                                               {"key": "actingAs", "value": "administrator"}]

    # Paging keeps the order.
    first = (await api.get(AUDITS, headers=admin, params={
        "$filter": f"targetResourceId eq '{group['id']}'", "$top": "3"})).json()
    second = (await api.get(first["@odata.nextLink"], headers=admin)).json()
    assert [r["id"] for r in first["value"] + second["value"]] == [r["id"] for r in records]

    # Other filters.
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = await api.get(AUDITS, headers=admin, params={
        "$filter": f"targetResourceId eq '{group['id']}' and activityDisplayName eq 'Update group' "
                   f"and category eq 'GroupManagement' and result eq 'success' "
                   f"and activityDateTime ge {since}", "$count": "true"})
    assert response.json()["@odata.count"] == 2
    future = await api.get(AUDITS, headers=admin, params={
        "$filter": f"targetResourceId eq '{group['id']}' and activityDateTime gt 2999-01-01T00:00:00Z"})
    assert future.json()["value"] == []


async def test_workflow_records_carry_the_workflow_id(api, admin, new_email):
    email = new_email()
    created = await invite(api, admin, email, sendInvitationMessage=False)
    workflow_id = created["foyerWorkflowId"]
    revoked = await api.post(f"/v1.0/invitations/{created['id']}/revoke", headers=admin)
    assert revoked.status_code == 200

    response = await api.get(AUDITS, headers=admin, params={"$filter": f"foyerWorkflowId eq '{workflow_id}'"})
    records = response.json()["value"]
    assert [r["activityDisplayName"] for r in records] == ["Revoke invitation", "Invite external user"]
    assert all(r["correlationId"] == r["foyerWorkflowId"] == workflow_id for r in records)
    assert records[0]["targetResources"][0]["id"] == created["invitedUser"]["id"]
    assert {"key": "invitationId", "value": created["id"]} in records[0]["additionalDetails"]


async def test_refusals_are_failures(api, admin, make_token, new_email):
    await api.patch("/v1.0/policies/externalCollaborationPolicy", headers=admin,
                    json={"domainRestrictions": {"mode": "blockList", "domains": ["blocked.example"]}})
    email = new_email("blocked.example")
    refused = await api.post("/v1.0/invitations", headers=admin, json={
        "invitedUserEmailAddress": email, "inviteRedirectUrl": "https://app.contoso.test/"})
    assert refused.status_code == 403
    response = await api.get(AUDITS, headers=admin, params={"$filter": "result eq 'failure'", "$top": "50"})
    [record] = [r for r in response.json()["value"] if r["targetResources"][0]["displayName"] == email]
    assert record["activityDisplayName"] == "Invite external user"
    assert record["resultReason"].startswith("domainNotAllowed")

    for role in ("User Administrator", "Guest Inviter", "member", "guest"):
        denied = await api.get(AUDITS, headers=await make_token(role))
        assert denied.status_code == 403, role
        assert denied.json()["error"]["code"] == "Authorization_RequestDenied"
