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
