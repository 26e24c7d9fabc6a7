"""`/v1.0/identityGovernance/entitlementManagement/connectedOrganizations`: partner organizations
(by domain) whose users policies may let request access, with their internal and external
sponsors. Admins manage them; members read them (policy authors need their ids)."""

from typing import Any

from fastapi import Body, Request, Response
from sqlalchemy import delete
from sqlmodel import col, select

import foyer.api.schemas.entitlement_responses as shapes
from foyer.api.deps import AdminCaller, MemberCaller, OrganizationDep, SessionDep
from foyer.api.schemas.entitlement import ConnectedOrganizationCreate, ConnectedOrganizationUpdate
from foyer.api.errors import GraphError, bad_request, not_found
from foyer.api.graph import ENTITLEMENT_PREFIX, GraphRouter, reference_id
from foyer.api.odata import collection, list_page
from foyer.usecases.catalogs import lock_row, record
from foyer.usecases.updates import commit, update_with_audit
from foyer.api.schemas import iso
from foyer.models.directory import User
from foyer.models.entitlement import AccessPackage, AssignmentPolicy, ConnectedOrganization

router = GraphRouter(prefix=f"{ENTITLEMENT_PREFIX}/connectedOrganizations", tags=["entitlement management"])

FIELDS = {"id": "id", "displayName": "display_name", "description": "description",
          "state": "state", "createdDateTime": "created_date_time"}
USER_FIELDS = {"id": "id", "displayName": "display_name", "mail": "mail",
               "userPrincipalName": "user_principal_name", "userType": "user_type"}
SPONSORS = {"internalSponsors": "internal_sponsor_ids", "externalSponsors": "external_sponsor_ids"}


def connected_org_body(row: ConnectedOrganization) -> dict:
    return {
        "id": row.id,
        "displayName": row.display_name,
        "description": row.description,
        "identitySources": row.identity_sources,
        "state": row.state,
        "createdDateTime": iso(row.created_date_time),
        "foyerInternalSponsorIds": row.internal_sponsor_ids,
        "foyerExternalSponsorIds": row.external_sponsor_ids,
    }


def _user_body(user: User) -> dict:
    return {"@odata.type": "#microsoft.graph.user", "id": user.id, "displayName": user.display_name,
            "mail": user.mail, "userPrincipalName": user.user_principal_name,
            "userType": user.user_type}


async def _get(session, org, connected_id: str, *, lock: bool = False) -> ConnectedOrganization:
    if lock:
        await lock_row(session, ConnectedOrganization, connected_id)
    row = await session.get(ConnectedOrganization, connected_id, populate_existing=lock)
    if row is None or row.organization_id != org.id:
        raise not_found(f"connected organization {connected_id}")
    return row


async def _check_domains(session, org, sources: list[dict], exclude_id: str | None = None) -> None:
    """A domain is the organization's own, or belongs to one connected organization at most."""
    own = {d["name"].lower() for d in org.verified_domains}
    wanted = {s["domainName"] for s in sources}
    mine = sorted(wanted & own)
    if mine:
        raise bad_request(f"identitySources: {', '.join(mine)} is a verified domain of this "
                          "organization, not a partner's")
    others = (await session.exec(select(ConnectedOrganization).where(
        ConnectedOrganization.organization_id == org.id))).all()
    for other in others:
        if other.id == exclude_id:
            continue
        taken = wanted & {s.get("domainName", "").lower() for s in other.identity_sources or []}
        if taken:
            raise GraphError(409, "conflictingObject",
                             f"the domain {', '.join(sorted(taken))} already belongs to the connected "
                             f"organization '{other.display_name}' ({other.id})")


@router.get("", response_model=shapes.ConnectedOrganizationCollection)
async def list_connected_orgs(request: Request, caller: MemberCaller, session: SessionDep,
                              org: OrganizationDep) -> dict:
    page = await list_page(request, session, ConnectedOrganization, FIELDS,
                           where=[ConnectedOrganization.organization_id == org.id])
    return collection(request, page, connected_org_body)


@router.post("", status_code=201, response_model=shapes.ConnectedOrganization)
async def create_connected_org(body: ConnectedOrganizationCreate, caller: AdminCaller,
                               session: SessionDep, org: OrganizationDep) -> dict:
    await _check_domains(session, org, body.identity_sources)
    row = ConnectedOrganization(organization_id=org.id, display_name=body.display_name,
                                description=body.description, identity_sources=body.identity_sources,
                                state=body.state)
    session.add(row)
    await record(session, org.id, caller.actor, "Create connected organization", "ConnectedOrganization",
                 row.id, row.display_name,
                 domains=",".join(s["domainName"] for s in body.identity_sources))
    await commit(session, "the connected organization could not be created")
    return connected_org_body(row)


