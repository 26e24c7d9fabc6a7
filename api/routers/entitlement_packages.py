"""`/v1.0/identityGovernance/entitlementManagement/accessPackages`: access packages, their resource
role scopes (which role of which catalog resource an assignment grants) and separation of duties
(incompatible access packages and groups). Authorization: see `entitlement_catalog`."""

import uuid
from typing import Any

from fastapi import Body, Request, Response
from sqlalchemy import delete
from sqlmodel import col, or_, select

import foyer.api.schemas.entitlement_responses as shapes
from foyer.api.deps import MemberCaller, OrganizationDep, SessionDep
from foyer.api.schemas.entitlement import AccessPackageCreate, AccessPackageUpdate, ResourceRoleScopeCreate
from foyer.api.errors import GraphError, bad_request, not_found
from foyer.api.graph import ENTITLEMENT_PREFIX, GraphRouter, reference_id
from foyer.api.odata import collection, list_page
from foyer.api.schemas import iso
from foyer.api.schemas.entitlement_responses import catalog_body
from foyer.usecases.authz import owned_catalog_ids, require_manage
from foyer.usecases.catalogs import get_package, record, refuse_while_in_use
from foyer.usecases.updates import commit, update_with_audit
from foyer.models.base import utcnow
from foyer.models.directory import Group
from foyer.models.entitlement import (
    AccessPackage, ApprovalStage, Assignment, AssignmentPolicy, AssignmentRequest, Catalog,
    CatalogResource,
)

router = GraphRouter(prefix=ENTITLEMENT_PREFIX, tags=["entitlement management"])

PACKAGE_FIELDS = {"id": "id", "displayName": "display_name", "description": "description",
                  "isHidden": "is_hidden", "createdDateTime": "created_date_time",
                  "modifiedDateTime": "modified_date_time"}


def scope_body(scope: dict) -> dict:
    """A stored resource role scope, as Graph shows an accessPackageResourceRoleScope."""
    resource = {"id": scope["resourceId"], "originId": scope["originId"],
                "originSystem": scope["originSystem"]}
    return {
        "id": scope["id"],
        "role": {"originId": scope["role"], "displayName": scope.get("roleDisplayName"),
                 "originSystem": scope["originSystem"], "resource": resource},
        "scope": {"originId": scope["originId"], "originSystem": scope["originSystem"],
                  "isRootScope": True},
    }


def package_body(package: AccessPackage, catalog: Catalog | None = None) -> dict:
    return {
        "id": package.id,
        "displayName": package.display_name,
        "description": package.description,
        "isHidden": package.is_hidden,
        "createdDateTime": iso(package.created_date_time),
        "modifiedDateTime": iso(package.modified_date_time),
        "catalog": catalog_body(catalog) if catalog else {"id": package.catalog_id},
        "resourceRoleScopes": [scope_body(s) for s in package.resource_role_scopes or []],
    }


def _group_body(group: Group) -> dict:
    return {"@odata.type": "#microsoft.graph.group", "id": group.id,
            "displayName": group.display_name, "description": group.description}


async def visible_package_clause(session, org, caller):
    """What a caller may list: everything for admins, else visible packages and hidden ones in
    catalogs they own."""
    if caller.is_admin:
        return None
    owned = await owned_catalog_ids(session, org.id, caller)
    return or_(AccessPackage.is_hidden == False, col(AccessPackage.catalog_id).in_(owned))  # noqa: E712


@router.get("/accessPackages", response_model=shapes.AccessPackageCollection)
async def list_packages(request: Request, caller: MemberCaller, session: SessionDep,
                        org: OrganizationDep) -> dict:
    where = [AccessPackage.organization_id == org.id]
    if request.query_params.get("catalogId"):
        where.append(AccessPackage.catalog_id == request.query_params["catalogId"])
    clause = await visible_package_clause(session, org, caller)
    if clause is not None:
        where.append(clause)
    page = await list_page(request, session, AccessPackage, PACKAGE_FIELDS, where=where)
    return collection(request, page, package_body)


@router.post("/accessPackages", status_code=201, response_model=shapes.AccessPackage)
async def create_package(body: AccessPackageCreate, caller: MemberCaller, session: SessionDep,
                         org: OrganizationDep) -> dict:
    catalog = await session.get(Catalog, body.catalog.id)
    if catalog is None or catalog.organization_id != org.id:
        raise bad_request(f"catalog.id: no catalog with id {body.catalog.id}")
    require_manage(caller, catalog)
    package = AccessPackage(organization_id=org.id, catalog_id=catalog.id,
                            display_name=body.display_name, description=body.description,
                            is_hidden=body.is_hidden)
    session.add(package)
    await record(session, org.id, caller.actor, "Create access package", "AccessPackage", package.id,
                 package.display_name, catalogId=catalog.id)
    await commit(session, "the catalog was deleted meanwhile")
    return package_body(package)


