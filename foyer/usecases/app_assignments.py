"""Assigning an application to a user or a group and taking it back: for
`applications/{id}/appRoleAssignedTo`, the owner's view of My Apps ("share with a guest",
"remove"), and an invitation that shares an app. Who may is asked before
(foyer.usecases.ownership.require_manager); `capacity` is what the audit record says they acted
as. Lock the application row first where a role may be removed concurrently (the router does)."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from foyer.audit import audit
from foyer.errors import Refused
from foyer.models.directory import Application, AppRoleAssignment, Group, GroupAppRoleAssignment, User
from foyer.rules.app_roles import DEFAULT_APP_ROLE_ID, assignable_role_problem, guid

ALREADY_ASSIGNED = "Permission being assigned already exists on the object"


def _bad(message: str) -> Refused:
    return Refused("Request_BadRequest", message, status_hint=400)


async def assign(session, organization_id: str, app: Application, principal_id: str, *,
                 app_role_id: str | None, actor: Mapping[str, Any],
                 capacity: str) -> tuple[AppRoleAssignment | GroupAppRoleAssignment, User | Group]:
    """Assign `app` (role `app_role_id`, the default access role when None) to the user or group
    `principal_id`, audit it and commit. Refused (400) for an unknown principal or role, or an
    assignment that exists."""
    role = guid(app_role_id or DEFAULT_APP_ROLE_ID)
    if role is None:
        raise _bad(f"appRoleId {app_role_id} is not a GUID")
    if problem := assignable_role_problem(list(app.app_roles or []), role):
        raise _bad(problem)
    principal: User | Group | None = await session.get(User, principal_id)
    if principal is None or principal.organization_id != organization_id:
        principal = await session.get(Group, principal_id)
    if principal is None or principal.organization_id != organization_id:
        raise _bad(f"no user or group with id {principal_id}")
    row: AppRoleAssignment | GroupAppRoleAssignment
    if isinstance(principal, Group):
        existing = select(GroupAppRoleAssignment.id).where(
            GroupAppRoleAssignment.application_id == app.id, GroupAppRoleAssignment.group_id == principal.id,
            GroupAppRoleAssignment.app_role_id == role)
        row = GroupAppRoleAssignment(application_id=app.id, group_id=principal.id, app_role_id=role)
        activity = "Add app role assignment to group"
        details = {"groupId": principal.id, "groupDisplayName": principal.display_name, "appRoleId": role}
    else:
        existing = select(AppRoleAssignment.id).where(
            AppRoleAssignment.application_id == app.id, AppRoleAssignment.principal_id == principal.id,
            AppRoleAssignment.app_role_id == role)
        row = AppRoleAssignment(application_id=app.id, principal_id=principal.id, app_role_id=role)
        activity = "Add app role assignment grant to user"
        details = {"userId": principal.id, "userPrincipalName": principal.user_principal_name, "appRoleId": role}
    if (await session.exec(existing)).first() is not None:
        raise _bad(ALREADY_ASSIGNED)
    session.add(row)
    await audit(session, key=None, category="ApplicationManagement", activity=activity,
                organization_id=organization_id, **actor, target_type="Application", target_id=app.id,
                target_name=app.display_name, details={**details, "actingAs": capacity})
    try:
        await session.commit()
    except IntegrityError:  # assigned concurrently
        await session.rollback()
        raise _bad(ALREADY_ASSIGNED) from None
    return row, principal


async def unassign(session, organization_id: str, app: Application, assignment_id: str, *,
                   actor: Mapping[str, Any], capacity: str) -> None:
    """Remove the user or group assignment `assignment_id` of `app`, audit it and commit."""
    row: AppRoleAssignment | GroupAppRoleAssignment | None = await session.get(AppRoleAssignment, assignment_id)
    if row is None:
        row = await session.get(GroupAppRoleAssignment, assignment_id)
    if row is None or row.application_id != app.id:
        raise Refused("Request_ResourceNotFound", f"app role assignment {assignment_id} does not exist",
                      status_hint=404)
    if isinstance(row, GroupAppRoleAssignment):
        group = await session.get(Group, row.group_id)
        activity = "Remove app role assignment from group"
        details = {"groupId": row.group_id, "groupDisplayName": group.display_name if group else "",
                   "appRoleId": row.app_role_id}
    else:
        user = await session.get(User, row.principal_id)
        activity = "Remove app role assignment from user"
        details = {"userId": row.principal_id,
                   "userPrincipalName": user.user_principal_name if user else "", "appRoleId": row.app_role_id}
    await session.delete(row)
    await audit(session, key=None, category="ApplicationManagement", activity=activity,
                organization_id=organization_id, **actor, target_type="Application", target_id=app.id,
                target_name=app.display_name, details={**details, "actingAs": capacity})
    await session.commit()
