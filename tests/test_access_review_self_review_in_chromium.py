"""A guest's self-review in a real browser, from the review mail: an administrator creates a
one-time self-review (reviewers: []) of a group's guests through the API; its workflow mails each
guest a link; the guest follows it, signs in with the emailed code, is asked "Do you still need
access to …?" about their own access only, answers "No, remove my access" and sees it recorded.
The decision says Deny, reviewed by the guest; the other guest's stays NotReviewed."""

import re
from datetime import timedelta
from pathlib import Path

from foyer.db import session_scope
from foyer.models.access_reviews import AccessReviewDecision
from tests.access_review_support import DEFINITIONS, decisions_of, group_scope, group_with_people, instances_of
from tests.browser import chromium_page
from tests.support import passcode_in, until

SHOTS = Path(__file__).resolve().parent.parent / ".foyer" / "screenshots"


def review_link(text: str) -> str:
    match = re.search(r"https?://\S+/reviews/[0-9a-f-]+", text)
    assert match, f"no review link in: {text[:500]}"
    return match.group(0)


async def test_a_guest_answers_their_self_review_from_the_mail_in_chromium(server, mail, api, admin,
                                                                           organization_id):
    group, people = await group_with_people(organization_id, {"Gita Guest": timedelta(days=2),
                                                              "Olaf Other": timedelta(days=90)})
    guest, other = people["Gita Guest"], people["Olaf Other"]
    created = await api.post(DEFINITIONS, headers=admin, json={
        "displayName": "Falcon partners, self-review", "scope": group_scope(group.id), "reviewers": [],
        "settings": {"instanceDurationInDays": 7, "mailNotificationsEnabled": True, "recommendationsEnabled": True}})
    assert created.status_code == 201, created.text
    definition_id = created.json()["id"]

    link = review_link((await mail.wait_for(guest.mail, count=1, timeout=30))[0].text)
    [instance] = await until(lambda: instances_of(definition_id), lambda found: len(found) == 1)
    assert link == f"{server}/reviews/{instance.id}"
    rows = await until(lambda: decisions_of(instance.id), lambda found: len(found) == 2)
    SHOTS.mkdir(parents=True, exist_ok=True)

    async with chromium_page() as page:
        await page.goto(link)
        assert "/signin?next=" in page.url
        await page.fill("#email", guest.mail)
        await page.click("#send-code")
        await page.wait_for_selector("#code")
        code = passcode_in((await mail.wait_for(guest.mail, count=2))[-1].text)
        await page.fill("#code", code)
        await page.click("#verify")
        await page.wait_for_url(link)

        assert await page.inner_text("#headline") == f"Do you still need access to {group.display_name}?"
        assert await page.locator(".decision").count() == 1
        assert "Olaf Other" not in await page.content()
        mine = rows[guest.id].id
        await page.fill(f"#justification-{mine}", "The project ended")
        await page.screenshot(path=str(SHOTS / "access-review-self.png"), full_page=True)
        await page.click(f"#deny-{mine}")
        await page.wait_for_selector("#notice")
        assert "Recorded: Deny for your access" in await page.inner_text("#notice")
        assert await page.get_attribute(f"#decision-{mine} .current", "data-decision") == "Deny"

    async with session_scope() as session:
        row = await session.get(AccessReviewDecision, rows[guest.id].id)
        untouched = await session.get(AccessReviewDecision, rows[other.id].id)
    assert row.decision == "Deny" and row.justification == "The project ended" and row.reviewed_by_id == guest.id
    assert untouched.decision == "NotReviewed"
    assert (await api.post(f"{DEFINITIONS}/{definition_id}/stop", headers=admin)).status_code == 204
