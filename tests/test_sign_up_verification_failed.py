"""Identity verification that fails: the verifier (a real HTTP server) answers Pending, the
sign-up waits `verifying`; a callback signed with another connector's secret, or naming another
connector, gets 401 and changes nothing; the verifier's signed callback with outcome "failed" ends
the sign-up `blocked` with the verifier's message — the person is told on the page and by mail,
nothing is created, the step is audited."""

import html

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.security import connector_secret
from foyer.models.audit import AuditRecord
from tests.connector_server import connector_server
from tests.sign_up_support import callback, result_state, sign_up_row, submit_attributes, through_code
from tests.factories import make_flow
from tests.support import find_user, unique_email, until


async def test_failed_verification_blocks_and_tells_the_person(server, api, mail, organization_id):
    async with connector_server() as connectors:
        verifier = await connectors.connector(organization_id, display_name="ID checker")
        other = await connectors.connector(organization_id, display_name="Someone else")
        connectors.reply({"action": "Pending", "reference": "idv-77"}, status=202, step="identityVerification")
        flow_id = await make_flow(organization_id, identity_verification={
            "apiConnectorId": verifier, "timeout": "P2D"})
        email = unique_email()
        async with httpx.AsyncClient(base_url=server, timeout=30) as client:
            sign_up_id, _ = await through_code(client, mail, flow_id, email)
            page = await submit_attributes(client, flow_id, sign_up_id, email, displayName="Val Failed",
                                           country="KE")
            assert result_state(page.text) == "verifying", page.text[:800]

            body = {"outcome": "verified", "reference": "idv-77"}
            forged = await callback(api, sign_up_id, "verification", body, verifier,
                                    secret=connector_secret(other))
            assert forged.status_code == 401, forged.text
            assert forged.json()["error"]["code"] == "InvalidAuthenticationToken"
            stranger = await callback(api, sign_up_id, "verification", body, other)
            assert stranger.status_code == 401, stranger.text
            assert (await sign_up_row(email)).state == "verifying"

            failed = await callback(api, sign_up_id, "verification", {
                "outcome": "failed", "reference": "idv-77", "message": "The document did not match the person."},
                verifier)
            assert failed.status_code == 200, failed.text
            assert failed.json()["verification"] == "failed"
            row = await until(lambda: sign_up_row(email), lambda r: r.state == "blocked")
            status = await client.get(f"/signup/{flow_id}/status")
            assert result_state(status.text) == "blocked"
            assert "The document did not match the person." in html.unescape(status.text)
        assert connectors.steps() == ["identityVerification"]
        assert connectors.bad_signatures == 0

    assert row.reason == "The document did not match the person." and row.user_id is None
    assert row.verification_reference == "idv-77"
    assert await find_user(email) is None
    told = (await mail.wait_for(email, count=2))[-1]
    assert "could not be completed" in told.subject
    assert "The document did not match the person." in told.text and "No account was created" in told.text
    assert f"/signup/{flow_id}" in told.text

    again = await callback(api, sign_up_id, "verification", {"outcome": "failed"}, verifier)
    assert again.status_code == 409  # the workflow has ended: nothing more to verify
    async with session_scope() as session:
        records = (await session.exec(select(AuditRecord).where(
            AuditRecord.workflow_id == f"signup:{sign_up_id}"))).all()
    steps = [(r.details or {}).get("step") for r in records]
    assert "verificationFailed" in steps and "verified" not in steps
    assert not any(r.activity_display_name == "Add user (self-service sign-up)" for r in records)
    assert len(mail.to(email)) == 2  # the code, then the one failure mail
