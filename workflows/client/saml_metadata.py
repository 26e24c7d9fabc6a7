"""Starting, waking and ending SamlMetadataWorkflows (one per SAML federation), for the
federationConfigurations API. Each call is idempotent: start uses the running workflow if there
is one, and ending or waking a workflow that is not running is a no-op."""

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from foyer.settings import get_settings
from foyer.workflows.client.failures import unavailable
from foyer.workflows.messages.saml_metadata import SamlMetadataInput, saml_metadata_workflow_id
from foyer.workflows.saml_metadata import SamlMetadataWorkflow


async def start(client: Client, federation_id: str, organization_id: str) -> None:
    """Keep `federation_id` healthy (no-op when its workflow already runs). Refused
    `serviceUnavailable` (503) when Temporal does not answer."""
    try:
        await client.start_workflow(
            SamlMetadataWorkflow.run, SamlMetadataInput(federation_id=federation_id, organization_id=organization_id),
            id=saml_metadata_workflow_id(federation_id), task_queue=get_settings().task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
    except RPCError as error:
        raise unavailable(error) from error


async def refresh(client: Client, federation_id: str) -> None:
    """Wake the workflow to refresh now (after an administrator changed the federation)."""
    try:
        await client.get_workflow_handle(saml_metadata_workflow_id(federation_id)).signal(SamlMetadataWorkflow.refresh)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise unavailable(error) from error


async def stop(client: Client, federation_id: str) -> None:
    """End the workflow of a deleted federation. If Temporal does not answer, the workflow ends by
    itself at its next refresh (it finds the federation gone), so this never fails the delete."""
    try:
        await client.get_workflow_handle(saml_metadata_workflow_id(federation_id)).cancel()
    except RPCError:
        pass

