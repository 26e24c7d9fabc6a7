"""Email outbox and delivery over SMTP (aiosmtplib).

A message is first written to the outbox under an idempotency key, then delivered; delivering a
key that is already marked sent does nothing, so a retried activity never mails twice. Retries can
overlap the attempt they replace (Temporal retries an attempt whose heartbeat it missed while the
worker, only busy, still runs it), so an attempt first claims the row; another attempt waits for
the claim instead of sending too, and a cancelled attempt still writes down what the SMTP server
answered. The one window left is SMTP accepting the message and the worker dying before the row
is marked sent: the claim runs out, the message is sent again with the same Message-ID (derived
from the key), and the receiving side can drop that duplicate.

A message that cannot even be built (an address holding a line break, a body that cannot be
encoded) would fail the same way on every retry: it is marked `failed` with the reason on its
row and in the audit log (category Mail, "Build mail", result failure, with the workflow that
sent it), and delivery goes on without it rather than retrying forever in silence. Names in the
subject are folded into one line first, so a name stored with CR/LF does not get that far.
"""

import asyncio
import hashlib
import logging
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from foyer.activities.store import audit, insert_ignore
from foyer.db import session_scope
from foyer.names import one_line
from foyer.settings import get_settings
from foyer.models.base import utcnow
from foyer.models.outbox import OutboxMessage


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
    message["Subject"] = one_line(row.subject)  # built from names, which may predate their checks
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


class SmtpPool:
    """Connected SMTP clients kept for reuse: a message costs a transaction, not a handshake.
    A pooled connection the server has dropped meanwhile is replaced once, transparently."""

    def __init__(self, keep: int = 8):
        self.keep = keep
        self.idle: list[aiosmtplib.SMTP] = []

    async def send(self, message: EmailMessage, recipients: list[str]) -> None:
        while True:
            pooled = bool(self.idle)
            smtp = self.idle.pop() if pooled else smtp_client()
            try:
                if not pooled:
                    await smtp.connect()
                await smtp.send_message(message, recipients=recipients)
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                await _close(smtp)
                if pooled:
                    continue  # stale: try the next one, or a fresh connection
                raise
            except BaseException:
                await _close(smtp)
                raise
            if len(self.idle) < self.keep:
                self.idle.append(smtp)
            else:
                await _close(smtp)
            return


async def _close(smtp: aiosmtplib.SMTP) -> None:
    try:
        if smtp.is_connected:
            await smtp.quit()
    except Exception:
        smtp.close()


_pools: dict[int, SmtpPool] = {}


def pool() -> SmtpPool:
    """One pool per event loop (SMTP connections belong to the loop that opened them)."""
    loop = id(asyncio.get_running_loop())
    if loop not in _pools:
        _pools[loop] = SmtpPool()
    return _pools[loop]


log = logging.getLogger(__name__)


def _built(row: OutboxMessage) -> tuple[EmailMessage | None, str | None]:
    """(the message of `row`, None) or (None, why it cannot be built). Deterministic: the same
    row fails the same way every time, so the failure is recorded rather than retried."""
    try:
        return build_message(row), None
    except Exception as error:
        return None, f"{type(error).__name__}: {error}"[:500]


async def _record_build_failure(key: str, reason: str) -> None:
    workflow_id = activity.info().workflow_id if activity.in_activity() else None
    log.warning("outbox message %s cannot be built: %s", key, reason)
    async with session_scope() as session:
        row = await session.get(OutboxMessage, key)
        if row is None or row.state != "pending":
            return
        row.state = "failed"
        row.claimed_until = None
        row.attempts += 1
        row.last_error = reason
        session.add(row)
        await audit(session, key=f"mail-build-failed:{key}", category="Mail", activity="Build mail",
                    target_type="OutboxMessage", target_id=key, target_name=one_line(row.subject)[:256],
                    result="failure", reason=reason, workflow_id=workflow_id,
                    details={"to": ", ".join(row.to_addresses)[:500]})


def claim_seconds() -> float:
    """How long an attempt holds a message it is sending: longer than the SMTP client can take
    (connect, a stale pooled connection replaced once, the transaction) plus marking it sent."""
    return 4 * get_settings().smtp_timeout_seconds + 20


