"""A connector that is slow, down, broken or off-contract blocks the sign-up (fail closed): the person
gets a generic message, the audit log the precise reason. Real HTTP server, real activity."""

import pytest
from sqlmodel import select

from foyer.activities.api_connectors import GENERIC_MESSAGE
from foyer.db import reading
from foyer.models.audit import AuditRecord
from tests.connector_server import call, connector_server
from tests.factories import make_connector
from tests.ports import free_port


def assert_blocked(outcome, detail: str) -> None:
    assert outcome.action == "block"
    assert outcome.user_message == GENERIC_MESSAGE
    assert detail in outcome.detail, outcome.detail


async def test_slow_connector_times_out(organization_id):
    async with connector_server() as server:
        server.reply(delay=10)
        connector_id = await make_connector(organization_id, server.url, timeout_seconds=1)
        outcome = await call(connector_id, sign_up_id="su-slow")
        assert len(server.requests) == 1  # called once, never retried
    assert_blocked(outcome, "no answer within 1 s")
    async with reading() as session:
        record = (await session.exec(select(AuditRecord).where(AuditRecord.target_id == "su-slow"))).one()
        assert record.result == "failure" and record.details["outcome"] == "block"
        assert "no answer within 1 s" in record.details["detail"]


async def test_connection_refused(organization_id):
    connector_id = await make_connector(organization_id, f"http://127.0.0.1:{free_port()}/nobody")
    assert_blocked(await call(connector_id), "ConnectError")


@pytest.mark.parametrize("status, reply, detail", [
    (200, b"\x00\xffnot json at all", "not JSON"),
    (200, b"[1, 2]", "not an object"),
    (500, b'{"error": "boom"}', "answered HTTP 500"),
    (503, b"<html>down</html>", "HTTP 503 with a body that is not JSON"),
    (200, b'{"version": "1.0.0", "action": "Maybe"}', "unknown action 'Maybe'"),
    (200, b'{"version": "2.0.0", "action": "Continue"}', "unsupported version"),
    (200, b'{"version": "1.0.0", "action": "ShowBlockPage"}', "ShowBlockPage without a userMessage"),
    (400, b'{"version": "1.0.0", "status": 409, "action": "ValidationError", "userMessage": "x"}',
     "ValidationError with status 409"),
    (200, b'{"version": "1.0.0", "status": 400, "action": "ValidationError", "userMessage": "x"}',
     "HTTP 200 with action ValidationError"),
    (400, b'{"version": "1.0.0", "action": "Continue"}', "HTTP 400 with action Continue"),
    (302, b'{"version": "1.0.0", "action": "Continue"}', "HTTP 302 with action Continue"),
    (202, b'{"action": "Pending"}', "Pending without a reference"),
])
async def test_off_contract_answers_block(organization_id, status, reply, detail):
    async with connector_server() as server:
        server.reply(status=status, body=reply)
        outcome = await call(await make_connector(organization_id, server.url), step="identityVerification")
    assert_blocked(outcome, detail)
    assert outcome.status_code == status


async def test_unknown_connector_blocks(organization_id):
    assert_blocked(await call("no-such-connector"), "does not exist")
