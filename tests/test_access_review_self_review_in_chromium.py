"""A guest's self-review in a real browser: the guest opens the review's link, signs in with the
emailed code, is asked "Do you still need access to …?" about their own access only, answers
"No, remove my access" and sees it recorded; the decision row says Deny, reviewed by the guest."""

from pathlib import Path

from foyer.db import session_scope
from foyer.models.access_reviews import AccessReviewDecision
from tests.access_review_support import make_review
from tests.browser import chromium_page
from tests.factories import make_group_and_app, make_user
from tests.support import passcode_in

SHOTS = Path(__file__).resolve().parent.parent / ".foyer" / "screenshots"


async def test_a_guest_answers_their_self_review_in_chromium(server, mail, organization_id):
    group, _ = await make_group_and_app(organization_id, "Falcon partners")
    guest = await make_user(organization_id, "Gita Guest", guest=True)
    other = await make_user(organization_id, "Olaf Other", guest=True)
    _, instance, rows = await make_review(organization_id, group, [guest, other], reviewers=None)
    link = f"{server}/reviews/{instance.id}"
    SHOTS.mkdir(parents=True, exist_ok=True)

    async with chromium_page() as page:
        await page.goto(link)
        assert "/signin?next=" in page.url
        await page.fill("#email", guest.mail)
        await page.click("#send-code")
        await page.wait_for_selector("#code")
        code = passcode_in((await mail.wait_for(guest.mail))[-1].text)
        await page.fill("#code", code)
        await page.click("#verify")
        await page.wait_for_url(link)

        assert await page.inner_text("#headline") == f"Do you still need access to {group.display_name}?"
        assert await page.locator(".decision").count() == 1
        assert "Olaf Other" not in await page.content()
        await page.fill(f"#justification-{rows[guest.id].id}", "The project ended")
        await page.screenshot(path=str(SHOTS / "access-review-self.png"), full_page=True)
        await page.click(f"#deny-{rows[guest.id].id}")
        await page.wait_for_selector("#notice")
        assert "Recorded: Deny for your access" in await page.inner_text("#notice")
        assert await page.get_attribute(f"#decision-{rows[guest.id].id} .current", "data-decision") == "Deny"

    async with session_scope() as session:
        row = await session.get(AccessReviewDecision, rows[guest.id].id)
        untouched = await session.get(AccessReviewDecision, rows[other.id].id)
    assert row.decision == "Deny" and row.justification == "The project ended" and row.reviewed_by_id == guest.id
    assert untouched.decision == "NotReviewed"
