"""The database steps the entitlement-management API shares: finding a catalog or an access
package in the caller's organization, holding a row for a read-modify-write, refusing to delete
what live assignments or open requests still use, and auditing a change (category
EntitlementManagement). Refusals are foyer.errors.Refused; the API answers them as Graph errors."""

from collections.abc import Iterable

from sqlalchemy import update
from sqlmodel import col, select

from foyer.audit import audit
from foyer.errors import Refused
from foyer.usecases.authz import Principal, may_manage, not_found, require_manage
from foyer.models.directory import User
from foyer.models.entitlement import AccessPackage, Assignment, AssignmentRequest, Catalog, CatalogResource
from foyer.models.enums import LIVE_ASSIGNMENT_STATES, OPEN_REQUEST_STATES

CATEGORY = "EntitlementManagement"


async def record(session, organization_id: str, actor: dict, activity: str, target_type: str,
                 target_id: str, target_name: str | None, **details) -> None:
    """Audit an entitlement-management change in the caller's transaction (committed with it)."""
    await audit(session, key=None, category=CATEGORY, activity=activity, organization_id=organization_id,
                **actor, target_type=target_type, target_id=target_id, target_name=target_name,
                details=details)


async def lock_row(session, model, row_id: str) -> None:
    """Hold the row for the rest of the transaction before reading it (a read-modify-write of a
    JSON list must not lose a concurrent change). A no-op UPDATE does it on both databases: it
    takes PostgreSQL's row lock, and SQLite's write lock (its driver begins the transaction at
    the first write, so a SELECT … FOR UPDATE would lock nothing there)."""
    await session.exec(update(model).where(model.id == row_id).values(id=model.id))  # type: ignore[call-overload]


async def refuse_while_in_use(session, *, assignment_column, request_column, row_id: str,
                              assignments_message: str, requests_message: str) -> None:
    """Refused (409) while live assignments or open requests refer to the row; the messages get
    the count as `{n}`."""
    active = (await session.exec(select(Assignment.id).where(
        assignment_column == row_id, col(Assignment.state).in_(LIVE_ASSIGNMENT_STATES)))).all()
    if active:
        raise Refused("conflictingObject", assignments_message.format(n=len(active)))
    open_requests = (await session.exec(select(AssignmentRequest.id).where(
        request_column == row_id, col(AssignmentRequest.state).in_(OPEN_REQUEST_STATES)))).all()
    if open_requests:
        raise Refused("conflictingObject", requests_message.format(n=len(open_requests)))


async def get_catalog(session, organization_id: str, catalog_id: str) -> Catalog:
    catalog = await session.get(Catalog, catalog_id)
    if catalog is None or catalog.organization_id != organization_id:
        raise not_found(f"catalog {catalog_id}")
    return catalog


async def get_package(session, organization_id: str, caller: Principal, package_id: str, *,
                      manage: bool = False, lock: bool = False) -> tuple[AccessPackage, Catalog]:
    """The package and its catalog. Hidden packages do not exist for those who may not manage
    them; `manage` asks for an owner or admin; `lock` holds the row (lock_row) first."""
    if lock:
        await lock_row(session, AccessPackage, package_id)
    package = await session.get(AccessPackage, package_id, populate_existing=lock)
    if package is None or package.organization_id != organization_id:
        raise not_found(f"access package {package_id}")
    catalog = await get_catalog(session, organization_id, package.catalog_id)
    if package.is_hidden and not may_manage(caller, catalog):
        raise not_found(f"access package {package_id}")
    if manage:
        require_manage(caller, catalog)
    return package, catalog


async def missing_ids(session, organization_id: str, model, ids: Iterable[str]) -> list[str]:
    """Those of `ids` that name no row of `model` in the organization, in the order given."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    found = set((await session.exec(select(model.id).where(
        col(model.id).in_(ids), model.organization_id == organization_id))).all())
    return [i for i in ids if i not in found]


async def users_by_id(session, ids: Iterable[str | None]) -> dict[str, User]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {u.id: u for u in (await session.exec(select(User).where(col(User.id).in_(wanted)))).all()}


async def packages_using(session, resource: CatalogResource) -> list[str]:
    """Display names of the access packages whose resource role scopes use this resource."""
    packages = (await session.exec(select(AccessPackage).where(
        AccessPackage.catalog_id == resource.catalog_id))).all()
    return [p.display_name for p in packages
            if any(s.get("resourceId") == resource.id for s in p.resource_role_scopes or [])]
