"""Approval of a sign-up by an external approval system through the signed callback: the system
is told (approvalRequested), approvers are mailed, a forged or misattributed callback gets 401, a
replayed signed message 409 replayedCallback, the same decision freshly signed 200 with the
recorded decision, a conflicting one 409; the approver list shows the sign-up only to approvers."""

import time

import httpx

from foyer.security import connector_secret, sign
from tests.factories import make_user
from tests.connector_server import connector_server
from tests.sign_up_support import callback, result_state, sign_up_row, submit_attributes, through_code
from tests.factories import make_flow
from tests.support import find_user, getter, unique_email, until


async def test_external_approval_callback(server, api, mail, organization_id, make_token):
    approver = await make_user(organization_id, "Ari Approver")
    bystander = await make_user(organization_id, "Bo Bystander")
    async with connector_server() as connectors:
        system = await connectors.connector(organization_id)
        other = await connectors.connector(organization_id)
        connectors.reply({"action": "Pending", "reference": "ticket-7"}, status=202, step="approvalRequested")
        flow_id = await make_flow(organization_id, approval={
            "approverIds": [approver.id], "apiConnectorId": system, "timeout": "P7D"})
        email = unique_email()
        async with httpx.AsyncClient(base_url=server, timeout=30) as client:
            sign_up_id, _ = await through_code(client, mail, flow_id, email)
            page = await submit_attributes(client, flow_id, sign_up_id, email, displayName="Pat Pending",
                                           country="KE")
        assert result_state(page.text) == "pendingApproval", page.text[:800]
        notice = (await mail.wait_for(approver.mail))[-1]  # mailed after the system was told
        assert "approvalRequested" in connectors.steps()
        assert f"/approvals/signups/{sign_up_id}" in notice.text and email in notice.subject

    mine = await make_token("member", user_id=approver.id)
    theirs = await make_token("member", user_id=bystander.id)
    query = "/v1.0/identity/signUps?$filter=state eq 'pendingApproval'"
    listed = await getter(api, query, mine)()
    assert sign_up_id in [s["id"] for s in listed["value"]]
    assert sign_up_id not in [s["id"] for s in (await getter(api, query, theirs)())["value"]]
    assert (await api.get(f"/v1.0/identity/signUps/{sign_up_id}", headers=theirs)).status_code == 404

    forged = await callback(api, sign_up_id, "approval", {"decision": "approve"}, system, secret="not-the-secret")
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "InvalidAuthenticationToken"
    misattributed = await callback(api, sign_up_id, "approval", {"decision": "approve"}, other)
    assert misattributed.status_code == 401
    stale = await callback(api, sign_up_id, "approval", {"decision": "approve"}, system, timestamp=1_000_000)
    assert stale.status_code == 401
    assert (await sign_up_row(email)).state == "pendingApproval"

    raw = b'{"decision": "approve", "reason": "contract on file"}'
    signature = sign(connector_secret(system), int(time.time()), raw)
    accepted = await callback(api, sign_up_id, "approval", {}, system, raw=raw, signature=signature)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["decision"] == "approve"
    replayed = await callback(api, sign_up_id, "approval", {}, system, raw=raw, signature=signature)
    assert replayed.status_code == 409 and replayed.json()["error"]["code"] == "replayedCallback"

    row = await until(lambda: sign_up_row(email), lambda r: r.state == "completed")
    again = await callback(api, sign_up_id, "approval", {"decision": "approve"}, system)
    assert again.status_code == 200 and again.json()["decision"] == "approve"
    conflicting = await callback(api, sign_up_id, "approval", {"decision": "deny"}, system)
    assert conflicting.status_code == 409 and conflicting.json()["error"]["code"] == "conflictingDecision"

    user = await find_user(email)
    assert user is not None and row.user_id == user.id and row.decided_by_id == system
    assert (await api.post(f"/v1.0/identity/signUps/{sign_up_id}/deny", headers=mine,
                           json={"reason": "late"})).status_code == 409
