"""Starting and steering CampaignWorkflows: used by the campaign API."""

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError

from foyer.errors import Refused
from foyer.settings import get_settings
from foyer.workflows.campaign import CampaignWorkflow
from foyer.workflows.client.failures import refusal, unavailable
from foyer.workflows.messages.campaign import CampaignInput


def _ended(message: str = "the campaign's workflow has ended") -> Refused:
    return Refused("campaignEnded", message)


async def start(client: Client, workflow_id: str, data: CampaignInput) -> None:
    """Refused serviceUnavailable (transient) when the workflow service does not answer."""
    try:
        await client.start_workflow(CampaignWorkflow.run, data, id=workflow_id,
                                    task_queue=get_settings().task_queue)
    except RPCError as error:
        raise unavailable(error) from error


async def pause(client: Client, workflow_id: str) -> None:
    try:
        await client.get_workflow_handle_for(CampaignWorkflow.run, workflow_id).signal(CampaignWorkflow.pause)
    except RPCError as error:
        raise _ended() from error


async def resume(client: Client, workflow_id: str) -> None:
    try:
        await client.get_workflow_handle_for(CampaignWorkflow.run, workflow_id).signal(CampaignWorkflow.resume)
    except RPCError as error:
        raise _ended() from error


async def cancel(client: Client, workflow_id: str) -> str:
    """The campaign's state after the `cancel` Update."""
    try:
        status = await client.get_workflow_handle_for(CampaignWorkflow.run, workflow_id).execute_update(
            CampaignWorkflow.cancel)
    except WorkflowUpdateFailedError as error:
        raise refusal(error) or _ended("the campaign already ended") from error
    except RPCError as error:
        raise _ended() from error
    return status.state


async def retry_failed(client: Client, workflow_id: str) -> int:
    """The running campaign's `retry_failed` Update: how many failed rows went back to pending."""
    try:
        return await client.get_workflow_handle_for(CampaignWorkflow.run, workflow_id).execute_update(
            CampaignWorkflow.retry_failed)
    except WorkflowUpdateFailedError as error:
        raise refusal(error) or _ended("the campaign already ended") from error
    except RPCError as error:
        raise _ended(f"the campaign's workflow could not be reached: {error}") from error
