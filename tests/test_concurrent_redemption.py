"""Two redemptions of one link at the same time: exactly one succeeds."""

import asyncio
from datetime import timedelta

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from tests.support import age_passcodes, emailed_code, find_user, invite, link_in, submit_code


async def test_two_browsers_redeem_one_link_at_once(api, admin, mail, server, new_email):
    email = new_email()
    await invite(api, admin, email)
    link = link_in((await mail.wait_for(email))[0].text)

    async with httpx.AsyncClient() as first, httpx.AsyncClient() as second:
        challenge_1, code_1 = await emailed_code(first, link, mail, email)
        await age_passcodes(email, timedelta(minutes=2))  # the one-a-minute limit
        challenge_2, code_2 = await emailed_code(second, link, mail, email)

        results = await asyncio.gather(
            submit_code(first, link, challenge_1, code_1),
            submit_code(second, link, challenge_2, code_2),
        )
    statuses = sorted(r.status_code for r in results)
    assert statuses[0] == 303, [r.text[:300] for r in results]
    assert statuses[1] in (409, 410)
    assert (await find_user(email)).external_user_state == "Accepted"
    async with session_scope() as session:
        redeemed = (await session.exec(select(AuditRecord).where(
            AuditRecord.target_display_name == email,
            AuditRecord.activity_display_name == "Redeem external user invite"))).all()
    assert len(redeemed) == 1


async def test_same_code_submitted_twice_at_once(api, admin, mail, server, new_email):
    email = new_email()
    await invite(api, admin, email)
    link = link_in((await mail.wait_for(email))[0].text)
    async with httpx.AsyncClient() as browser:
        challenge, code = await emailed_code(browser, link, mail, email)
        results = await asyncio.gather(*(submit_code(browser, link, challenge, code) for _ in range(3)))
    assert sorted(r.status_code for r in results)[0] == 303
    assert [r.status_code for r in results].count(303) == 1
