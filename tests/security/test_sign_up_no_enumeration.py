"""Finding 7: the sign-up page must not tell whether an address already has an account.

A known and an unknown address get the same status, the same page and the same cookie; the
known address is mailed "you already have an account, sign in here" (once per attempt), the
unknown one its code. The known address's attempt goes nowhere: no code works for it, any code
typed fails exactly as a wrong code does, and no account is created or changed."""

import re

import httpx
from sqlmodel import func, select

from foyer.db import session_scope
from foyer.models.directory import User
from foyer.models.outbox import OutboxMessage
from tests.factories import make_user
from tests.sign_up_support import ask_code, sign_up_id_in, sign_up_row
from tests.factories import make_flow
from tests.support import passcode_in, unique_email


def _same_shape(page: str, email: str, sign_up_id: str) -> str:
    """The page with what legitimately differs (the address typed, the attempt's id, the nonce)
    blanked."""
    page = re.sub(r'nonce="[^"]*"', 'nonce="NONCE"', page)  # the CSP nonce: new for every response
    return page.replace(sign_up_id, "SIGN-UP-ID").replace(email, "EMAIL")


async def _outbox_to(email: str) -> list[OutboxMessage]:
    async with session_scope() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
        return [row for row in rows if email.lower() in [a.lower() for a in row.to_addresses]]


async def _users_with(email: str) -> int:
    async with session_scope() as session:
        return (await session.exec(select(func.count()).select_from(User).where(
            User.mail == email.lower()))).one()


async def test_known_and_unknown_addresses_get_the_same_answer(server, mail, organization_id):
    member = await make_user(organization_id, "Kai Known")
    unknown = unique_email()
    flow_id = await make_flow(organization_id)
    async with httpx.AsyncClient(base_url=server, timeout=30) as known_browser, \
            httpx.AsyncClient(base_url=server, timeout=30) as unknown_browser:
        known = await ask_code(known_browser, flow_id, member.mail)
        new = await ask_code(unknown_browser, flow_id, unknown)

        # The same status, the same page, the same cookie.
        assert known.status_code == new.status_code == 200
        known_id, new_id = sign_up_id_in(known.text), sign_up_id_in(new.text)
        assert _same_shape(known.text, member.mail, known_id) == _same_shape(new.text, unknown, new_id)
        assert known_browser.cookies.get("foyer_signup").partition(".")[0] == known_id
        assert unknown_browser.cookies.get("foyer_signup").partition(".")[0] == new_id
        assert sorted(k for k in known.headers if k not in ("date", "content-length", "set-cookie")) \
            == sorted(k for k in new.headers if k not in ("date", "content-length", "set-cookie"))

        # The unknown address gets its code; the known one a pointer to sign-in, and no code.
        code = passcode_in((await mail.wait_for(unknown))[0].text)
        told = (await mail.wait_for(member.mail))[0]
        assert "already have an account" in told.text
        assert f"{server}/signin" in told.text
        assert re.search(r"\b\d{8}\b", told.text) is None
        assert "Kai" not in known.text

        # The known address's attempt goes nowhere: every code fails as a wrong code does.
        tried_known = await known_browser.post(f"/signup/{flow_id}/verify", data={
            "sign_up_id": known_id, "code": code, "email": member.mail})
        wrong = "00000000" if code != "00000000" else "11111111"
        tried_new = await unknown_browser.post(f"/signup/{flow_id}/verify", data={
            "sign_up_id": new_id, "code": wrong, "email": unknown})
        assert tried_known.status_code == tried_new.status_code == 400
        assert "4 tries left" in tried_known.text
        assert _same_shape(tried_known.text, member.mail, known_id) \
            == _same_shape(tried_new.text, unknown, new_id)
        for _ in range(4):
            last = await known_browser.post(f"/signup/{flow_id}/verify", data={
                "sign_up_id": known_id, "code": code, "email": member.mail})
        assert last.status_code == 400 and 'data-state="expired"' in last.text

        # The status page cannot tell them apart either.
        known_status = await known_browser.get(f"/signup/{flow_id}/status")
        new_status = await unknown_browser.get(f"/signup/{flow_id}/status")
        assert known_status.status_code == 200 and new_status.status_code == 200

    # One mail to each, once per attempt; nothing created for either address.
    assert len(await _outbox_to(member.mail)) == 1
    assert len(await _outbox_to(unknown)) == 1
    assert await _users_with(member.mail) == 1
    assert await _users_with(unknown) == 0
    row = await sign_up_row(member.mail)
    assert row.user_id is None and row.state in ("codeSent", "expired")


async def test_known_address_is_rate_limited_like_any_other(server, mail, organization_id):
    """The per-address limit must not answer differently for a known address either."""
    member = await make_user(organization_id, "Lin Limited")
    unknown = unique_email()
    flow_id = await make_flow(organization_id)
    async with httpx.AsyncClient(base_url=server, timeout=30) as browser:
        for email in (member.mail, unknown):
            assert (await ask_code(browser, flow_id, email)).status_code == 200
            again = await ask_code(browser, flow_id, email)
            assert again.status_code == 429 and "less than a minute ago" in again.text, email
