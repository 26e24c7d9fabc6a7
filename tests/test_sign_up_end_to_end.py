"""Self-service sign-up with no connectors and no approval: the email, the code, the attribute
form (with field errors from the flow's definition), then the guest is created once — Accepted,
SelfServiceSignUp, email identity, attributes on their columns and in custom_attributes — added
to the flow's application, welcomed by mail, and every step audited with the workflow id."""

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import AppRoleAssignment, User
from tests.sign_up_support import result_state, sign_up_row, submit_attributes, through_code
from tests.factories import LOYALTY, make_flow
from tests.support import find_user, unique_email
from tests.factories import make_group_and_app


async def test_sign_up_creates_a_welcomed_guest_in_the_flows_app(server, mail, organization_id):
    _, app = await make_group_and_app(organization_id, "Sign-up")
    flow_id = await make_flow(organization_id, application_ids=[app.id])
    email = unique_email()
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        choose = await client.get(f"/signup/{flow_id}")
        assert choose.status_code == 200 and "Email one-time passcode" in choose.text
        sign_up_id, form = await through_code(client, mail, flow_id, email)
        assert form.status_code == 200, form.text[:800]
        assert 'id="attributes-form"' in form.text and "Loyalty number" in form.text
        assert client.cookies.get("foyer_signup").partition(".")[0] == sign_up_id

        wrong = await submit_attributes(client, flow_id, sign_up_id, email, displayName="",
                                        country="XX", **{LOYALTY: "not a number"})
        assert wrong.status_code == 400
        assert 'id="error-displayName"' in wrong.text and 'id="error-country"' in wrong.text
        assert f'id="error-{LOYALTY}"' in wrong.text
        assert await find_user(email) is None

        done = await submit_attributes(client, flow_id, sign_up_id, email, displayName="Sam Signup",
                                       city="Oslo", country="NO", **{LOYALTY: "42"})
        assert done.status_code == 200, done.text[:800]
        assert result_state(done.text) == "completed"

    user = await find_user(email)
    assert user is not None
    assert (user.user_type, user.external_user_state, user.creation_type) == ("Guest", "Accepted",
                                                                             "SelfServiceSignUp")
    assert user.display_name == "Sam Signup"
    assert user.identities == [{"signInType": "emailAddress", "issuer": "contoso.test",
                                "issuerAssignedId": email}]
    assert user.custom_attributes == {"city": "Oslo", "country": "NO", LOYALTY: 42}
    async with session_scope() as session:
        assigned = (await session.exec(select(AppRoleAssignment).where(
            AppRoleAssignment.principal_id == user.id))).all()
        audits = (await session.exec(select(AuditRecord).where(
            AuditRecord.workflow_id == f"signup:{sign_up_id}"))).all()
        users = (await session.exec(select(User).where(User.mail == email))).all()
    assert [a.application_id for a in assigned] == [app.id]
    assert len(users) == 1
    steps = {a.details.get("step") for a in audits}
    assert {"codeVerified", "attributesSubmitted"} <= steps
    assert any(a.activity_display_name == "Add user (self-service sign-up)" for a in audits)
    welcome = await mail.wait_for(email, count=2)
    assert "Welcome" in welcome[-1].subject and "/signin" in welcome[-1].text
    row = await sign_up_row(email)
    assert (row.state, row.user_id) == ("completed", user.id)
