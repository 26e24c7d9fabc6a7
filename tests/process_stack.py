"""A Foyer stack in separate processes, for tests that kill parts of it mid-campaign.

- Temporal: the bundled dev server, file-backed (bench.devserver.dev_server), on a free port with
  its SQLite file in the test's own folder, so it can be SIGKILLed and started again on the same
  file and port.
- The worker: `python -m foyer worker` in a process group of its own, pointed at that server, a task
  queue of its own, the suite's database (FOYER_DATABASE_URL from tests/conftest.py) and a mail
  server on a port this stack owns; SIGKILLed and restarted at will.
- Mail: foyer.mailcatcher.MailCatcher on that port; stopped and started again (a new instance on
  the same port each time; messages are counted across instances).
- The API in process (create_app with this stack's Temporal client), over httpx.

Import it from tests only after conftest has set the environment (any test module does).
Every process is stopped when the `stack` fixture ends, whether the test passed or not.
"""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, func, select

from foyer.activities.invitations import invitation_mail_key
from foyer.api.main import create_app
from bench.devserver import DevServer, dev_server
from foyer.db import session_scope
from foyer.mailcatcher import CaughtMessage, MailCatcher
from foyer.settings import PROJECT_ROOT, get_settings
from foyer.models.campaign import CampaignRow
from foyer.models.invitation import Invitation
from foyer.models.outbox import OutboxMessage
from tests.ports import free_port



async def eventually(check, what: str, timeout: float, interval: float = 0.1):
    """Poll `check` (sync or async) until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(interval)


class MailServer:
    """The stack's SMTP server: MailCatcher on a fixed port, restartable."""

    def __init__(self, port: int):
        self.port = port
        self.catchers: list[MailCatcher] = []
        self.current: MailCatcher | None = None

    def start(self) -> None:
        assert self.current is None
        catcher = MailCatcher(port=self.port)
        # The port may linger a moment after a stop: retry briefly.
        deadline = time.monotonic() + 15
        while True:
            try:
                catcher.start()
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
                catcher = MailCatcher(port=self.port)
        self.catchers.append(catcher)
        self.current = catcher

    def stop(self) -> None:
        if self.current is not None:
            self.current.stop()
            self.current = None

    @property
    def messages(self) -> list[CaughtMessage]:
        return [m for c in self.catchers for m in c.messages]

    def per_recipient(self) -> Counter:
        return Counter(r.lower() for m in self.messages for r in m.recipients)


class WorkerProcess:
    """`python -m foyer worker` with the stack's settings, in a process group of its own."""

    def __init__(self, env: dict, log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.generation = 0
        self.pids: list[int] = []

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"worker-{self.generation}.log"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        self.generation += 1
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "foyer", "worker"], cwd=PROJECT_ROOT, env=self.env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        self.pids.append(self.process.pid)

    async def wait_polling(self, timeout: float = 60) -> None:
        """Until the worker logs that it polls (it connected to Temporal)."""
        def polling():
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited ({self.process.returncode}):\n{self.tail()}")
            return "worker polling" in self.log_path.read_text(errors="replace")
        await eventually(polling, "the worker to poll", timeout)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker's whole process group, as a crash would, and reap it."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def tail(self, lines: int = 40) -> str:
        out = []
        for generation in range(1, self.generation + 1):
            path = self.log_dir / f"worker-{generation}.log"
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- worker run {generation} ---\n" + "\n".join(text))
        return "\n".join(out)


class TemporalServer:
    """bench.devserver.dev_server held open across SIGKILL and restart on the same file and port."""

    def __init__(self, state: Path, port: int):
        self.state = state
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self._context = None
        self.server: DevServer | None = None
        self.starts = 0

    async def start(self) -> DevServer:
        assert self._context is None
        self.starts += 1
        self._context = dev_server(self.state, self.port)
        self.server = await self._context.__aenter__()
        return self.server

    async def kill(self) -> None:
        """SIGKILL the server process; the context's exit then only reaps it."""
        assert self.server is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.server.pid, signal.SIGKILL)
        await self.close()

    async def close(self) -> None:
        if self._context is not None:
            context, self._context, self.server = self._context, None, None
            await context.__aexit__(None, None, None)


