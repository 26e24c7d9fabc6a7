"""`/v1.0/applications`: application registrations (the relying parties Foyer's OpenID Provider
signs people in to), their client secrets, app roles, and who is assigned to each.

An assignment (Graph's appRoleAssignedTo) gives a user, or a group's members, one of the app's
enabled app roles or the default access role (all zeros); foyer.usecases.app_access reads them.
The rules for redirect URIs and app roles are in foyer.rules.redirect_uris and
foyer.rules.app_roles. Graph keeps appRoleAssignmentRequired on the service principal; Foyer has
no service principals, so the application carries it.

An administrator manages every application; an owner manages theirs (PATCH, DELETE, owners,
client secrets, appRoleAssignedTo, the service principal's appRoleAssignmentRequired;
foyer.usecases.ownership asks on the object). Members register applications
when the authorization policy's `allowedToCreateApps` is on, and own what they register. Reads
follow the guest level (foyer.rules.guest_access, through api.deps' directory readers).
"""

from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID, uuid4

from fastapi import Body, Request, Response
from pydantic import Field, StrictBool
from sqlalchemy import delete, union_all
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from foyer.api.deps import (
    AdminCaller, ApplicationReader, CallerDep, ListReader, OrganizationDep, SessionDep, first_owners, get_in_org,
    visible_user,
)
from foyer.api.errors import bad_request, not_found
from foyer.api.graph import GraphRouter, listed, reference_id
from foyer.api.odata import collection, list_page, select_fields
from foyer.api.schemas import GraphModel, iso, refuse_null, utc
from foyer.api.schemas import directory as shapes
from foyer.api.schemas.directory import (
    APPLICATION_FIELDS, ASSIGNMENT_FIELDS, USER_FIELDS, application_body, assignment_body, directory_user_body,
    password_credential_body,
    service_principal_body,
)
from foyer.audit import audit
from foyer.models.base import utcnow
from foyer.usecases import app_assignments, ownership
from foyer.usecases.ownership import require_manager
from foyer.usecases.updates import update_with_audit
from foyer.names import DisplayName
from foyer.rules.app_roles import AppRoleError, checked_app_roles, guid
from foyer.rules.redirect_uris import KINDS, home_page_url_problem, redirect_uris_problem
from foyer.usecases.openid_clients import new_client_secret, secret_hint
from foyer.models.directory import (
    Application, ApplicationOwner, AppRoleAssignment, Group, GroupAppRoleAssignment, User,
)

router = GraphRouter(prefix="/v1.0/applications", tags=["applications"])
# Graph's servicePrincipals, as a view of the same applications: a service principal's id is its
# application's id, so `resourceId` of an assignment names both (Graph scripts look the service
# principal up by appId, then assign through it: the SDK reaches appRoleAssignedTo only there).
service_principals = GraphRouter(prefix="/v1.0/servicePrincipals", tags=["servicePrincipals"])
routers = (router, service_principals)

# Entra's default lifetime of a client secret, and the longest Foyer allows.
SECRET_LIFETIME = timedelta(days=730)
MAX_SECRET_LIFETIME = timedelta(days=3650)
MAX_PASSWORD_CREDENTIALS = 20
GROUP_CLAIMS = ("None", "SecurityGroup", "All", "ApplicationGroup")


class WebBody(GraphModel):
    redirect_uris: list[str] | None = Field(default=None, max_length=1000)
    home_page_url: str | None = None


class RedirectUrisBody(GraphModel):
    redirect_uris: list[str] | None = Field(default=None, max_length=1000)


class OptionalClaimBody(GraphModel):
    name: str = Field(min_length=1, max_length=120)
    source: None = None
    essential: StrictBool = False
    additional_properties: list[str] = Field(default_factory=list, max_length=20)


class OptionalClaimsBody(GraphModel):
    id_token: list[OptionalClaimBody] | None = Field(default=None, max_length=50)
    access_token: list[OptionalClaimBody] | None = Field(default=None, max_length=50)
    saml2_token: list[OptionalClaimBody] | None = Field(default=None, max_length=50)


