"""External collaboration policy: who may invite, and which email domains may come in.

Used by the API (to refuse early with a clear error) and by the activities (authoritative, so a
policy changed while a workflow waits is still enforced at redemption).
"""

from models.enums import ADMIN_ROLES, AllowInvitesFrom, DomainListMode, Role


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


def guest_user_principal_name(email: str, primary_domain: str) -> str:
    return email.replace("@", "_") + "#EXT#@" + primary_domain


async def sign_up_allowed(session, organization_id: str, email: str) -> str | None:
    """Whether `email` may sign up by itself (self-service sign-up), by the organization's
    settings as they are now: None if it may, else the reason it may not (self-service sign-up
    off, a blocked domain, a domain not on the allow list)."""
    from models.directory import Organization

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
