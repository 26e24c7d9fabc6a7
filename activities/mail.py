"""Email outbox and delivery over SMTP (aiosmtplib).

A message is first written to the outbox under an idempotency key, then delivered; delivering a
key that is already marked sent does nothing, so a retried activity never mails twice. The one
window left is SMTP accepting the message and the worker dying before the row is marked sent: the
Message-ID is derived from the key so the receiving side can drop that duplicate.
"""

import hashlib
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.store import insert_ignore
from foyer.db import session_scope
from foyer.settings import get_settings
from models.base import utcnow
from models.outbox import OutboxMessage


async def enqueue(session: AsyncSession, *, key: str, to: list[str], subject: str, text: str,
                  html: str, cc: list[str] | None = None, sensitive: bool = False) -> None:
    await insert_ignore(session, OutboxMessage, [{
        "key": key, "to_addresses": to, "cc_addresses": cc or [], "subject": subject,
        "text_body": text, "html_body": html, "sensitive": sensitive, "state": "pending",
        "attempts": 0, "created_date_time": utcnow(),
    }], ["key"])


def build_message(row: OutboxMessage) -> EmailMessage:
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(row.to_addresses)
    if row.cc_addresses:
        message["Cc"] = ", ".join(row.cc_addresses)
    message["Subject"] = row.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{hashlib.sha256(row.key.encode()).hexdigest()[:32]}@foyer>"
    message["X-Foyer-Key"] = row.key
    message.set_content(row.text_body or "")
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    return message


def smtp_client() -> aiosmtplib.SMTP:
    settings = get_settings()
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host, port=settings.smtp_port,
        username=settings.smtp_username, password=settings.smtp_password,
        start_tls=settings.smtp_starttls, timeout=settings.smtp_timeout_seconds,
    )


async def deliver(key: str) -> bool:
    """Send the outbox message `key` unless it was sent already. Returns True if sent now."""
    async with session_scope() as session:
        row = await session.get(OutboxMessage, key)
        if row is None:
            raise LookupError(f"no outbox message {key!r}")
        if row.state == "sent":
            return False
        message = build_message(row)
        recipients = row.to_addresses + row.cc_addresses
    try:
        async with smtp_client() as smtp:
            await smtp.send_message(message, recipients=recipients)
    except Exception as error:
        async with session_scope() as session:
            row = await session.get(OutboxMessage, key)
            if row is not None:
                row.attempts += 1
                row.last_error = f"{type(error).__name__}: {error}"[:500]
        raise
    await mark_sent(key)
    return True


async def mark_sent(key: str) -> None:
    async with session_scope() as session:
        row = await session.get(OutboxMessage, key)
        if row is None:
            return
        row.state = "sent"
        row.attempts += 1
        row.sent_date_time = utcnow()
        row.last_error = None
        if row.sensitive:
            # The body held a link token or a passcode: keep the envelope, drop the secret.
            row.text_body = None
            row.html_body = None
