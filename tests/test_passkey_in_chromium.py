"""Passkeys in a real browser, Chromium's virtual authenticator standing in for the device: a
person with no second factor registers a passkey from /mfa (it counts as the session's second
factor), and in a later session completes the challenge with it. A person with only an
authenticator app, asked for phishing-resistant MFA, first proves it is them with a code, then
registers a passkey.

WebAuthn refuses an IP address as relying party id, so these pages are opened at
http://localhost:<port> (the test server's port) with FOYER_PUBLIC_URL set to match for the test:
localhost is a secure context for Chromium."""

import time
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlmodel import select

from foyer import sessions
from foyer.db import get_sessionmaker, session_scope
from foyer.models.mfa import AuthenticationMethod
from foyer.rules.authentication_strength import PHISHING_RESISTANT
from foyer.settings import get_settings
from foyer.usecases import mfa
from tests.browser import chromium_page

AUTHENTICATOR = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                 "hasUserVerification": True, "isUserVerified": True}


@pytest.fixture
def localhost(server, monkeypatch) -> str:
    url = f"http://localhost:{urlsplit(server).port}"
    monkeypatch.setattr(get_settings(), "public_url", url)
    return url


async def new_session(page, base: str, user_id: str) -> None:
    value, _ = sessions.issue(user_id)
    await page.context.add_cookies([{"name": sessions.SESSION_COOKIE, "value": value, "url": base}])


async def session_methods(page) -> tuple[str, ...]:
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    return sessions.read(cookies[sessions.SESSION_COOKIE]).methods


async def with_authenticator(page) -> None:
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})


async def passkeys_of(user_id: str) -> list[AuthenticationMethod]:
    async with session_scope() as session:
        return list((await session.exec(select(AuthenticationMethod).where(
            AuthenticationMethod.user_id == user_id, AuthenticationMethod.kind == "fido2"))).all())


async def test_register_a_passkey_then_sign_in_with_it(localhost, make_member):
    member = await make_member("Kai Passkey")
    async with chromium_page() as page:
        await with_authenticator(page)
        await new_session(page, localhost, member.id)
        await page.goto(f"{localhost}/mfa?next=/myaccess")
        await page.click("#register-passkey")
        await page.wait_for_url(f"{localhost}/myaccess")
        assert await session_methods(page) == ("otp", "fido2")
        [registered] = await passkeys_of(member.id)
        assert registered.confirmed_date_time is not None and registered.transports == ["internal"]

        # A later sign-in: the challenge, met with the passkey.
        await new_session(page, localhost, member.id)
        assert await session_methods(page) == ("otp",)
        await page.goto(f"{localhost}/mfa?next=/myapps&strength={PHISHING_RESISTANT}")
        assert await page.locator("#totp-form").count() == 0
        await page.click("#use-passkey")
        await page.wait_for_url(f"{localhost}/myapps")
        assert await session_methods(page) == ("otp", "fido2")
        [used] = await passkeys_of(member.id)
        assert used.sign_count >= registered.sign_count and used.last_used_date_time > registered.last_used_date_time


async def test_an_app_user_verifies_before_registering_a_passkey(localhost, make_member):
    member = await make_member("Ari App")
    async with get_sessionmaker()() as session:  # the use cases commit, as under a page
        enrolment = await mfa.begin_totp_enrolment(session, member)
        secret = enrolment.secret
        assert (await mfa.confirm_totp_enrolment(session, member.id, enrolment.method_id,
                                                 pyotp.TOTP(secret).now())).outcome == "accepted"
    async with chromium_page() as page:
        await with_authenticator(page)
        await new_session(page, localhost, member.id)
        await page.goto(f"{localhost}/mfa?next=/myaccess&strength={PHISHING_RESISTANT}")
        await page.wait_for_selector("#verify-first")
        assert await page.locator("#register-passkey").count() == 0
        await page.fill("#code", pyotp.TOTP(secret).at(time.time() + 30))
        await page.click("#verify-code")
        # Back at /mfa, now offered the passkey (the app does not meet phishing-resistant MFA).
        await page.wait_for_selector("#register-passkey")
        assert await page.locator("#enrol-totp").count() == 0
        assert await session_methods(page) == ("otp", "totp")
        await page.click("#register-passkey")
        await page.wait_for_url(f"{localhost}/myaccess")
        assert await session_methods(page) == ("otp", "totp", "fido2")
        assert len(await passkeys_of(member.id)) == 1
