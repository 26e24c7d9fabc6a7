"""Timeouts and retry policies the workflows share."""

from datetime import timedelta

from temporalio.common import RetryPolicy

DB_TIMEOUT = timedelta(seconds=30)
# A database hiccup is waited out; business refusals are non-retryable ApplicationErrors.
DB_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30))
# Mail keeps retrying: an SMTP outage is a wait, never a loss.
MAIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5))
# Custom extension callouts: a few tries; a stage that must wait fails closed after them.
CALLOUT_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
# Activities that heartbeat: a worker that dies is noticed this quickly, and the work retried.
# A worker that is only busy must not be taken for dead: its heartbeats wait for its event loop
# and for the server, and the SDK passes them on at most every HEARTBEAT_FLUSH (worker.py; by
# default 0.8 of this timeout, which at 10 s left a loaded worker 2 s). 30 s with a 5 s flush
# leaves ~23 s. (What lost mail attempts under the invitation benchmark was remote activities
# waiting behind local ones inside one SDK worker: see worker.FoyerWorker.)
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
