"""Sign-up in a real browser: a stranger signs up through /signup/{flow} in Chromium (method,
email, emailed code, attribute form with a field error, then pending approval); an approver
follows the link in their mail, signs in, and approves on /approvals/signups/{id}; the guest is
created and welcomed."""

import re

from tests.browser import chromium_page
from tests.factories import make_user
from tests.sign_up_support import sign_up_row
from tests.factories import make_flow
from tests.support import find_user, passcode_in, unique_email, until


async def test_sign_up_and_approval_in_chromium(server, mail, organization_id):
    approver = await make_user(organization_id, "Cara Chromium")
    flow_id = await make_flow(organization_id, approval={"approverIds": [approver.id], "timeout": "P7D"})
    email = unique_email()
    async with chromium_page() as page:
        await page.goto(f"{server}/signup/{flow_id}")
        await page.click("#method-email")
        await page.fill("#email", email)
        await page.click("#send-code")
        await page.wait_for_selector("#code")
        code = passcode_in((await mail.wait_for(email))[0].text)
        await page.fill("#code", code)
        await page.click("#verify")
        await page.wait_for_selector("#attributes-form")
        await page.fill("#displayName", "Chris Browser")
        await page.click("#submit-attributes")  # no country chosen: the form comes back
        await page.wait_for_selector("#error-country")
        assert await page.input_value("#displayName") == "Chris Browser"
        await page.select_option("#country", "KE")
        await page.click("#submit-attributes")
        await page.wait_for_selector("#result")
        assert await page.get_attribute("#result", "data-state") == "pendingApproval"
        assert "waits for approval" in await page.inner_text("#headline")

    link = re.search(r"https?://\S+/approvals/signups/\S+", (await mail.wait_for(approver.mail))[0].text).group(0)
    async with chromium_page() as page:
        await page.goto(link)
        assert "/signin?next=" in page.url
        await page.fill("#email", approver.mail)
        await page.click("#send-code")
        await page.wait_for_selector("#code")
        code = passcode_in((await mail.wait_for(approver.mail, count=2))[1].text)
        await page.fill("#code", code)
        await page.click("#verify")
        await page.wait_for_url(link)
        assert email in await page.inner_text("h1")
        await page.fill("#reason", "Known partner")
        await page.click("#approve")
        await page.wait_for_selector("#notice")
        assert "You approved this sign-up" in await page.inner_text("#notice")

    row = await until(lambda: sign_up_row(email), lambda r: r.state == "completed")
    user = await find_user(email)
    assert user.id == row.user_id and user.display_name == "Chris Browser"
    assert row.decided_by_id == approver.id
    assert "Welcome" in (await mail.wait_for(email, count=2))[-1].subject