class ApplicationFields(GraphModel):
    web: WebBody | None = None
    spa: RedirectUrisBody | None = None
    public_client: RedirectUrisBody | None = None
    # Checked by foyer.rules.app_roles (Graph's errors, not pydantic's).
    app_roles: list[dict] | None = Field(default=None, max_length=2000)
    group_membership_claims: Literal["None", "SecurityGroup", "All", "ApplicationGroup"] | None = None
    optional_claims: OptionalClaimsBody | None = None
    app_role_assignment_required: StrictBool | None = None
    # Foyer's: this registration is a partner organization's (its Foyer or other service signs our
    # people in through it), so its sign-ins are held to the outbound cross-tenant settings for
    # that tenant. Like a service principal's appOwnerOrganizationId.
    foyer_partner_tenant_id: UUID | None = None


class ApplicationCreate(ApplicationFields):
    display_name: DisplayName = Field(min_length=1, max_length=256)
    # Graph's owners@odata.bind: ["https://graph.microsoft.com/v1.0/users/{id}", …] (administrators).
    owners_bind: list[str] | None = Field(default=None, alias="owners@odata.bind", max_length=100)


class ApplicationUpdate(ApplicationFields):
    display_name: DisplayName | None = Field(default=None, min_length=1, max_length=256)

    _present = refuse_null("display_name", "app_role_assignment_required")


class PasswordCredentialBody(GraphModel):
    display_name: DisplayName | None = Field(default=None, max_length=256)
    start_date_time: datetime | None = None
    end_date_time: datetime | None = None


class AddPassword(GraphModel):
    password_credential: PasswordCredentialBody = Field(default_factory=PasswordCredentialBody)


class RemovePassword(GraphModel):
    key_id: str = Field(min_length=1, max_length=64)


class AssignmentCreate(GraphModel):
    principal_id: str = Field(min_length=1, max_length=64)
    resource_id: str | None = Field(default=None, max_length=64)
    app_role_id: str | None = Field(default=None, max_length=64)


async def get_application(session, org, application_id: str, *, for_update: bool = False) -> Application:
    if for_update:  # read-modify-write of its JSON lists: one writer at a time (PostgreSQL)
        row = (await session.exec(select(Application).where(Application.id == application_id)
                                  .with_for_update())).first()
        if row is None or row.organization_id != org.id:
            raise not_found(f"application {application_id}")
        return row
    return await get_in_org(session, Application, org, application_id, "application")


async def roles_in_use(session, app: Application) -> set[str]:
    users = select(AppRoleAssignment.app_role_id).where(AppRoleAssignment.application_id == app.id)
    groups = select(GroupAppRoleAssignment.app_role_id).where(GroupAppRoleAssignment.application_id == app.id)
    return set((await session.exec(users)).all()) | set((await session.exec(groups)).all())


async def registration_changes(session, app: Application | None, body: ApplicationFields) -> dict:
    """The Application attributes `body` sets, checked: GraphError 400 when Graph would refuse.
    `app` None: a new registration. Lists (redirectUris, appRoles) are replaced as a whole, as
    Graph replaces collections on PATCH."""
    sent = body.model_dump(exclude_unset=True)
    changes: dict = {}
    kinds = {"web": body.web, "spa": body.spa, "publicClient": body.public_client}
    uris = {kind: list(getattr(app, attribute) or []) if app else [] for kind, attribute in KINDS.items()}
    for kind, part in kinds.items():
        if part is not None and "redirect_uris" in part.model_fields_set:
            uris[kind] = part.redirect_uris or []
            changes[KINDS[kind]] = uris[kind]
    for kind in kinds:
        if KINDS[kind] in changes:
            others = sum(len(v) for k, v in uris.items() if k != kind)
            problem = redirect_uris_problem(uris[kind], others=others)
            if problem:
                raise bad_request(f"{kind}.redirectUris: {problem}", code="Request_BadRequest")
    if body.web is not None and "home_page_url" in body.web.model_fields_set:
        url = body.web.home_page_url
        if url is not None and (problem := home_page_url_problem(url)):
            raise bad_request(f"web.homePageUrl: {problem}", code="Request_BadRequest")
        changes["home_page_url"] = url
    if "app_roles" in sent:
        try:
            changes["app_roles"] = checked_app_roles(
                body.app_roles or [], list(app.app_roles or []) if app else [],
                await roles_in_use(session, app) if app else set())
        except AppRoleError as error:
            raise bad_request(str(error), code=error.code) from None
    if "group_membership_claims" in sent:
        value = body.group_membership_claims
        changes["group_membership_claims"] = None if value in (None, "None") else value
    if "optional_claims" in sent:
        claims = body.optional_claims
        changes["optional_claims"] = {} if claims is None else {
            kind: [c.model_dump(by_alias=True) for c in getattr(claims, name) or []]
            for kind, name in (("idToken", "id_token"), ("accessToken", "access_token"),
                               ("saml2Token", "saml2_token"))}
    if "foyer_partner_tenant_id" in sent:
        tenant = body.foyer_partner_tenant_id
        changes["partner_tenant_id"] = str(tenant) if tenant else None
    if "app_role_assignment_required" in sent:
        changes["app_role_assignment_required"] = body.app_role_assignment_required
    if getattr(body, "display_name", None) is not None:
        changes["display_name"] = body.display_name
    return changes


