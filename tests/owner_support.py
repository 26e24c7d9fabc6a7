"""Owners for the My Groups and My Apps tests: a group or an app with an owner, members and the
organization's switches put back after the test."""

import uuid

import pytest
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import (
    Application, ApplicationOwner, Group, GroupJoinRequest, GroupMember, GroupOwner, User,
)
from foyer.rules.guest_access import LIMITED
from tests.factories import update_organization

SWITCHES = {"owners_can_manage_join_requests": False, "restrict_my_groups": False, "guest_user_role_id": LIMITED}


@pytest.fixture
async def switches(organization_id):
    """Set the owners' switches for one test; put back afterwards (DEFAULT_POLICY does not name them)."""

    async def set_(**values):
        await update_organization(organization_id, **values)

    yield set_
    await update_organization(organization_id, **SWITCHES)


async def owned_group(organization_id: str, owner: User, name: str = "Partners", *,
                      members: list[User] = ()) -> Group:
    async with session_scope() as session:
        group = Group(organization_id=organization_id, display_name=f"{name} {uuid.uuid4().hex[:6]}")
        session.add(group)
        await session.flush()
        session.add(GroupOwner(group_id=group.id, user_id=owner.id))
        for member in members:
            session.add(GroupMember(group_id=group.id, user_id=member.id))
    return group


async def owned_app(organization_id: str, owner: User, name: str = "Wiki", *,
                    home_page_url: str | None = "https://wiki.example/start", **fields) -> Application:
    async with session_scope() as session:
        app = Application(organization_id=organization_id, display_name=f"{name} {uuid.uuid4().hex[:6]}",
                          home_page_url=home_page_url, **fields)
        session.add(app)
        await session.flush()
        session.add(ApplicationOwner(application_id=app.id, user_id=owner.id))
    return app


async def members_of(group_id: str) -> set[str]:
    async with session_scope() as session:
        return set((await session.exec(select(GroupMember.user_id).where(GroupMember.group_id == group_id))).all())


async def audited(target_id: str, activity: str) -> list[AuditRecord]:
    async with session_scope() as session:
        return list((await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == target_id, AuditRecord.activity_display_name == activity))).all())


def form_token(client, form: str) -> str:
    """The CSRF token of `form` for this client's session (for posting a form the page did not
    offer: the refusal must come from the rule, not from CSRF)."""
    from foyer import sessions
    return sessions.csrf_token(client.cookies.get(sessions.SESSION_COOKIE), form)


async def request_rows(group_id: str) -> list[GroupJoinRequest]:
    async with session_scope() as session:
        return list((await session.exec(select(GroupJoinRequest).where(
            GroupJoinRequest.group_id == group_id).order_by(GroupJoinRequest.created_date_time))).all())


async def chromium_sign_in(page, server: str, mail, email: str, path: str) -> None:
    """Open `path` in Chromium, sign in on the page it sends to (a code from the mail), land on it."""
    from tests.support import passcode_in
    before = len(mail.to(email))
    await page.goto(f"{server}{path}")
    await page.fill("#email", email)
    await page.click("#send-code")
    await page.wait_for_selector("#code")
    await page.fill("#code", passcode_in((await mail.wait_for(email, count=before + 1))[before].text))
    await page.click("#verify")
    await page.wait_for_url(f"{server}{path}")


async def redeem_in_chromium(page, mail, email: str, link: str) -> None:
    """Consent, the passcode from the mail, verify: the browser goes on to inviteRedirectUrl."""
    from tests.support import passcode_in
    await page.goto(link)
    await page.check("#consent")
    await page.click("#send-code")
    await page.wait_for_selector("#code")
    await page.fill("#code", passcode_in((await mail.wait_for(email, count=2))[1].text))
    await page.click("#verify")
