"""Email one-time-passcode sign-in to Foyer's pages: the code flow with cookies, wrong codes and
the lock after five, the same answer (and no mail) for unknown or disabled addresses, the rate
limit per address, safe `next` redirects, and the session cookie's integrity."""

import asyncio
import re
from datetime import timedelta

import httpx
from sqlmodel import select

from foyer import sessions
from foyer.db import session_scope
from foyer.models.directory import User
from foyer.models.outbox import OutboxMessage
from foyer.models.sign_in import SignInChallenge
from tests.factories import make_user
from tests.portal_support import age_challenges, challenge_in, csrf_in, sign_in
from tests.support import passcode_in, unique_email


def browser(server: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server, follow_redirects=False, timeout=30)


async def ask(client, email: str, next: str = "/myaccess") -> httpx.Response:
    return await client.post("/signin", data={"email": email, "next": next})


async def enter(client, challenge: str, code: str, email: str = "", next: str = "/myaccess") -> httpx.Response:
    return await client.post("/signin/verify", data={"challenge": challenge, "code": code, "email": email,
                                                     "next": next})


def wrong(code: str) -> str:
    return "00000000" if code != "00000000" else "11111111"


async def test_member_signs_in_with_the_emailed_code(server, mail, organization_id):
    member = await make_user(organization_id, "Sina Member")
    async with browser(server) as client:
        first = await client.get("/myaccess")
        assert first.status_code == 303
        assert first.headers["location"] == "/signin?next=%2Fmyaccess"
        form = await client.get(first.headers["location"])
        assert form.status_code == 200 and 'name="next" value="/myaccess"' in form.text

        asked = await ask(client, member.mail)
        assert asked.status_code == 200
        assert "we emailed a code" in asked.text
        challenge = challenge_in(asked.text)
        assert client.cookies.get("foyer_signin") == challenge
        message = (await mail.wait_for(member.mail))[0]
        assert "sign-in code" in message.subject
        code = passcode_in(message.text)
        assert len(code) == 8

        refused = await enter(client, challenge, wrong(code))
        assert refused.status_code == 400
        assert "4 tries left" in refused.text and 'role="alert"' in refused.text

        signed_in = await enter(client, challenge, code)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/myaccess"
        cookie = signed_in.headers["set-cookie"]
        assert "foyer_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        assert sessions.read(client.cookies.get("foyer_session")).user_id == member.id

        page = await client.get("/myaccess")
        assert page.status_code == 200
        assert "Sina Member" in page.text

        # The code works once: the attempt is over.
        again = await enter(client, challenge, code)
        assert again.status_code == 400 and "Ask for a new code" in again.text

        out = await client.post("/signout", data={"csrf": csrf_in(page.text, "/signout")})
        assert out.status_code == 200 and "signed out" in out.text
        assert client.cookies.get("foyer_session") is None
        assert (await client.get("/myaccess")).status_code == 303

    async with session_scope() as session:
        row = await session.get(SignInChallenge, challenge)
        assert row.user_id == member.id and row.code_hash and code not in row.code_hash
        assert row.consumed_date_time is not None
        outbox = await session.get(OutboxMessage, f"signin:{challenge}")
        assert outbox.state == "sent" and outbox.text_body is None  # the code is not kept


async def test_code_is_bound_to_the_browser_that_asked(server, mail, organization_id):
    member = await make_user(organization_id, "Bo Member")
    async with browser(server) as asker, browser(server) as other:
        challenge = challenge_in((await ask(asker, member.mail)).text)
        code = passcode_in((await mail.wait_for(member.mail))[0].text)
        stolen = await enter(other, challenge, code)
        assert stolen.status_code == 400 and "not found in this browser" in stolen.text
        assert (await enter(asker, challenge, code)).status_code == 303


async def test_five_wrong_tries_lock_the_code(server, mail, organization_id):
    member = await make_user(organization_id, "Lou Member")
    async with browser(server) as client:
        challenge = challenge_in((await ask(client, member.mail)).text)
        code = passcode_in((await mail.wait_for(member.mail))[0].text)
        for left in (4, 3, 2, 1):
            answer = await enter(client, challenge, wrong(code))
            assert answer.status_code == 400
            assert f"{left} tr{'y' if left == 1 else 'ies'} left" in answer.text
        locked = await enter(client, challenge, wrong(code))
        assert locked.status_code == 400 and "Too many wrong tries" in locked.text
        # The right code no longer helps: the attempt is over.
        late = await enter(client, challenge, code)
        assert late.status_code == 400 and "Ask for a new code" in late.text
        assert client.cookies.get("foyer_session") is None
    async with session_scope() as session:
        row = await session.get(SignInChallenge, challenge)
        assert row.failed_attempts == 5 and row.consumed_date_time is None


def _normalized(html: str, email: str, challenge: str | None) -> str:
    html = re.sub(r'nonce="[^"]*"', 'nonce="NONCE"', html.replace(email, "EMAIL"))  # one per response
    return html.replace(challenge, "CHALLENGE") if challenge else html


