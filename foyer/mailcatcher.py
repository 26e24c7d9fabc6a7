"""A real SMTP server (aiosmtpd) that keeps what it receives: the dev stack's mail catcher and
the tests' mail server. Messages are kept in memory and, when given a folder, in a Maildir that
`/dev/mail` lists."""

import asyncio
import email
from collections import Counter
import email.policy
import mailbox
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


@dataclass
class CaughtMessage:
    envelope_from: str
    recipients: list[str]
    message: EmailMessage
    message_id: str = ""  # read once on arrival: the benchmarks count by it while mail pours in

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", "")).strip()

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part else ""


@dataclass
class CatchingHandler:
    maildir: Path | None = None
    messages: list[CaughtMessage] = field(default_factory=list)
    # Tests flip this to make the server refuse mail (as a provider outage would).
    refuse: bool = False
    # Tests set this to make the server slow to say so once it has kept a message: a client that
    # gives up waiting for the "250" has had its message accepted all the same.
    reply_delay: float = 0.0

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse:
            return "451 4.3.0 mail service unavailable, try again later"
        parsed = email.message_from_bytes(envelope.original_content or envelope.content,
                                          policy=email.policy.default)
        self.messages.append(CaughtMessage(envelope.mail_from, list(envelope.rcpt_tos), parsed,
                                           str(parsed.get("Message-ID", "")).strip()))
        if self.maildir is not None:
            box = mailbox.Maildir(self.maildir, create=True)
            box.add(envelope.original_content or envelope.content)
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        return "250 Message accepted for delivery"


class MailCatcher:
    def __init__(self, host: str = "127.0.0.1", port: int = 1025, maildir: Path | None = None):
        self.handler = CatchingHandler(maildir=maildir)
        self.controller = Controller(self.handler, hostname=host, port=port)

    @property
    def messages(self) -> list[CaughtMessage]:
        return self.handler.messages

    def start(self) -> "MailCatcher":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def message_ids(self, since: int = 0) -> Counter[str]:
        """How many times each Message-ID arrived (in messages[since:]). Foyer derives it from
        the outbox key, so a count above one is a message sent twice."""
        return Counter(caught.message_id for caught in self.messages[since:])

    def duplicates(self, since: int = 0) -> dict[str, int]:
        """{Message-ID: times received} for those received more than once."""
        return {mid: count for mid, count in self.message_ids(since).items() if count > 1}

    def to(self, address: str) -> list[CaughtMessage]:
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.recipients)]

    async def wait_for(self, address: str, count: int = 1, timeout: float = 20.0) -> list[CaughtMessage]:
        """Wait until `address` has received `count` messages; returns all of them."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.to(address)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{address} received {len(self.to(address))} message(s), "
                                     f"expected {count} within {timeout}s")
            await asyncio.sleep(0.05)
        return self.to(address)
