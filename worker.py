"""The Temporal worker: runs every Foyer workflow and activity on FOYER_TASK_QUEUE.

`python worker.py` and `foyer worker` are the same thing.
"""

import asyncio
import logging
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities import access, api_connectors, campaigns, extensions, invitations, sign_in
from activities import sign_up
from foyer.settings import check_secret_key, get_settings
from foyer.temporal import connect_client
from workflows.access_request import AccessRequestWorkflow
from workflows.assignment import AssignmentWorkflow
from workflows.campaign import CampaignWorkflow
from workflows.invitation import InvitationWorkflow
from workflows.sign_in import SignInWorkflow
from workflows.sign_up import SignUpWorkflow

WORKFLOWS = [InvitationWorkflow, AccessRequestWorkflow, AssignmentWorkflow, CampaignWorkflow, SignInWorkflow,
             SignUpWorkflow]
ACTIVITIES = [*invitations.ALL, *access.ALL, *extensions.ALL, *campaigns.ALL, *sign_in.ALL,
              *api_connectors.ALL, *sign_up.ALL]


def activities_for(client: Client) -> list:
    """Every activity; the ones that start workflows need the client."""
    inviter = campaigns.CampaignInviter(client)
    return [*ACTIVITIES, access.AssignmentStarter(client).start_assignment_workflow,
            inviter.invite_row, inviter.invite_rows]


# How often at most the SDK passes an activity's heartbeats on to the server. Its default, 0.8 of
# the heartbeat timeout, leaves a busy worker only a fifth of the timeout of slack; beats every
# 2 s (activities.store.heartbeating) flushed every 5 s leave HEARTBEAT_TIMEOUT − 7 s.
HEARTBEAT_FLUSH = timedelta(seconds=5)


def build_worker(client: Client, task_queue: str | None = None, **options) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or get_settings().task_queue,
        workflows=WORKFLOWS,
        activities=activities_for(client),
        max_concurrent_activities=options.pop("max_concurrent_activities", 100),
        max_heartbeat_throttle_interval=options.pop("max_heartbeat_throttle_interval", HEARTBEAT_FLUSH),
        **options,
    )


async def run_worker() -> None:
    check_secret_key()  # also for `python worker.py`
    client = await connect_client()
    worker = build_worker(client)
    logging.getLogger("foyer").info("worker polling %s", get_settings().task_queue)
    await worker.run()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(run_worker())