@router.get("", response_model=shapes.ApplicationCollection)
async def list_applications(request: Request, caller: ListReader, session: SessionDep,
                            org: OrganizationDep) -> dict:
    page = await list_page(request, session, Application, APPLICATION_FIELDS,
                           where=[Application.organization_id == org.id])
    return listed(request, page, [application_body(app) for app in page.rows])


@router.post("", status_code=201, response_model=shapes.Application)
async def create_application(body: ApplicationCreate, caller: CallerDep, session: SessionDep,
                             org: OrganizationDep) -> dict:
    """Administrators; members too when allowedToCreateApps is on (they own it)."""
    owners, capacity = await first_owners(session, org, caller, body.owners_bind, org.allowed_to_create_apps,
                                          "applications")
    app = Application(organization_id=org.id, display_name=body.display_name)
    for name, value in (await registration_changes(session, None, body)).items():
        setattr(app, name, value)
    session.add(app)
    await audit(session, key=None, category="ApplicationManagement", activity="Add application",
                organization_id=org.id, **caller.actor, target_type="Application",
                target_id=app.id, target_name=app.display_name,
                details={"appId": app.app_id, "actingAs": capacity})
    await session.flush()  # the application before the rows that name it
    await ownership.add_first_owners(session, org.id, app, owners, actor=caller.actor, capacity=capacity)
    await session.commit()
    return application_body(app)


@router.get("/{application_id}", response_model=shapes.Application)
async def get_application_by_id(application_id: str, request: Request, caller: ApplicationReader,
                                session: SessionDep, org: OrganizationDep) -> dict:
    return select_fields(request.query_params,
                         application_body(await get_application(session, org, application_id)))


@router.patch("/{application_id}", status_code=204)
async def update_application(application_id: str, body: ApplicationUpdate, caller: CallerDep,
                             session: SessionDep, org: OrganizationDep) -> Response:
    """An administrator, or an owner of this application."""
    app = await get_application(session, org, application_id, for_update=True)
    capacity = await require_manager(session, caller, app, "change it")
    changes = await registration_changes(session, app, body)
    if not changes:
        raise bad_request("nothing to update", code="Request_BadRequest")
    await update_with_audit(session, app, changes,
                            modified_properties=body.model_dump(by_alias=True, exclude_unset=True),
                            category="ApplicationManagement", activity="Update application",
                            organization_id=org.id, actor=caller.actor, target_type="Application",
                            details={"actingAs": capacity})
    return Response(status_code=204)


@router.delete("/{application_id}", status_code=204)
async def delete_application(application_id: str, caller: CallerDep, session: SessionDep,
                             org: OrganizationDep) -> Response:
    """An administrator, or an owner of this application."""
    app = await get_application(session, org, application_id)
    capacity = await require_manager(session, caller, app, "delete it")
    record = {"target_id": app.id, "target_name": app.display_name,
              "details": {"appId": app.app_id, "actingAs": capacity}}
    await session.exec(delete(ApplicationOwner).where(  # type: ignore[call-overload]
        ApplicationOwner.application_id == app.id))
    await session.exec(delete(AppRoleAssignment).where(  # type: ignore[call-overload]
        AppRoleAssignment.application_id == app.id))
    await session.exec(delete(GroupAppRoleAssignment).where(  # type: ignore[call-overload]
        GroupAppRoleAssignment.application_id == app.id))
    await session.exec(delete(Application).where(Application.id == app.id))  # type: ignore[call-overload]
    await audit(session, key=None, category="ApplicationManagement", activity="Delete application",
                organization_id=org.id, **caller.actor, target_type="Application", **record)
    await session.commit()
    return Response(status_code=204)