@router.get("/accessPackages/{package_id}", response_model=shapes.AccessPackage)
async def get_package_by_id(package_id: str, request: Request, caller: MemberCaller,
                            session: SessionDep, org: OrganizationDep) -> dict:
    package, catalog = await get_package(session, org.id, caller, package_id)
    expand = {p.strip() for p in (request.query_params.get("$expand") or "").split(",") if p.strip()}
    unknown = expand - {"resourceRoleScopes", "catalog", "resourceRoleScopes($expand=role,scope)"}
    if unknown:
        raise bad_request(f"$expand: {', '.join(sorted(unknown))} cannot be expanded; "
                          "use resourceRoleScopes or catalog")
    return package_body(package, catalog if "catalog" in expand else None)


@router.patch("/accessPackages/{package_id}", status_code=204)
async def update_package(package_id: str, body: AccessPackageUpdate, caller: MemberCaller,
                         session: SessionDep, org: OrganizationDep) -> Response:
    package, _ = await get_package(session, org.id, caller, package_id, manage=True)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise bad_request("nothing to update: give displayName, description or isHidden")
    await update_with_audit(
        session, package, changes, modified_properties=body.model_dump(by_alias=True, exclude_unset=True),
        category="EntitlementManagement", activity="Update access package", organization_id=org.id,
        actor=caller.actor, target_type="AccessPackage", stamp=True,
        conflict="the access package changed concurrently; retry")
    return Response(status_code=204)


@router.delete("/accessPackages/{package_id}", status_code=204)
async def delete_package(package_id: str, caller: MemberCaller, session: SessionDep,
                         org: OrganizationDep) -> Response:
    """Refused while the package has active assignments or open requests; otherwise the package
    goes with its policies and its finished request and assignment history."""
    package, _ = await get_package(session, org.id, caller, package_id, manage=True, lock=True)
    await refuse_while_in_use(
        session, assignment_column=Assignment.access_package_id,
        request_column=AssignmentRequest.access_package_id, row_id=package.id,
        assignments_message="the access package has {n} active assignment(s); remove them before deleting it",
        requests_message="the access package has {n} open request(s); wait for them to finish or "
                         "cancel them first")
    requests = select(AssignmentRequest.id).where(AssignmentRequest.access_package_id == package.id)
    await session.exec(delete(ApprovalStage).where(col(ApprovalStage.request_id).in_(requests)))  # type: ignore[call-overload]
    await session.exec(delete(AssignmentRequest).where(AssignmentRequest.access_package_id == package.id))  # type: ignore[call-overload]
    await session.exec(delete(Assignment).where(Assignment.access_package_id == package.id))  # type: ignore[call-overload]
    await session.exec(delete(AssignmentPolicy).where(AssignmentPolicy.access_package_id == package.id))  # type: ignore[call-overload]
    # Other packages stop naming this one as incompatible.
    others = (await session.exec(select(AccessPackage).where(
        AccessPackage.organization_id == org.id, AccessPackage.id != package.id))).all()
    for other in others:
        if package.id in (other.incompatible_access_package_ids or []):
            other.incompatible_access_package_ids = [
                i for i in other.incompatible_access_package_ids if i != package.id]
            session.add(other)
    name = package.display_name
    await session.exec(delete(AccessPackage).where(AccessPackage.id == package.id))  # type: ignore[call-overload]
    await record(session, org.id, caller.actor, "Delete access package", "AccessPackage", package_id, name)
    await commit(session, "the access package gained a request or assignment meanwhile; "
                          "it was not deleted")
    return Response(status_code=204)


# --- resource role scopes ----------------------------------------------------------------------

async def _scope_resource(session, package: AccessPackage, body: ResourceRoleScopeCreate) -> CatalogResource:
    spec = body.role.resource
    if spec.id:
        resource = await session.get(CatalogResource, spec.id)
        if resource is None or resource.catalog_id != package.catalog_id:
            raise bad_request(f"role.resource.id: the resource {spec.id} is not in the access "
                              "package's catalog; add it with a resourceRequest first")
        return resource
    statement = select(CatalogResource).where(CatalogResource.catalog_id == package.catalog_id,
                                              CatalogResource.origin_id == spec.origin_id)
    if spec.origin_system:
        statement = statement.where(CatalogResource.origin_system == spec.origin_system)
    found = (await session.exec(statement)).all()
    if not found:
        raise bad_request(f"role.resource.originId: no resource {spec.origin_id} in the access "
                          "package's catalog; add it with a resourceRequest first")
    if len(found) > 1:
        raise bad_request("role.resource: several catalog resources have this originId; "
                          "give role.resource.id or originSystem")
    return found[0]


