"""Who may register a second factor from /mfa: someone not signed in is sent to sign in first;
someone with a method registered proves it is them with it (in this session) before registering
another — the passkey endpoints refuse until then, and the app's set-up sends back to the
challenge. The JSON endpoints want the session's CSRF token in X-CSRF-Token."""

import re
import time
from urllib.parse import quote, urlsplit

import httpx
import pyotp

from foyer import sessions
from foyer.db import get_sessionmaker
from foyer.rules.authentication_strength import PHISHING_RESISTANT
from foyer.usecases import mfa
from tests.portal_support import csrf_in


async def test_a_registered_person_verifies_before_registering_more(server, make_member):
    async with httpx.AsyncClient(base_url=server, timeout=30) as anonymous:
        away = await anonymous.get("/mfa", params={"next": "/myapps"})
        assert away.status_code == 303
        assert away.headers["location"] == "/signin?next=" + quote("/mfa?next=%2Fmyapps", safe="")

    member = await make_member("Vic Verify")
    async with get_sessionmaker()() as session:
        enrolment = await mfa.begin_totp_enrolment(session, member)
        await mfa.confirm_totp_enrolment(session, member.id, enrolment.method_id,
                                         pyotp.TOTP(enrolment.secret).now())
    value, _ = sessions.issue(member.id)
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        client.cookies.set(sessions.SESSION_COOKIE, value, domain=urlsplit(server).hostname, path="/")
        shown = await client.get("/mfa", params={"next": "/myaccess", "strength": PHISHING_RESISTANT})
        assert shown.status_code == 200 and 'id="verify-first"' in shown.text
        assert 'id="register-passkey"' not in shown.text
        token = re.search(r'var csrf = "([^"]+)"', shown.text).group(1)

        no_token = await client.post("/mfa/webauthn/register/options", json={})
        assert no_token.status_code == 403 and no_token.json()["error"]["code"] == "csrfTokenInvalid"
        headers = {"X-CSRF-Token": token}
        early = await client.post("/mfa/webauthn/register/options", json={}, headers=headers)
        assert early.status_code == 403 and early.json()["error"]["code"] == "secondFactorRequired"
        assert (await client.post("/mfa/webauthn/register", json={"credential": {}},
                                  headers=headers)).status_code == 403
        enrol = await client.get("/mfa/totp/enrol", params={"next": "/myaccess"})
        assert enrol.status_code == 303 and enrol.headers["location"].startswith("/mfa?")
        nothing = await client.post("/mfa/webauthn/authenticate/options", json={}, headers=headers)
        assert nothing.status_code == 400 and "no passkey" in nothing.json()["error"]["message"]

        # The code first (back to /mfa), then the passkey's registration may begin.
        verified = await client.post("/mfa/totp", data={
            "csrf": csrf_in(shown.text, "/mfa/totp"), "strength": PHISHING_RESISTANT,
            "next": re.search(r'name="next" value="([^"]+)"', shown.text).group(1).replace("&amp;", "&"),
            "code": pyotp.TOTP(enrolment.secret).at(time.time() + 30)})
        assert verified.status_code == 303 and verified.headers["location"].startswith("/mfa?next=")
        again = await client.get(verified.headers["location"])
        assert 'id="register-passkey"' in again.text and 'id="verify-first"' not in again.text
        token = re.search(r'var csrf = "([^"]+)"', again.text).group(1)
        options = await client.post("/mfa/webauthn/register/options", json={}, headers={"X-CSRF-Token": token})
        assert options.status_code == 200
        body = options.json()
        assert body["rp"]["id"] == urlsplit(server).hostname and body["user"]["name"] == member.mail
        assert body["authenticatorSelection"]["userVerification"] == "preferred"
