"""Finding 8: a stranger must not be able to stop a person from getting sign-in or sign-up codes.

Codes are limited per (address, client) — one a minute, five an hour — and per address by a
higher ceiling (30 an hour) that only many clients together can reach; a browser
that already completed a code for the address (its signed "known device" cookie) passes the
ceiling, never the per-client limits. Clients are told apart by their source address: the tests
talk to the real server from 127.0.0.x, as separate machines would."""

import pytest
from datetime import timedelta

import httpx

from tests.factories import make_user
from tests.portal_support import age_challenges, challenge_in
from tests.sign_up_support import ask_code
from tests.factories import make_flow
from tests.support import age_passcodes, ask_for_code, invite, link_in, passcode_in

pytestmark = pytest.mark.long_running(24)

CODES_PER_ADDRESS_PER_HOUR = 30  # activities.sign_in's ceiling, as the README documents it


def client_at(server: str, source: str) -> httpx.AsyncClient:
    """A browser on another machine: its requests come from `source` (any 127.0.0.0/8 address)."""
    return httpx.AsyncClient(base_url=server, timeout=30, follow_redirects=False,
                             transport=httpx.AsyncHTTPTransport(local_address=source))


async def ask(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/signin", data={"email": email, "next": "/myaccess"})


async def sign_in_with_code(client: httpx.AsyncClient, mail, email: str) -> httpx.Response:
    before = len(mail.to(email))
    asked = await ask(client, email)
    assert asked.status_code == 200, asked.text[:600]
    code = passcode_in((await mail.wait_for(email, count=before + 1))[before].text)
    return await client.post("/signin/verify", data={"challenge": challenge_in(asked.text), "code": code,
                                                     "email": email, "next": "/myaccess"})


async def test_a_stranger_cannot_lock_the_owner_out(server, mail, organization_id):
    victim = await make_user(organization_id, "Vic Victim")
    flow_id = await make_flow(organization_id)
    async with client_at(server, "127.0.0.2") as stranger, client_at(server, "127.0.0.3") as owner:
        # The stranger asks for sign-in and sign-up codes for the victim's address until refused.
        assert (await ask(stranger, victim.mail)).status_code == 200
        refused = await ask(stranger, victim.mail)
        assert refused.status_code == 429 and "less than a minute ago" in refused.text
        for _ in range(4):
            await age_challenges(victim.mail, timedelta(minutes=2))
            assert (await ask_code(stranger, flow_id, victim.mail)).status_code == 200
        await age_challenges(victim.mail, timedelta(minutes=2))
        hourly = await ask(stranger, victim.mail)
        assert hourly.status_code == 429 and "last hour" in hourly.text
        assert (await ask_code(stranger, flow_id, victim.mail)).status_code == 429

        # The victim, from their own machine, still gets a code and signs in.
        signed_in = await sign_in_with_code(owner, mail, victim.mail)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/myaccess"
        # Their own per-client limit holds all the same.
        again = await ask(owner, victim.mail)
        assert again.status_code == 429 and "less than a minute ago" in again.text


async def test_the_per_address_ceiling_holds_and_the_known_device_passes_it(server, mail, organization_id):
    victim = await make_user(organization_id, "Cel Ceiling")
    async with client_at(server, "127.0.0.4") as owner:
        # The owner signed in on this browser before: it now carries a known-device cookie.
        assert (await sign_in_with_code(owner, mail, victim.mail)).status_code == 303
        assert owner.cookies.get("foyer_device")
        await age_challenges(victim.mail, timedelta(minutes=2))

        # Strangers on many machines, each within its own limit, reach the address's ceiling.
        strangers = [client_at(server, f"127.0.1.{n}") for n in range(1, 12)]
        try:
            asked = 1
            for _ in range(5):
                for stranger in strangers:
                    if asked >= CODES_PER_ADDRESS_PER_HOUR:
                        break
                    response = await ask(stranger, victim.mail)
                    assert response.status_code == 200, response.text[:600]
                    asked += 1
                await age_challenges(victim.mail, timedelta(minutes=2))
            assert asked == CODES_PER_ADDRESS_PER_HOUR
            async with client_at(server, "127.0.2.1") as another:
                ceiling = await ask(another, victim.mail)
            assert ceiling.status_code == 429 and "last hour" in ceiling.text
            # A stranger's own browser, fresh to this address, is refused as well.
            for stranger in strangers:
                assert (await ask(stranger, victim.mail)).status_code == 429
        finally:
            for stranger in strangers:
                await stranger.aclose()

        # The owner's browser, known for this address, still gets a code and signs in.
        signed_in = await sign_in_with_code(owner, mail, victim.mail)
        assert signed_in.status_code == 303
        # The cookie names one address: it opens nothing for another one.
        other = await make_user(organization_id, "Oth Other")
        await age_challenges(victim.mail, timedelta(minutes=2))
        assert (await ask(owner, other.mail)).status_code == 200
        # And a forged cookie is worth nothing.
        async with client_at(server, "127.0.2.2") as forger:
            forger.cookies.set("foyer_device", owner.cookies.get("foyer_device")[:-2] + "00")
            assert (await ask(forger, victim.mail)).status_code == 429


async def test_redemption_codes_are_limited_per_client_too(api, admin, mail, server, new_email):
    """Only holders of the link can ask for redemption codes; a second machine with the link is
    not stopped by the first one's limit (the guest opened the link on their phone, say)."""
    email = new_email()
    await invite(api, admin, email)
    link = link_in((await mail.wait_for(email))[0].text)
    async with client_at(server, "127.0.3.1") as first, client_at(server, "127.0.3.2") as second:
        assert (await ask_for_code(first, link))[0].status_code == 200
        too_soon, _ = await ask_for_code(first, link)
        assert too_soon.status_code == 429 and "less than a minute ago" in too_soon.text
        assert (await ask_for_code(second, link))[0].status_code == 200
        for _ in range(4):
            await age_passcodes(email, timedelta(minutes=2))
            assert (await ask_for_code(first, link))[0].status_code == 200
        await age_passcodes(email, timedelta(minutes=2))
        hourly, _ = await ask_for_code(first, link)
        assert hourly.status_code == 429 and "last hour" in hourly.text
        assert (await ask_for_code(second, link))[0].status_code == 200


async def test_the_known_device_cookie_is_for_the_address_the_code_went_to(server, mail, organization_id):
    """The form's email field is the browser's to change: signing in as oneself with someone
    else's address typed there must not make the browser known for that address."""
    from foyer import sessions

    attacker = await make_user(organization_id, "Att Acker")
    victim = await make_user(organization_id, "Vik Tim")
    async with client_at(server, "127.0.4.1") as browser:
        asked = await ask(browser, attacker.mail)
        code = passcode_in((await mail.wait_for(attacker.mail))[0].text)
        signed_in = await browser.post("/signin/verify", data={
            "challenge": challenge_in(asked.text), "code": code, "email": victim.mail, "next": "/myaccess"})
        assert signed_in.status_code == 303
        cookie = browser.cookies.get("foyer_device")
    assert sessions.is_known_device(cookie, attacker.mail)
    assert not sessions.is_known_device(cookie, victim.mail)
