"""An outbox message reaches the SMTP server once per Message-ID, however its attempts overlap:
an attempt cancelled after the server accepted the message, two attempts at once (Temporal
retrying an attempt whose heartbeat it missed on a busy worker that still runs it), and a worker
whose event loop is held longer than the heartbeat timeout while many mails are in flight.
The real aiosmtpd server of the suite counts what it received."""

import asyncio
import threading
import time
import uuid
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistoryEventFilterType
from temporalio.common import RetryPolicy
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from foyer.activities import mail as outbox
from foyer.activities.invitations import send_invitation_mail
from foyer.db import session_scope
from foyer.models.base import utcnow
from foyer.models.outbox import OutboxMessage
from tests.support import unique_email
from foyer.worker import HEARTBEAT_FLUSH
from foyer.workflows.messages.invitation import InvitationMailInput

pytestmark = pytest.mark.long_running(45)


async def queued(count: int = 1) -> list[tuple[str, str]]:
    """`count` pending outbox messages: [(key, Message-ID)]."""
    keys = [f"test-once:{uuid.uuid4().hex}" for _ in range(count)]
    async with session_scope() as session:
        for key in keys:
            await outbox.enqueue(session, key=key, to=[unique_email()], subject="Once", text="only once",
                                 html="<p>only once</p>")
    async with session_scope() as session:
        rows = [await session.get(OutboxMessage, key) for key in keys]
    return [(row.key, outbox.build_message(row)["Message-ID"]) for row in rows]


async def row(key: str) -> OutboxMessage:
    async with session_scope() as session:
        return await session.get(OutboxMessage, key)


async def accepted(mail, message_id: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while mail.message_ids()[message_id] == 0:
        assert time.monotonic() < deadline, f"{message_id} never reached the server"
        await asyncio.sleep(0.01)


@pytest.fixture
def slow_replies(mail):
    """The server keeps each message at once but answers "250" only a second later."""
    mail.handler.reply_delay = 1.0
    yield
    mail.handler.reply_delay = 0.0


async def test_attempt_cancelled_after_the_server_accepted_is_not_sent_again(organization_id, mail, slow_replies):
    [(key, message_id)] = await queued()
    attempt = asyncio.create_task(outbox.deliver(key))
    await accepted(mail, message_id)
    attempt.cancel()  # what Temporal does to an attempt whose heartbeat timeout has passed
    with pytest.raises(asyncio.CancelledError):
        await attempt
    sent = await row(key)
    assert sent.state == "sent" and sent.claimed_until is None  # the server's answer was written down

    assert await outbox.deliver(key) is False  # the retry
    assert mail.message_ids()[message_id] == 1


async def test_overlapping_attempts_send_once(organization_id, mail, slow_replies):
    [(key, message_id)] = await queued()
    results = await asyncio.gather(outbox.deliver(key), outbox.deliver(key), outbox.deliver_many([key]))
    assert sum(results) == 1  # one of them sent it; the others waited for it
    assert mail.message_ids()[message_id] == 1
    assert (await row(key)).state == "sent"


async def test_claim_of_a_dead_attempt_runs_out_then_the_message_is_sent(organization_id, mail):
    [(key, message_id)] = await queued()
    async with session_scope() as session:
        held = await session.get(OutboxMessage, key)
        held.claimed_until = utcnow() + timedelta(seconds=1)  # an attempt that died holding it
    started = time.monotonic()
    assert await outbox.deliver(key) is True
    assert time.monotonic() - started >= 0.9
    assert mail.message_ids()[message_id] == 1


async def test_refused_message_gives_its_claim_back(organization_id, mail):
    [(key, message_id)] = await queued()
    mail.handler.refuse = True
    try:
        with pytest.raises(Exception, match="451"):
            await outbox.deliver(key)
    finally:
        mail.handler.refuse = False
    refused = await row(key)
    assert (refused.state, refused.attempts, refused.claimed_until) == ("pending", 1, None)
    started = time.monotonic()
    assert await outbox.deliver(key) is True  # the retry does not wait for a claim
    assert time.monotonic() - started < 0.9
    assert mail.message_ids()[message_id] == 1


# --- a busy worker ------------------------------------------------------------------------------

HEARTBEAT = timedelta(seconds=3)


@workflow.defn(sandboxed=False)
class SendMailWithShortHeartbeat:
    """The invitation workflow's mail step with a heartbeat timeout the test can outlast."""

    @workflow.run
    async def run(self, data: InvitationMailInput) -> bool:
        return await workflow.execute_activity(
            "send_invitation_mail", data, result_type=bool, start_to_close_timeout=timedelta(seconds=60),
            heartbeat_timeout=HEARTBEAT,
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100),
                                     maximum_interval=timedelta(seconds=1)))


@pytest.mark.timeout(90)
async def test_busy_worker_loses_attempts_but_sends_each_mail_once(organization_id, mail, temporal, slow_replies):
    """Twelve mails in flight; when the first reaches the server, the worker's event loop is held
    for longer than the heartbeat timeout (as a worker near a full core holds it). Temporal gives
    up on the attempts in flight and retries them while the first ones still run."""
    messages = await queued(12)
    loop = asyncio.get_running_loop()
    held = threading.Event()
    original = mail.handler.handle_DATA

    async def hold_the_worker_once(server, session, envelope):
        if not held.is_set():
            held.set()
            loop.call_soon_threadsafe(time.sleep, HEARTBEAT.total_seconds() + 1.5)
        return await original(server, session, envelope)

    mail.handler.handle_DATA = hold_the_worker_once
    queue = f"mail-once-{uuid.uuid4().hex[:8]}"
    try:
        async with Worker(temporal.client, task_queue=queue, workflows=[SendMailWithShortHeartbeat],
                          activities=[send_invitation_mail], workflow_runner=UnsandboxedWorkflowRunner(),
                          max_heartbeat_throttle_interval=HEARTBEAT_FLUSH):
            handles = [await temporal.client.start_workflow(
                SendMailWithShortHeartbeat.run, InvitationMailInput(invitation_id="none", outbox_key=key),
                id=f"{queue}-{index}", task_queue=queue) for index, (key, _) in enumerate(messages)]
            assert await asyncio.gather(*(handle.result() for handle in handles)) == [True] * len(messages)
    finally:
        mail.handler.handle_DATA = original

    assert held.is_set()
    attempts = []
    for handle in handles:
        async for event in handle.fetch_history_events(event_filter_type=WorkflowHistoryEventFilterType.ALL_EVENT):
            if event.HasField("activity_task_started_event_attributes"):
                attempts.append(event.activity_task_started_event_attributes.attempt)
    assert max(attempts) >= 2, f"no attempt was retried ({attempts}): the worker was not held long enough"
    received = mail.message_ids()
    assert {message_id: received[message_id] for _, message_id in messages} == {
        message_id: 1 for _, message_id in messages}
    for key, _ in messages:
        assert (await row(key)).state == "sent"
