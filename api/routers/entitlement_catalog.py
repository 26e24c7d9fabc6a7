"""`/v1.0/identityGovernance/entitlementManagement/catalogs` and `resourceRequests`: catalogs, the
resources (groups, applications, sites) added to them and the roles those offer.

Who may do what, for every entitlement-management router: admins (Global Administrator, User
Administrator) everything; a catalog's owners (`Catalog.owner_ids`) manage that catalog's
resources, access packages and policies, and add to it only the directory groups and applications
they own (foyer.policy.may_add_catalog_resource); members read catalogs and visible
access packages. The rules are foyer.usecases.authz; the shared database steps (finding a
catalog or package, locking a row, refusing while in use, auditing) foyer.usecases.catalogs.
Every write is audited in its own transaction (category EntitlementManagement).
"""

import uuid

from fastapi import Request, Response
from sqlalchemy import delete
from sqlmodel import func, select

import foyer.api.schemas.entitlement_responses as shapes
from foyer.api.deps import AdminCaller, MemberCaller, OrganizationDep, SessionDep
from foyer.api.errors import GraphError, bad_request, not_found
from foyer.api.graph import ENTITLEMENT_PREFIX, GraphRouter
from foyer.api.odata import collection, list_page
from foyer.api.schemas import iso
from foyer.api.schemas.entitlement import CatalogCreate, CatalogUpdate, ResourceRequestCreate
from foyer.api.schemas.entitlement_responses import catalog_body
from foyer.models.base import utcnow
from foyer.policy import may_add_catalog_resource
from foyer.usecases.authz import require_manage
from foyer.usecases.ownership import owns_application, owns_group
from foyer.usecases.catalogs import get_catalog, missing_ids, packages_using, record
from foyer.usecases.updates import commit, update_with_audit
from foyer.models.directory import Application, Group, User
from foyer.models.entitlement import AccessPackage, Catalog, CatalogResource

router = GraphRouter(prefix=ENTITLEMENT_PREFIX, tags=["entitlement management"])

DEFAULT_APP_ROLE_ID = "00000000-0000-0000-0000-000000000000"
ROLES = {
    "AadGroup": [{"originId": "Member", "displayName": "Member"},
                 {"originId": "Owner", "displayName": "Owner"}],
    "AadApplication": [{"originId": DEFAULT_APP_ROLE_ID, "displayName": "Default Access"}],
    "SharePointOnline": [{"originId": "Reader", "displayName": "Reader"},
                         {"originId": "Editor", "displayName": "Editor"}],
}


# --- catalogs ----------------------------------------------------------------------------------

CATALOG_FIELDS = {"id": "id", "displayName": "display_name", "state": "state",
                  "catalogType": "catalog_type", "isExternallyVisible": "is_externally_visible",
                  "createdDateTime": "created_date_time"}


def resource_body(resource: CatalogResource) -> dict:
    return {
        "id": resource.id,
        "displayName": resource.display_name,
        "originId": resource.origin_id,
        "originSystem": resource.origin_system,
        "createdDateTime": iso(resource.created_date_time),
        "roles": [{**role, "originSystem": resource.origin_system} for role in resource.roles],
        "catalog": {"id": resource.catalog_id},
    }


async def _check_owners(session, org, owner_ids: list[str]) -> list[str]:
    owner_ids = list(dict.fromkeys(owner_ids))
    missing = await missing_ids(session, org.id, User, owner_ids)
    if missing:
        raise bad_request(f"foyerOwnerIds: no user with id {', '.join(missing)}")
    return owner_ids


@router.get("/catalogs", response_model=shapes.CatalogCollection)
async def list_catalogs(request: Request, caller: MemberCaller, session: SessionDep,
                        org: OrganizationDep) -> dict:
    page = await list_page(request, session, Catalog, CATALOG_FIELDS,
                           where=[Catalog.organization_id == org.id])
    return collection(request, page, catalog_body)


