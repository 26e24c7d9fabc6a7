"""Helpers for tests (import these, never conftest: it sets the environment once)."""

import re
import uuid

from sqlmodel import select

from foyer.db import session_scope
from models.directory import User


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