async def test_unknown_disabled_and_unredeemed_addresses_get_the_same_answer_and_no_mail(
        server, mail, organization_id):
    known = await make_user(organization_id, "Kim Member")
    disabled = await make_user(organization_id, "Dis Abled")
    pending = await make_user(organization_id, "Pen Guest", guest=True)
    async with session_scope() as session:
        row = await session.get(User, disabled.id)
        row.account_enabled = False
        session.add(row)
        row = await session.get(User, pending.id)
        row.external_user_state = "PendingAcceptance"
        session.add(row)
    unknown = unique_email("nobody.example")

    answers = {}
    async with browser(server) as client:
        for email in (unknown, disabled.mail, pending.mail, known.mail):
            response = await ask(client, email)
            challenge = challenge_in(response.text)
            assert challenge, response.text
            answers[email] = (response.status_code, _normalized(response.text, email, challenge),
                              challenge, response.headers.get("set-cookie", "").split(";")[0].split("=")[0])
        # The same page, status and cookie for everyone.
        assert len({(status, body, cookie) for status, body, _, cookie in answers.values()}) == 1
        # Wrong codes are answered alike too, and count towards the lock alike.
        for email in (unknown, known.mail):
            client.cookies.set("foyer_signin", answers[email][2], path="/signin")
            response = await enter(client, answers[email][2], "12345678")
            assert response.status_code == 400 and "4 tries left" in response.text

    await mail.wait_for(known.mail)
    await asyncio.sleep(0.5)
    for email in (unknown, disabled.mail, pending.mail):
        assert mail.to(email) == []
    async with session_scope() as session:
        rows = (await session.exec(select(SignInChallenge).where(
            SignInChallenge.email.in_([unknown, disabled.mail, pending.mail])))).all()
        assert len(rows) == 3 and all(r.code_hash is None and r.user_id is None for r in rows)


async def test_codes_are_rate_limited_per_address(server, mail, organization_id):
    guest = await make_user(organization_id, "Rae Guest", guest=True)  # an accepted guest
    unknown = unique_email("nobody.example")
    async with browser(server) as client:
        assert (await ask(client, guest.mail)).status_code == 200
        await mail.wait_for(guest.mail)
        too_soon = await ask(client, guest.mail)
        assert too_soon.status_code == 429
        assert "less than a minute ago" in too_soon.text and 'role="alert"' in too_soon.text
        # Unknown addresses are limited the same way (the limit reveals nothing).
        assert (await ask(client, unknown)).status_code == 200
        assert (await ask(client, unknown)).status_code == 429

        for count in range(2, 6):  # one a minute is fine, up to five an hour
            await age_challenges(guest.mail, timedelta(minutes=2))
            assert (await ask(client, guest.mail)).status_code == 200
            await mail.wait_for(guest.mail, count=count)
        await age_challenges(guest.mail, timedelta(minutes=2))
        hourly = await ask(client, guest.mail)
        assert hourly.status_code == 429 and "last hour" in hourly.text
        await asyncio.sleep(0.5)
        assert len(mail.to(guest.mail)) == 5

        # An hour on, codes flow again, and the guest signs in.
        await age_challenges(guest.mail, timedelta(hours=1))
        response = await sign_in(client, mail, guest.mail)
        assert response.headers["location"] == "/myaccess"


async def test_next_is_only_ever_a_path_on_this_site(server, mail, organization_id):
    member = await make_user(organization_id, "Nex Member")
    async with browser(server) as client:
        for hostile in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
            form = await client.get("/signin", params={"next": hostile})
            assert 'name="next" value="/myaccess"' in form.text, hostile
        redirect = await client.get("/approvals/some-request?x=1")
        assert redirect.headers["location"] == "/signin?next=%2Fapprovals%2Fsome-request%3Fx%3D1"
        response = await sign_in(client, mail, member.mail, next="/approvals/some-request?x=1")
        assert response.headers["location"] == "/approvals/some-request?x=1"
        landing = await client.get("/myaccess")
        await client.post("/signout", data={"csrf": csrf_in(landing.text, "/signout")})
        response = await client.post("/signin", data={"email": member.mail, "next": "https://evil.example/"})
        assert 'name="next" value="/myaccess"' in response.text


async def test_forged_expired_or_disabled_sessions_are_sent_to_sign_in(server, organization_id):
    member = await make_user(organization_id, "Ses Member")
    value, _ = sessions.issue(member.id)
    other = await make_user(organization_id, "Eve Member")
    user_id, *rest = value.split(".")
    forged = ".".join([other.id, *rest])
    expired, _ = sessions.issue(member.id, now=sessions.datetime.now(sessions.timezone.utc) - timedelta(hours=9))
    async with browser(server) as client:
        for cookie, status in ((value, 200), (forged, 303), (expired, 303), ("garbage", 303)):
            client.cookies.set("foyer_session", cookie)
            assert (await client.get("/myaccess")).status_code == status
        client.cookies.set("foyer_session", value)
        async with session_scope() as session:
            row = await session.get(User, member.id)
            row.account_enabled = False
            session.add(row)
        assert (await client.get("/myaccess")).status_code == 303


def test_session_cookie_and_csrf_helpers():
    value, data = sessions.issue("user-1")
    assert sessions.read(value).user_id == "user-1"
    assert sessions.read(value[:-1] + ("0" if value[-1] != "0" else "1")) is None
    token = sessions.csrf_token(value, "decide:r1")
    assert sessions.csrf_valid(value, "decide:r1", token)
    assert not sessions.csrf_valid(value, "decide:r2", token)
    other, _ = sessions.issue("user-1")
    assert not sessions.csrf_valid(other, "decide:r1", token)
    assert re.fullmatch(r"[^.]+\.\d+\.[^.]+\.-\.otp\.-\.[0-9a-f]{64}", value)
