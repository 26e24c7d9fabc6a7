"""`/v1.0/identityGovernance/entitlementManagement/assignmentPolicies`: who may request an access
package, who approves, what they are asked, and how long the access lasts.

The body is checked whole (`AssignmentPolicyCreate`), including on PATCH, which merges the
changed properties into the stored policy first. The sub-objects are stored in Graph's camelCase
shape, which is what the request and assignment workflows read."""

from typing import Any

from fastapi import Body, Request, Response
from pydantic import ValidationError
from sqlalchemy import delete, update
from sqlmodel import col, select

import foyer.api.schemas.entitlement_responses as shapes
from foyer.api.deps import MemberCaller, OrganizationDep, SessionDep
from foyer.api.schemas.entitlement import AssignmentPolicyCreate
from foyer.api.errors import GraphError, bad_request, not_found
from foyer.api.graph import ENTITLEMENT_PREFIX, GraphRouter
from foyer.api.odata import collection, list_page
from foyer.api.schemas import iso
from foyer.usecases.authz import owned_catalog_ids, require_manage
from foyer.usecases.catalogs import (
    get_catalog, get_package, lock_row, missing_ids, record, refuse_while_in_use,
)
from foyer.usecases.updates import commit
from foyer.models.base import utcnow
from foyer.models.directory import Group, User
from foyer.models.entitlement import (
    AccessPackage, Assignment, AssignmentPolicy, AssignmentRequest, ConnectedOrganization,
)

router = GraphRouter(prefix=ENTITLEMENT_PREFIX, tags=["entitlement management"])

POLICY_FIELDS = {"id": "id", "displayName": "display_name", "description": "description",
                 "allowedTargetScope": "allowed_target_scope", "createdDateTime": "created_date_time",
                 "modifiedDateTime": "modified_date_time"}
KIND_MODELS = {"user": User, "group": Group, "connectedOrganization": ConnectedOrganization}


def _input_shape(policy: AssignmentPolicy) -> dict:
    return {
        "displayName": policy.display_name,
        "description": policy.description,
        "accessPackage": {"id": policy.access_package_id},
        "allowedTargetScope": policy.allowed_target_scope,
        "specificAllowedTargets": policy.specific_allowed_targets,
        "expiration": policy.expiration,
        "requestorSettings": policy.requestor_settings,
        "requestApprovalSettings": policy.request_approval_settings,
        "questions": policy.questions,
        "customExtensionStageSettings": policy.custom_extension_stage_settings,
    }


def policy_body(policy: AssignmentPolicy) -> dict:
    body = _input_shape(policy)
    return {"id": policy.id, **body, "createdDateTime": iso(policy.created_date_time),
            "modifiedDateTime": iso(policy.modified_date_time)}


def _invalid(error: ValidationError) -> GraphError:
    parts = []
    for err in error.errors():
        location = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{location}: {err.get('msg')}" if location else str(err.get("msg")))
    return bad_request("; ".join(parts) or "the policy is not valid")


async def _check_references(session, org, body: AssignmentPolicyCreate) -> None:
    by_kind: dict[str, list[tuple[str, str]]] = {}
    for kind, ref, path in body.references():
        by_kind.setdefault(kind, []).append((ref, path))
    for kind, refs in by_kind.items():
        missing = set(await missing_ids(session, org.id, KIND_MODELS[kind], [r for r, _ in refs]))
        for ref, path in refs:
            if ref in missing:
                name = "connected organization" if kind == "connectedOrganization" else kind
                raise bad_request(f"{path}: no {name} with id {ref}")


async def _package_for(session, org, caller, package_id: str) -> AccessPackage:
    package = await session.get(AccessPackage, package_id)
    if package is None or package.organization_id != org.id:
        raise bad_request(f"accessPackage.id: no access package with id {package_id}")
    require_manage(caller, await get_catalog(session, org.id, package.catalog_id))
    return package


async def _get_policy(session, org, caller, policy_id: str, *, lock: bool = False) -> AssignmentPolicy:
    if lock:  # PATCH merges into what it read: hold the row meanwhile
        await lock_row(session, AssignmentPolicy, policy_id)
    policy = await session.get(AssignmentPolicy, policy_id, populate_existing=lock)
    if policy is None:
        raise not_found(f"assignment policy {policy_id}")
    package = await session.get(AccessPackage, policy.access_package_id)
    if package is None or package.organization_id != org.id:
        raise not_found(f"assignment policy {policy_id}")
    require_manage(caller, await get_catalog(session, org.id, package.catalog_id))
    return policy


def _apply(policy: AssignmentPolicy, body: AssignmentPolicyCreate) -> None:
    for name, value in body.stored().items():
        setattr(policy, name, value)


@router.get("/assignmentPolicies", response_model=shapes.PolicyCollection)
async def list_policies(request: Request, caller: MemberCaller, session: SessionDep,
                        org: OrganizationDep) -> dict:
    packages = select(AccessPackage.id).where(AccessPackage.organization_id == org.id)
    if not caller.is_admin:  # owners see the policies of their catalogs' packages
        packages = packages.where(col(AccessPackage.catalog_id).in_(
            await owned_catalog_ids(session, org.id, caller)))
    where = [col(AssignmentPolicy.access_package_id).in_(packages)]
    if request.query_params.get("accessPackageId"):
        where.append(AssignmentPolicy.access_package_id == request.query_params["accessPackageId"])
    page = await list_page(request, session, AssignmentPolicy, POLICY_FIELDS, where=where)
    return collection(request, page, policy_body)


