"""The Temporal worker: runs every Foyer workflow and activity on FOYER_TASK_QUEUE.

Run it with `foyer worker` (foyer/cli.py: its checks, logging and SIGTERM handling).
"""

import asyncio
import contextlib
import logging
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from foyer.activities import RefusalInterceptor, access, api_connectors, campaigns, extensions, invitations, sign_in
from foyer.activities import access_reviews, group_join, guest_lifecycle, saml_metadata, sign_up
from foyer.activities.guest_lifecycle_client import GuestLifecycleClient
from foyer import health, tracing
from foyer.settings import check_secret_key, get_settings
from foyer.temporal import connect_client, worker_runtime
from foyer.workflows.access_request import AccessRequestWorkflow
from foyer.workflows.access_review import AccessReviewOccurrenceWorkflow, AccessReviewWorkflow
from foyer.workflows.assignment import AssignmentWorkflow
from foyer.workflows.campaign import CampaignWorkflow
from foyer.workflows.group_join_request import GroupJoinRequestWorkflow
from foyer.workflows.guest_lifecycle import GuestLifecycleWorkflow
from foyer.workflows.invitation import InvitationWorkflow
from foyer.workflows.saml_metadata import SamlMetadataWorkflow
from foyer.workflows.sign_in import SignInWorkflow
from foyer.workflows.sign_up import SignUpWorkflow

WORKFLOWS = [InvitationWorkflow, AccessRequestWorkflow, AssignmentWorkflow, CampaignWorkflow, SignInWorkflow,
             SignUpWorkflow, GroupJoinRequestWorkflow, SamlMetadataWorkflow, AccessReviewOccurrenceWorkflow,
             AccessReviewWorkflow, GuestLifecycleWorkflow]
ACTIVITIES = [*invitations.ALL, *access.ALL, *extensions.ALL, *campaigns.ALL, *sign_in.ALL,
              *api_connectors.ALL, *sign_up.ALL, *group_join.ALL, *saml_metadata.ALL, *access_reviews.ALL,
              *guest_lifecycle.ALL]


def activities_for(client: Client) -> list:
    """Every activity; the ones that start workflows need the client."""
    inviter = campaigns.CampaignInviter(client)
    reviews = access_reviews.ReviewStarter(client)
    lifecycle = GuestLifecycleClient(client)
    return [*ACTIVITIES, access.AssignmentStarter(client).start_assignment_workflow,
            inviter.invite_row, inviter.invite_rows, reviews.open_access_review_occurrence,
            reviews.start_guest_lifecycles, lifecycle.delete_governed_guest,
            lifecycle.start_lifecycle_if_last, lifecycle.end_lifecycle_on_assignment]


# How often at most the SDK passes an activity's heartbeats on to the server. Its default, 0.8 of
# the heartbeat timeout, leaves a busy worker only a fifth of the timeout of slack; beats every
# 2 s (activities.store.heartbeating) flushed every 5 s leave HEARTBEAT_TIMEOUT − 7 s.
HEARTBEAT_FLUSH = timedelta(seconds=5)


class FoyerWorker:
    """One process's share of the task queue: two SDK workers on it, one running the workflows and
    their local activities, the other the (remote) activities.

    Why two: the SDK's core hands a worker's local activities to Python ahead of its remote
    activity tasks (a biased select), so in one worker a steady stream of local activities (each
    invitation records itself in one) held back the remote tasks the worker had already taken
    from the server, whose heartbeat and start-to-close clocks were running there. Under the
    invitation benchmark that held every activity slot's task for ~40 s, past its heartbeat
    timeout: the server retried them while this worker still ran them (66-100 of 500 mails a
    run). An activity-only worker has no local activities to put first.

    `async with` starts both (and stops them), like a Worker; `run()` runs both until cancelled.
    """

    def __init__(self, *workers: Worker):
        self.workers = workers
        self._stack: contextlib.AsyncExitStack | None = None

    @property
    def running(self) -> bool:
        """Both SDK workers started and not shut down (for /readyz)."""
        return all(worker.is_running for worker in self.workers)

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for worker in self.workers:
                group.create_task(worker.run())

    async def __aenter__(self) -> "FoyerWorker":
        async with contextlib.AsyncExitStack() as stack:
            for worker in self.workers:
                await stack.enter_async_context(worker)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(self, *exc) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.__aexit__(*exc)


# Options only one of the two SDK workers takes (the rest go to both).
WORKFLOW_WORKER_OPTIONS = ("max_concurrent_workflow_tasks", "max_concurrent_local_activities",
                           "max_concurrent_workflow_task_polls", "max_cached_workflows")
