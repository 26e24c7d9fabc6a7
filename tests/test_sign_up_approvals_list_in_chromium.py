"""The approver's /approvals list shows the sign-ups waiting for them, in Chromium: two people
sign up through the pages (one through a flow this approver approves, one through a flow someone
else approves); the approver signs in with the emailed code, sees only their sign-up (email,
flow, submitted attributes, age, deadline) beside nothing else, opens it from the list, approves
with a reason; the guest is created and the sign-up leaves the list."""

import re
from datetime import datetime

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from tests.browser import chromium_page
from tests.factories import make_user
from tests.sign_up_support import sign_up_row
from tests.factories import make_flow
from tests.support import find_user, passcode_in, unique_email, until


async def sign_up_through_pages(server: str, mail, flow_id: str, email: str, name: str) -> str:
    """Email, code, form, as a person does on /signup/{flow}: the sign-up waits for approval."""
    async with httpx.AsyncClient(base_url=server) as client:
        asked = await client.post(f"/signup/{flow_id}", data={"email": email})
        assert asked.status_code == 200, asked.text[:500]
        row = await until(lambda: sign_up_row(email), lambda r: r is not None)
        code = passcode_in((await mail.wait_for(email))[-1].text)
        verified = await client.post(f"/signup/{flow_id}/verify",
                                     data={"sign_up_id": row.id, "code": code, "email": email})
        assert 'id="attributes-form"' in verified.text, verified.text[:500]
        submitted = await client.post(f"/signup/{flow_id}/attributes", data={
            "sign_up_id": row.id, "email": email, "displayName": name, "city": "Mombasa", "country": "KE"})
        assert 'data-state="pendingApproval"' in submitted.text, submitted.text[:800]
    return row.id


async def recorded_deadline(sign_up_id: str) -> datetime:
    async with session_scope() as session:
        record = (await session.exec(select(AuditRecord).where(
            AuditRecord.idempotency_key == f"signup:{sign_up_id}:pendingApproval"))).one()
    return datetime.fromisoformat(record.details["deadline"])


async def test_approver_finds_the_sign_up_in_the_list_and_approves_it(server, mail, organization_id):
    approver = await make_user(organization_id, "Lena Lister")
    other_approver = await make_user(organization_id, "Omar Other")
    flow_id = await make_flow(organization_id, approval={"approverIds": [approver.id], "timeout": "P7D"})
    other_flow = await make_flow(organization_id, approval={"approverIds": [other_approver.id], "timeout": "P7D"})
    mine, theirs = unique_email(), unique_email()
    sign_up_id = await sign_up_through_pages(server, mail, flow_id, mine, "Nia Listed")
    other_id = await sign_up_through_pages(server, mail, other_flow, theirs, "Not Mine")
    deadline = await recorded_deadline(sign_up_id)
    await mail.wait_for(approver.mail)  # the approval notice, before the sign-in code

    async with chromium_page() as page:
        await page.goto(f"{server}/approvals")
        assert "/signin?next=" in page.url
        await page.fill("#email", approver.mail)
        await page.click("#send-code")
        await page.wait_for_selector("#code")
        code = passcode_in((await mail.wait_for(approver.mail, count=2))[1].text)
        await page.fill("#code", code)
        await page.click("#verify")
        await page.wait_for_url(f"{server}/approvals")

        card = page.locator(f"#signup-{sign_up_id}")
        facts = await card.inner_text()
        assert mine in facts
        assert "Partner sign-up" in facts  # the flow's display name
        assert "Display name" in facts and "Nia Listed" in facts
        assert "Country" in facts and "KE" in facts and "Mombasa" in facts
        assert re.fullmatch(r"under a minute|\d+ (minute|hour|day)s?", await card.locator(".age").inner_text())
        shown = await card.locator(".deadline time").get_attribute("datetime")
        assert datetime.fromisoformat(shown) == deadline
        assert await page.locator(f"#signup-{other_id}").count() == 0
        assert theirs not in await page.content()
        assert await page.locator("#nothing-waiting").count() == 0

        await page.click(f"#review-signup-{sign_up_id}")
        await page.wait_for_url(f"{server}/approvals/signups/{sign_up_id}")
        assert mine in await page.inner_text("h1")
        await page.fill("#reason", "Known partner from the list")
        await page.click("#approve")
        await page.wait_for_selector("#notice")
        assert "You approved this sign-up" in await page.inner_text("#notice")

        row = await until(lambda: sign_up_row(mine), lambda r: r.state == "completed")
        user = await find_user(mine)
        assert user is not None and user.id == row.user_id and user.display_name == "Nia Listed"
        assert row.decided_by_id == approver.id

        await page.goto(f"{server}/approvals")
        assert await page.locator(f"#signup-{sign_up_id}").count() == 0
        assert await page.locator("#nothing-waiting").count() == 1

    assert (await sign_up_row(theirs)).state == "pendingApproval"
    assert await find_user(theirs) is None
