"""Invitation use cases shared beyond the invitation activities (sign-up grants the same way; the
API shows the redeem link the invitation mail carries)."""

from sqlmodel import col, select

from foyer import security
from foyer.audit import insert_ignore
from foyer.settings import get_settings
from foyer.models.base import utcnow
from foyer.models.directory import AppRoleAssignment, Application, Group, GroupMember


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
