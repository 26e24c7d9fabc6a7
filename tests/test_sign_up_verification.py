"""Identity verification during sign-up: the verifier (a real HTTP server) answers Pending, the
sign-up waits `verifying`, and its late signed callback lets it go on (the guest is created);
with no callback, the sign-up ends `expired` at the deadline (time skipping) and the person is
mailed."""

from datetime import timedelta

import httpx

from tests.connector_server import connector_server
from tests.sign_up_support import (
    callback, result_state, sign_up_row, start_on, submit_attributes, through_code,
)
from tests.factories import make_flow
from tests.support import find_user, unique_email, until


async def test_pending_verification_continues_on_a_late_signed_callback(server, api, mail, organization_id):
    async with connector_server() as connectors:
        verifier = await connectors.connector(organization_id)
        connectors.reply({"action": "Pending", "reference": "idv-31"}, status=202, step="identityVerification")
        flow_id = await make_flow(organization_id, identity_verification={
            "apiConnectorId": verifier, "timeout": "P2D"})
        email = unique_email()
        async with httpx.AsyncClient(base_url=server, timeout=30) as client:
            sign_up_id, _ = await through_code(client, mail, flow_id, email)
            page = await submit_attributes(client, flow_id, sign_up_id, email, displayName="Vic Verify",
                                           country="NO")
            assert result_state(page.text) == "verifying", page.text[:800]
            row = await sign_up_row(email)
            assert (row.state, row.verification_reference) == ("verifying", "idv-31")
            assert await find_user(email) is None

            wrong_step = await callback(api, sign_up_id, "approval", {"decision": "approve"}, verifier)
            assert wrong_step.status_code == 401  # the verifier is not this flow's approval system
            late = await callback(api, sign_up_id, "verification",
                                  {"outcome": "verified", "reference": "idv-31"}, verifier)
            assert late.status_code == 200, late.text
            assert late.json()["verification"] == "verified"
            row = await until(lambda: sign_up_row(email), lambda r: r.state == "completed")
            # The row is written by the guest's activity just before the workflow itself says
            # completed: the page (which asks the workflow) follows a moment later.
            status = await until(lambda: client.get(f"/signup/{flow_id}/status"),
                                 lambda r: result_state(r.text) == "completed")
            assert status.status_code == 200
        assert connectors.steps() == ["identityVerification"]
    assert (await find_user(email)).id == row.user_id
    conflicting = await callback(api, sign_up_id, "verification", {"outcome": "failed"}, verifier)
    assert conflicting.status_code == 409


async def test_verification_expires_at_its_deadline(time_env, mail, organization_id):
    async with connector_server() as connectors:
        verifier = await connectors.connector(organization_id)
        connectors.reply({"action": "Pending", "reference": "idv-slow"}, status=202, step="identityVerification")
        flow_id = await make_flow(organization_id, identity_verification={
            "apiConnectorId": verifier, "timeout": "P1D"})
        email = unique_email()
        _, handle, status = await start_on(time_env.client, mail, organization_id, flow_id, email)
        assert status.state == "verifying"
        await time_env.sleep(timedelta(hours=23))
        assert (await sign_up_row(email)).state == "verifying"
        await time_env.sleep(timedelta(hours=2))
        result = await handle.result()
    assert result.state == "expired"
    assert (await sign_up_row(email)).state == "expired"
    expired = (await mail.wait_for(email, count=2))[-1]
    assert "expired" in expired.subject
    assert await find_user(email) is None