# --- service principals (a view of the applications) ------------------------------------------

SERVICE_PRINCIPAL_FIELDS = {"id": "id", "appId": "app_id", "displayName": "display_name"}


class ServicePrincipalCreate(GraphModel):
    app_id: str = Field(min_length=1, max_length=64)
    app_role_assignment_required: StrictBool | None = None


class ServicePrincipalUpdate(GraphModel):
    app_role_assignment_required: StrictBool


@service_principals.get("", response_model=shapes.ServicePrincipalCollection)
async def list_service_principals(request: Request, caller: ListReader, session: SessionDep,
                                  org: OrganizationDep) -> dict:
    page = await list_page(request, session, Application, SERVICE_PRINCIPAL_FIELDS,
                           where=[Application.organization_id == org.id])
    return listed(request, page, [service_principal_body(app) for app in page.rows])


@service_principals.post("", status_code=201, response_model=shapes.ServicePrincipal)
async def create_service_principal(body: ServicePrincipalCreate, caller: AdminCaller, session: SessionDep,
                                   org: OrganizationDep) -> dict:
    """Graph scripts create the service principal after the application; in Foyer it exists with
    the application, so this returns it (and sets appRoleAssignmentRequired when given)."""
    app = (await session.exec(select(Application).where(
        Application.organization_id == org.id, Application.app_id == body.app_id))).first()
    if app is None:
        raise bad_request(f"no application with appId {body.app_id}", code="Request_BadRequest")
    if body.app_role_assignment_required is not None \
            and body.app_role_assignment_required != app.app_role_assignment_required:
        await update_with_audit(session, app, {"app_role_assignment_required": body.app_role_assignment_required},
                                modified_properties=["appRoleAssignmentRequired"],
                                category="ApplicationManagement", activity="Update service principal",
                                organization_id=org.id, actor=caller.actor, target_type="ServicePrincipal")
    return service_principal_body(app)


@service_principals.get("/{application_id}", response_model=shapes.ServicePrincipal)
async def get_service_principal(application_id: str, request: Request, caller: ApplicationReader,
                                session: SessionDep, org: OrganizationDep) -> dict:
    return select_fields(request.query_params,
                         service_principal_body(await get_application(session, org, application_id)))


@service_principals.patch("/{application_id}", status_code=204)
async def update_service_principal(application_id: str, body: ServicePrincipalUpdate, caller: CallerDep,
                                   session: SessionDep, org: OrganizationDep) -> Response:
    """Only appRoleAssignmentRequired: the rest of a service principal is its application's. An
    administrator, or an owner of the application."""
    app = await get_application(session, org, application_id, for_update=True)
    capacity = await require_manager(session, caller, app, "change who may sign in to it")
    await update_with_audit(session, app, {"app_role_assignment_required": body.app_role_assignment_required},
                            modified_properties=["appRoleAssignmentRequired"],
                            category="ApplicationManagement", activity="Update service principal",
                            organization_id=org.id, actor=caller.actor, target_type="ServicePrincipal",
                            details={"actingAs": capacity})
    return Response(status_code=204)


# --- owners -------------------------------------------------------------------------------

@router.get("/{application_id}/owners", response_model=shapes.UserCollection)
async def list_owners(application_id: str, request: Request, caller: ApplicationReader, session: SessionDep,
                      org: OrganizationDep) -> dict:
    app = await get_application(session, org, application_id)
    owners = select(ApplicationOwner.user_id).where(ApplicationOwner.application_id == app.id)
    page = await list_page(request, session, User, USER_FIELDS, where=[
        User.organization_id == org.id, col(User.id).in_(owners)])
    cut = visible_user(caller)
    return collection(request, page, lambda user: cut(directory_user_body(user)))