@router.get("/accessPackages/{package_id}/assignmentPolicies", response_model=shapes.PolicyCollection)
async def list_package_policies(package_id: str, request: Request, caller: MemberCaller,
                                session: SessionDep, org: OrganizationDep) -> dict:
    package, _ = await get_package(session, org.id, caller, package_id, manage=True)
    page = await list_page(request, session, AssignmentPolicy, POLICY_FIELDS,
                           where=[AssignmentPolicy.access_package_id == package.id])
    return collection(request, page, policy_body)


@router.post("/assignmentPolicies", status_code=201, response_model=shapes.AccessPackageAssignmentPolicy)
async def create_policy(body: AssignmentPolicyCreate, caller: MemberCaller, session: SessionDep,
                        org: OrganizationDep) -> dict:
    package = await _package_for(session, org, caller, body.access_package.id)
    await _check_references(session, org, body)
    policy = AssignmentPolicy(access_package_id=package.id, display_name=body.display_name)
    _apply(policy, body)
    session.add(policy)
    await record(session, org.id, caller.actor, "Create assignment policy", "AssignmentPolicy", policy.id,
                 policy.display_name, accessPackageId=package.id)
    await commit(session, "the access package was deleted meanwhile")
    return policy_body(policy)


@router.get("/assignmentPolicies/{policy_id}", response_model=shapes.AccessPackageAssignmentPolicy)
async def get_policy(policy_id: str, caller: MemberCaller, session: SessionDep,
                     org: OrganizationDep) -> dict:
    return policy_body(await _get_policy(session, org, caller, policy_id, lock=False))


async def _replace(session, org, caller, policy: AssignmentPolicy, body: AssignmentPolicyCreate,
                   activity: str, changed: list[str]) -> None:
    if body.id is not None and body.id != policy.id:
        raise bad_request(f"id: the body names the policy {body.id}, not {policy.id}")
    if body.access_package.id != policy.access_package_id:
        raise bad_request("accessPackage.id: a policy cannot move to another access package; "
                          "create a policy there instead")
    await _check_references(session, org, body)
    _apply(policy, body)
    policy.modified_date_time = utcnow()
    session.add(policy)
    await record(session, org.id, caller.actor, activity, "AssignmentPolicy", policy.id, policy.display_name,
                 accessPackageId=policy.access_package_id, modifiedProperties=",".join(changed))
    await commit(session, "the assignment policy changed concurrently; retry")


def _parse(data: dict) -> AssignmentPolicyCreate:
    try:
        return AssignmentPolicyCreate.model_validate(data)
    except ValidationError as error:
        raise _invalid(error) from None


def _object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object with the assignment policy's properties")
    return {k: v for k, v in body.items() if not k.startswith("@odata.")}


@router.put("/assignmentPolicies/{policy_id}", response_model=shapes.AccessPackageAssignmentPolicy)
async def replace_policy(policy_id: str, caller: MemberCaller, session: SessionDep,
                         org: OrganizationDep, replacement: Any = Body(...)) -> dict:
    """Replaces every property; accessPackage may be left out (a policy stays with its package)."""
    policy = await _get_policy(session, org, caller, policy_id, lock=True)
    data = _object(replacement)
    data.setdefault("accessPackage", {"id": policy.access_package_id})
    body = _parse(data)
    await _replace(session, org, caller, policy, body, "Update assignment policy", sorted(data))
    return policy_body(policy)


@router.patch("/assignmentPolicies/{policy_id}", status_code=204)
async def update_policy(policy_id: str, caller: MemberCaller, session: SessionDep,
                        org: OrganizationDep, patch: Any = Body(...)) -> Response:
    policy = await _get_policy(session, org, caller, policy_id, lock=True)
    changes = _object(patch)
    if not changes:
        raise bad_request("nothing to update: give the assignment policy properties to change")
    body = _parse({**_input_shape(policy), **changes})
    await _replace(session, org, caller, policy, body, "Update assignment policy", sorted(changes))
    return Response(status_code=204)


@router.delete("/assignmentPolicies/{policy_id}", status_code=204)
async def delete_policy(policy_id: str, caller: MemberCaller, session: SessionDep,
                        org: OrganizationDep) -> Response:
    """Refused while assignments made under it are active or requests under it are open; finished
    requests and assignments keep their history without the policy."""
    policy = await _get_policy(session, org, caller, policy_id, lock=True)
    await refuse_while_in_use(
        session, assignment_column=Assignment.assignment_policy_id,
        request_column=AssignmentRequest.assignment_policy_id, row_id=policy.id,
        assignments_message="{n} active assignment(s) were made under this policy; remove them before deleting it",
        requests_message="{n} request(s) under this policy are still open")
    await session.exec(update(Assignment).where(Assignment.assignment_policy_id == policy.id)  # type: ignore[call-overload]
                       .values(assignment_policy_id=None))
    await session.exec(update(AssignmentRequest).where(  # type: ignore[call-overload]
        AssignmentRequest.assignment_policy_id == policy.id).values(assignment_policy_id=None))
    name, package_id = policy.display_name, policy.access_package_id
    await session.exec(delete(AssignmentPolicy).where(AssignmentPolicy.id == policy.id))  # type: ignore[call-overload]
    await record(session, org.id, caller.actor, "Delete assignment policy", "AssignmentPolicy", policy_id,
                 name, accessPackageId=package_id)
    await commit(session, "a request under the policy arrived meanwhile; it was not deleted")
    return Response(status_code=204)
