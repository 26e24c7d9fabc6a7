"""`/v1.0/applications`: the apps guests are given access to, and who is assigned to each.

Foyer's applications have one role, Graph's default access role (all zeros), so an assignment is
"this user may use this app".
"""

from fastapi import Request, Response
from pydantic import Field
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from foyer.api.deps import AdminCaller, MemberCaller, OrganizationDep, SessionDep, get_in_org
from foyer.api.errors import GraphError, bad_request, not_found
from foyer.api.graph import GraphRouter
from foyer.api.odata import collection, list_page
from foyer.api.schemas import GraphModel
from foyer.api.schemas import directory as shapes
from foyer.api.schemas.directory import APPLICATION_FIELDS, ASSIGNMENT_FIELDS, application_body, assignment_body
from foyer.audit import audit
from foyer.names import DisplayName
from foyer.models.directory import Application, AppRoleAssignment, User

router = GraphRouter(prefix="/v1.0/applications", tags=["applications"])

DEFAULT_APP_ROLE_ID = "00000000-0000-0000-0000-000000000000"


class ApplicationCreate(GraphModel):
    display_name: DisplayName = Field(min_length=1, max_length=256)


class AssignmentCreate(GraphModel):
    principal_id: str = Field(min_length=1, max_length=64)
    resource_id: str | None = Field(default=None, max_length=64)
    app_role_id: str | None = Field(default=None, max_length=64)


async def get_application(session, org, application_id: str) -> Application:
    return await get_in_org(session, Application, org, application_id, "application")



@router.get("", response_model=shapes.ApplicationCollection)
async def list_applications(request: Request, caller: MemberCaller, session: SessionDep,
                            org: OrganizationDep) -> dict:
    page = await list_page(request, session, Application, APPLICATION_FIELDS,
                           where=[Application.organization_id == org.id])
    return collection(request, page, application_body)


@router.post("", status_code=201, response_model=shapes.Application)
async def create_application(body: ApplicationCreate, caller: AdminCaller, session: SessionDep,
                             org: OrganizationDep) -> dict:
    app = Application(organization_id=org.id, display_name=body.display_name)
    session.add(app)
    await audit(session, key=None, category="ApplicationManagement", activity="Add application",
                organization_id=org.id, **caller.actor, target_type="Application",
                target_id=app.id, target_name=app.display_name, details={"appId": app.app_id})
    await session.commit()
    return application_body(app)


@router.get("/{application_id}", response_model=shapes.Application)
async def get_application_by_id(application_id: str, caller: MemberCaller, session: SessionDep,
                                org: OrganizationDep) -> dict:
    return application_body(await get_application(session, org, application_id))


@router.delete("/{application_id}", status_code=204)
async def delete_application(application_id: str, caller: AdminCaller, session: SessionDep,
                             org: OrganizationDep) -> Response:
    app = await get_application(session, org, application_id)
    record = {"target_id": app.id, "target_name": app.display_name, "details": {"appId": app.app_id}}
    await session.exec(delete(AppRoleAssignment).where(  # type: ignore[call-overload]
        AppRoleAssignment.application_id == app.id))
    await session.exec(delete(Application).where(Application.id == app.id))  # type: ignore[call-overload]
    await audit(session, key=None, category="ApplicationManagement", activity="Delete application",
                organization_id=org.id, **caller.actor, target_type="Application", **record)
    await session.commit()
    return Response(status_code=204)


@router.get("/{application_id}/appRoleAssignedTo", response_model=shapes.AppRoleAssignmentCollection)
async def list_assignments(application_id: str, request: Request, caller: MemberCaller,
                           session: SessionDep, org: OrganizationDep) -> dict:
    app = await get_application(session, org, application_id)
    page = await list_page(request, session, AppRoleAssignment, ASSIGNMENT_FIELDS,
                           where=[AppRoleAssignment.application_id == app.id])
    principal_ids = {row.principal_id for row in page.rows}
    users = {u.id: u for u in (await session.exec(
        select(User).where(col(User.id).in_(principal_ids)))).all()} if principal_ids else {}
    return collection(request, page, lambda row: assignment_body(row, app, users.get(row.principal_id)))


@router.post("/{application_id}/appRoleAssignedTo", status_code=201, response_model=shapes.AppRoleAssignment)
async def create_assignment(application_id: str, body: AssignmentCreate, caller: AdminCaller,
                            session: SessionDep, org: OrganizationDep) -> dict:
    app = await get_application(session, org, application_id)
    if body.resource_id is not None and body.resource_id != app.id:
        raise bad_request(f"resourceId must be this application's id ({app.id})",
                          code="Request_BadRequest")
    role = body.app_role_id or DEFAULT_APP_ROLE_ID
    if role != DEFAULT_APP_ROLE_ID:
        raise bad_request(f"the application has no app role {role}; Foyer's applications have "
                          f"only the default role {DEFAULT_APP_ROLE_ID}", code="Request_BadRequest")
    user = await session.get(User, body.principal_id)
    if user is None or user.organization_id != org.id:
        raise bad_request(f"no user with id {body.principal_id}", code="Request_BadRequest")
    already = GraphError(400, "Request_BadRequest",
                         "Permission being assigned already exists on the object")
    existing = (await session.exec(select(AppRoleAssignment.id).where(
        AppRoleAssignment.application_id == app.id, AppRoleAssignment.principal_id == user.id,
        AppRoleAssignment.app_role_id == role))).first()
    if existing is not None:
        raise already
    row = AppRoleAssignment(application_id=app.id, principal_id=user.id, app_role_id=role)
    session.add(row)
    await audit(session, key=None, category="ApplicationManagement",
                activity="Add app role assignment grant to user", organization_id=org.id,
                **caller.actor, target_type="Application", target_id=app.id,
                target_name=app.display_name,
                details={"userId": user.id, "userPrincipalName": user.user_principal_name,
                         "appRoleId": role})
    try:
        await session.commit()
    except IntegrityError:  # assigned concurrently
        await session.rollback()
        raise already from None
    return assignment_body(row, app, user)


@router.delete("/{application_id}/appRoleAssignedTo/{assignment_id}", status_code=204)
async def delete_assignment(application_id: str, assignment_id: str, caller: AdminCaller,
                            session: SessionDep, org: OrganizationDep) -> Response:
    app = await get_application(session, org, application_id)
    row = await session.get(AppRoleAssignment, assignment_id)
    if row is None or row.application_id != app.id:
        raise not_found(f"app role assignment {assignment_id}")
    user = await session.get(User, row.principal_id)
    await session.delete(row)
    await audit(session, key=None, category="ApplicationManagement",
                activity="Remove app role assignment from user", organization_id=org.id,
                **caller.actor, target_type="Application", target_id=app.id,
                target_name=app.display_name,
                details={"userId": row.principal_id,
                         "userPrincipalName": user.user_principal_name if user else "",
                         "appRoleId": row.app_role_id})
    await session.commit()
    return Response(status_code=204)
