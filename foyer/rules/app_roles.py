"""An application's appRoles: which lists are valid, what a change may do, and which roles an
assignment may name. The registration API and the assignment API ask here; the OpenID Provider's
`roles` claim reads the enabled roles through foyer.usecases.app_access.

As Graph: each role has a GUID `id` (never the all-zeros default access role's), a `value` (what
the `roles` claim carries: no spaces, unique in the app), a `displayName`, `allowedMemberTypes`
("User" and/or "Application") and `isEnabled`. A role is removed or its value changed only once
it is disabled (Graph's CannotDeleteOrUpdateEnabledEntitlement), and not while someone is
assigned to it.
"""

import re
from uuid import UUID

DEFAULT_APP_ROLE_ID = "00000000-0000-0000-0000-000000000000"
MAX_ROLES = 1200  # Entra's limit on appRoles of one application
MAX_VALUE_LENGTH = 120
MEMBER_TYPES = ("User", "Application")
# Printable ASCII, no spaces (Entra's rule for a role's value).
VALUE = re.compile(r"[!-~]+")
PROPERTIES = frozenset({"id", "value", "displayName", "description", "isEnabled", "allowedMemberTypes", "origin"})


class AppRoleError(ValueError):
    """A change to appRoles that Graph refuses; `code` is Graph's error code."""

    def __init__(self, message: str, code: str = "Request_BadRequest"):
        super().__init__(message)
        self.code = code


def guid(value: object) -> str | None:
    """`value` as a lower-case GUID, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return str(UUID(value)) if len(value) == 36 else None
    except ValueError:
        return None


def normalized_role(role: dict) -> dict:
    """One role as stored, its `id` lower-cased; AppRoleError if it is not a valid role. `origin`
    is read-only (always "Application"); @odata.* annotations are ignored."""
    if not isinstance(role, dict):
        raise AppRoleError("appRoles: each role is an object")
    unknown = sorted(k for k in role if k not in PROPERTIES and not k.startswith("@odata."))
    if unknown:
        raise AppRoleError(f"appRoles: unknown propert{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}")
    role_id = guid(role.get("id"))
    if role_id is None:
        raise AppRoleError(f"appRoles: id {role.get('id')!r} is not a GUID")
    if role_id == DEFAULT_APP_ROLE_ID:
        raise AppRoleError(f"appRoles: {DEFAULT_APP_ROLE_ID} is the default access role's id")
    value = role.get("value")
    if not isinstance(value, str) or not VALUE.fullmatch(value) or len(value) > MAX_VALUE_LENGTH:
        raise AppRoleError(f"appRoles: value {value!r} must be 1 to {MAX_VALUE_LENGTH} printable "
                           "characters without spaces")
    display_name = role.get("displayName")
    if not isinstance(display_name, str) or not display_name.strip() or len(display_name) > 256:
        raise AppRoleError(f"appRoles: role {value} needs a displayName (1 to 256 characters)")
    description = role.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 1024):
        raise AppRoleError(f"appRoles: the description of role {value} is text of at most 1024 characters")
    types = role.get("allowedMemberTypes")
    if not isinstance(types, list) or not types or any(t not in MEMBER_TYPES for t in types) \
            or len(set(types)) != len(types):
        raise AppRoleError(f"appRoles: allowedMemberTypes of role {value} is a non-empty list of "
                           "User and/or Application")
    enabled = role.get("isEnabled", True)
    if not isinstance(enabled, bool):
        raise AppRoleError(f"appRoles: isEnabled of role {value} is true or false")
    return {"id": role_id, "value": value, "displayName": display_name, "description": description,
            "isEnabled": enabled, "allowedMemberTypes": list(types), "origin": "Application"}


def checked_app_roles(new: list[dict], old: list[dict], in_use: set[str]) -> list[dict]:
    """The app roles to store when an application's `old` roles are replaced by `new`; `in_use`:
    the ids of roles someone (a user or a group) is assigned to. AppRoleError if Graph would
    refuse the change."""
    if len(new) > MAX_ROLES:
        raise AppRoleError(f"appRoles: at most {MAX_ROLES} roles")
    roles = [normalized_role(role) for role in new]
    ids = [role["id"] for role in roles]
    if len(set(ids)) != len(ids):
        raise AppRoleError("appRoles: two roles have the same id")
    values = [role["value"] for role in roles]
    if len(set(values)) != len(values):
        raise AppRoleError("appRoles: two roles have the same value")
    kept = {role["id"]: role for role in roles}
    for before in old:
        after = kept.get(before["id"])
        if after is None:
            if before.get("isEnabled", True):
                raise AppRoleError(
                    f"appRoles: role {before['value']} is enabled; set isEnabled to false before "
                    "removing it", code="CannotDeleteOrUpdateEnabledEntitlement")
            if before["id"] in in_use:
                raise AppRoleError(f"appRoles: role {before['value']} is assigned; remove its "
                                   "assignments before removing it", code="CannotDeleteOrUpdateEnabledEntitlement")
        elif before.get("isEnabled", True) and after["value"] != before["value"]:
            raise AppRoleError(
                f"appRoles: role {before['value']} is enabled; set isEnabled to false before "
                "changing its value", code="CannotDeleteOrUpdateEnabledEntitlement")
    return roles


def assignable_role_problem(app_roles: list[dict], app_role_id: str) -> str | None:
    """Why a user or group may not be assigned the role `app_role_id` of an application with
    `app_roles`, or None: the default access role, or an enabled role whose allowedMemberTypes
    has User."""
    if app_role_id == DEFAULT_APP_ROLE_ID:
        return None
    role_id = guid(app_role_id)
    for role in app_roles:
        if role["id"] == role_id:
            if not role.get("isEnabled", True):
                return f"app role {role['value']} is disabled"
            if "User" not in role.get("allowedMemberTypes", []):
                return f"app role {role['value']} cannot be assigned to users or groups"
            return None
    return f"the application has no app role {app_role_id}"