@router.post("/{application_id}/owners/$ref", status_code=204)
async def add_owner(application_id: str, caller: CallerDep, session: SessionDep, org: OrganizationDep,
                    body: Any = Body(...)) -> Response:
    """An administrator, or an owner of this application."""
    app = await get_application(session, org, application_id)
    capacity = await require_manager(session, caller, app, "add owners to it")
    user = await get_in_org(session, User, org, reference_id(body, "users"), "directory object")
    await ownership.add_owner(session, org.id, app, user, actor=caller.actor, capacity=capacity)
    return Response(status_code=204)


@router.delete("/{application_id}/owners/{user_id}/$ref", status_code=204)
async def remove_owner(application_id: str, user_id: str, caller: CallerDep, session: SessionDep,
                       org: OrganizationDep) -> Response:
    """An administrator, or an owner of this application (not the last owner)."""
    app = await get_application(session, org, application_id)
    capacity = await require_manager(session, caller, app, "remove its owners")
    await ownership.remove_owner(session, org.id, app, user_id, actor=caller.actor, capacity=capacity)
    return Response(status_code=204)


# --- client secrets -------------------------------------------------------------------------

@router.post("/{application_id}/addPassword", response_model=shapes.PasswordCredential)
async def add_password(application_id: str, body: AddPassword, caller: CallerDep,
                       session: SessionDep, org: OrganizationDep) -> dict:
    """A new client secret: its text is in this response and nowhere else, ever. An administrator,
    or an owner of the application (as in Entra, owners manage its credentials)."""
    app = await get_application(session, org, application_id, for_update=True)
    capacity = await require_manager(session, caller, app, "add client secrets to it")
    credentials = list(app.password_credentials or [])
    if len(credentials) >= MAX_PASSWORD_CREDENTIALS:
        raise bad_request(f"an application has at most {MAX_PASSWORD_CREDENTIALS} client secrets; "
                          "remove one first (removePassword)", code="Request_BadRequest")
    spec = body.password_credential
    now = utcnow()
    try:
        start = utc(spec.start_date_time, "startDateTime") if spec.start_date_time else now
        end = utc(spec.end_date_time, "endDateTime") if spec.end_date_time else start + SECRET_LIFETIME
    except (ValueError, OverflowError) as error:
        raise bad_request(str(error), code="Request_BadRequest") from None
    if end <= start or end <= now:
        raise bad_request("endDateTime must be after startDateTime and in the future", code="Request_BadRequest")
    if end - start > MAX_SECRET_LIFETIME:
        raise bad_request("a client secret lives at most ten years", code="Request_BadRequest")
    text, digest = new_client_secret()
    credential = {"keyId": str(uuid4()), "displayName": spec.display_name, "hint": secret_hint(text),
                  "startDateTime": iso(start), "endDateTime": iso(end), "secretHash": digest}
    app.password_credentials = [*credentials, credential]
    session.add(app)
    await audit(session, key=None, category="ApplicationManagement",
                activity="Update application – Certificates and secrets management",
                organization_id=org.id, **caller.actor, target_type="Application", target_id=app.id,
                target_name=app.display_name,
                details={"action": "addPassword", "keyId": credential["keyId"],
                         "displayName": spec.display_name or "", "actingAs": capacity})
    await session.commit()
    return password_credential_body(credential, secret_text=text)


@router.post("/{application_id}/removePassword", status_code=204)
async def remove_password(application_id: str, body: RemovePassword, caller: CallerDep,
                          session: SessionDep, org: OrganizationDep) -> Response:
    """An administrator, or an owner of the application."""
    app = await get_application(session, org, application_id, for_update=True)
    capacity = await require_manager(session, caller, app, "remove its client secrets")
    key_id = guid(body.key_id) or body.key_id
    credentials = list(app.password_credentials or [])
    kept = [c for c in credentials if c["keyId"] != key_id]
    if len(kept) == len(credentials):
        raise not_found(f"password credential {body.key_id}")
    app.password_credentials = kept
    session.add(app)
    await audit(session, key=None, category="ApplicationManagement",
                activity="Update application – Certificates and secrets management",
                organization_id=org.id, **caller.actor, target_type="Application", target_id=app.id,
                target_name=app.display_name,
                details={"action": "removePassword", "keyId": key_id, "actingAs": capacity})
    await session.commit()
    return Response(status_code=204)


