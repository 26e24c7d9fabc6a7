"""Who may sign in to which application, and with what: the one rule the OpenID Provider's
authorize and token endpoints, the My Apps page and the tests ask.

A person gets a token for an app when they may sign in at all (foyer.rules.sign_in: enabled, a
member or a guest who redeemed) and, if the app requires assignment (the default), they are
assigned to it: directly (an appRoleAssignment, which is also how an access package delivers an
application), or through a group assigned to it. The `roles` claim carries the values of the
enabled app roles so assigned (the default role has none); the `groups` claim follows the app's
groupMembershipClaims.
"""

from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer.models.directory import Application, AppRoleAssignment, GroupAppRoleAssignment, GroupMember, User
from foyer.models.enums import ExternalUserState, UserType
from foyer.rules.sign_in import may_sign_in

# Entra's AADSTS numbers, so that apps and operators who know them read Foyer's the same way.
USER_NOT_FOUND = 50034
ACCOUNT_DISABLED = 50057
NOT_ASSIGNED = 50105
INVITATION_NOT_REDEEMED = 90072


@dataclass(frozen=True)
class AppAccess:
    allowed: bool
    # 0 when allowed; otherwise an AADSTS number above, and a reason a person can read.
    error_code: int = 0
    reason: str = ""
    roles: list[str] = field(default_factory=list)
    # Ids of the groups the `groups` claim carries (empty unless the app asks for them).
    groups: list[str] = field(default_factory=list)


def refusal(user: User | None) -> AppAccess | None:
    """Why `user` may not sign in anywhere, or None when they may."""
    if may_sign_in(user):
        return None
    if user is None:
        return AppAccess(False, USER_NOT_FOUND, "The account does not exist in this organization.")
    if not user.account_enabled:
        return AppAccess(False, ACCOUNT_DISABLED, "The account is disabled.")
    if user.user_type == UserType.guest and user.external_user_state != ExternalUserState.accepted:
        return AppAccess(False, INVITATION_NOT_REDEEMED,
                         "The invitation to this organization has not been redeemed yet.")
    return AppAccess(False, USER_NOT_FOUND, "The account may not sign in.")


async def group_ids_of(session: AsyncSession, user_id: str) -> list[str]:
    """The ids of the groups `user_id` is a member of."""
    return sorted((await session.exec(select(GroupMember.group_id).where(GroupMember.user_id == user_id))).all())


async def app_access(session: AsyncSession, user: User | None, app: Application) -> AppAccess:
    """May `user` sign in to `app`, and with which roles and groups."""
    refused = refusal(user)
    if refused is not None:
        return refused
    assert user is not None
    direct = list((await session.exec(select(AppRoleAssignment.app_role_id).where(
        AppRoleAssignment.application_id == app.id, AppRoleAssignment.principal_id == user.id))).all())
    member_of = await group_ids_of(session, user.id)
    through_groups = list((await session.exec(select(GroupAppRoleAssignment.group_id, GroupAppRoleAssignment.app_role_id).where(
        GroupAppRoleAssignment.application_id == app.id,
        col(GroupAppRoleAssignment.group_id).in_(member_of)))).all()) if member_of else []
    role_ids = set(direct) | {role_id for _, role_id in through_groups}
    if app.app_role_assignment_required and not role_ids:
        return AppAccess(False, NOT_ASSIGNED,
                         f"You are not assigned to {app.display_name}. Ask its owner for access.")
    values = {role["id"]: role.get("value") for role in app.app_roles if role.get("isEnabled", True)}
    roles = sorted({values[r] for r in role_ids if values.get(r)})
    claim = (app.group_membership_claims or "None")
    if claim in ("SecurityGroup", "All"):
        groups = member_of
    elif claim == "ApplicationGroup":
        groups = sorted({group_id for group_id, _ in through_groups})
    else:
        groups = []
    return AppAccess(True, roles=roles, groups=groups)


async def apps_for(session: AsyncSession, user: User | None) -> list[Application]:
    """The applications `user` may open (My Apps), by display name. Apps that do not require
    assignment are listed only when assigned (everyone may open them, but they are not theirs)."""
    if refusal(user) is not None:
        return []
    assert user is not None
    member_of = await group_ids_of(session, user.id)
    direct = select(AppRoleAssignment.application_id).where(AppRoleAssignment.principal_id == user.id)
    ids = set((await session.exec(direct)).all())
    if member_of:
        ids |= set((await session.exec(select(GroupAppRoleAssignment.application_id).where(
            col(GroupAppRoleAssignment.group_id).in_(member_of)))).all())
    if not ids:
        return []
    return list((await session.exec(select(Application).where(
        col(Application.id).in_(ids), Application.organization_id == user.organization_id)
        .order_by(Application.display_name))).all())
