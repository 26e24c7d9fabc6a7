"""Group membership: adding and removing a member, for `groups/{id}/members/$ref`, My Groups and
an approved request to join. Who may is asked before (foyer.usecases.ownership.require_manager);
`capacity` ("administrator", "owner", "joinRequest") is what the audit record says they acted as."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError

from foyer.audit import audit
from foyer.errors import Refused
from foyer.models.directory import Group, GroupMember, User

ALREADY_MEMBER = ("One or more added object references already exist for the following modified "
                  "properties: 'members'.")


async def add_member(session, organization_id: str, group: Group, user: User, *, actor: Mapping[str, Any],
                     capacity: str) -> None:
    """Add `user` to `group`, audit "Add member to group" and commit. Refused (400, Graph's
    words) when they already are a member."""
    if user.organization_id != organization_id:
        raise Refused("Request_ResourceNotFound", f"directory object {user.id} does not exist", status_hint=404)
    already = Refused("Request_BadRequest", ALREADY_MEMBER, status_hint=400)
    if await session.get(GroupMember, (group.id, user.id)) is not None:
        raise already
    session.add(GroupMember(group_id=group.id, user_id=user.id))
    await audit(session, key=None, category="GroupManagement", activity="Add member to group",
                organization_id=organization_id, **actor, target_type="Group", target_id=group.id,
                target_name=group.display_name,
                details={"userId": user.id, "userPrincipalName": user.user_principal_name,
                         "userType": user.user_type, "actingAs": capacity})
    try:
        await session.commit()
    except IntegrityError:  # added concurrently
        await session.rollback()
        raise already from None


async def remove_member(session, organization_id: str, group: Group, user: User, *, actor: Mapping[str, Any],
                        capacity: str, commit: bool = True) -> None:
    """Remove `user` from `group`, audited; `commit` False leaves the commit to the caller (an
    access review applies its removals in batches)."""
    membership = await session.get(GroupMember, (group.id, user.id))
    if membership is None:
        raise Refused("Request_ResourceNotFound", f"member {user.id} of group {group.id} does not exist",
                      status_hint=404)
    await session.delete(membership)
    await audit(session, key=None, category="GroupManagement", activity="Remove member from group",
                organization_id=organization_id, **actor, target_type="Group", target_id=group.id,
                target_name=group.display_name,
                details={"userId": user.id, "userPrincipalName": user.user_principal_name,
                         "userType": user.user_type, "actingAs": capacity})
    if commit:
        await session.commit()
