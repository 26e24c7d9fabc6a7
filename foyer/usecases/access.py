"""Access-package policy rules that read the directory: who a policy's subject sets stand for, and
whether a policy is offered to a person (used by the request activity and by the My Access page)."""

from sqlmodel import select

from foyer.policy import email_domain
from models.directory import GroupMember, User
from models.entitlement import AssignmentPolicy, ConnectedOrganization
from models.enums import UserType


async def subjects(session, subject_sets: list[dict], *, requestor: User | None, target: User) -> set[str]:
    """The user ids a list of Graph subject sets stands for."""
    users: set[str] = set()
    for subject in subject_sets:
        kind = subject.get("@odata.type", "")
        if kind.endswith("singleUser") and subject.get("userId"):
            users.add(subject["userId"])
        elif kind.endswith("groupMembers") and subject.get("groupId"):
            rows = await session.exec(select(GroupMember.user_id).where(GroupMember.group_id == subject["groupId"]))
            users.update(rows.all())
        elif kind.endswith("connectedOrganizationMembers") and subject.get("connectedOrganizationId"):
            org = await session.get(ConnectedOrganization, subject["connectedOrganizationId"])
            if org and target.mail and in_connected_org(org, target.mail):
                users.add(target.id)
        elif kind.endswith("internalSponsors") or kind.endswith("externalSponsors"):
            for org in await connected_orgs_of(session, target):
                users.update(org.internal_sponsor_ids if kind.endswith("internalSponsors")
                             else org.external_sponsor_ids)
        # requestorManager: Foyer's directory has no manager attribute yet; the stage's
        # fallback approvers take over when this resolves to nobody.
    return users


def in_connected_org(org: ConnectedOrganization, email: str) -> bool:
    domain = email_domain(email)
    return any((s.get("domainName") or "").lower() == domain for s in org.identity_sources)


async def connected_orgs_of(session, user: User) -> list[ConnectedOrganization]:
    if not user.mail:
        return []
    rows = (await session.exec(select(ConnectedOrganization).where(
        ConnectedOrganization.state == "configured"))).all()
    return [org for org in rows if in_connected_org(org, user.mail)]


async def target_allowed(session, policy: AssignmentPolicy, target: User) -> bool:
    scope = policy.allowed_target_scope
    if scope == "allDirectoryUsers":
        return True
    if scope == "allMemberUsers":
        return target.user_type == UserType.member
    if scope == "allExternalUsers":
        return target.user_type == UserType.guest
    if scope == "allConfiguredConnectedOrganizationUsers":
        return bool(await connected_orgs_of(session, target))
    if scope in ("specificDirectoryUsers", "specificConnectedOrganizationUsers"):
        return target.id in await subjects(session, policy.specific_allowed_targets,
                                            requestor=None, target=target)
    return False  # notSpecified: only admins assign directly
