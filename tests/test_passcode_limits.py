"""Email one-time passcodes: wrong tries lock a code, codes expire, requests are rate limited,
and an address is locked after 100 consecutive failures until it is re-invited."""

from datetime import timedelta

import httpx

from foyer.db import session_scope
from foyer.models.invitation import Invitation
from tests.support import age_passcodes, ask_for_code, emailed_code, find_user, invite, link_in, submit_code


def wrong(code: str) -> str:
    return "12345678" if code != "12345678" else "87654321"


async def test_five_wrong_tries_lock_the_code(api, admin, mail, server, new_email):
    email = new_email()
    await invite(api, admin, email)
    link = link_in((await mail.wait_for(email))[0].text)
    async with httpx.AsyncClient() as browser:
        challenge, code = await emailed_code(browser, link, mail, email)
        for tries_left in (4, 3, 2, 1):
            response = await submit_code(browser, link, challenge, wrong(code))
            assert response.status_code == 400 and f"{tries_left} tr" in response.text
        fifth = await submit_code(browser, link, challenge, wrong(code))
        assert "Too many wrong tries" in fifth.text
        # Even the right code is refused now.
        right = await submit_code(browser, link, challenge, code)
        assert right.status_code == 400 and "Too many wrong tries" in right.text
    assert (await find_user(email)).external_user_state == "PendingAcceptance"


async def test_expired_code_is_refused(api, admin, mail, server, new_email):
    email = new_email()
    await invite(api, admin, email)
    link = link_in((await mail.wait_for(email))[0].text)
    async with httpx.AsyncClient() as browser:
        challenge, code = await emailed_code(browser, link, mail, email)
        await age_passcodes(email, timedelta(minutes=11))
        response = await submit_code(browser, link, challenge, code)
    assert response.status_code == 400 and "expired" in response.text


async def test_code_is_bound_to_the_browser_that_asked(api, admin, mail, server, new_email):
    email = new_email()
    await invite(api, admin, email)
    link = link_in((await mail.wait_for(email))[0].text)
    async with httpx.AsyncClient() as asker, httpx.AsyncClient() as other:
        challenge, code = await emailed_code(asker, link, mail, email)
        stolen = await submit_code(other, link, challenge, code)
    assert stolen.status_code == 400
    assert (await find_user(email)).external_user_state == "PendingAcceptance"


async def test_code_requests_are_rate_limited(api, admin, mail, server, new_email):
    email = new_email()
    await invite(api, admin, email)
    link = link_in((await mail.wait_for(email))[0].text)
    async with httpx.AsyncClient() as browser:
        first, _ = await ask_for_code(browser, link)
        assert first.status_code == 200
        too_soon, challenge = await ask_for_code(browser, link)
        assert too_soon.status_code == 429 and "less than a minute ago" in too_soon.text
        for sent in range(2, 6):
            await age_passcodes(email, timedelta(minutes=2))
            assert (await ask_for_code(browser, link))[0].status_code == 200, sent
        await age_passcodes(email, timedelta(minutes=2))
        sixth, _ = await ask_for_code(browser, link)
    assert sixth.status_code == 429 and "last hour" in sixth.text
    assert len(mail.to(email)) == 1 + 5


async def test_address_locked_after_100_failures_until_reinvited(api, admin, mail, server, new_email):
    email = new_email()
    created = await invite(api, admin, email)
    link = link_in((await mail.wait_for(email))[0].text)
    async with session_scope() as session:
        row = await session.get(Invitation, created["id"])
        row.consecutive_passcode_failures = 99
        session.add(row)
    async with httpx.AsyncClient() as browser:
        challenge, code = await emailed_code(browser, link, mail, email)
        locked = await submit_code(browser, link, challenge, wrong(code))
        assert locked.status_code == 410 and "locked" in locked.text
        assert (await browser.get(link)).status_code == 410
    # A new invitation unlocks: fresh link, fresh count.
    await invite(api, admin, email)
    new_link = link_in((await mail.wait_for(email, count=3))[2].text)
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(new_link)).status_code == 200
