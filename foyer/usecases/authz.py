"""Who may see and change what in entitlement management, for the API and the pages alike.

Admins (Global Administrator, User Administrator) everything; a catalog's owners
(`Catalog.owner_ids`) manage that catalog's resources, access packages and policies and see the
requests and assignments of its packages; everyone else their own requests and assignments, and
the requests they are an approver of. A request one may not see answers 404 (Refused), so that
others cannot tell it exists."""

from typing import Protocol

from sqlalchemy import false, or_
from sqlmodel import col, select

from foyer.errors import Refused
from foyer.models.entitlement import AccessPackage, ApprovalStage, AssignmentRequest, Catalog


class Principal(Protocol):
    """The caller, as these rules need it (api.deps.Caller is one)."""

    user_id: str | None

    @property
    def is_admin(self) -> bool: ...


def not_found(what: str) -> Refused:
    """Graph's answer for an object that does not exist (or that the caller may not see)."""
    return Refused("Request_ResourceNotFound", f"{what} does not exist", status_hint=404)


def owns(caller: Principal, catalog: Catalog) -> bool:
    return caller.user_id is not None and caller.user_id in (catalog.owner_ids or [])


def may_manage(caller: Principal, catalog: Catalog) -> bool:
    return caller.is_admin or owns(caller, catalog)


def require_manage(caller: Principal, catalog: Catalog) -> None:
    if not may_manage(caller, catalog):
        raise Refused("Authorization_RequestDenied",
                      f"only an administrator or an owner of the catalog '{catalog.display_name}' "
                      "may change it, its resources, access packages and policies")


async def owned_catalog_ids(session, organization_id: str, caller: Principal) -> set[str]:
    if caller.user_id is None:
        return set()
    rows = (await session.exec(select(Catalog.id, Catalog.owner_ids).where(
        Catalog.organization_id == organization_id))).all()
    return {cid for cid, owners in rows if caller.user_id in (owners or [])}


async def owned_packages(session, organization_id: str, caller: Principal):
    """A SELECT of the ids of the access packages in catalogs the caller owns; None if none."""
    owned = await owned_catalog_ids(session, organization_id, caller)
    if not owned:
        return None
    return select(AccessPackage.id).where(AccessPackage.organization_id == organization_id,
                                          col(AccessPackage.catalog_id).in_(owned))


async def request_scope(session, organization_id: str, caller: Principal) -> list:
    """The WHERE clauses of the requests a caller may list."""
    where = [AssignmentRequest.organization_id == organization_id]
    if caller.is_admin:
        return where
    clauses = []
    if caller.user_id:
        clauses += [AssignmentRequest.requestor_id == caller.user_id,
                    AssignmentRequest.target_id == caller.user_id]
    owned = await owned_packages(session, organization_id, caller)
    if owned is not None:
        clauses.append(col(AssignmentRequest.access_package_id).in_(owned))
    where.append(or_(*clauses) if clauses else false())
    return where


async def approver_ids(session, request_id: str) -> set[str]:
    rows = (await session.exec(select(ApprovalStage.approver_ids).where(
        ApprovalStage.request_id == request_id))).all()
    return {user_id for ids in rows for user_id in ids or []}


async def visible_request(session, organization_id: str, caller: Principal, request_id: str, *,
                          approvers: bool = True) -> AssignmentRequest:
    """The request if the caller may see it (its approvers too, unless `approvers` is False);
    Refused as not found otherwise."""
    row = await session.get(AssignmentRequest, request_id)
    if row is None or row.organization_id != organization_id:
        raise not_found(f"assignment request {request_id}")
    if caller.is_admin or (caller.user_id and caller.user_id in (row.requestor_id, row.target_id)):
        return row
    owned = await owned_packages(session, organization_id, caller)
    if owned is not None and row.access_package_id in set((await session.exec(owned)).all()):
        return row
    if approvers and caller.user_id and caller.user_id in await approver_ids(session, row.id):
        return row
    raise not_found(f"assignment request {request_id}")