async def _claim(keys: list[str]) -> tuple[list[OutboxMessage], list[str]]:
    """Claim the pending messages among `keys` for this attempt, in one transaction (row locks on
    PostgreSQL, the writer lock on SQLite, so two attempts never both claim one message).
    Returns ([rows claimed now], [keys another attempt holds]); messages already sent or failed
    are in neither."""
    now = utcnow()
    claimed, held = [], []
    async with session_scope() as session:
        # Locked in key order, so two attempts claiming overlapping batches cannot deadlock.
        rows = (await session.exec(select(OutboxMessage).where(col(OutboxMessage.key).in_(keys))
                                   .order_by(OutboxMessage.key).with_for_update())).all()
        missing = set(keys) - {row.key for row in rows}
        if missing:
            raise LookupError(f"no outbox message {sorted(missing)[0]!r}" + (
                f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
        for row in sorted(rows, key=lambda row: keys.index(row.key)):
            if row.state != "pending":
                continue
            if row.claimed_until is not None and row.claimed_until > now:
                held.append(row.key)
                continue
            row.claimed_until = now + timedelta(seconds=claim_seconds())
            session.add(row)
            claimed.append(row)
    return claimed, held


async def _release(keys: list[str]) -> None:
    """Give back claims this attempt will not use (it failed or was cancelled before sending)."""
    if keys:
        async with session_scope() as session:
            await session.exec(update(OutboxMessage).where(  # type: ignore[call-overload]
                col(OutboxMessage.key).in_(keys), OutboxMessage.state == "pending").values(claimed_until=None))


async def _to_the_end(awaitable):
    """Await `awaitable` to its end even if the caller is cancelled meanwhile, then re-raise the
    cancellation. Once a message is handed to the SMTP server its outcome must be written down
    (sent, or the claim given back): a retry that finds it neither would send it again. Temporal
    cancels an attempt whose heartbeat it missed; the SMTP timeout bounds the wait."""
    task = asyncio.ensure_future(awaitable)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
            break
        except asyncio.CancelledError:
            if task.done():
                raise
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError()
    return result


async def deliver(key: str) -> bool:
    """Send the outbox message `key` unless it was sent already (or cannot be built: see the
    module's docstring). Returns True if this call sent it."""
    return await deliver_many([key]) == 1


async def deliver_many(keys: list[str]) -> int:
    """Send the pending messages among `keys`, each over a pooled SMTP connection and each marked
    sent as soon as the server accepts it. A message another attempt is sending (a retry whose
    predecessor still runs: Temporal gave up on its heartbeat, the worker did not) is waited for
    rather than sent again; it is taken over only once that attempt's claim has run out (it
    died). Stops at the first SMTP failure and raises: the caller's activity retries the rest.
    Returns how many messages this call sent."""
    keys = list(dict.fromkeys(keys))
    sent = 0
    pause = 0.1
    while keys:
        claimed, held = await _claim(keys)
        for index, row in enumerate(claimed):
            # Built one at a time, just before sending: the email package takes a few ms of CPU
            # per message, and a batch built at once would hold the event loop for all of them.
            message, failure = _built(row)
            try:
                if failure:
                    await _to_the_end(_record_build_failure(row.key, failure))
                    continue
                await _to_the_end(_send(row.key, message, row.to_addresses + row.cc_addresses))
            except BaseException:
                await _to_the_end(_release([later.key for later in claimed[index + 1:]]))
                raise
            sent += 1
        keys = held
        if keys:
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)
    return sent


async def _send(key: str, message: EmailMessage, recipients: list[str]) -> None:
    """One message over a pooled connection, marked sent once the server accepts it; a failure
    is counted on the outbox row, the claim given back, and raised (the caller's activity
    retries)."""
    try:
        await pool().send(message, recipients)
    except Exception as error:
        async with session_scope() as session:
            row = await session.get(OutboxMessage, key)
            if row is not None:
                row.attempts += 1
                row.last_error = f"{type(error).__name__}: {error}"[:500]
                row.claimed_until = None
        raise
    await mark_sent(key)


async def mark_sent(key: str) -> None:
    async with session_scope() as session:
        row = await session.get(OutboxMessage, key)
        if row is None:
            return
        row.state = "sent"
        row.attempts += 1
        row.sent_date_time = utcnow()
        row.last_error = None
        row.claimed_until = None
        if row.sensitive:
            # The body held a link token or a passcode: keep the envelope, drop the secret.
            row.text_body = None
            row.html_body = None
