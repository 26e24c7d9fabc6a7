"""Directory use cases: what deleting a user removes from the database, and what must be ended
through workflows first (`workflows.client.directory.delete_user` does that, then calls
`remove_user`)."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer.audit import audit
from foyer.errors import Refused
from foyer.models.directory import AppRoleAssignment, GroupMember, User
from foyer.models.enums import InvitationState
from foyer.models.invitation import Invitation, Passcode
from foyer.models.openid import AuthorizationCode, RefreshToken, RefreshTokenFamily
from foyer.models.token import ApiToken


async def pending_invitations(session: AsyncSession, user_id: str) -> list[tuple[str, str]]:
    """(invitation id, workflow id) of the user's pending invitations: each has a workflow
    waiting on it, which must end it (revoke) before the user goes."""
    return list((await session.exec(select(Invitation.id, Invitation.workflow_id).where(
        Invitation.user_id == user_id, Invitation.state == InvitationState.pending))).all())


async def remove_user(session: AsyncSession, organization_id: str, user_id: str, *, actor: Mapping[str, Any],
                      details: Mapping[str, Any]) -> None:
    """Delete the user with their invitations, passcodes, memberships, app role assignments, API
    tokens, refresh tokens and authorization codes, audit "Delete user" (with `details`: what was
    ended first) and commit, in one
    transaction. A user gone meanwhile is a 404; a row still referring to the user a 409."""
    user = await session.get(User, user_id)
    if user is None or user.organization_id != organization_id:
        raise Refused("Request_ResourceNotFound", f"user {user_id} does not exist", status_hint=404)
    target = {"target_id": user.id, "target_name": user.user_principal_name,
              "details": {"userType": user.user_type, "mail": user.mail or "", **details}}
    invitation_ids = select(Invitation.id).where(Invitation.user_id == user.id)
    for statement in (
        delete(Passcode).where(col(Passcode.invitation_id).in_(invitation_ids)),
        delete(Invitation).where(Invitation.user_id == user.id),
        delete(GroupMember).where(GroupMember.user_id == user.id),
        delete(AppRoleAssignment).where(AppRoleAssignment.principal_id == user.id),
        delete(ApiToken).where(ApiToken.user_id == user.id),
        # The OpenID Provider's grants: their refresh tokens and unused codes die with them.
        delete(RefreshToken).where(col(RefreshToken.family_id).in_(
            select(RefreshTokenFamily.id).where(RefreshTokenFamily.user_id == user.id))),
        delete(RefreshTokenFamily).where(RefreshTokenFamily.user_id == user.id),
        delete(AuthorizationCode).where(AuthorizationCode.user_id == user.id),
        delete(User).where(User.id == user.id),
    ):
        await session.exec(statement)  # type: ignore[call-overload]
    await audit(session, key=None, category="UserManagement", activity="Delete user",
                organization_id=organization_id, **actor, target_type="User", **target)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Refused("Request_BadRequest", "the user is still referenced by other directory objects; "
                      "remove those references first", status_hint=409) from None
