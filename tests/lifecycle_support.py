"""Shared by the external-user lifecycle tests: a governed guest, their lifecycle's state, a package
assignment made and ended through the real workflows."""

import asyncio

from temporalio.client import Client

from foyer.db import session_scope
from foyer.models.directory import User
from foyer.models.entitlement import AccessPackage, AssignmentPolicy
from foyer.workflows.access_request import AccessRequestWorkflow
from foyer.workflows.client import access_requests
from foyer.workflows.client.guest_lifecycle import lifecycle_status
from foyer.workflows.messages.guest_lifecycle import LifecycleStatus
from tests.factories import make_user, request


async def governed_guest(organization_id: str, name: str) -> User:
    """A guest who came in through entitlement management (as a campaign assigning packages makes)."""
    guest = await make_user(organization_id, name, guest=True)
    async with session_scope() as session:
        row = await session.get(User, guest.id)
        row.governed_by_entitlement = True
        session.add(row)
    return guest


async def user_row(user_id: str) -> User | None:
    async with session_scope() as session:
        return await session.get(User, user_id)


async def wait_for_lifecycle(client: Client, user_id: str, *states: str, timeout: float = 30) -> LifecycleStatus:
    """Poll the `status` query (which does not skip time) until the lifecycle is in one of `states`."""
    status = None
    for _ in range(int(timeout / 0.1)):
        status = await lifecycle_status(client, user_id)
        if status is not None and status.state in states:
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"the lifecycle of {user_id} is {status}, not one of {states}")


async def assign(client: Client, organization_id: str, package: AccessPackage, policy: AssignmentPolicy,
                 guest: User, request_type: str = "adminAdd") -> str:
    """An administrator's direct assignment (or removal); returns when the request has ended."""
    spec = request(organization_id, package, policy, guest, request_type=request_type, requestor_is_admin=True)
    spec.requestor_id = None
    plan = await access_requests.submit_request(client, spec)
    handle = client.get_workflow_handle_for(AccessRequestWorkflow.run, f"access-request:{package.id}:{guest.id}")
    result = await handle.result()
    assert result.state in ("delivered", "canceled", "denied") or result.state, result
    return plan.assignment_id