@router.get("/{connected_id}", response_model=shapes.ConnectedOrganization)
async def get_connected_org(connected_id: str, caller: MemberCaller, session: SessionDep,
                            org: OrganizationDep) -> dict:
    return connected_org_body(await _get(session, org, connected_id))


@router.patch("/{connected_id}", status_code=204)
async def update_connected_org(connected_id: str, body: ConnectedOrganizationUpdate,
                               caller: AdminCaller, session: SessionDep,
                               org: OrganizationDep) -> Response:
    row = await _get(session, org, connected_id, lock=True)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise bad_request("nothing to update: give displayName, description, state or identitySources")
    if "identity_sources" in changes:
        await _check_domains(session, org, changes["identity_sources"], exclude_id=row.id)
    await update_with_audit(
        session, row, changes, modified_properties=body.model_dump(by_alias=True, exclude_unset=True),
        category="EntitlementManagement", activity="Update connected organization", organization_id=org.id,
        actor=caller.actor, target_type="ConnectedOrganization",
        conflict="the connected organization changed concurrently; retry")
    return Response(status_code=204)


async def _policies_naming(session, org, connected_id: str) -> list[str]:
    policies = (await session.exec(select(AssignmentPolicy).where(col(
        AssignmentPolicy.access_package_id).in_(select(AccessPackage.id).where(
            AccessPackage.organization_id == org.id))))).all()
    return [p.display_name for p in policies
            if any(t.get("connectedOrganizationId") == connected_id
                   for t in p.specific_allowed_targets or [])]


@router.delete("/{connected_id}", status_code=204)
async def delete_connected_org(connected_id: str, caller: AdminCaller, session: SessionDep,
                               org: OrganizationDep) -> Response:
    row = await _get(session, org, connected_id, lock=True)
    naming = await _policies_naming(session, org, row.id)
    if naming:
        raise GraphError(409, "conflictingObject",
                         f"the assignment policies {', '.join(naming)} still target this connected "
                         "organization; change them first")
    name = row.display_name
    await session.exec(delete(ConnectedOrganization).where(ConnectedOrganization.id == row.id))  # type: ignore[call-overload]
    await record(session, org.id, caller.actor, "Delete connected organization", "ConnectedOrganization",
                 connected_id, name)
    await commit(session, "the connected organization changed concurrently; retry")
    return Response(status_code=204)


def _sponsor_routes(kind: str) -> None:
    column = SPONSORS[kind]
    label = "internal sponsor" if kind == "internalSponsors" else "external sponsor"

    @router.get(f"/{{connected_id}}/{kind}", name=f"list_{kind}", response_model=shapes.SponsorCollection)
    async def list_sponsors(connected_id: str, request: Request, caller: MemberCaller,
                            session: SessionDep, org: OrganizationDep) -> dict:
        row = await _get(session, org, connected_id)
        page = await list_page(request, session, User, USER_FIELDS, where=[
            User.organization_id == org.id, col(User.id).in_(getattr(row, column) or [])])
        return collection(request, page, _user_body)

    @router.post(f"/{{connected_id}}/{kind}/$ref", status_code=204, name=f"add_{kind}")
    async def add_sponsor(connected_id: str, caller: AdminCaller, session: SessionDep,
                          org: OrganizationDep, body: Any = Body(...)) -> Response:
        row = await _get(session, org, connected_id, lock=True)
        user_id = reference_id(body, "users")
        user = await session.get(User, user_id)
        if user is None or user.organization_id != org.id:
            raise not_found(f"user {user_id}")
        current = list(getattr(row, column) or [])
        if user.id in current:
            raise bad_request("One or more added object references already exist for the following "
                              f"modified properties: '{kind}'.", code="Request_BadRequest")
        setattr(row, column, [*current, user.id])
        session.add(row)
        await record(session, org.id, caller.actor, f"Add {label} to connected organization",
                     "ConnectedOrganization", row.id, row.display_name, userId=user.id)
        await commit(session, "the connected organization changed concurrently; retry")
        return Response(status_code=204)

    @router.delete(f"/{{connected_id}}/{kind}/{{user_id}}/$ref", status_code=204,
                   name=f"remove_{kind}")
    async def remove_sponsor(connected_id: str, user_id: str, caller: AdminCaller,
                             session: SessionDep, org: OrganizationDep) -> Response:
        row = await _get(session, org, connected_id, lock=True)
        current = list(getattr(row, column) or [])
        if user_id not in current:
            raise not_found(f"{label} {user_id} of connected organization {connected_id}")
        setattr(row, column, [i for i in current if i != user_id])
        session.add(row)
        await record(session, org.id, caller.actor, f"Remove {label} from connected organization",
                     "ConnectedOrganization", row.id, row.display_name, userId=user_id)
        await commit(session, "the connected organization changed concurrently; retry")
        return Response(status_code=204)


for _kind in SPONSORS:
    _sponsor_routes(_kind)
