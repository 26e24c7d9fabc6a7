"""A pending sign-up decided by an approver through the API with their bearer token
(`POST /v1.0/identity/signUps/{id}/approve` and `/deny` with a reason): the list shows it to its
approver and not to another member; a member who is not an approver of the flow gets 403 and
decides nothing; approve → the guest is created, in the flow's app, welcomed; deny → the person is
mailed the reason, nothing is created; the same decision again → 200 with the recorded decision,
the other one → 409."""

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.directory import AppRoleAssignment
from tests.factories import make_user
from tests.sign_up_support import result_state, sign_up_row, submit_attributes, through_code
from tests.factories import make_flow
from tests.support import find_user, getter, unique_email, until
from tests.factories import make_group_and_app

SIGN_UPS = "/v1.0/identity/signUps"


async def _pending(server, mail, flow_id: str, name: str) -> tuple[str, str]:
    email = unique_email()
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        sign_up_id, _ = await through_code(client, mail, flow_id, email)
        page = await submit_attributes(client, flow_id, sign_up_id, email, displayName=name, country="NO")
    assert result_state(page.text) == "pendingApproval", page.text[:800]
    return sign_up_id, email


async def test_approver_approves_and_denies_through_the_api(server, api, mail, organization_id, make_token):
    _, app = await make_group_and_app(organization_id, "Partner portal")
    approver = await make_user(organization_id, "Paula Approver")
    bystander = await make_user(organization_id, "Ben Bystander")
    flow_id = await make_flow(organization_id, application_ids=[app.id],
                              approval={"approverIds": [approver.id], "timeout": "P7D"})
    approved_id, approved_email = await _pending(server, mail, flow_id, "Amy Approved")
    denied_id, denied_email = await _pending(server, mail, flow_id, "Dan Denied")
    await mail.wait_for(approver.mail, count=2)  # one notice per sign-up

    mine = await make_token("member", user_id=approver.id)
    theirs = await make_token("member", user_id=bystander.id)
    query = f"{SIGN_UPS}?$filter=state eq 'pendingApproval'"
    listed = {s["id"]: s for s in (await getter(api, query, mine)())["value"]}
    assert {approved_id, denied_id} <= set(listed)
    assert listed[approved_id]["email"] == approved_email and listed[approved_id]["userFlowId"] == flow_id
    assert listed[approved_id]["attributes"]["displayName"] == "Amy Approved"
    hidden = [s["id"] for s in (await getter(api, SIGN_UPS, theirs)())["value"]]
    assert approved_id not in hidden and denied_id not in hidden

    for verb in ("approve", "deny"):
        refused = await api.post(f"{SIGN_UPS}/{approved_id}/{verb}", headers=theirs, json={"reason": "me too"})
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "notAnApprover"
    assert (await sign_up_row(approved_email)).state == "pendingApproval"

    approved = await api.post(f"{SIGN_UPS}/{approved_id}/approve", headers=mine,
                              json={"reason": "Signed partner agreement"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["decision"] == "approve"
    denied = await api.post(f"{SIGN_UPS}/{denied_id}/deny", headers=mine,
                            json={"reason": "We only onboard partners with a contract."})
    assert denied.status_code == 200, denied.text
    assert denied.json()["decision"] == "deny"

    row = await until(lambda: sign_up_row(approved_email), lambda r: r.state == "completed")
    guest = await find_user(approved_email)
    assert guest is not None and row.user_id == guest.id and guest.display_name == "Amy Approved"
    assert (guest.user_type, guest.external_user_state) == ("Guest", "Accepted")
    assert (row.decided_by_id, row.reason) == (approver.id, "Signed partner agreement")
    async with session_scope() as session:
        assigned = (await session.exec(select(AppRoleAssignment).where(
            AppRoleAssignment.principal_id == guest.id))).all()
    assert [a.application_id for a in assigned] == [app.id]
    welcome = (await mail.wait_for(approved_email, count=2))[-1]
    assert "Welcome" in welcome.subject

    row = await until(lambda: sign_up_row(denied_email), lambda r: r.state == "denied")
    assert (row.decided_by_id, row.user_id) == (approver.id, None)
    assert await find_user(denied_email) is None
    told = (await mail.wait_for(denied_email, count=2))[-1]
    assert "not approved" in told.subject
    assert "We only onboard partners with a contract." in told.text

    same = await api.post(f"{SIGN_UPS}/{approved_id}/approve", headers=mine, json={})
    assert same.status_code == 200 and same.json()["decision"] == "approve", same.text
    other = await api.post(f"{SIGN_UPS}/{approved_id}/deny", headers=mine, json={"reason": "changed my mind"})
    assert other.status_code == 409 and other.json()["error"]["code"] == "conflictingDecision", other.text
    same = await api.post(f"{SIGN_UPS}/{denied_id}/deny", headers=mine)
    assert same.status_code == 200 and same.json()["decision"] == "deny", same.text
    other = await api.post(f"{SIGN_UPS}/{denied_id}/approve", headers=mine)
    assert other.status_code == 409 and other.json()["error"]["code"] == "conflictingDecision", other.text
    late = await api.post(f"{SIGN_UPS}/{approved_id}/approve", headers=theirs)
    assert late.status_code == 403, late.text  # a decided sign-up tells a stranger nothing either

    assert await find_user(denied_email) is None
    assert len(mail.to(approved_email)) == 2 and len(mail.to(denied_email)) == 2
    gone = [s["id"] for s in (await getter(api, query, mine)())["value"]]
    assert approved_id not in gone and denied_id not in gone
