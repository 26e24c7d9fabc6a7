"""Inviting one address twice never makes two guests: the second invitation supersedes the first,
with a fresh link; the old link stops working. Concurrent invitations land on one workflow."""

import asyncio

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.directory import User
from tests.support import invite, link_in


async def test_second_invitation_supersedes_the_first(api, admin, mail, server, new_email):
    email = new_email()
    first = await invite(api, admin, email)
    first_link = link_in((await mail.wait_for(email))[0].text)
    second = await invite(api, admin, email.upper())  # the same address, other case
    second_link = link_in((await mail.wait_for(email, count=2))[1].text)

    assert first["invitedUser"]["id"] == second["invitedUser"]["id"]
    assert first["id"] != second["id"] and first_link != second_link
    assert first["foyerWorkflowId"] == second["foyerWorkflowId"]

    async with httpx.AsyncClient() as browser:
        assert (await browser.get(first_link)).status_code == 410
        assert (await browser.get(second_link)).status_code == 200
    states = {row["id"]: row["foyerState"] for row in (await api.get(
        "/v1.0/invitations", headers=admin,
        params={"$filter": f"invitedUserEmailAddress eq '{email}'"})).json()["value"]}
    assert states == {first["id"]: "superseded", second["id"]: "pending"}


async def test_concurrent_invitations_make_one_guest(api, admin, mail, new_email):
    email = new_email()
    results = await asyncio.gather(*(invite(api, admin, email) for _ in range(5)))
    assert len({r["invitedUser"]["id"] for r in results}) == 1
    async with session_scope() as session:
        users = (await session.exec(select(User).where(User.mail == email))).all()
    assert len(users) == 1
    await mail.wait_for(email, count=5)
    pending = (await api.get("/v1.0/invitations", headers=admin, params={
        "$filter": f"invitedUserEmailAddress eq '{email}' and foyerState eq 'pending'"})).json()["value"]
    assert len(pending) == 1