def _offered_role(resource: CatalogResource, asked: str) -> dict | None:
    """The resource's role named `asked`: "Member", or Graph's "Member_<groupId>" spelling."""
    for role in resource.roles or []:
        name = role["originId"]
        if asked.lower() in (name.lower(), f"{name}_{resource.origin_id}".lower()):
            return role
    return None


@router.get("/accessPackages/{package_id}/resourceRoleScopes", response_model=shapes.RoleScopeCollection)
async def list_role_scopes(package_id: str, caller: MemberCaller, session: SessionDep,
                           org: OrganizationDep) -> dict:
    package, _ = await get_package(session, org.id, caller, package_id)
    return {"value": [scope_body(s) for s in package.resource_role_scopes or []]}


@router.post("/accessPackages/{package_id}/resourceRoleScopes", status_code=201,
             response_model=shapes.AccessPackageResourceRoleScope)
async def add_role_scope(package_id: str, body: ResourceRoleScopeCreate, caller: MemberCaller,
                         session: SessionDep, org: OrganizationDep) -> dict:
    package, _ = await get_package(session, org.id, caller, package_id, manage=True, lock=True)
    resource = await _scope_resource(session, package, body)
    if body.role.origin_system and body.role.origin_system != resource.origin_system:
        raise bad_request(f"role.originSystem is {body.role.origin_system}, but the resource is "
                          f"{resource.origin_system}")
    role = _offered_role(resource, body.role.origin_id)
    if role is None:
        offered = ", ".join(r["originId"] for r in resource.roles or [])
        raise bad_request(f"role.originId: the resource '{resource.display_name}' offers no role "
                          f"{body.role.origin_id!r}; it offers {offered}")
    if body.scope and body.scope.origin_id and body.scope.origin_id != resource.origin_id:
        raise bad_request(f"scope.originId must be the resource's own originId "
                          f"({resource.origin_id}): Foyer grants roles on the whole resource")
    scopes = list(package.resource_role_scopes or [])
    if any(s["resourceId"] == resource.id and s["role"] == role["originId"] for s in scopes):
        raise GraphError(409, "conflictingObject",
                         f"the access package already grants {role['originId']} of '{resource.display_name}'")
    scope = {"id": str(uuid.uuid4()), "resourceId": resource.id,
             "originSystem": resource.origin_system, "originId": resource.origin_id,
             "role": role["originId"], "roleDisplayName": role.get("displayName")}
    package.resource_role_scopes = [*scopes, scope]
    package.modified_date_time = utcnow()
    session.add(package)
    await record(session, org.id, caller.actor, "Add resource role scope to access package", "AccessPackage",
                 package.id, package.display_name, resourceId=resource.id,
                 originSystem=resource.origin_system, originId=resource.origin_id, role=scope["role"])
    await commit(session, "the resource was removed from the catalog meanwhile")
    return scope_body(scope)


@router.delete("/accessPackages/{package_id}/resourceRoleScopes/{scope_id}", status_code=204)
async def remove_role_scope(package_id: str, scope_id: str, caller: MemberCaller,
                            session: SessionDep, org: OrganizationDep) -> Response:
    package, _ = await get_package(session, org.id, caller, package_id, manage=True, lock=True)
    scopes = list(package.resource_role_scopes or [])
    removed = [s for s in scopes if s["id"] == scope_id]
    if not removed:
        raise not_found(f"resource role scope {scope_id} of access package {package_id}")
    package.resource_role_scopes = [s for s in scopes if s["id"] != scope_id]
    package.modified_date_time = utcnow()
    session.add(package)
    await record(session, org.id, caller.actor, "Remove resource role scope from access package",
                 "AccessPackage", package.id, package.display_name, resourceId=removed[0]["resourceId"],
                 role=removed[0]["role"])
    await commit(session, "the access package changed concurrently; retry")
    return Response(status_code=204)


# --- separation of duties ----------------------------------------------------------------------

@router.get("/accessPackages/{package_id}/incompatibleAccessPackages",
             response_model=shapes.AccessPackageCollection)
async def list_incompatible_packages(package_id: str, request: Request, caller: MemberCaller,
                                     session: SessionDep, org: OrganizationDep) -> dict:
    package, _ = await get_package(session, org.id, caller, package_id)
    page = await list_page(request, session, AccessPackage, PACKAGE_FIELDS, where=[
        AccessPackage.organization_id == org.id,
        col(AccessPackage.id).in_(package.incompatible_access_package_ids or [])])
    return collection(request, page, package_body)