class Stack:
    def __init__(self, root: Path):
        self.root = root
        self.task_queue = f"foyer-stack-{uuid.uuid4().hex[:8]}"
        self.mail = MailServer(free_port())
        self.temporal = TemporalServer(root, free_port())
        env = dict(os.environ)
        env.update({
            "FOYER_TEMPORAL_ADDRESS": self.temporal.address,
            "FOYER_TASK_QUEUE": self.task_queue,
            "FOYER_SMTP_HOST": "127.0.0.1",
            "FOYER_SMTP_PORT": str(self.mail.port),
            "PYTHONUNBUFFERED": "1",
        })  # FOYER_DATABASE_URL, FOYER_SECRET_KEY, FOYER_PUBLIC_URL: the suite's, from conftest
        self.worker = WorkerProcess(env, root)
        self.api: httpx.AsyncClient | None = None

    @property
    def client(self):
        return self.temporal.server.client

    async def start(self) -> None:
        self.mail.start()
        await self.temporal.start()
        self.worker.start()
        await self.worker.wait_polling()
        app = create_app(temporal_client=self.client)
        self.api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=get_settings().public_url, timeout=30)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.api is not None:
                await self.api.aclose()
        self.worker.kill()
        with contextlib.suppress(Exception):
            await self.temporal.close()
        with contextlib.suppress(Exception):
            self.mail.stop()

    # --- campaigns --------------------------------------------------------------------------

    async def start_campaign(self, headers: dict, emails: list[str], **options) -> str:
        rows = [{"invitedUserEmailAddress": e, "inviteRedirectUrl": "https://app.contoso.test/",
                 "sendInvitationMessage": True, "invitedUserDisplayName": f"Guest {i}"}
                for i, e in enumerate(emails)]
        response = await self.api.post("/v1.0/invitationCampaigns", headers=headers,
                                        json={"rows": rows, **options})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def campaign(self, headers: dict, campaign_id: str) -> dict:
        response = await self.api.get(f"/v1.0/invitationCampaigns/{campaign_id}", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def wait_for_invited(self, headers: dict, campaign_id: str, at_least: int, timeout: float) -> dict:
        async def enough():
            body = await self.campaign(headers, campaign_id)
            return body if body["counts"]["invited"] >= at_least else None
        return await eventually(enough, f"{at_least} rows invited", timeout, interval=0.05)

    async def wait_for_state(self, headers: dict, campaign_id: str, state: str, timeout: float) -> dict:
        last = {}

        async def reached():
            last.update(await self.campaign(headers, campaign_id))
            return dict(last) if last["state"] == state else None
        try:
            return await eventually(reached, f"the campaign to be {state}", timeout, interval=0.25)
        except AssertionError as error:
            raise AssertionError(f"{error}; last seen {last.get('state')} {last.get('counts')}\n"
                                 f"{self.worker.tail()}") from None

    async def wait_for_mail(self, campaign_id: str, emails: list[str], timeout: float) -> Counter:
        """Until every address has mail and every outbox message of the campaign is sent; then a
        moment longer, so a late duplicate would be seen too."""
        wanted = {e.lower() for e in emails}

        async def delivered():
            counts = self.mail.per_recipient()
            if not all(counts[e] for e in wanted):
                return False
            async with session_scope() as session:
                invitations = (await session.exec(select(Invitation).join(
                    CampaignRow, col(CampaignRow.invitation_id) == col(Invitation.id)).where(
                    CampaignRow.campaign_id == campaign_id))).all()
                keys = [invitation_mail_key(i, "invitation", 0) for i in invitations]
                sent = (await session.exec(select(func.count()).select_from(OutboxMessage).where(
                    col(OutboxMessage.key).in_(keys), OutboxMessage.state == "sent"))).one()
            return len(keys) == len(wanted) and sent == len(keys)
        try:
            await eventually(delivered, "every invitation mail", timeout, interval=0.5)
        except AssertionError as error:
            counts = self.mail.per_recipient()
            missing = sorted(e for e in wanted if not counts[e])
            raise AssertionError(f"{error}: {len(missing)} address(es) without mail, e.g. "
                                 f"{missing[:5]}\n{self.worker.tail()}") from None
        await asyncio.sleep(2)
        return self.mail.per_recipient()

    async def row_states(self, campaign_id: str) -> Counter:
        async with session_scope() as session:
            states = (await session.exec(select(CampaignRow.state).where(
                CampaignRow.campaign_id == campaign_id))).all()
        return Counter(states)

    async def assert_each_mailed_once(self, emails: list[str], disruptions: list[datetime]) -> int:
        """Every address received exactly one invitation: one message (one Message-ID, derived
        from the outbox key). A second copy of that same message is tolerated only where mail.py
        says it can happen — SMTP accepted it and the sender died (or the server went away)
        before the outbox row was marked sent — so only for a message whose first delivery spans
        one of `disruptions` (models.base.utcnow() moments), at most one extra copy each.
        Returns how many such extra copies arrived."""
        problems, twice = mail_copies(self.mail.messages, emails)
        extra = 0
        for email, key in twice.items():
            async with session_scope() as session:
                row = await session.get(OutboxMessage, key)
            spans = row is not None and row.sent_date_time is not None and any(
                row.created_date_time <= moment <= row.sent_date_time for moment in disruptions)
            if not spans:
                problems.append(f"{email}: the same message twice, outside any disruption "
                                f"(queued {row and row.created_date_time}, sent {row and row.sent_date_time}, "
                                f"disruptions {disruptions})")
                continue
            extra += 1
        assert not problems, "\n".join(problems[:20])
        if extra:
            print(f"\n{extra} message(s) delivered a second time (same Message-ID): in flight at a disruption")
        return extra


def mail_copies(messages: list[CaughtMessage], emails) -> tuple[list[str], dict[str, str]]:
    """How each address of `emails` was mailed: exactly one message is right; anything but one
    message or two copies of the same Message-ID is a problem. Returns the problems and, for the
    addresses that got the same message twice, its outbox key (X-Foyer-Key): the caller decides
    whether that copy was in flight at a disruption (mail.py: SMTP accepted it and the sender died
    before marking the row sent), the one case a second copy may happen."""
    by_address: dict[str, list[CaughtMessage]] = {}
    for caught in messages:
        for recipient in caught.recipients:
            by_address.setdefault(recipient.lower(), []).append(caught)
    problems, twice = [], {}
    for email in emails:
        copies = by_address.get(email.lower(), [])
        ids = {m.message.get("Message-ID") for m in copies}
        if len(copies) == 1:
            continue
        if len(copies) != 2 or len(ids) != 1:
            problems.append(f"{email}: {len(copies)} mail(s), Message-IDs {sorted(ids)}")
            continue
        twice[email] = copies[0].message.get("X-Foyer-Key")
    return problems, twice


def campaign_emails(count: int, label: str) -> list[str]:
    domain = f"{label}-{uuid.uuid4().hex[:6]}.example"
    return [f"guest{i:03d}@{domain}" for i in range(count)]


@pytest.fixture
async def stack(organization_id, monkeypatch):
    """A Stack started for one test and torn down after it, pass or fail. The in-process API
    starts workflows on the stack's task queue (the setting is the one thing switched here)."""
    root = Path(tempfile.mkdtemp(prefix="foyer-stack-"))
    instance = Stack(root)
    monkeypatch.setattr(get_settings(), "task_queue", instance.task_queue)
    try:
        await instance.start()
        yield instance
    finally:
        await instance.close()
