"""Waiting on an access request's workflow in tests and the bench (the builders are in
tests/factories.py)."""

import asyncio

from foyer.workflows.access_request import AccessRequestWorkflow


async def stage_open(client, workflow_id: str, index: int = 0, seconds: float = 10.0):
    """Wait until approval stage `index` is open (approvers are mailed at that moment); its status."""
    handle = client.get_workflow_handle_for(AccessRequestWorkflow.run, workflow_id)
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        status = await handle.query(AccessRequestWorkflow.current)
        if status.state == "pendingApproval" and status.stage_index == index and status.stage_id:
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"stage {index} of {workflow_id} did not open ({status.state})")
        await asyncio.sleep(0.05)
