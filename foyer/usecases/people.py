"""Who a person signed in to Foyer's pages is, as the rules ask it: the API knows a caller's role
from their token; a page user has no token, so their role is decided here, once, for every page
(My Groups, My Apps' owner view) that asks foyer.policy.may_invite or
foyer.usecases.ownership.require_manager.

The rule: the highest role among the person's own API tokens that are not revoked (an
administrator who signs in to the pages is still an administrator; a Guest Inviter still invites
under adminsAndGuestInviters), else "member" or "guest" by their userType."""

from dataclasses import dataclass

from sqlmodel import select

from foyer.models.directory import User
from foyer.models.enums import ADMIN_ROLES, Role, UserType
from foyer.models.token import ApiToken

# Highest first.
ROLE_RANK = (Role.global_administrator, Role.user_administrator, Role.guest_inviter, Role.member, Role.guest)


async def role_of(session, user: User) -> str:
    roles = set((await session.exec(select(ApiToken.role).where(
        ApiToken.user_id == user.id, ApiToken.organization_id == user.organization_id,
        ApiToken.revoked == False))).all())  # noqa: E712
    for role in ROLE_RANK:
        if role in roles:
            return str(role)
    return str(Role.guest if user.user_type == UserType.guest else Role.member)


@dataclass
class Person:
    """A signed-in page user as the use cases take a caller (foyer.usecases.ownership.Principal)."""
    user_id: str
    name: str
    role: str
    organization_id: str

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def actor(self) -> dict:
        """Who did it, as audit records name them."""
        return {"actor_id": self.user_id, "actor_name": self.name}


async def person(session, user: User) -> Person:
    return Person(user_id=user.id, name=user.display_name or user.mail or user.id,
                  role=await role_of(session, user), organization_id=user.organization_id)