ACTIVITY_WORKER_OPTIONS = ("max_concurrent_activities", "max_concurrent_activity_task_polls",
                           "max_heartbeat_throttle_interval")


def concurrency_options(settings=None) -> dict:
    """The FOYER_WORKER_* concurrency settings as SDK Worker options (unset ones are left to the
    SDK's defaults, except max_concurrent_activities, Foyer's 100)."""
    settings = settings or get_settings()
    chosen = {
        "max_concurrent_activities": settings.worker_max_concurrent_activities,
        "max_concurrent_workflow_tasks": settings.worker_max_concurrent_workflow_tasks,
        "max_concurrent_local_activities": settings.worker_max_concurrent_local_activities,
        "max_concurrent_workflow_task_polls": settings.worker_workflow_task_polls,
        "max_concurrent_activity_task_polls": settings.worker_activity_task_polls,
        "max_cached_workflows": settings.worker_max_cached_workflows,
    }
    return {key: value for key, value in chosen.items() if value is not None}


def workers_for(client: Client, task_queue: str, workflows: list, activities: list, **options) -> FoyerWorker:
    """The workflows (with `activities` for their local activities, never polling for remote ones)
    and `activities` on an activity-only worker, both on `task_queue`. Of `options`, the
    workflow-only and activity-only ones (WORKFLOW_WORKER_OPTIONS, ACTIVITY_WORKER_OPTIONS) go to
    their worker, the rest to both."""
    workflow_options = {key: options.pop(key) for key in WORKFLOW_WORKER_OPTIONS if key in options}
    activity_options = {key: options.pop(key) for key in ACTIVITY_WORKER_OPTIONS if key in options}
    activity_options.setdefault("max_concurrent_activities", 100)
    activity_options.setdefault("max_heartbeat_throttle_interval", HEARTBEAT_FLUSH)
    # With tracing on, OpenTelemetry passes through the workflow sandbox (foyer.tracing).
    workflow_options = {**tracing.workflow_runner_options(), **workflow_options, **options}
    return FoyerWorker(
        Worker(client, task_queue=task_queue, workflows=workflows, activities=activities,
               no_remote_activities=True, **workflow_options),
        Worker(client, task_queue=task_queue, activities=activities, **activity_options, **options),
    )


def build_worker(client: Client, task_queue: str | None = None, **options) -> FoyerWorker:
    """Foyer's workers on `task_queue` (default FOYER_TASK_QUEUE), sized by the FOYER_WORKER_*
    settings; `options` (tests, bench) win over the settings."""
    # Activities raise foyer.errors.Refused; RefusalInterceptor records it as a non-retryable
    # failure (in both SDK workers: local activities run in the first, remote ones in the second).
    options["interceptors"] = [RefusalInterceptor(), *options.pop("interceptors", [])]
    return workers_for(client, task_queue or get_settings().task_queue, WORKFLOWS, activities_for(client),
                       **{**concurrency_options(), **options})


async def run_worker(health_port: int | None = None, **sizes) -> None:
    """Connect, poll until cancelled (then shut down gracefully). With a `health_port` (or
    FOYER_WORKER_HEALTH_PORT), /healthz and /readyz answer there from the start: ready once the
    database and Temporal answer and both SDK workers run. `sizes` (`foyer worker`'s flags) win
    over the FOYER_WORKER_* concurrency settings."""
    check_secret_key()  # also for `python worker.py`
    settings = get_settings()
    tracing.setup("foyer-worker")  # before the client: it carries the tracing interceptor
    state: dict = {"client": None, "worker": None}

    async def readiness() -> list[str]:
        found = await health.problems(state["client"])
        if state["worker"] is None or not state["worker"].running:
            found.append("worker not polling")
        return found

    port = health_port if health_port is not None else settings.worker_health_port
    server = await health.HealthServer(settings.worker_health_host, port, readiness).start() \
        if port is not None else None
    try:
        state["client"] = await connect_client(runtime=worker_runtime())  # FOYER_WORKER_METRICS_ADDRESS
        # Stopped (SIGTERM, Ctrl-C: run() cancelled), both SDK workers stop polling and let running
        # activities finish for this long before cancelling them, so a deploy cuts no mail short.
        state["worker"] = build_worker(state["client"], graceful_shutdown_timeout=timedelta(
            seconds=settings.worker_shutdown_seconds), **sizes)
        logging.getLogger("foyer").info("worker polling %s", settings.task_queue)
        await state["worker"].run()
    finally:
        if server is not None:
            await server.stop()
