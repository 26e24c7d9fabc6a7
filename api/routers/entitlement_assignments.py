"""`/v1.0/identityGovernance/entitlementManagement/assignments`: who has which access package,
until when, and what each of its resources came to (Foyer's `foyerResourceStates`: delivered,
failed with its error, or removed). Administrators see every assignment, catalog owners those of
their catalogs' packages, everyone else their own."""

from fastapi import Request
from sqlalchemy import false, or_
from sqlmodel import col, select

import foyer.api.schemas.entitlement_responses as shapes
from foyer.api.deps import Caller, CallerDep, OrganizationDep, SessionDep, person
from foyer.api.errors import not_found
from foyer.api.graph import ENTITLEMENT_PREFIX, GraphRouter, listed
from foyer.api.odata import list_page, select_fields
from foyer.api.schemas import iso
from foyer.usecases.authz import owned_packages
from foyer.usecases.catalogs import users_by_id
from foyer.models.directory import Organization, User
from foyer.models.entitlement import AccessPackage, Assignment

router = GraphRouter(prefix=ENTITLEMENT_PREFIX, tags=["entitlement management"])

ASSIGNMENT_FIELDS = {"id": "id", "state": "state", "targetId": "target_id",
                     "accessPackageId": "access_package_id",
                     "assignmentPolicyId": "assignment_policy_id",
                     "expiredDateTime": "expired_date_time", "createdDateTime": "created_date_time",
                     # Graph v1.0 filters assignments by these paths.
                     "accessPackage/id": "access_package_id", "target/objectId": "target_id",
                     "assignmentPolicy/id": "assignment_policy_id"}


def _resource_state(state: dict) -> dict:
    return {"resourceRoleScopeId": state.get("scopeId"), "originSystem": state.get("originSystem"),
            "originId": state.get("originId"), "role": state.get("role"),
            "state": state.get("state"), "error": state.get("error")}


def assignment_body(row: Assignment, users: dict[str, User], packages: dict[str, AccessPackage]) -> dict:
    target, package = users.get(row.target_id), packages.get(row.access_package_id)
    return {
        "id": row.id,
        "state": row.state,
        "status": row.status,
        "schedule": {
            "startDateTime": iso(row.start_date_time),
            "expiration": {"endDateTime": iso(row.end_date_time),
                           "type": "afterDateTime" if row.end_date_time else "noExpiration"},
        },
        "expiredDateTime": iso(row.expired_date_time),
        "target": {"id": row.target_id, "objectId": row.target_id,  # objectId: Graph's name
                   "displayName": target.display_name if target else None,
                   "email": target.mail if target else None},
        "accessPackage": {"id": row.access_package_id,
                          "displayName": package.display_name if package else None},
        "assignmentPolicy": {"id": row.assignment_policy_id},
        "foyerResourceStates": [_resource_state(s) for s in row.resource_states or []],
        "foyerWorkflowId": row.workflow_id,
    }


async def assignment_bodies(session, rows: list[Assignment]) -> list[dict]:
    users = await users_by_id(session, [r.target_id for r in rows])
    ids = {r.access_package_id for r in rows}
    packages = {p.id: p for p in (await session.exec(select(AccessPackage).where(
        col(AccessPackage.id).in_(ids)))).all()} if ids else {}
    return [assignment_body(r, users, packages) for r in rows]


# --- assignments ----------------------------------------------------------------------------

async def assignment_scope(session, org: Organization, caller: Caller) -> list:
    where = [Assignment.organization_id == org.id]
    if caller.is_admin:
        return where
    clauses = [Assignment.target_id == caller.user_id] if caller.user_id else []
    owned = await owned_packages(session, org.id, caller)
    if owned is not None:
        clauses.append(col(Assignment.access_package_id).in_(owned))
    where.append(or_(*clauses) if clauses else false())
    return where


@router.get("/assignments", response_model=shapes.AssignmentCollection)
async def list_assignments(request: Request, caller: CallerDep, session: SessionDep,
                           org: OrganizationDep) -> dict:
    page = await list_page(request, session, Assignment, ASSIGNMENT_FIELDS,
                           where=await assignment_scope(session, org, caller),
                           default_order=("created_date_time", "id"), default_desc=True)
    return listed(request, page, await assignment_bodies(session, page.rows))


@router.get("/assignments/filterByCurrentUser(on='target')", response_model=shapes.AssignmentCollection)
async def my_assignments(request: Request, caller: CallerDep, session: SessionDep,
                         org: OrganizationDep) -> dict:
    """Graph's function for the assignments whose target is the caller (My Access)."""
    me = person(caller)
    page = await list_page(request, session, Assignment, ASSIGNMENT_FIELDS,
                           where=[Assignment.organization_id == org.id, Assignment.target_id == me],
                           default_order=("created_date_time", "id"), default_desc=True)
    return listed(request, page, await assignment_bodies(session, page.rows))


@router.get("/assignments/{assignment_id}", response_model=shapes.AccessPackageAssignment)
async def get_assignment(assignment_id: str, request: Request, caller: CallerDep,
                         session: SessionDep, org: OrganizationDep) -> dict:
    row = (await session.exec(select(Assignment).where(
        Assignment.id == assignment_id, *await assignment_scope(session, org, caller)))).first()
    if row is None:
        raise not_found(f"assignment {assignment_id}")
    return select_fields(request.query_params, (await assignment_bodies(session, [row]))[0])
