"""Signing in to Foyer's pages (My Access, Approvals) over httpx, as a browser would."""

import asyncio
import re
from datetime import timedelta

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.entitlement import AssignmentRequest
from foyer.models.sign_in import SignInChallenge
from tests.support import onward_url, passcode_in


def challenge_in(html: str) -> str | None:
    match = re.search(r'name="challenge" value="([^"]+)"', html)
    return match.group(1) if match else None


def csrf_in(html: str, action: str | None = None) -> str:
    """The CSRF token of the form posting to `action` (or the first form with one other than the
    navigation's sign-out button)."""
    forms = re.findall(r'<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>', html, re.S)
    for form_action, inner in forms:
        if form_action == action or (action is None and form_action != "/signout"):
            match = re.search(r'name="csrf" value="([^"]+)"', inner)
            if match:
                return match.group(1)
    raise AssertionError(f"no csrf token for {action!r} in page")


async def sign_in(client: httpx.AsyncClient, mail, email: str, next: str = "/myaccess") -> httpx.Response:
    """Ask for a code, read it from the mail, enter it. Returns the final (redirect) response."""
    before = len(mail.to(email))
    asked = await client.post("/signin", data={"email": email, "next": next})
    assert asked.status_code == 200, asked.text
    challenge = challenge_in(asked.text)
    code = passcode_in((await mail.wait_for(email, count=before + 1))[before].text)
    verified = await client.post("/signin/verify", data={"challenge": challenge, "code": code,
                                                         "email": email, "next": next})
    assert verified.status_code in (200, 303), verified.text
    onward_url(verified)  # a redirect, or the page that refreshes onward to the OpenID Provider
    return verified


async def age_challenges(email: str, by: timedelta) -> None:
    async with session_scope() as session:
        rows = (await session.exec(select(SignInChallenge).where(
            SignInChallenge.email == email.lower()))).all()
        for row in rows:
            row.created_date_time -= by
            row.expires_date_time -= by
            session.add(row)


async def wait_for_state(request_id: str, wanted: str, timeout: float = 30.0) -> AssignmentRequest:
    """Poll the request row until it reaches `wanted` (bounded)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with session_scope() as session:
            row = await session.get(AssignmentRequest, request_id)
        if row is not None and row.state == wanted:
            return row
        assert asyncio.get_running_loop().time() < deadline, f"request still {row.state if row else None}"
        await asyncio.sleep(0.2)