# --- assignments ----------------------------------------------------------------------------

def _assignments_of(app: Application):
    """Users' and groups' assignments to `app` as one selectable with AppRoleAssignment's columns
    (a group's id in principal_id), so $filter, $orderby and paging treat them as one list."""
    both = union_all(
        select(AppRoleAssignment.id, AppRoleAssignment.application_id, AppRoleAssignment.principal_id,
               AppRoleAssignment.app_role_id, AppRoleAssignment.created_date_time)
        .where(AppRoleAssignment.application_id == app.id),
        select(GroupAppRoleAssignment.id, GroupAppRoleAssignment.application_id,
               col(GroupAppRoleAssignment.group_id).label("principal_id"), GroupAppRoleAssignment.app_role_id,
               GroupAppRoleAssignment.created_date_time)
        .where(GroupAppRoleAssignment.application_id == app.id)).subquery("assignments")
    return aliased(AppRoleAssignment, both)


@service_principals.get("/{application_id}/appRoleAssignedTo", response_model=shapes.AppRoleAssignmentCollection)
@router.get("/{application_id}/appRoleAssignedTo", response_model=shapes.AppRoleAssignmentCollection)
async def list_assignments(application_id: str, request: Request, caller: ApplicationReader,
                           session: SessionDep, org: OrganizationDep) -> dict:
    app = await get_application(session, org, application_id)
    page = await list_page(request, session, _assignments_of(app), ASSIGNMENT_FIELDS,
                           default_order=("created_date_time", "id"))
    rows = [(row.id, row.principal_id, row.app_role_id, row.created_date_time) for row in page.rows]
    # The rows are not the table's: keep them out of the session's identity map.
    session.expunge_all()
    ids = {principal for _, principal, _, _ in rows}
    users = {u.id: u for u in (await session.exec(select(User).where(col(User.id).in_(ids)))).all()} if ids else {}
    groups = {g.id: g for g in (await session.exec(select(Group).where(col(Group.id).in_(ids)))).all()} if ids else {}
    group_rows = set((await session.exec(select(GroupAppRoleAssignment.id).where(
        col(GroupAppRoleAssignment.id).in_([r[0] for r in rows])))).all()) if rows else set()
    bodies = []
    for row_id, principal, role, created in rows:
        group = row_id in group_rows
        row = AppRoleAssignment(id=row_id, application_id=app.id, principal_id=principal, app_role_id=role,
                                created_date_time=created)
        bodies.append(assignment_body(row, app, (groups if group else users).get(principal), group=group))
    return listed(request, page, bodies)


@service_principals.post("/{application_id}/appRoleAssignedTo", status_code=201, response_model=shapes.AppRoleAssignment)
@router.post("/{application_id}/appRoleAssignedTo", status_code=201, response_model=shapes.AppRoleAssignment)
async def create_assignment(application_id: str, body: AssignmentCreate, caller: CallerDep,
                            session: SessionDep, org: OrganizationDep) -> dict:
    """An administrator, or an owner of this application."""
    # Locked (PostgreSQL) as PATCH locks it: a role is not removed while it is being assigned.
    app = await get_application(session, org, application_id, for_update=True)
    capacity = await require_manager(session, caller, app, "assign it")
    if body.resource_id is not None and body.resource_id != app.id:
        raise bad_request(f"resourceId must be this application's id ({app.id})",
                          code="Request_BadRequest")
    row, principal = await app_assignments.assign(session, org.id, app, body.principal_id,
                                                  app_role_id=body.app_role_id, actor=caller.actor,
                                                  capacity=capacity)
    return assignment_body(row, app, principal)


@service_principals.delete("/{application_id}/appRoleAssignedTo/{assignment_id}", status_code=204)
@router.delete("/{application_id}/appRoleAssignedTo/{assignment_id}", status_code=204)
async def delete_assignment(application_id: str, assignment_id: str, caller: CallerDep,
                            session: SessionDep, org: OrganizationDep) -> Response:
    """An administrator, or an owner of this application."""
    app = await get_application(session, org, application_id)
    capacity = await require_manager(session, caller, app, "remove its assignments")
    await app_assignments.unassign(session, org.id, app, assignment_id, actor=caller.actor, capacity=capacity)
    return Response(status_code=204)
