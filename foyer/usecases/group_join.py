"""Requests to join a group (My Groups, Entra's "Owners can manage group membership requests in My
Groups", off by default): who may ask to join which group, for the page (what to offer) and for
the GroupJoinRequestWorkflow's activity (authoritative, when the request is recorded)."""

from sqlmodel import col, select

from foyer.models.directory import Group, GroupJoinRequest, GroupMember, GroupOwner, Organization, User
from foyer.models.enums import UserType


def requests_allowed(org: Organization) -> bool:
    return bool(org.owners_can_manage_join_requests)


async def join_refusal(session, org: Organization, group: Group, user: User) -> str | None:
    """Why `user` may not ask to join `group` (None when they may). Members only: guests cannot
    browse the organization's groups (foyer.rules.guest_access), so they are not offered any."""
    if not requests_allowed(org):
        return "owners do not manage requests to join groups in this organization"
    if group.organization_id != org.id or user.organization_id != org.id:
        return "this group does not exist"
    if user.user_type == UserType.guest:
        return "guests cannot ask to join groups; ask the group's owner to add you"
    if await session.get(GroupMember, (group.id, user.id)) is not None:
        return "you are already a member of this group"
    owner = (await session.exec(select(GroupOwner.user_id).where(GroupOwner.group_id == group.id))).first()
    if owner is None:
        return "this group has no owner to approve requests"
    return None


async def joinable_groups(session, org: Organization, user: User) -> list[Group]:
    """The groups the page offers `user` to ask to join: those with an owner they do not belong to."""
    if not requests_allowed(org) or user.user_type == UserType.guest:
        return []
    mine = select(GroupMember.group_id).where(GroupMember.user_id == user.id)
    owned = select(GroupOwner.group_id)
    return list((await session.exec(select(Group).where(
        Group.organization_id == org.id, col(Group.id).in_(owned), col(Group.id).not_in(mine))
        .order_by(Group.display_name, Group.id))).all())


async def pending_requests(session, group_ids: list[str]) -> list[tuple[GroupJoinRequest, User]]:
    if not group_ids:
        return []
    return list((await session.exec(select(GroupJoinRequest, User).join(User, User.id == GroupJoinRequest.user_id)
                                    .where(col(GroupJoinRequest.group_id).in_(group_ids),
                                           GroupJoinRequest.state == "pending")
                                    .order_by(GroupJoinRequest.created_date_time))).all())
