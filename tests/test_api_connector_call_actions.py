"""Each answer of Entra's API-connector contract (and Foyer's Pending) becomes its outcome: the real
activity calls a real HTTP server, and the call is audited with the sign-up's workflow id."""

from sqlmodel import select

from foyer.db import reading
from foyer.models.audit import AuditRecord
from tests.connector_server import call, connector_server
from tests.factories import make_connector, make_flow


async def test_continue_sends_the_payload_and_step(organization_id):
    async with connector_server() as server:
        connector_id = await make_connector(organization_id, server.url)
        outcome = await call(connector_id, step="postFederationSignup", sign_up_id="su-continue",
                             payload={"email": "sam@fabrikam.test", "ui_locales": "en-US",
                                      "client_id": "app-1", "identities": []})
        assert outcome.action == "continue" and outcome.attributes == {}
        assert outcome.status_code == 200
        sent = server.requests[0]
        assert sent.json == {"email": "sam@fabrikam.test", "ui_locales": "en-US", "client_id": "app-1",
                             "identities": [], "step": "postFederationSignup"}
        assert sent.headers["content-type"] == "application/json"
    async with reading() as session:
        record = (await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == "su-continue"))).one()
        assert record.workflow_id == "signup:su-continue"
        assert record.initiated_by_id == connector_id and record.category == "SelfServiceSignUp"
        assert record.details["step"] == "postFederationSignup" and record.details["outcome"] == "continue"


async def test_continue_overwrites_only_collected_attributes(organization_id):
    flow_id = await make_flow(organization_id, user_attribute_assignments=[
        {"id": a, "userAttribute": {"id": a}} for a in ("city", "email", "extension_abc_LoyaltyNumber")])
    async with connector_server() as server:
        server.reply(json={"version": "1.0.0", "action": "Continue", "city": "Lisbon",
                           "extension_abc_LoyaltyNumber": "L-42", "email": "evil@x.test",
                           "jobTitle": "not collected"})
        outcome = await call(await make_connector(organization_id, server.url), user_flow_id=flow_id)
    assert outcome.action == "continue"
    assert outcome.attributes == {"city": "Lisbon", "extension_abc_LoyaltyNumber": "L-42"}
    assert "ignored email, jobTitle" in outcome.detail


async def test_show_block_page(organization_id):
    async with connector_server() as server:
        server.reply(json={"version": "1.0.0", "action": "ShowBlockPage",
                           "userMessage": "Sign-ups from this region are closed."})
        outcome = await call(await make_connector(organization_id, server.url))
    assert outcome.action == "block"
    assert outcome.user_message == "Sign-ups from this region are closed."


async def test_validation_error(organization_id):
    async with connector_server() as server:
        server.reply(status=400, json={"version": "1.0.0", "status": 400, "action": "ValidationError",
                                       "userMessage": "Please enter a valid postal code."})
        outcome = await call(await make_connector(organization_id, server.url))
    assert outcome.action == "validationError"
    assert outcome.user_message == "Please enter a valid postal code." and outcome.status_code == 400


async def test_pending_at_a_durable_step(organization_id):
    async with connector_server() as server:
        server.reply(status=202, json={"action": "Pending", "reference": "verif-77"})
        connector_id = await make_connector(organization_id, server.url)
        outcome = await call(connector_id, step="identityVerification")
        assert outcome.action == "pending" and outcome.reference == "verif-77"
        # Pending where the person cannot wait is not a valid answer: fail closed.
        blocked = await call(connector_id, step="postAttributeCollection")
    assert blocked.action == "block" and "Pending at step postAttributeCollection" in blocked.detail
