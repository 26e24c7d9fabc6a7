"""Invitation use cases shared beyond the invitation activities (sign-up grants the same way; the
API shows the redeem link the invitation mail carries), and the checks and InvitationSpec an
invitation made by a person (My Groups' "add a guest", My Apps' "share with a guest") goes
through before `foyer.workflows.client.invitations.invite_guest`."""

import uuid

from sqlmodel import col, select

from foyer import security
from foyer.audit import audit, insert_ignore
from foyer.errors import Refused
from foyer.policy import domain_allowed, email_domain, may_invite
from foyer.settings import get_settings
from foyer.usecases.ownership import preassignment_refusal
from foyer.models.base import utcnow
from foyer.models.directory import AppRoleAssignment, Application, Group, GroupMember, Organization, User
from foyer.workflows.messages.invitation import InvitationSpec


async def grant_memberships(session, user_id: str, group_ids: list[str], application_ids: list[str]) -> None:
    """Make the user a member of these groups and assign these applications (idempotent)."""
    # Groups or apps deleted since the invitation was sent are skipped, not failed on.
    if group_ids:
        live = (await session.exec(select(Group.id).where(col(Group.id).in_(group_ids)))).all()
        await insert_ignore(session, GroupMember,
                            [{"group_id": g, "user_id": user_id, "added_date_time": utcnow()} for g in live],
                            ["group_id", "user_id"])
    if application_ids:
        live = (await session.exec(
            select(Application.id).where(col(Application.id).in_(application_ids)))).all()
        rows = [AppRoleAssignment(application_id=a, principal_id=user_id).model_dump() for a in live]
        await insert_ignore(session, AppRoleAssignment, rows,
                            ["application_id", "principal_id", "app_role_id"])


def redeem_url(link_id: str) -> str:
    """The invitation's redeem link: what its mails carry and what `POST /v1.0/invitations`
    shows its inviter once (`inviteRedeemUrl`). The token is derived from the link id with the
    current secret key, so a rotated key makes the next mail's link (and this) use the new one."""
    return f"{get_settings().public_url.rstrip('/')}/redeem/{security.link_token(link_id)}"


async def invite_refusal(session, org: Organization, *, inviter_id: str | None, role: str, email: str,
                         group_ids: list[str], application_ids: list[str],
                         invited_user_type: str = "Guest") -> Refused | None:
    """Why this inviter may not send this invitation (None when they may), in the order
    `POST /v1.0/invitations` asks: allowInvitesFrom for the inviter's role, the pre-assigned groups
    and apps (an administrator's, or the inviter's own), the domain lists, the organization's own
    domains. The invitation activities ask the policy again when they record it."""
    if not may_invite(org.allow_invites_from, role):
        return Refused("Authorization_RequestDenied",
                       f"the external collaboration settings (allowInvitesFrom={org.allow_invites_from}) "
                       f"do not allow the role '{role}' to invite guests")
    refused = await preassignment_refusal(session, inviter_id=inviter_id, role=role, group_ids=group_ids,
                                          application_ids=application_ids, invited_user_type=invited_user_type)
    if refused:
        return Refused("Authorization_RequestDenied", refused)
    if not domain_allowed(org.domain_list_mode, org.domain_list, email):
        return Refused("domainNotAllowed",
                       f"invitations to the domain '{email_domain(email)}' are not allowed by the "
                       "organization's external collaboration settings")
    if any(email_domain(email) == d["name"].lower() for d in org.verified_domains):
        return Refused("invalidRequest", f"{email} is in the organization's own verified domain; "
                       "invite external addresses only")
    return None


async def audit_refused_invitation(session, org: Organization, *, actor_id: str, actor_name: str,
                                   email: str, refused: Refused) -> None:
    """The failed "Invite external user" record, committed."""
    await audit(session, key=None, category="UserManagement", activity="Invite external user",
                organization_id=org.id, actor_id=actor_id, actor_name=actor_name, target_type="User",
                target_name=email, result="failure", reason=f"{refused.code}: {refused.message}")
    await session.commit()


async def invitation_spec(session, org: Organization, *, email: str, invite_redirect_url: str,
                          invited_by_id: str | None, invited_by_name: str | None, invited_by_role: str | None,
                          group_ids: list[str] = (), application_ids: list[str] = (), **fields) -> InvitationSpec:
    """A new invitation's InvitationSpec: a fresh invitation id, the directory user the address
    already belongs to (else a new id), the inviter; `fields` are InvitationSpec's other fields
    (display name, message, lifetime...)."""
    existing = (await session.exec(select(User.id).where(
        User.organization_id == org.id, User.mail == email))).first()
    return InvitationSpec(
        invitation_id=str(uuid.uuid4()), organization_id=org.id, email=email,
        proposed_user_id=existing or str(uuid.uuid4()), invite_redirect_url=invite_redirect_url,
        invited_by_id=invited_by_id, invited_by_name=invited_by_name, invited_by_role=invited_by_role,
        group_ids=list(group_ids), application_ids=list(application_ids), **fields)


async def checked_invitation_spec(session, org: Organization, *, inviter_id: str, inviter_name: str, role: str,
                                  email: str, group_ids: list[str] = (), application_ids: list[str] = (),
                                  **fields) -> InvitationSpec:
    """`invite_refusal`, audited and raised when it refuses, then `invitation_spec`: an invitation a
    person makes from a page (My Groups' add, My Apps' share)."""
    refused = await invite_refusal(session, org, inviter_id=inviter_id, role=role, email=email,
                                   group_ids=list(group_ids), application_ids=list(application_ids))
    if refused is not None:
        await audit_refused_invitation(session, org, actor_id=inviter_id, actor_name=inviter_name, email=email,
                                       refused=refused)
        raise refused
    return await invitation_spec(session, org, email=email, invited_by_id=inviter_id, invited_by_name=inviter_name,
                                 invited_by_role=role, group_ids=group_ids, application_ids=application_ids, **fields)
