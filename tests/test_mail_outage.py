"""The SMTP server refusing mail delays an invitation, never loses or duplicates it."""

import asyncio

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.outbox import OutboxMessage
from tests.support import invite, until


async def test_invitation_mail_waits_for_smtp_and_is_sent_once(api, admin, mail, new_email):
    email = new_email()
    mail.handler.refuse = True
    try:
        created = await invite(api, admin, email)
        assert created["status"] == "PendingAcceptance"  # the API answers; mail waits
        for _ in range(100):
            async with session_scope() as session:
                row = (await session.exec(select(OutboxMessage).where(
                    OutboxMessage.key.startswith(f"invitation:{created['id']}:")))).first()
            if row is not None and row.attempts >= 1:
                break
            await asyncio.sleep(0.1)
        assert row.state == "pending" and "451" in (row.last_error or "")
        assert mail.to(email) == []
    finally:
        mail.handler.refuse = False
    [message] = await mail.wait_for(email, timeout=30)

    async def outbox_row():
        async with session_scope() as session:
            return await session.get(OutboxMessage, row.key)
    # Marked sent, the key is never mailed again: no later copy can arrive.
    row = await until(outbox_row, lambda r: r.state == "sent")
    assert len(mail.to(email)) == 1
    assert row.text_body is None  # the link is not kept at rest
