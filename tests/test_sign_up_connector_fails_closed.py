"""A postAttributeCollection connector that cannot give a usable answer blocks the whole sign-up
(fail closed), driven through the pages: slower than its timeout (foyerTimeoutSeconds set to 1
through the admin API, the server answering after 3 s), a 200 whose body is not JSON, a 500. The
person sees the blocked page with the generic message, no user is created, the SignUp row is
`blocked`, and the audit log names the connector, the step and the precise reason."""

import html

import httpx
import pytest
from sqlmodel import select

from foyer.activities.api_connectors import GENERIC_MESSAGE
from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from tests.connector_server import connector_server
from tests.sign_up_support import result_state, sign_up_row, submit_attributes, through_code
from tests.factories import make_flow
from tests.support import find_user, unique_email

CONNECTORS = "/v1.0/identity/apiConnectors"


@pytest.mark.parametrize("reply, timeout, reason", [
    ({"delay": 3}, 1, "no answer within 1 s"),
    ({"body": b"<html>surprise</html>"}, None, "HTTP 200 with a body that is not JSON"),
    ({"status": 500, "json": {"error": "database down"}}, None, "answered HTTP 500"),
], ids=["slower-than-timeout", "garbage", "server-error"])
async def test_unusable_connector_blocks_the_sign_up(server, api, admin, mail, organization_id,
                                                     reply, timeout, reason):
    async with connector_server() as connectors:
        created = await api.post(CONNECTORS, headers=admin, json={
            "displayName": "Partner registry", "targetUrl": connectors.url})
        assert created.status_code == 201, created.text
        connector_id = created.json()["id"]
        if timeout is not None:
            changed = await api.patch(f"{CONNECTORS}/{connector_id}", headers=admin,
                                      json={"foyerTimeoutSeconds": timeout})
            assert changed.status_code == 204, changed.text
            shown = (await api.get(f"{CONNECTORS}/{connector_id}", headers=admin)).json()
            assert shown["foyerTimeoutSeconds"] == timeout
        connectors.reply(**reply)
        flow_id = await make_flow(organization_id, post_attribute_collection_connector_id=connector_id)
        email = unique_email()
        async with httpx.AsyncClient(base_url=server, timeout=30) as client:
            sign_up_id, form = await through_code(client, mail, flow_id, email)
            assert 'id="attributes-form"' in form.text, form.text[:800]
            page = await submit_attributes(client, flow_id, sign_up_id, email, displayName="Fay Failclosed",
                                           country="NO")
            assert page.status_code == 400, page.text[:800]
            assert result_state(page.text) == "blocked"
            assert GENERIC_MESSAGE in html.unescape(page.text)
            assert 'id="attributes-form"' not in page.text
            later = await client.get(f"/signup/{flow_id}/status")
            assert result_state(later.text) == "blocked"
        assert [c["step"] for c in connectors.calls] == ["postAttributeCollection"]  # once, no retry
        assert connectors.calls[0]["email"] == email and connectors.calls[0]["displayName"] == "Fay Failclosed"

    row = await sign_up_row(email)
    assert (row.id, row.state, row.reason, row.user_id) == (sign_up_id, "blocked", GENERIC_MESSAGE, None)
    assert await find_user(email) is None
    assert len(mail.to(email)) == 1  # the code only: no welcome

    async with session_scope() as session:
        records = (await session.exec(select(AuditRecord).where(
            AuditRecord.workflow_id == f"signup:{sign_up_id}"))).all()
    calls = [r for r in records if r.activity_display_name == "Call API connector"]
    assert len(calls) == 1
    call = calls[0]
    assert (call.initiated_by_id, call.initiated_by_name, call.result) == (connector_id, "Partner registry", "failure")
    assert call.details["step"] == "postAttributeCollection" and call.details["outcome"] == "block"
    assert call.details["apiConnectorId"] == connector_id
    assert reason in call.details["detail"] and reason in call.result_reason
    blocked = [r for r in records if (r.details or {}).get("step") == "postAttributeCollectionBlocked"]
    assert len(blocked) == 1 and blocked[0].result == "failure"
    assert reason in blocked[0].details["detail"]
    assert not any(r.activity_display_name == "Add user (self-service sign-up)" for r in records)
