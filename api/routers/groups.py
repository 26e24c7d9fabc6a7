"""`/v1.0/groups`: security groups, their members and owners (users), as Graph shows them.

An administrator manages every group; an owner manages theirs (foyer.usecases.ownership asks on the
object, never the role alone). Members create groups when the authorization policy's
`allowedToCreateSecurityGroups` is on, and own what they create. Reads follow the guest level
(foyer.rules.guest_access, through api.deps' directory readers)."""

from typing import Any

from fastapi import Body, Request, Response
from pydantic import Field, StrictBool, field_validator
from sqlalchemy import delete
from sqlmodel import col, select

from foyer.api.deps import (
    CallerDep, GroupReader, ListReader, OrganizationDep, SessionDep, first_owners, get_in_org, visible_user,
)
from foyer.api.errors import bad_request, not_found
from foyer.api.graph import GraphRouter, listed, reference_id
from foyer.api.odata import collection, list_page
from foyer.api.schemas import GraphModel, refuse_null
from foyer.api.schemas import directory as shapes
from foyer.api.schemas.directory import (
    GROUP_ASSIGNMENT_FIELDS, GROUP_FIELDS, USER_FIELDS, assignment_body, directory_user_body, group_body,
)
from foyer.audit import audit
from foyer.names import DisplayName, MultilineText
from foyer.usecases import groups, ownership
from foyer.usecases.ownership import require_manager
from foyer.usecases.updates import update_with_audit
from foyer.models.directory import Application, Group, GroupAppRoleAssignment, GroupMember, GroupOwner, User

router = GraphRouter(prefix="/v1.0/groups", tags=["groups"])

