"""What Temporal's history and Web UI show: anyone who can read a workflow's history (the Web UI,
`temporal workflow show`, an export) must not find there what redeems an invitation or signs a
person in — the invitation's link id (with FOYER_SECRET_KEY, enough to rebuild the redemption
link), the link token itself, or a one-time passcode — and workflow ids (listed everywhere, kept
in the visibility store) must carry neither people's email addresses nor challenge ids.

Each journey runs for real (API, pages, worker, the dev server), then each workflow's history is
fetched and searched, payloads decoded."""

import asyncio
import base64
import json
import uuid

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.invitation import Invitation, Passcode
from tests.factories import make_user
from tests.portal_support import challenge_in
from tests.sign_up_support import (
    ask_code, result_state, sign_up_id_in, sign_up_row, submit_attributes, through_code,
)
from tests.factories import make_flow
from tests.support import emailed_code, find_user, invite, link_in, passcode_in, submit_code, unique_email
from tests.test_campaign_end_to_end import wait_for_state
from foyer.workflows.messages import sign_in_workflow_id, sign_up_workflow_id


def _decoded(node, out: list[str]) -> None:
    """Every string in the history's JSON, with each payload's base64 `data` decoded."""
    if isinstance(node, dict):
        if "data" in node and "metadata" in node and isinstance(node["data"], str):
            out.append(base64.b64decode(node["data"]).decode("utf-8", "replace"))
        for value in node.values():
            _decoded(value, out)
    elif isinstance(node, list):
        for value in node:
            _decoded(value, out)
    elif isinstance(node, str):
        out.append(node)


async def history_text(client, workflow_id: str) -> str:
    """The whole history of every run under `workflow_id` (continue-as-new included), readable."""
    texts: list[str] = []
    async for execution in client.list_workflows(f"WorkflowId = '{workflow_id}'"):
        history = await client.get_workflow_handle(workflow_id, run_id=execution.run_id).fetch_history()
        _decoded(json.loads(history.to_json()), texts)
    if not texts:  # visibility lags a little: the latest run at least
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        _decoded(json.loads(history.to_json()), texts)
    return "\n".join(texts)


def assert_clean(workflow_id: str, history: str, *, in_id: list[str], anywhere: list[str]) -> None:
    assert history, f"no history for {workflow_id}"
    assert all(in_id + anywhere), "a value to look for is empty"
    found = [f"{value!r} in the workflow id {workflow_id!r}" for value in in_id + anywhere
             if value.lower() in workflow_id.lower()]
    found += [f"{value!r} in the history" for value in anywhere if value in history]
    assert not found, "; ".join(found)


def wrong(code: str) -> str:
    return "00000000" if code != "00000000" else "11111111"


async def invitation_row(invitation_id: str) -> Invitation:
    async with session_scope() as session:
        return await session.get(Invitation, invitation_id)


async def test_invite_passcode_redeem_leaves_no_secret_in_history(api, admin, mail, server, temporal):
    email = unique_email()
    created = await invite(api, admin, email)
    link = link_in((await mail.wait_for(email))[0].text)
    token = link.rsplit("/", 1)[1]
    async with httpx.AsyncClient() as browser:
        challenge, code = await emailed_code(browser, link, mail, email)
        # One wrong try first: wrong codes are counted too, and must not be kept either.
        redeemed = await submit_code(browser, link, challenge, wrong(code))
        assert redeemed.status_code == 400, redeemed.text[:300]
        redeemed = await submit_code(browser, link, challenge, code)
    assert redeemed.status_code == 303, redeemed.text[:300]

    row = await invitation_row(created["id"])
    assert row.state == "redeemed"
    history = await history_text(temporal.client, row.workflow_id)
    assert_clean(row.workflow_id, history, in_id=[email, challenge],
                 anywhere=[row.link_id, token, code])
    assert row.link_token_hash in history  # the digest is what the workflow checks links against


async def test_resend_and_revoke_leave_no_link_in_history(api, admin, mail, temporal):
    email = unique_email()
    first = await invite(api, admin, email)
    resent = await api.post(f"/v1.0/invitations/{first['id']}/resend", headers=admin)
    assert resent.status_code == 201, resent.text
    revoked = await api.post(f"/v1.0/invitations/{resent.json()['id']}/revoke", headers=admin)
    assert revoked.status_code == 200, revoked.text
    links = [link_in(m.text) for m in await mail.wait_for(email, count=2)]

    rows = [await invitation_row(first["id"]), await invitation_row(resent.json()["id"])]
    assert rows[0].workflow_id == rows[1].workflow_id
    history = await history_text(temporal.client, rows[0].workflow_id)
    assert_clean(rows[0].workflow_id, history, in_id=[email],
                 anywhere=[*(r.link_id for r in rows), *(link.rsplit("/", 1)[1] for link in links)])


