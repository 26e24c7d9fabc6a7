"""The redemption page driven in a real browser: consent, passcode, landing on inviteRedirectUrl;
and the page an expired-or-replaced link shows."""

from pathlib import Path

from tests.browser import chromium_page
from tests.support import find_user, invite, link_in, passcode_in

SHOTS = Path(__file__).resolve().parent.parent / ".foyer" / "screenshots"


async def test_guest_redeems_in_chromium(api, admin, mail, server, new_email):
    email = new_email()
    # The redirect target is Foyer's own health page so the browser can really land there.
    created = await invite(api, admin, email, inviteRedirectUrl=f"{server}/healthz?welcome=1")
    link = link_in((await mail.wait_for(email))[0].text)
    SHOTS.mkdir(parents=True, exist_ok=True)

    async with chromium_page() as page:
        await page.goto(link)
        assert "Contoso Test invited you" in await page.inner_text("h1")
        assert await page.get_attribute("#privacy", "href") == "https://contoso.test/privacy"
        await page.screenshot(path=str(SHOTS / "redeem-consent.png"))

        # Consent is required: the browser will not submit without the box ticked.
        await page.click("#send-code")
        assert await page.locator("#code").count() == 0
        await page.check("#consent")
        await page.click("#send-code")
        await page.wait_for_selector("#code")
        code = passcode_in((await mail.wait_for(email, count=2))[1].text)

        await page.fill("#code", "00000000" if code != "00000000" else "11111111")
        await page.click("#verify")
        assert "4 tries left" in await page.inner_text("[role=alert]")

        await page.fill("#code", code)
        await page.click("#verify")
        await page.wait_for_url(f"{server}/healthz?welcome=1")
        assert '"ok"' in await page.content()

    user = await find_user(email)
    assert user.external_user_state == "Accepted"
    assert user.id == created["invitedUser"]["id"]


async def test_replaced_link_shows_how_to_get_a_new_one(api, admin, mail, server, new_email):
    email = new_email()
    await invite(api, admin, email)
    first_link = link_in((await mail.wait_for(email))[0].text)
    await invite(api, admin, email)
    await mail.wait_for(email, count=2)

    async with chromium_page() as page:
        response = await page.goto(first_link)
        assert response.status == 410
        assert "replaced" in await page.inner_text("h1")
        assert "send you a new invitation" in await page.inner_text("main")
        await page.screenshot(path=str(SHOTS / "redeem-replaced.png"))
