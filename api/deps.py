"""Request dependencies: database session, Temporal client, the calling principal and its role."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from foyer.api.errors import GraphError, bad_request, not_found
from foyer.api.graph import bound_ids
from foyer.db import get_sessionmaker
from foyer.policy import may_create
from foyer.rules import guest_access
from foyer.security import api_token_hash
from foyer.models.directory import Organization, User
from foyer.models.enums import ADMIN_ROLES, Role
from foyer.models.token import ApiToken


async def get_session() -> AsyncIterator[AsyncSession]:
    async with get_sessionmaker()() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_temporal(request: Request) -> Client:
    return request.app.state.temporal


TemporalDep = Annotated[Client, Depends(get_temporal)]


async def get_organization(session: SessionDep) -> Organization:
    org = (await session.exec(select(Organization).order_by(Organization.created_date_time))).first()
    if org is None:
        raise GraphError(503, "organizationMissing", "no organization: run `foyer db upgrade`")
    return org


OrganizationDep = Annotated[Organization, Depends(get_organization)]


@dataclass(frozen=True)
class Caller:
    token_id: str
    name: str
    role: str
    user_id: str | None
    organization_id: str
    # The authorization policy's guestUserRoleId, set by the directory-read dependencies below.
    guest_level: str = guest_access.LIMITED

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def actor(self) -> dict:
        """Who did it, as audit records name them (keyword arguments of activities.store.audit)."""
        return {"actor_id": self.user_id or self.token_id, "actor_name": self.name}


async def get_caller(request: Request, session: SessionDep) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.",
                         headers={"WWW-Authenticate": "Bearer"})
    row = (await session.exec(select(ApiToken).where(
        ApiToken.token_hash == api_token_hash(token.strip())))).first()
    if row is None or row.revoked:
        raise GraphError(401, "InvalidAuthenticationToken", "Access token is not valid.",
                         headers={"WWW-Authenticate": "Bearer"})
    name = row.name
    if row.user_id:
        user = await session.get(User, row.user_id)
        if user is None or not user.account_enabled:
            raise GraphError(401, "InvalidAuthenticationToken", "The token's user is disabled.")
        name = user.display_name or name
    return Caller(token_id=row.id, name=name, role=row.role, user_id=row.user_id,
                  organization_id=row.organization_id)


CallerDep = Annotated[Caller, Depends(get_caller)]


def person(caller: Caller) -> str:
    """The caller's directory user, for what only a person has (their requests, approvals)."""
    if caller.user_id is None:
        raise GraphError(403, "Authorization_RequestDenied",
                         "this token does not belong to a directory user; filterByCurrentUser and "
                         "approvals need a person's token")
    return caller.user_id


INSUFFICIENT = "Insufficient privileges to complete the operation."


def require_roles(*roles: Role):
    allowed = frozenset(roles)

    async def check(caller: CallerDep) -> Caller:
        if caller.role not in allowed:
            raise GraphError(403, "Authorization_RequestDenied", INSUFFICIENT)
        return caller

    return Depends(check)


ADMINS = (Role.global_administrator, Role.user_administrator)
MEMBERS = (*ADMINS, Role.guest_inviter, Role.member)
AdminCaller = Annotated[Caller, require_roles(*ADMINS)]
GlobalAdminCaller = Annotated[Caller, require_roles(Role.global_administrator)]
MemberCaller = Annotated[Caller, require_roles(*MEMBERS)]
INVITERS = (*ADMINS, Role.guest_inviter)
InviterCaller = Annotated[Caller, require_roles(*INVITERS)]


def directory_read(read: str):
    """The caller of a directory read (foyer.rules.guest_access.READS), refused (403) when the
    organization's guestUserRoleId does not let a guest make it; the caller carries that level, for
    the properties of users the route shows (guest_access.visible_user). A USER or USER_RELATIONS
    read names its user in the path's `user_id`. Refused before the object is looked up: a guest
    who may not read learns nothing of which ids exist."""
    if read not in guest_access.READS:
        raise ValueError(f"unknown directory read {read!r}")

    async def check(request: Request, caller: CallerDep, org: OrganizationDep) -> Caller:
        level = org.guest_user_role_id
        if guest_access.read_refused(caller.role, level, read, caller.user_id,
                                     request.path_params.get("user_id")):
            raise GraphError(403, "Authorization_RequestDenied", INSUFFICIENT)
        return replace(caller, guest_level=level)

    return Depends(check)


ListReader = Annotated[Caller, directory_read(guest_access.LIST)]
UserReader = Annotated[Caller, directory_read(guest_access.USER)]
UserRelationsReader = Annotated[Caller, directory_read(guest_access.USER_RELATIONS)]
GroupReader = Annotated[Caller, directory_read(guest_access.GROUP)]
ApplicationReader = Annotated[Caller, directory_read(guest_access.APPLICATION)]


def visible_user(caller: Caller):
    """A serializer wrapper: a user's body as this caller may see it (all of it, but for guests
    at the limited level: foyer.rules.guest_access.LIMITED_USER_PROPERTIES)."""
    def cut(body: dict) -> dict:
        return guest_access.visible_user(body, caller.role, caller.guest_level, caller.user_id)
    return cut


async def get_in_org(session: AsyncSession, model, org: Organization, row_id: str, what: str):
    """The row `row_id` of `model` if it belongs to the caller's organization; 404 otherwise."""
    row = await session.get(model, row_id)
    if row is None or row.organization_id != org.id:
        raise not_found(f"{what} {row_id}")
    return row


async def bound_users(session, org, references: list[str] | None) -> list[User]:
    """The users an `owners@odata.bind` list names; 400 for one that does not exist."""
    users = []
    for user_id in bound_ids(references or [], "users"):
        user = await session.get(User, user_id)
        if user is None or user.organization_id != org.id:
            raise bad_request(f"owners@odata.bind: no user with id {user_id}", code="Request_BadRequest")
        users.append(user)
    return users


async def first_owners(session, org, caller, references: list[str] | None, switch: bool,
                       what: str) -> tuple[list[User], str]:
    """Who owns a group or an application being created, and the capacity the caller creates it
    in: an administrator names the owners (`owners@odata.bind`, none by default); a member who may
    create (foyer.policy.may_create) owns what they create and names no one else."""
    if not may_create(caller.role, switch):
        raise GraphError(403, "Authorization_RequestDenied",
                         f"{INSUFFICIENT} The authorization policy does not let the role "
                         f"'{caller.role}' create {what}.")
    if caller.is_admin:
        return await bound_users(session, org, references), "administrator"
    if caller.user_id is None:
        raise GraphError(403, "Authorization_RequestDenied",
                         f"this token does not belong to a directory user: a member's {what} are owned "
                         "by who creates them, so creating them needs a person's token")
    creator = await get_in_org(session, User, org, caller.user_id, "user")
    others = {u.id for u in await bound_users(session, org, references)} - {creator.id}
    if others:
        raise GraphError(403, "Authorization_RequestDenied",
                         "owners@odata.bind: only an administrator names other owners; you own what "
                         "you create and may add owners afterwards")
    return [creator], "owner"