@router.post("/accessPackages/{package_id}/incompatibleAccessPackages/$ref", status_code=204)
async def add_incompatible_package(package_id: str, caller: MemberCaller, session: SessionDep,
                                   org: OrganizationDep, body: Any = Body(...)) -> Response:
    package, _ = await get_package(session, org.id, caller, package_id, manage=True, lock=True)
    other_id = reference_id(body, "accessPackages")
    if other_id == package.id:
        raise bad_request("an access package cannot be incompatible with itself")
    other = await session.get(AccessPackage, other_id)
    if other is None or other.organization_id != org.id:
        raise not_found(f"access package {other_id}")
    if other.id in (package.incompatible_access_package_ids or []):
        raise bad_request("One or more added object references already exist for the following "
                          "modified properties: 'incompatibleAccessPackages'.", code="Request_BadRequest")
    package.incompatible_access_package_ids = [*(package.incompatible_access_package_ids or []), other.id]
    session.add(package)
    await record(session, org.id, caller.actor, "Add incompatible access package", "AccessPackage",
                 package.id, package.display_name, incompatibleAccessPackageId=other.id)
    await commit(session, "the access package changed concurrently; retry")
    return Response(status_code=204)


@router.delete("/accessPackages/{package_id}/incompatibleAccessPackages/{other_id}/$ref",
               status_code=204)
async def remove_incompatible_package(package_id: str, other_id: str, caller: MemberCaller,
                                      session: SessionDep, org: OrganizationDep) -> Response:
    package, _ = await get_package(session, org.id, caller, package_id, manage=True, lock=True)
    if other_id not in (package.incompatible_access_package_ids or []):
        raise not_found(f"incompatible access package {other_id} of access package {package_id}")
    package.incompatible_access_package_ids = [
        i for i in package.incompatible_access_package_ids if i != other_id]
    session.add(package)
    await record(session, org.id, caller.actor, "Remove incompatible access package", "AccessPackage",
                 package.id, package.display_name, incompatibleAccessPackageId=other_id)
    await commit(session, "the access package changed concurrently; retry")
    return Response(status_code=204)


GROUP_FIELDS = {"id": "id", "displayName": "display_name", "createdDateTime": "created_date_time"}


@router.get("/accessPackages/{package_id}/incompatibleGroups",
             response_model=shapes.IncompatibleGroupCollection)
async def list_incompatible_groups(package_id: str, request: Request, caller: MemberCaller,
                                   session: SessionDep, org: OrganizationDep) -> dict:
    package, _ = await get_package(session, org.id, caller, package_id)
    page = await list_page(request, session, Group, GROUP_FIELDS, where=[
        Group.organization_id == org.id, col(Group.id).in_(package.incompatible_group_ids or [])])
    return collection(request, page, _group_body)


@router.post("/accessPackages/{package_id}/incompatibleGroups/$ref", status_code=204)
async def add_incompatible_group(package_id: str, caller: MemberCaller, session: SessionDep,
                                 org: OrganizationDep, body: Any = Body(...)) -> Response:
    package, _ = await get_package(session, org.id, caller, package_id, manage=True, lock=True)
    group_id = reference_id(body, "groups")
    group = await session.get(Group, group_id)
    if group is None or group.organization_id != org.id:
        raise not_found(f"group {group_id}")
    if group.id in (package.incompatible_group_ids or []):
        raise bad_request("One or more added object references already exist for the following "
                          "modified properties: 'incompatibleGroups'.", code="Request_BadRequest")
    package.incompatible_group_ids = [*(package.incompatible_group_ids or []), group.id]
    session.add(package)
    await record(session, org.id, caller.actor, "Add incompatible group", "AccessPackage", package.id,
                 package.display_name, incompatibleGroupId=group.id)
    await commit(session, "the access package changed concurrently; retry")
    return Response(status_code=204)


@router.delete("/accessPackages/{package_id}/incompatibleGroups/{group_id}/$ref", status_code=204)
async def remove_incompatible_group(package_id: str, group_id: str, caller: MemberCaller,
                                    session: SessionDep, org: OrganizationDep) -> Response:
    package, _ = await get_package(session, org.id, caller, package_id, manage=True, lock=True)
    if group_id not in (package.incompatible_group_ids or []):
        raise not_found(f"incompatible group {group_id} of access package {package_id}")
    package.incompatible_group_ids = [i for i in package.incompatible_group_ids if i != group_id]
    session.add(package)
    await record(session, org.id, caller.actor, "Remove incompatible group", "AccessPackage", package.id,
                 package.display_name, incompatibleGroupId=group_id)
    await commit(session, "the access package changed concurrently; retry")
    return Response(status_code=204)
