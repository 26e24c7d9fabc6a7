"""Helpers for tests (import these, never conftest: it sets the environment once)."""

import asyncio
import html
import re
import uuid
from datetime import timedelta

from sqlalchemy import or_
from sqlmodel import col, func, select

from foyer.db import session_scope
from foyer.models.directory import User


def unique_email(domain: str = "fabrikam.example") -> str:
    return f"guest-{uuid.uuid4().hex[:10]}@{domain}"


async def find_user(email: str) -> User | None:
    async with session_scope() as session:
        return (await session.exec(select(User).where(User.mail == email.lower()))).first()


def link_in(text: str) -> str:
    match = re.search(r"https?://\S+/redeem/\S+", text)
    assert match, f"no redemption link in: {text[:500]}"
    return match.group(0)


def passcode_in(text: str) -> str:
    match = re.search(r"\b(\d{8})\b", text)
    assert match, f"no passcode in: {text[:500]}"
    return match.group(1)


async def invite(api, headers, email: str, **extra) -> dict:
    body = {"invitedUserEmailAddress": email, "inviteRedirectUrl": "https://app.contoso.test/welcome",
            "sendInvitationMessage": True, **extra}
    response = await api.post("/v1.0/invitations", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def ask_for_code(browser_client, link: str):
    """POST the consent form; returns (response, challenge id from the page)."""
    response = await browser_client.post(f"{link}/passcode", data={"consent": "yes"})
    match = re.search(r'name="challenge" value="([^"]+)"', response.text)
    return response, (match.group(1) if match else None)


async def emailed_code(browser_client, link: str, mail, email: str) -> tuple[str, str]:
    """Ask for a code on the link's page and read it from the mail it sends: (challenge, code)."""
    before = len(mail.to(email))
    response, challenge = await ask_for_code(browser_client, link)
    assert response.status_code == 200 and challenge, response.text[:500]
    messages = await mail.wait_for(email, count=before + 1)
    return challenge, passcode_in(messages[-1].text)


async def submit_code(browser_client, link: str, challenge: str, code: str):
    return await browser_client.post(f"{link}/verify", data={"challenge": challenge, "code": code})


async def age_passcodes(email: str, by: timedelta) -> None:
    """Move this address's passcodes into the past (as if time went by) without waiting."""
    from foyer.models.invitation import Passcode

    async with session_scope() as session:
        for row in (await session.exec(select(Passcode).where(Passcode.email == email.lower()))).all():
            row.created_date_time -= by
            row.expires_date_time -= by
            session.add(row)


async def until(fetch, done, seconds: float = 10.0):
    """Fetch until `done(value)`; fails with the last value after `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await fetch()
        if done(value):
            return value
        assert asyncio.get_running_loop().time() < deadline, value
        await asyncio.sleep(0.1)


def getter(api, path: str, headers: dict):
    """An async fetch of `path` that insists on 200 and returns the JSON body (for `until`)."""
    async def fetch():
        response = await api.get(path, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()
    return fetch


async def invitation_mail_settled(emails: list[str], seconds: float = 20.0) -> None:
    """Until every invitation mail queued for these addresses is marked sent. A sent outbox key is
    never mailed again, so after this no later copy can arrive (rather than sleeping to see none)."""
    from foyer.models.invitation import Invitation
    from foyer.models.outbox import OutboxMessage

    wanted = [email.lower() for email in emails]

    async def unsent() -> int:
        async with session_scope() as session:
            ids = (await session.exec(select(Invitation.id).where(col(Invitation.email).in_(wanted)))).all()
            if not ids:
                return 0
            keys = or_(*(col(OutboxMessage.key).startswith(f"invitation:{i}:") for i in ids))
            return (await session.exec(select(func.count()).select_from(OutboxMessage).where(
                keys, OutboxMessage.state != "sent"))).one()

    await until(unsent, lambda count: count == 0, seconds)


def onward_url(response) -> str:
    """Where an answer sends the browser next: a redirect's Location, or the URL of a page that
    refreshes onward (foyer.api.pages.deps.onward, after a sign-in step's form)."""
    if response.status_code in (301, 302, 303, 307):
        return response.headers["location"]
    found = re.search(r'<a href="([^"]+)" id="continue">', response.text)
    assert response.status_code == 200 and found, (response.status_code, response.text[:800])
    return html.unescape(found.group(1))
