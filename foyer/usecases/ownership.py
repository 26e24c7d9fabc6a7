"""Owners of groups and applications: who owns what, who may manage a group or an application
(an administrator, or one of its owners: the relation is checked on the object, not just the
role), adding and removing owners, and the pre-assignment rule with ownership (an invitation, or a
catalog, may carry a group or an app only from an administrator or from its owner).

The API's routers, the My Groups and My Apps pages and the invitation activities all ask here."""

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from foyer.audit import audit
from foyer.errors import Refused
from foyer.models.directory import Application, ApplicationOwner, Group, GroupOwner, User
from foyer.models.enums import ADMIN_ROLES
from foyer.policy import invitation_refusal


class Principal(Protocol):
    user_id: str | None
    role: str
    organization_id: str

    @property
    def is_admin(self) -> bool: ...


OWNER_TABLES = {"group": (GroupOwner, GroupOwner.group_id), "application": (ApplicationOwner, ApplicationOwner.application_id)}


async def owned_group_ids(session, user_id: str | None, among: Iterable[str] | None = None) -> set[str]:
    if not user_id:
        return set()
    query = select(GroupOwner.group_id).where(GroupOwner.user_id == user_id)
    if among is not None:
        query = query.where(col(GroupOwner.group_id).in_(list(among)))
    return set((await session.exec(query)).all())


async def owned_application_ids(session, user_id: str | None, among: Iterable[str] | None = None) -> set[str]:
    if not user_id:
        return set()
    query = select(ApplicationOwner.application_id).where(ApplicationOwner.user_id == user_id)
    if among is not None:
        query = query.where(col(ApplicationOwner.application_id).in_(list(among)))
    return set((await session.exec(query)).all())


async def owns_group(session, user_id: str | None, group_id: str) -> bool:
    return bool(user_id) and await session.get(GroupOwner, (group_id, user_id)) is not None


async def owns_application(session, user_id: str | None, application_id: str) -> bool:
    return bool(user_id) and await session.get(ApplicationOwner, (application_id, user_id)) is not None


async def acting_as(session, caller: Principal, obj: Group | Application) -> str | None:
    """"administrator" or "owner" when the caller may manage `obj`, else None. An administrator
    who also owns it acts as the administrator."""
    if caller.is_admin:
        return "administrator"
    if isinstance(obj, Group):
        owner = await owns_group(session, caller.user_id, obj.id)
    else:
        owner = await owns_application(session, caller.user_id, obj.id)
    return "owner" if owner else None


async def require_manager(session, caller: Principal, obj: Group | Application, what: str) -> str:
    """The capacity the caller acts in (see `acting_as`); Refused (403) for anyone else. `what`
    says what they tried ("add members to it")."""
    capacity = await acting_as(session, caller, obj)
    if capacity is None:
        kind = "group" if isinstance(obj, Group) else "application"
        raise Refused("Authorization_RequestDenied",
                      f"only an administrator or an owner of the {kind} '{obj.display_name}' may {what}")
    return capacity


async def managed(session, caller: Principal, model: type[Group] | type[Application], object_id: str,
                  what: str) -> tuple[Group | Application, str]:
    """The group or application `object_id` and the capacity the caller manages it in (see
    `require_manager`), for the pages, where a form names the object: one that does not exist, or is
    another organization's, gets the same 403 as one that is not theirs, so nothing is learnt of
    other objects."""
    obj = await session.get(model, object_id)
    if obj is None or obj.organization_id != caller.organization_id:
        kind = "group" if model is Group else "application"
        raise Refused("Authorization_RequestDenied", f"only an administrator or an owner of the {kind} may {what}")
    return obj, await require_manager(session, caller, obj, what)


def _target(obj: Group | Application) -> dict:
    if isinstance(obj, Group):
        return {"category": "GroupManagement", "target_type": "Group", "target_id": obj.id,
                "target_name": obj.display_name}
    return {"category": "ApplicationManagement", "target_type": "Application", "target_id": obj.id,
            "target_name": obj.display_name}