@router.post("/catalogs", status_code=201, response_model=shapes.AccessPackageCatalog)
async def create_catalog(body: CatalogCreate, caller: AdminCaller, session: SessionDep,
                         org: OrganizationDep) -> dict:
    owners = await _check_owners(session, org, body.foyer_owner_ids)
    catalog = Catalog(organization_id=org.id, display_name=body.display_name,
                      description=body.description, catalog_type=body.catalog_type,
                      state=body.state, is_externally_visible=body.is_externally_visible,
                      owner_ids=owners)
    session.add(catalog)
    await record(session, org.id, caller.actor, "Create catalog", "Catalog", catalog.id, catalog.display_name,
                 ownerIds=owners)
    await commit(session, "the catalog could not be created")
    return catalog_body(catalog)


@router.get("/catalogs/{catalog_id}", response_model=shapes.AccessPackageCatalog)
async def get_catalog_by_id(catalog_id: str, caller: MemberCaller, session: SessionDep,
                            org: OrganizationDep) -> dict:
    return catalog_body(await get_catalog(session, org.id, catalog_id))


@router.patch("/catalogs/{catalog_id}", status_code=204)
async def update_catalog(catalog_id: str, body: CatalogUpdate, caller: MemberCaller,
                         session: SessionDep, org: OrganizationDep) -> Response:
    catalog = await get_catalog(session, org.id, catalog_id)
    require_manage(caller, catalog)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise bad_request("nothing to update: give displayName, description, state, "
                          "isExternallyVisible or foyerOwnerIds")
    if "foyer_owner_ids" in changes:
        catalog.owner_ids = await _check_owners(session, org, changes.pop("foyer_owner_ids"))
    await update_with_audit(
        session, catalog, changes, modified_properties=body.model_dump(by_alias=True, exclude_unset=True),
        category="EntitlementManagement", activity="Update catalog", organization_id=org.id,
        actor=caller.actor, target_type="Catalog", stamp=True,
        conflict="the catalog changed concurrently; retry")
    return Response(status_code=204)


@router.delete("/catalogs/{catalog_id}", status_code=204)
async def delete_catalog(catalog_id: str, caller: AdminCaller, session: SessionDep,
                         org: OrganizationDep) -> Response:
    catalog = await get_catalog(session, org.id, catalog_id)
    packages = (await session.exec(select(func.count()).select_from(AccessPackage).where(
        AccessPackage.catalog_id == catalog.id))).one()
    if packages:
        raise GraphError(409, "conflictingObject",
                         f"the catalog still holds {packages} access package(s); delete them first")
    name = catalog.display_name
    await session.exec(delete(CatalogResource).where(CatalogResource.catalog_id == catalog.id))  # type: ignore[call-overload]
    await session.exec(delete(Catalog).where(Catalog.id == catalog.id))  # type: ignore[call-overload]
    await record(session, org.id, caller.actor, "Delete catalog", "Catalog", catalog_id, name)
    await commit(session, "an access package was added to the catalog meanwhile; it was not deleted")
    return Response(status_code=204)


RESOURCE_FIELDS = {"id": "id", "displayName": "display_name", "originId": "origin_id",
                   "originSystem": "origin_system", "createdDateTime": "created_date_time"}


@router.get("/catalogs/{catalog_id}/resources", response_model=shapes.ResourceCollection)
async def list_catalog_resources(catalog_id: str, request: Request, caller: MemberCaller,
                                 session: SessionDep, org: OrganizationDep) -> dict:
    catalog = await get_catalog(session, org.id, catalog_id)
    page = await list_page(request, session, CatalogResource, RESOURCE_FIELDS,
                           where=[CatalogResource.catalog_id == catalog.id])
    return collection(request, page, resource_body)


# --- resource requests -------------------------------------------------------------------------

async def _describe(session, org, body: ResourceRequestCreate) -> tuple[str, str]:
    """(canonical origin id, display name) of the resource to add; 400 when it does not exist."""
    spec = body.resource
    if spec.origin_system == "AadGroup":
        group = await session.get(Group, spec.origin_id)
        if group is None or group.organization_id != org.id:
            raise bad_request(f"resource.originId: no group with id {spec.origin_id}")
        return group.id, group.display_name
    if spec.origin_system == "AadApplication":
        app = (await session.exec(select(Application).where(
            Application.organization_id == org.id,
            (Application.id == spec.origin_id) | (Application.app_id == spec.origin_id)))).first()
        if app is None:
            raise bad_request(f"resource.originId: no application with id {spec.origin_id}")
        return app.id, app.display_name
    return spec.origin_id, spec.display_name or spec.origin_id


