"""Directory operations that steer workflows: deleting a user ends what runs for them first."""

from collections.abc import Mapping
from typing import Any

from temporalio.client import Client
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer.errors import Refused
from foyer.usecases.directory import pending_invitations, remove_user
from foyer.workflows.client.access_requests import end_access_of
from foyer.workflows.client.guest_lifecycle import cancel_lifecycle
from foyer.workflows.client.invitations import revoke
from foyer.workflows.messages.guest_lifecycle import CancelLifecycle
from foyer.workflows.messages.invitation import RevokeRequest


async def delete_user(client: Client, session: AsyncSession, organization_id: str, user_id: str, *,
                      actor: Mapping[str, Any]) -> None:
    """Delete a user (the one way: `DELETE /v1.0/users/{id}` calls it). Their pending invitations
    are revoked through their workflows, their requests waiting for approval canceled and their
    assignments removed by their own workflows; then the user and what hangs off them are
    deleted and audited in one transaction (`foyer.usecases.directory.remove_user`). The caller
    has checked that the user exists in the organization."""
    pending = await pending_invitations(session, user_id)
    # The workflows write to the database themselves: hold no transaction open meanwhile.
    await session.rollback()
    for invitation_id, workflow_id in pending:
        try:
            await revoke(client, workflow_id, RevokeRequest(invitation_id=invitation_id, **actor,
                                                            reason="user deleted"))
        except Refused as error:
            if error.status != 409:  # 409: it stopped being pending meanwhile; nothing to end
                raise
    canceled_requests, removed_assignments = await end_access_of(client, session, user_id)
    await session.rollback()
    await remove_user(session, organization_id, user_id, actor=actor, details={
        "revokedInvitations": ",".join(i for i, _ in pending),
        "canceledRequests": canceled_requests, "removedAssignments": removed_assignments})
    # A guest the external-user lifecycle had blocked: their lifecycle ends (it finds them gone).
    await cancel_lifecycle(client, user_id, CancelLifecycle(reason="user deleted"))
