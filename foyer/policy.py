"""External collaboration policy: who may invite, which email domains may come in, and what an
invitation (or a catalog) may hand out beyond a plain guest account.

Used by the API (to refuse early with a clear error) and by the activities (authoritative, so a
policy changed while a workflow waits is still enforced at redemption).
"""

from foyer.models.enums import ADMIN_ROLES, AllowInvitesFrom, DomainListMode, Role


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def domain_allowed(mode: str, domains: list[str], email: str) -> bool:
    domain = email_domain(email)
    listed = {d.lower().lstrip("@") for d in domains}
    # A listed domain also covers its subdomains (sales.contoso.com under contoso.com).
    matches = any(domain == d or domain.endswith("." + d) for d in listed)
    if mode == DomainListMode.allow:
        return matches
    if mode == DomainListMode.block:
        return not matches
    return True


def may_invite(allow_invites_from: str, role: str) -> bool:
    if allow_invites_from == AllowInvitesFrom.none:
        return False
    if role in ADMIN_ROLES or role == Role.guest_inviter:
        return True
    if allow_invites_from == AllowInvitesFrom.admins_guest_inviters_and_all_members:
        return role == Role.member
    if allow_invites_from == AllowInvitesFrom.everyone:
        return role in (Role.member, Role.guest)
    return False


def may_create(role: str, members_allowed: bool) -> bool:
    """Whether a caller with `role` may create a security group or an application registration:
    administrators always; members (Guest Inviters included) when the authorization policy's
    defaultUserRolePermissions switch for it (`allowedToCreateSecurityGroups`,
    `allowedToCreateApps`) is on, and they become its owner; guests never."""
    if role in ADMIN_ROLES:
        return True
    return members_allowed and role in (Role.member, Role.guest_inviter)


def may_preassign(role: str | None) -> bool:
    """Whether an inviter with `role` may have the invitee put in *any* group or assigned *any*
    application (`foyerPreAssignedGroupIds`, `foyerPreAssignedApplicationIds`, a campaign row's
    groupIds / applicationIds): pre-assigning is adding a group member or an app role assignment
    by another road, so it is for whoever may do that directly: administrators for every group
    and app, an owner for theirs (`invitation_refusal`'s owned ids). An unknown role (an
    invitation recorded before roles were) is not an administrator's."""
    return role in ADMIN_ROLES


def may_invite_as_member(role: str | None) -> bool:
    """`invitedUserType: Member` makes the invitee a member of the organization: Graph documents it
    as an administrator's choice. Guest Inviters and members invite guests."""
    return role in ADMIN_ROLES


def invitation_refusal(role: str | None, *, group_ids: list[str], application_ids: list[str],
                       invited_user_type: str, owned_group_ids: set[str] | frozenset[str] = frozenset(),
                       owned_application_ids: set[str] | frozenset[str] = frozenset()) -> str | None:
    """Why an invitation from `role` may not carry what it asks (None when it may): the one rule
    the API applies when an invitation is made or resent, and the activities again when it is
    recorded and when its grants are applied (foyer.usecases.ownership.preassignment_refusal
    looks up which of the groups and apps the inviter owns)."""
    asked = []
    admin = may_preassign(role)
    if not admin and set(group_ids) - set(owned_group_ids):
        asked.append("foyerPreAssignedGroupIds")
    if not admin and set(application_ids) - set(owned_application_ids):
        asked.append("foyerPreAssignedApplicationIds")
    if invited_user_type == "Member" and not may_invite_as_member(role):
        asked.append("invitedUserType Member")
    if not asked:
        return None
    if asked == ["invitedUserType Member"]:
        need = "needs the Global Administrator or User Administrator role"
    else:
        need = ("need the Global Administrator or User Administrator role, or ownership of every "
                "group and application named")
    return (f"{' and '.join(asked)} {need} (the inviter's role is {role or 'unknown'}); invite "
            "without them, and have an administrator or the owner add the group members or app "
            "assignments")


# Catalog resources that are directory objects: adding one to a catalog delegates its roles
# (Member, Owner, app access) to the catalog's owners through their access packages.
DIRECTORY_RESOURCE_SYSTEMS = frozenset({"AadGroup", "AadApplication"})


def may_add_catalog_resource(role: str | None, origin_system: str, *, owns_resource: bool = False) -> bool:
    """Whether a caller who may manage a catalog (an administrator, or one of its owners) may add
    a resource of `origin_system` to it. As in Entra, a catalog owner adds only the groups and
    applications they own. SharePoint Online sites are generic resources Foyer grants nothing on:
    owners may add them."""
    return role in ADMIN_ROLES or origin_system not in DIRECTORY_RESOURCE_SYSTEMS or owns_resource


def guest_user_principal_name(email: str, primary_domain: str) -> str:
    return email.replace("@", "_") + "#EXT#@" + primary_domain


async def sign_up_allowed(session, organization_id: str, email: str) -> str | None:
    """Whether `email` may sign up by itself (self-service sign-up), by the organization's
    settings as they are now: None if it may, else the reason it may not (self-service sign-up
    off, a blocked domain, a domain not on the allow list)."""
    from foyer.models.directory import Organization

    org = await session.get(Organization, organization_id)
    if org is None:
        return "the organization does not exist"
    if not org.self_service_sign_up_enabled:
        return "self-service sign-up is turned off for this organization"
    if not domain_allowed(org.domain_list_mode, org.domain_list, email):
        if org.domain_list_mode == DomainListMode.allow:
            return f"the domain {email_domain(email)} is not on the organization's allow list"
        return f"the domain {email_domain(email)} is blocked by the organization"
    return None