async def _owns(session, caller, origin_system: str, origin_id: str) -> bool:
    if origin_system == "AadGroup":
        return await owns_group(session, caller.user_id, origin_id)
    if origin_system == "AadApplication":
        return await owns_application(session, caller.user_id, origin_id)
    return False


@router.post("/resourceRequests", status_code=201, response_model=shapes.AccessPackageResourceRequest)
async def create_resource_request(body: ResourceRequestCreate, caller: MemberCaller,
                                  session: SessionDep, org: OrganizationDep) -> dict:
    catalog = await get_catalog(session, org.id, body.catalog.id)
    require_manage(caller, catalog)
    if body.request_type == "adminAdd":
        origin_id, name = await _describe(session, org, body)
        owns = await _owns(session, caller, body.resource.origin_system, origin_id)
        if not may_add_catalog_resource(caller.role, body.resource.origin_system, owns_resource=owns):
            raise GraphError(403, "Authorization_RequestDenied",
                             f"only an administrator, or an owner of the {body.resource.origin_system} "
                             f"resource '{name}', may add it to a catalog: a catalog's owners add only "
                             "the groups and applications they own")
        existing = (await session.exec(select(CatalogResource.id).where(
            CatalogResource.catalog_id == catalog.id,
            CatalogResource.origin_system == body.resource.origin_system,
            CatalogResource.origin_id == origin_id))).first()
        conflict = (f"the {body.resource.origin_system} resource {origin_id} is already in the "
                    f"catalog '{catalog.display_name}'")
        if existing:
            raise GraphError(409, "conflictingObject", conflict)
        resource = CatalogResource(catalog_id=catalog.id, origin_system=body.resource.origin_system,
                                   origin_id=origin_id, display_name=name,
                                   roles=[dict(r) for r in ROLES[body.resource.origin_system]])
        session.add(resource)
        await record(session, org.id, caller.actor, "Add resource to catalog", "Catalog", catalog.id,
                     catalog.display_name, resourceId=resource.id, originSystem=resource.origin_system,
                     originId=resource.origin_id)
        await commit(session, conflict)
    else:
        resource = await _find_resource(session, catalog, body)
        used_by = await packages_using(session, resource)
        if used_by:
            raise GraphError(409, "conflictingObject",
                             f"the resource '{resource.display_name}' is still used by the access "
                             f"package(s) {', '.join(used_by)}; remove their resource role scopes first")
        await session.exec(delete(CatalogResource).where(CatalogResource.id == resource.id))  # type: ignore[call-overload]
        await record(session, org.id, caller.actor, "Remove resource from catalog", "Catalog", catalog.id,
                     catalog.display_name, resourceId=resource.id, originSystem=resource.origin_system,
                     originId=resource.origin_id)
        await commit(session, "the catalog changed concurrently; retry")
    return {"id": str(uuid.uuid4()), "requestType": body.request_type, "state": "delivered",
            "justification": body.justification, "createdDateTime": iso(utcnow()),
            "resource": resource_body(resource), "catalog": {"id": catalog.id}}


async def _find_resource(session, catalog: Catalog, body: ResourceRequestCreate) -> CatalogResource:
    spec = body.resource
    statement = select(CatalogResource).where(CatalogResource.catalog_id == catalog.id)
    if spec.id:
        statement = statement.where(CatalogResource.id == spec.id)
    else:
        statement = statement.where(CatalogResource.origin_system == spec.origin_system,
                                    CatalogResource.origin_id == spec.origin_id)
    resource = (await session.exec(statement)).first()
    if resource is None and not spec.id and spec.origin_system == "AadApplication":
        app = (await session.exec(select(Application.id).where(
            Application.app_id == spec.origin_id))).first()
        if app:
            resource = (await session.exec(select(CatalogResource).where(
                CatalogResource.catalog_id == catalog.id, CatalogResource.origin_id == app,
                CatalogResource.origin_system == "AadApplication"))).first()
    if resource is None:
        raise not_found(f"resource {spec.id or spec.origin_id} in catalog {catalog.id}")
    return resource
