"""Request dependencies: database session, Temporal client, the calling principal and its role."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from foyer.api.errors import GraphError, not_found
from foyer.db import get_sessionmaker
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


def require_roles(*roles: Role):
    allowed = frozenset(roles)

    async def check(caller: CallerDep) -> Caller:
        if caller.role not in allowed:
            raise GraphError(403, "Authorization_RequestDenied",
                             "Insufficient privileges to complete the operation.")
        return caller

    return Depends(check)


ADMINS = (Role.global_administrator, Role.user_administrator)
MEMBERS = (*ADMINS, Role.guest_inviter, Role.member)
AdminCaller = Annotated[Caller, require_roles(*ADMINS)]
GlobalAdminCaller = Annotated[Caller, require_roles(Role.global_administrator)]
MemberCaller = Annotated[Caller, require_roles(*MEMBERS)]
InviterCaller = Annotated[Caller, require_roles(*ADMINS, Role.guest_inviter)]


async def get_in_org(session: AsyncSession, model, org: Organization, row_id: str, what: str):
    """The row `row_id` of `model` if it belongs to the caller's organization; 404 otherwise."""
    row = await session.get(model, row_id)
    if row is None or row.organization_id != org.id:
        raise not_found(f"{what} {row_id}")
    return row