async def add_owner(session, organization_id: str, obj: Group | Application, user: User, *,
                    actor: Mapping[str, Any], capacity: str) -> None:
    """Make `user` an owner of `obj`, audit it ("Add owner to group" / "… application") and
    commit. Refused (400, Graph's words) when they already are."""
    kind = "group" if isinstance(obj, Group) else "application"
    already = Refused("Request_BadRequest", "One or more added object references already exist for "
                      "the following modified properties: 'owners'.", status_hint=400)
    if user.organization_id != organization_id:
        raise Refused("Request_ResourceNotFound", f"directory object {user.id} does not exist", status_hint=404)
    if isinstance(obj, Group):
        if await owns_group(session, user.id, obj.id):
            raise already
        session.add(GroupOwner(group_id=obj.id, user_id=user.id))
    else:
        if await owns_application(session, user.id, obj.id):
            raise already
        session.add(ApplicationOwner(application_id=obj.id, user_id=user.id))
    target = _target(obj)
    await audit(session, key=None, activity=f"Add owner to {kind}", organization_id=organization_id,
                **actor, **target, details={"userId": user.id, "userPrincipalName": user.user_principal_name,
                                            "actingAs": capacity})
    try:
        await session.commit()
    except IntegrityError:  # added concurrently
        await session.rollback()
        raise already from None


async def remove_owner(session, organization_id: str, obj: Group | Application, user_id: str, *,
                       actor: Mapping[str, Any], capacity: str) -> None:
    """Remove an owner and commit. An owner may not remove the last owner (the object would be
    left for administrators alone to manage; Entra refuses it too for groups that need an owner);
    an administrator may."""
    kind = "group" if isinstance(obj, Group) else "application"
    table, key = OWNER_TABLES[kind]
    row = await session.get(table, (obj.id, user_id))
    if row is None:
        raise Refused("Request_ResourceNotFound", f"owner {user_id} of {kind} {obj.id} does not exist",
                      status_hint=404)
    count = (await session.exec(select(func.count()).select_from(table).where(key == obj.id))).one()
    if count <= 1 and capacity != "administrator":
        raise Refused("Request_BadRequest", f"the last owner of the {kind} '{obj.display_name}' cannot be "
                      "removed by an owner; add another owner first, or ask an administrator",
                      status_hint=400)
    user = await session.get(User, user_id)
    await session.delete(row)
    await audit(session, key=None, activity=f"Remove owner from {kind}", organization_id=organization_id,
                **actor, **_target(obj), details={"userId": user_id, "actingAs": capacity,
                                                  "userPrincipalName": user.user_principal_name if user else ""})
    await session.commit()


async def preassignment_refusal(session, *, inviter_id: str | None, role: str | None, group_ids: list[str],
                                application_ids: list[str], invited_user_type: str) -> str | None:
    """foyer.policy.invitation_refusal with the inviter's ownership of those groups and apps
    looked up: the API asks it when an invitation is made or resent, the invitation activities
    again when it is recorded and when it is redeemed (ownership may have ended meanwhile)."""
    is_admin = role in ADMIN_ROLES
    return invitation_refusal(
        role, group_ids=group_ids, application_ids=application_ids, invited_user_type=invited_user_type,
        owned_group_ids=set() if is_admin else await owned_group_ids(session, inviter_id, group_ids),
        owned_application_ids=set() if is_admin else await owned_application_ids(session, inviter_id, application_ids))


async def add_first_owners(session, organization_id: str, obj: Group | Application, users: list[User], *,
                           actor: Mapping[str, Any], capacity: str) -> None:
    """The owners of an object being created (its creator, or Graph's `owners@odata.bind`):
    added and audited in the caller's transaction, which commits them with the object."""
    kind = "group" if isinstance(obj, Group) else "application"
    seen: set[str] = set()
    for user in users:
        if user.id in seen:
            continue
        seen.add(user.id)
        if user.organization_id != organization_id:
            raise Refused("Request_ResourceNotFound", f"directory object {user.id} does not exist",
                          status_hint=404)
        if isinstance(obj, Group):
            session.add(GroupOwner(group_id=obj.id, user_id=user.id))
        else:
            session.add(ApplicationOwner(application_id=obj.id, user_id=user.id))
        await audit(session, key=None, activity=f"Add owner to {kind}", organization_id=organization_id,
                    **actor, **_target(obj), details={"userId": user.id, "actingAs": capacity,
                                                      "userPrincipalName": user.user_principal_name})


async def owned_objects(session, user_id: str) -> tuple[list[Group], list[Application]]:
    """The groups and applications `user_id` owns (Graph's ownedObjects), each by display name."""
    groups = (await session.exec(select(Group).where(col(Group.id).in_(
        select(GroupOwner.group_id).where(GroupOwner.user_id == user_id))).order_by(
        Group.display_name, Group.id))).all()
    apps = (await session.exec(select(Application).where(col(Application.id).in_(
        select(ApplicationOwner.application_id).where(ApplicationOwner.user_id == user_id))).order_by(
        Application.display_name, Application.id))).all()
    return list(groups), list(apps)