class GroupCreate(GraphModel):
    display_name: DisplayName = Field(min_length=1, max_length=256)
    description: MultilineText | None = Field(default=None, max_length=1024)
    # Graph requires these; Foyer accepts them as long as they describe a security group.
    mail_enabled: StrictBool = False
    security_enabled: StrictBool = True
    mail_nickname: DisplayName | None = Field(default=None, max_length=64)
    group_types: list[str] = Field(default_factory=list)
    # Graph's owners@odata.bind: ["https://graph.microsoft.com/v1.0/users/{id}", …] (administrators).
    owners_bind: list[str] | None = Field(default=None, alias="owners@odata.bind", max_length=100)

    @field_validator("mail_enabled")
    @classmethod
    def _not_mail(cls, value: bool) -> bool:
        if value:
            raise ValueError("Foyer has security groups only: mailEnabled must be false")
        return value

    @field_validator("security_enabled")
    @classmethod
    def _security(cls, value: bool) -> bool:
        if not value:
            raise ValueError("Foyer has security groups only: securityEnabled must be true")
        return value

    @field_validator("group_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        if value:
            raise ValueError("Foyer has security groups only: groupTypes must be empty")
        return value


class GroupUpdate(GraphModel):
    display_name: DisplayName | None = Field(default=None, min_length=1, max_length=256)
    description: MultilineText | None = Field(default=None, max_length=1024)

    _present = refuse_null("display_name")


async def get_group(session, org, group_id: str) -> Group:
    return await get_in_org(session, Group, org, group_id, "group")



@router.get("", response_model=shapes.GroupCollection)
async def list_groups(request: Request, caller: ListReader, session: SessionDep,
                      org: OrganizationDep) -> dict:
    page = await list_page(request, session, Group, GROUP_FIELDS, where=[Group.organization_id == org.id])
    return collection(request, page, group_body)


@router.post("", status_code=201, response_model=shapes.Group)
async def create_group(body: GroupCreate, caller: CallerDep, session: SessionDep,
                       org: OrganizationDep) -> dict:
    """Administrators; members too when allowedToCreateSecurityGroups is on (they own it)."""
    owners, capacity = await first_owners(session, org, caller, body.owners_bind,
                                          org.allowed_to_create_security_groups, "security groups")
    group = Group(organization_id=org.id, display_name=body.display_name, description=body.description)
    session.add(group)
    await audit(session, key=None, category="GroupManagement", activity="Add group",
                organization_id=org.id, **caller.actor, target_type="Group", target_id=group.id,
                target_name=group.display_name, details={"actingAs": capacity})
    await session.flush()  # the group before the rows that name it
    await ownership.add_first_owners(session, org.id, group, owners, actor=caller.actor, capacity=capacity)
    await session.commit()
    return group_body(group)


@router.get("/{group_id}", response_model=shapes.Group)
async def get_group_by_id(group_id: str, caller: GroupReader, session: SessionDep,
                          org: OrganizationDep) -> dict:
    return group_body(await get_group(session, org, group_id))


@router.patch("/{group_id}", status_code=204)
async def update_group(group_id: str, body: GroupUpdate, caller: CallerDep, session: SessionDep,
                       org: OrganizationDep) -> Response:
    """An administrator, or an owner of this group."""
    group = await get_group(session, org, group_id)
    capacity = await require_manager(session, caller, group, "change it")
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise bad_request("nothing to update: give displayName or description")
    await update_with_audit(session, group, changes,
                            modified_properties=body.model_dump(by_alias=True, exclude_unset=True),
                            category="GroupManagement", activity="Update group", organization_id=org.id,
                            actor=caller.actor, target_type="Group", details={"actingAs": capacity})
    return Response(status_code=204)


@router.delete("/{group_id}", status_code=204)
async def delete_group(group_id: str, caller: CallerDep, session: SessionDep,
                       org: OrganizationDep) -> Response:
    """An administrator, or an owner of this group."""
    group = await get_group(session, org, group_id)
    capacity = await require_manager(session, caller, group, "delete it")
    record = {"target_id": group.id, "target_name": group.display_name}
    await session.exec(delete(GroupMember).where(GroupMember.group_id == group.id))  # type: ignore[call-overload]
    await session.exec(delete(GroupOwner).where(GroupOwner.group_id == group.id))  # type: ignore[call-overload]
    await session.exec(delete(GroupAppRoleAssignment).where(  # type: ignore[call-overload]
        GroupAppRoleAssignment.group_id == group.id))
    await session.exec(delete(Group).where(Group.id == group.id))  # type: ignore[call-overload]
    await audit(session, key=None, category="GroupManagement", activity="Delete group",
                organization_id=org.id, **caller.actor, target_type="Group", **record,
                details={"actingAs": capacity})
    await session.commit()
    return Response(status_code=204)


@router.get("/{group_id}/members", response_model=shapes.UserCollection)
async def list_members(group_id: str, request: Request, caller: GroupReader, session: SessionDep,
                       org: OrganizationDep) -> dict:
    group = await get_group(session, org, group_id)
    members = select(GroupMember.user_id).where(GroupMember.group_id == group.id)
    page = await list_page(request, session, User, USER_FIELDS, where=[
        User.organization_id == org.id, col(User.id).in_(members)])
    cut = visible_user(caller)
    return collection(request, page, lambda user: cut(directory_user_body(user)))


@router.get("/{group_id}/owners", response_model=shapes.UserCollection)
async def list_owners(group_id: str, request: Request, caller: GroupReader, session: SessionDep,
                      org: OrganizationDep) -> dict:
    group = await get_group(session, org, group_id)
    owners = select(GroupOwner.user_id).where(GroupOwner.group_id == group.id)
    page = await list_page(request, session, User, USER_FIELDS, where=[
        User.organization_id == org.id, col(User.id).in_(owners)])
    cut = visible_user(caller)
    return collection(request, page, lambda user: cut(directory_user_body(user)))


@router.post("/{group_id}/owners/$ref", status_code=204)
async def add_owner(group_id: str, caller: CallerDep, session: SessionDep, org: OrganizationDep,
                    body: Any = Body(...)) -> Response:
    """An administrator, or an owner of this group."""
    group = await get_group(session, org, group_id)
    capacity = await require_manager(session, caller, group, "add owners to it")
    user = await get_in_org(session, User, org, reference_id(body, "users"), "directory object")
    await ownership.add_owner(session, org.id, group, user, actor=caller.actor, capacity=capacity)
    return Response(status_code=204)


@router.delete("/{group_id}/owners/{user_id}/$ref", status_code=204)
async def remove_owner(group_id: str, user_id: str, caller: CallerDep, session: SessionDep,
                       org: OrganizationDep) -> Response:
    """An administrator, or an owner of this group (not the last owner: foyer.usecases.ownership)."""
    group = await get_group(session, org, group_id)
    capacity = await require_manager(session, caller, group, "remove its owners")
    await ownership.remove_owner(session, org.id, group, user_id, actor=caller.actor, capacity=capacity)
    return Response(status_code=204)


def _referenced_id(body: Any) -> str:
    """The object id in a $ref body: {"@odata.id": "https://…/v1.0/directoryObjects/{id}"}
    (or …/users/{id})."""
    reference = body.get("@odata.id") if isinstance(body, dict) else None
    if not isinstance(reference, str) or not reference.strip():
        raise bad_request('the body must be {"@odata.id": "https://…/v1.0/directoryObjects/{id}"}',
                          code="Request_BadRequest")
    extra = sorted(k for k in body if k != "@odata.id" and not k.startswith("@odata."))
    if extra:
        raise bad_request(f"unexpected properties in a $ref body: {', '.join(extra)}",
                          code="Request_BadRequest")
    path = reference.strip().split("?", 1)[0].rstrip("/")
    parts = path.split("/")
    if len(parts) < 2 or parts[-2] not in ("directoryObjects", "users") or not parts[-1]:
        raise bad_request(f"'{reference}' is not a reference to a directory object or user",
                          code="Request_BadRequest")
    return parts[-1]


@router.post("/{group_id}/members/$ref", status_code=204)
async def add_member(group_id: str, caller: CallerDep, session: SessionDep, org: OrganizationDep,
                     body: Any = Body(...)) -> Response:
    """An administrator, or an owner of this group."""
    group = await get_group(session, org, group_id)
    capacity = await require_manager(session, caller, group, "add members to it")
    user_id = _referenced_id(body)
    user = await session.get(User, user_id)
    if user is None or user.organization_id != org.id:
        raise not_found(f"directory object {user_id}")
    await groups.add_member(session, org.id, group, user, actor=caller.actor, capacity=capacity)
    return Response(status_code=204)


@router.delete("/{group_id}/members/{user_id}/$ref", status_code=204)
async def remove_member(group_id: str, user_id: str, caller: CallerDep, session: SessionDep,
                        org: OrganizationDep) -> Response:
    """An administrator, or an owner of this group."""
    group = await get_group(session, org, group_id)
    capacity = await require_manager(session, caller, group, "remove its members")
    user = await get_in_org(session, User, org, user_id, "user")
    await groups.remove_member(session, org.id, group, user, actor=caller.actor, capacity=capacity)
    return Response(status_code=204)


@router.get("/{group_id}/appRoleAssignments", response_model=shapes.AppRoleAssignmentCollection)
async def list_app_role_assignments(group_id: str, request: Request, caller: GroupReader,
                                    session: SessionDep, org: OrganizationDep) -> dict:
    """The applications the group is assigned to (its members get the app role)."""
    group = await get_group(session, org, group_id)
    page = await list_page(request, session, GroupAppRoleAssignment, GROUP_ASSIGNMENT_FIELDS,
                           where=[GroupAppRoleAssignment.group_id == group.id],
                           default_order=("created_date_time", "id"))
    ids = {row.application_id for row in page.rows}
    apps = {a.id: a for a in (await session.exec(select(Application).where(col(Application.id).in_(ids)))).all()}
    return listed(request, page, [assignment_body(row, apps[row.application_id], group) for row in page.rows])
