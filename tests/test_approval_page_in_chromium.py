"""The approval page driven in a real browser: an approver follows the link in their approval
mail, signs in with the emailed code, reads the request (justification, answers, due date) and
approves it with a reason; the request is delivered. A second approver of the same stage then
finds nothing left to decide."""

import re
from pathlib import Path

import httpx
from sqlmodel import select

from foyer.workflows.client import access_requests
from foyer.db import session_scope
from foyer.models.directory import GroupMember
from foyer.models.entitlement import ApprovalStage
from tests.browser import chromium_page
from tests.factories import make_package, make_user, request, self_service, stage
from tests.portal_support import sign_in, wait_for_state
from tests.support import passcode_in

SHOTS = Path(__file__).resolve().parent.parent / ".foyer" / "screenshots"
QUESTIONS = [
    {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "id": "project", "sequence": 0,
     "text": "Which project are you working on?", "isRequired": True, "isSingleLineQuestion": True},
    {"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "id": "site", "sequence": 1,
     "text": "Where do you work from?", "isRequired": False, "allowsMultipleSelection": False,
     "choices": [{"actualValue": "lyon", "text": "Lyon office"}, {"actualValue": "remote", "text": "Remote"}]},
]


def approval_link(text: str) -> str:
    match = re.search(r"https?://\S+/approvals/[0-9a-f-]+", text)
    assert match, f"no approval link in: {text[:500]}"
    return match.group(0)


async def test_approver_approves_from_the_mail_link_in_chromium(server, mail, temporal, organization_id):
    first = await make_user(organization_id, "Ada Approver")
    second = await make_user(organization_id, "Ben Approver")
    guest = await make_user(organization_id, "Gita Guest", guest=True)
    package, policy, group, _ = await make_package(organization_id, name="Project Falcon", policy=self_service(
        questions=QUESTIONS,
        request_approval_settings={"isApprovalRequiredForAdd": True, "isRequestorJustificationRequired": True,
                                   "stages": [stage([first, second])]}))
    plan = await access_requests.submit_request(temporal.client, request(
        organization_id, package, policy, guest, justification="Falcon's design review on Monday",
        answers=[{"question": {"id": "project"}, "answeredValue": "Falcon wing redesign"},
                 {"question": {"id": "site"}, "answeredValue": "lyon"}]))
    link = approval_link((await mail.wait_for(first.mail))[0].text)
    assert link == f"{server}/approvals/{plan.request_id}"
    SHOTS.mkdir(parents=True, exist_ok=True)

    async with chromium_page() as page:
        await page.goto(link)
        # Not signed in: the sign-in page, which brings the approver back to the link afterwards.
        assert "/signin?next=" in page.url
        await page.fill("#email", first.mail)
        await page.click("#send-code")
        await page.wait_for_selector("#code")
        assert "we emailed a code" in await page.inner_text("#notice")
        code = passcode_in((await mail.wait_for(first.mail, count=2))[1].text)
        await page.fill("#code", code)
        await page.click("#verify")
        await page.wait_for_url(link)

        assert "Project Falcon" in await page.inner_text("h1")
        facts = await page.inner_text("#request-facts")
        assert "Gita Guest" in facts and guest.mail in facts
        assert "Falcon's design review on Monday" in facts
        assert "Which project are you working on?" in facts and "Falcon wing redesign" in facts
        assert "Where do you work from?" in facts and "Lyon office" in facts
        assert "UTC" in await page.inner_text("#due")
        await page.fill("#reason", "Gita leads the review")
        await page.screenshot(path=str(SHOTS / "approval-request.png"), full_page=True)

        await page.click("#approve")
        await page.wait_for_selector("#notice")
        assert "You approved this request" in await page.inner_text("#notice")
        assert await page.locator("#decision-form").count() == 0
        assert "Gita leads the review" in await page.inner_text("#stages")
        await page.screenshot(path=str(SHOTS / "approval-approved.png"), full_page=True)

        # The list of what waits for this approver is now empty.
        await page.click("#nav-approvals")
        await page.wait_for_selector("#nothing-waiting")

    delivered = await wait_for_state(plan.request_id, "delivered")
    assert delivered.completed_date_time is not None
    async with session_scope() as session:
        decided = (await session.exec(select(ApprovalStage).where(
            ApprovalStage.request_id == plan.request_id))).one()
        assert (decided.review_result, decided.reviewed_by_id, decided.justification) == (
            "Approve", first.id, "Gita leads the review")
        assert await session.get(GroupMember, (group.id, guest.id)) is not None

    # The second approver of the stage: nothing waits any more, and a late decision is refused.
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, second.mail, next=f"/approvals/{plan.request_id}")
        listing = await client.get("/approvals")
        assert listing.status_code == 200
        assert plan.request_id not in listing.text and 'id="nothing-waiting"' in listing.text
        detail = await client.get(f"/approvals/{plan.request_id}")
        assert detail.status_code == 200
        assert 'id="decision-form"' not in detail.text and "no longer waiting" in detail.text
        assert "Ada Approver" in detail.text
        # A stale form (opened before the first approver decided) posted now.
        from foyer import sessions
        token = sessions.csrf_token(client.cookies.get("foyer_session"), f"decide:{plan.request_id}")
        late = await client.post(f"/approvals/{plan.request_id}", data={
            "csrf": token, "stage_id": decided.id, "decision": "Deny", "reason": "too late"})
        assert late.status_code == 409
        assert "already decided" in late.text and 'role="alert"' in late.text