async def test_sign_in_leaves_no_code_in_history_nor_challenge_in_id(server, mail, organization_id, temporal):
    member = await make_user(organization_id, "Hilde History")
    async with httpx.AsyncClient(base_url=server, follow_redirects=False, timeout=30) as browser:
        asked = await browser.post("/signin", data={"email": member.mail, "next": "/myaccess"})
        assert asked.status_code == 200, asked.text[:300]
        challenge = challenge_in(asked.text)
        code = passcode_in((await mail.wait_for(member.mail))[0].text)
        refused = await browser.post("/signin/verify", data={
            "challenge": challenge, "code": wrong(code),
            "email": member.mail, "next": "/myaccess"})
        assert refused.status_code == 400 and "4 tries left" in refused.text
        verified = await browser.post("/signin/verify", data={
            "challenge": challenge, "code": code, "email": member.mail, "next": "/myaccess"})
    assert verified.status_code == 303, verified.text[:300]

    workflow_id = sign_in_workflow_id(challenge)
    history = await history_text(temporal.client, workflow_id)
    assert "signedIn" in history
    assert_clean(workflow_id, history, in_id=[member.mail, challenge], anywhere=[code])


async def test_sign_up_leaves_no_code_in_history(server, mail, organization_id, temporal):
    flow_id = await make_flow(organization_id)
    email = unique_email()
    async with httpx.AsyncClient(base_url=server, timeout=30) as browser:
        sign_up_id, form = await through_code(browser, mail, flow_id, email)
        assert form.status_code == 200, form.text[:500]
        done = await submit_attributes(browser, flow_id, sign_up_id, email, displayName="Hanne History",
                                       country="NO")
        assert result_state(done.text) == "completed", done.text[:500]
    code = passcode_in(mail.to(email)[0].text)

    workflow_id = sign_up_workflow_id(sign_up_id)
    history = await history_text(temporal.client, workflow_id)
    assert_clean(workflow_id, history, in_id=[email], anywhere=[code])


async def test_campaign_rows_leave_no_link_in_history(api, admin, mail, temporal):
    domain = f"history-{uuid.uuid4().hex[:6]}.example"
    known, fresh = f"known@{domain}", f"fresh@{domain}"
    # A guest already exists (its invitation revoked): that row takes the one-row path.
    first = await invite(api, admin, known)
    assert (await api.post(f"/v1.0/invitations/{first['id']}/revoke", headers=admin)).status_code == 200
    response = await api.post("/v1.0/invitationCampaigns", headers=admin, json={"rows": [
        {"invitedUserEmailAddress": e, "inviteRedirectUrl": "https://app.test/",
         "sendInvitationMessage": True} for e in (known, fresh)]})
    assert response.status_code == 201, response.text
    done = await wait_for_state(api, admin, response.json()["id"], {"completed"})
    assert done["counts"]["invited"] == 2, done["counts"]
    await mail.wait_for(known, count=2)
    await mail.wait_for(fresh)

    async with session_scope() as session:
        rows = (await session.exec(select(Invitation).where(
            Invitation.email.in_([known, fresh])))).all()
    assert len(rows) == 3
    tokens = [link_in(m.text).rsplit("/", 1)[1] for e in (known, fresh) for m in mail.to(e)]
    for email in (known, fresh):
        workflow_id = next(r.workflow_id for r in rows if r.email == email)
        history = await history_text(temporal.client, workflow_id)
        assert_clean(workflow_id, history, in_id=[email],
                     anywhere=[*(r.link_id for r in rows), *tokens])
    campaign_history = await history_text(temporal.client, f"campaign:{response.json()['id']}")
    for secret in [*(r.link_id for r in rows), *tokens]:
        assert secret not in campaign_history


# --- the limits hold now that the pages check the codes (in the database, rows locked) -------

async def test_concurrent_wrong_codes_never_count_past_the_limit(api, admin, mail, server):
    email = unique_email()
    created = await invite(api, admin, email)
    link = link_in((await mail.wait_for(email))[0].text)
    async with httpx.AsyncClient() as browser:
        challenge, code = await emailed_code(browser, link, mail, email)
        answers = await asyncio.gather(*(submit_code(browser, link, challenge, wrong(code)) for _ in range(8)))
        assert all(a.status_code == 400 for a in answers)
        late = await submit_code(browser, link, challenge, code)
        assert late.status_code == 400 and "Too many wrong tries" in late.text
    async with session_scope() as session:
        passcode = await session.get(Passcode, challenge)
        row = await session.get(Invitation, created["id"])
    assert passcode.failed_attempts == 5 and passcode.consumed_date_time is None
    assert row.consecutive_passcode_failures == 5 and row.state == "pending"
    assert (await find_user(email)).external_user_state == "PendingAcceptance"


async def test_sign_up_wrong_codes_lock_and_end_the_sign_up(server, mail, organization_id):
    flow_id = await make_flow(organization_id)
    email = unique_email()
    async with httpx.AsyncClient(base_url=server, timeout=30) as browser:
        asked = await ask_code(browser, flow_id, email)
        assert asked.status_code == 200, asked.text[:500]
        sign_up_id = sign_up_id_in(asked.text)
        code = passcode_in((await mail.wait_for(email))[0].text)
        form = {"sign_up_id": sign_up_id, "email": email}
        for left in (4, 3, 2, 1):
            answer = await browser.post(f"/signup/{flow_id}/verify", data={**form, "code": wrong(code)})
            assert answer.status_code == 400 and f"{left} tr{'y' if left == 1 else 'ies'} left" in answer.text
        locked = await browser.post(f"/signup/{flow_id}/verify", data={**form, "code": wrong(code)})
        assert locked.status_code == 400 and "Too many wrong tries" in locked.text, locked.text[:800]
        late = await browser.post(f"/signup/{flow_id}/verify", data={**form, "code": code})
        assert late.status_code >= 400 and 'id="attributes-form"' not in late.text
    assert (await sign_up_row(email)).state == "expired"
