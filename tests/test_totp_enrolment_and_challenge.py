"""A person with no second factor is taken through setting up an authenticator app from /mfa:
the page shows the QR code and the secret, a wrong first code is refused with the tries left, the
right one confirms the app and counts as the session's second factor. A later session is asked
for a code: a fresh one passes, the same time step twice does not, five wrong codes lock the app
for 15 minutes (the right code included)."""

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pyotp
from sqlmodel import select

from foyer import sessions
from foyer.db import session_scope
from foyer.rules.authentication_strength import PHISHING_RESISTANT
from foyer.models.mfa import AuthenticationMethod
from tests.portal_support import csrf_in


def signed_in(server: str, user_id: str) -> httpx.AsyncClient:
    value, _ = sessions.issue(user_id)
    client = httpx.AsyncClient(base_url=server, timeout=30)
    # As the server's own Set-Cookie would store it (so its later answers replace it).
    client.cookies.set(sessions.SESSION_COOKIE, value, domain=urlsplit(server).hostname, path="/")
    return client


def methods_of(client: httpx.AsyncClient) -> tuple[str, ...]:
    return sessions.read(client.cookies.get(sessions.SESSION_COOKIE)).methods


def code_at(secret: str, step_offset: int) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * step_offset)


async def test_totp_enrolment_then_challenge_replay_and_lock(server, make_member):
    member = await make_member("Tia Totp")
    async with signed_in(server, member.id) as client:
        # Not registered: the registration step (an app offered for MFA), never a way through.
        offered = await client.get("/mfa", params={"next": "/myaccess"})
        assert offered.status_code == 200
        assert 'id="enrol-totp"' in offered.text and 'id="register-passkey"' in offered.text
        assert 'id="totp-form"' not in offered.text

        # Phishing-resistant MFA offers a passkey only, and the app's set-up sends back to /mfa.
        strong = await client.get("/mfa", params={"next": "/myaccess", "strength": PHISHING_RESISTANT})
        assert 'id="register-passkey"' in strong.text and 'id="enrol-totp"' not in strong.text
        refused = await client.get("/mfa/totp/enrol", params={"next": "/myaccess", "strength": PHISHING_RESISTANT})
        assert refused.status_code == 303 and refused.headers["location"].startswith("/mfa?")

        enrol = await client.get("/mfa/totp/enrol", params={"next": "/myaccess"})
        assert enrol.status_code == 200
        assert "<svg" in enrol.text and 'id="qr"' in enrol.text
        secret = re.search(r'id="secret">([A-Z2-7 ]+)<', enrol.text).group(1).replace(" ", "")
        method_id = re.search(r'name="method_id" value="([^"]+)"', enrol.text).group(1)
        form = {"csrf": csrf_in(enrol.text, "/mfa/totp/enrol"), "method_id": method_id, "next": "/myaccess"}
        async with session_scope() as session:
            row = await session.get(AuthenticationMethod, method_id)
            assert row.confirmed_date_time is None and secret not in (row.secret or "")

        wrong = await client.post("/mfa/totp/enrol", data={**form, "code": "000000" if code_at(secret, 0) != "000000"
                                                            else "111111"})
        assert wrong.status_code == 400 and "4 tries left" in wrong.text
        assert methods_of(client) == ("otp",)

        confirmed = await client.post("/mfa/totp/enrol", data={**form, "code": code_at(secret, 0)})
        assert confirmed.status_code == 303 and confirmed.headers["location"] == "/myaccess"
        assert methods_of(client) == ("otp", "totp")
        async with session_scope() as session:
            row = await session.get(AuthenticationMethod, method_id)
            assert row.confirmed_date_time is not None and row.failed_attempts == 0
        # Done: /mfa goes straight on.
        again = await client.get("/mfa", params={"next": "/myaccess"})
        assert again.status_code == 303 and again.headers["location"] == "/myaccess"

    # A later sign-in: the challenge step.
    async with signed_in(server, member.id) as client:
        challenge = await client.get("/mfa", params={"next": "/myapps"})
        assert challenge.status_code == 200 and 'id="totp-form"' in challenge.text
        assert 'id="enrol-totp"' not in challenge.text and 'id="use-passkey"' not in challenge.text
        form = {"csrf": csrf_in(challenge.text, "/mfa/totp"), "next": "/myapps"}

        forged = await client.post("/mfa/totp", data={**form, "csrf": "nope", "code": code_at(secret, 1)})
        assert forged.status_code == 403

        fresh = code_at(secret, 1)
        accepted = await client.post("/mfa/totp", data={**form, "code": fresh})
        assert accepted.status_code == 303 and accepted.headers["location"] == "/myapps"
        assert methods_of(client) == ("otp", "totp")

    async with signed_in(server, member.id) as client:
        challenge = await client.get("/mfa", params={"next": "/myapps"})
        form = {"csrf": csrf_in(challenge.text, "/mfa/totp"), "next": "/myapps"}
        replayed = await client.post("/mfa/totp", data={**form, "code": fresh})
        assert replayed.status_code == 400 and "used already" in replayed.text
        assert methods_of(client) == ("otp",)

        bad = "".join(str((int(d) + 5) % 10) for d in fresh)  # not a code of any nearby step, almost surely
        valid = {code_at(secret, k) for k in (-1, 0, 1, 2)}
        bad = bad if bad not in valid else "999999"
        for left in (4, 3, 2, 1):
            wrong = await client.post("/mfa/totp", data={**form, "code": bad})
            assert wrong.status_code == 400 and f"{left} tr" in wrong.text, wrong.text
        locked = await client.post("/mfa/totp", data={**form, "code": bad})
        assert locked.status_code == 429 and "locked" in locked.text
        still = await client.post("/mfa/totp", data={**form, "code": code_at(secret, 1)})
        assert still.status_code == 429
        assert methods_of(client) == ("otp",)

    async with session_scope() as session:
        row = (await session.exec(select(AuthenticationMethod).where(
            AuthenticationMethod.user_id == member.id))).one()
        assert row.locked_until is not None
        row.locked_until -= timedelta(minutes=16)  # the lock has run out
        session.add(row)
    async with signed_in(server, member.id) as client:
        challenge = await client.get("/mfa", params={"next": "/myapps"})
        # The very code used before (not one computed now: under load the clock may have passed into
        # the next step, whose code was never used).
        form = {"csrf": csrf_in(challenge.text, "/mfa/totp"), "next": "/myapps", "code": fresh}
        # The step used before is still refused; the lock itself is over.
        retried = await client.post("/mfa/totp", data=form)
        assert retried.status_code == 400 and "used already" in retried.text
