"""What a guest may read, by the authorization policy's `guestUserRoleId` (Entra's three levels).

One rule for the API (tokens) and the pages: members read the directory; a guest at the User level
reads as a member does; a guest at the (default) Guest User level reads one object at a time —
users by id with a few properties, groups and their members — but never lists users, groups or
applications; a Restricted Guest User reads only their own profile, and not even the members of
their own groups. The GUIDs are Entra's role template ids (several public scripts swap them)."""

from foyer.models.enums import Role

SAME_AS_MEMBERS = "a0b1b346-4d3e-4e8b-98f8-753987be4970"  # "User"
LIMITED = "10dae51f-b6af-4016-8d66-8c2a99b929b3"          # "Guest User", Entra's default
RESTRICTED = "2af84b1e-32c8-42b7-82bc-daa82404023b"       # "Restricted Guest User"

GUEST_LEVELS = {SAME_AS_MEMBERS: "User", LIMITED: "Guest User", RESTRICTED: "Restricted Guest User"}

# What a guest at the limited level sees of another user (Entra: display name, email, photo,
# user principal name and user type).
LIMITED_USER_PROPERTIES = frozenset({"id", "displayName", "mail", "userPrincipalName", "userType"})


def reads_as_member(role: str, guest_level: str) -> bool:
    """Whether this caller reads the directory as a member does (lists included)."""
    return role != Role.guest or guest_level == SAME_AS_MEMBERS


def may_list(role: str, guest_level: str) -> bool:
    """Listing users, groups, applications (`GET /users`, `/groups`, `/applications`)."""
    return reads_as_member(role, guest_level)


def may_read_user(role: str, guest_level: str, caller_user_id: str | None, user_id: str) -> bool:
    if reads_as_member(role, guest_level) or caller_user_id == user_id:
        return True
    return guest_level == LIMITED


def user_properties(role: str, guest_level: str, caller_user_id: str | None,
                    user_id: str) -> frozenset[str] | None:
    """The properties of `user_id` this caller sees: None for all of them."""
    if reads_as_member(role, guest_level) or caller_user_id == user_id:
        return None
    return LIMITED_USER_PROPERTIES


def may_read_group(role: str, guest_level: str) -> bool:
    """A group by id, its members and its owners (Foyer has no hidden groups)."""
    return guest_level != RESTRICTED or role != Role.guest


def may_read_application(role: str, guest_level: str) -> bool:
    """An application by id, its owners and who it is assigned to."""
    return guest_level != RESTRICTED or role != Role.guest


def may_see_own_groups(role: str, guest_level: str) -> bool:
    """Whether My Apps and My Groups show a guest the groups they belong to."""
    return guest_level != RESTRICTED or role != Role.guest


# What a directory read touches, for `read_refused` (the API's one dependency asks it per route).
LIST = "list"                      # GET /users, /groups, /applications, /servicePrincipals
USER = "user"                      # GET /users/{id}
USER_RELATIONS = "userRelations"   # GET /users/{id}/memberOf, /appRoleAssignments, /ownedObjects
GROUP = "group"                    # GET /groups/{id}, its members, owners, appRoleAssignments
APPLICATION = "application"        # GET /applications/{id}, its owners, appRoleAssignedTo
READS = frozenset({LIST, USER, USER_RELATIONS, GROUP, APPLICATION})


def read_refused(role: str, guest_level: str, read: str, caller_user_id: str | None,
                 user_id: str | None = None) -> bool:
    """Whether this caller may not make the directory read `read` (one of READS; `user_id` the
    user a USER or USER_RELATIONS read names). Only guests are ever refused here."""
    if reads_as_member(role, guest_level):
        return False
    if read == LIST:
        return not may_list(role, guest_level)
    if read == USER:
        return not may_read_user(role, guest_level, caller_user_id, user_id or "")
    if read == USER_RELATIONS:
        # A limited guest reads memberships one object at a time; a restricted guest not even
        # their own (My Apps and My Groups hide their groups from them too).
        own = caller_user_id is not None and caller_user_id == user_id
        return not (guest_level == LIMITED or (own and may_see_own_groups(role, guest_level)))
    if read == GROUP:
        return not may_read_group(role, guest_level)
    if read == APPLICATION:
        return not may_read_application(role, guest_level)
    raise ValueError(f"unknown directory read {read!r}")


def visible_user(body: dict, role: str, guest_level: str, caller_user_id: str | None) -> dict:
    """A user's Graph body cut to what this caller sees of it (the @odata annotations kept)."""
    properties = user_properties(role, guest_level, caller_user_id, body.get("id") or "")
    if properties is None:
        return body
    return {k: v for k, v in body.items() if k in properties or k.startswith("@odata.")}
