"""Activities of bulk onboarding campaigns. Each one is safe to retry: a row's invitation id is
derived from the campaign and the row, so inviting a row twice reaches the same invitation (and
the invitation workflow's outbox key), never a second guest or a second mail."""

import uuid

from pydantic import BaseModel
from sqlalchemy import update
from sqlmodel import select
from temporalio import activity
from temporalio.client import Client

from activities.invitations import InvitationSpec
from activities.store import heartbeating
from api.errors import GraphError
from api.invitations import invite
from foyer.db import reading, session_scope
from foyer.security import new_link_id
from models.base import utcnow
from models.campaign import Campaign, CampaignRow
from models.directory import User


class NextRowsInput(BaseModel):
    campaign_id: str
    after_row: int
    limit: int


class RowInput(BaseModel):
    campaign_id: str
    row_number: int


class RowOutcome(BaseModel):
    state: str  # invited | failed | skipped
    reason: str | None = None


class CampaignStateInput(BaseModel):
    campaign_id: str
    state: str  # running | paused | canceled | completed


@activity.defn
async def next_rows(data: NextRowsInput) -> list[int]:
    """Row numbers still pending after `after_row`, in file order (the workflow keeps no rows)."""
    async with reading() as session:
        rows = await session.exec(select(CampaignRow.row_number).where(
            CampaignRow.campaign_id == data.campaign_id, CampaignRow.state == "pending",
            CampaignRow.row_number > data.after_row).order_by(CampaignRow.row_number).limit(data.limit))
        return list(rows.all())


@activity.defn
async def set_campaign_state(data: CampaignStateInput) -> None:
    async with session_scope() as session:
        campaign = await session.get(Campaign, data.campaign_id)
        if campaign.state in ("canceled", "completed") and data.state in ("running", "paused"):
            return  # a late pause/resume after the end changes nothing
        campaign.state = data.state
        if data.state in ("canceled", "completed"):
            campaign.completed_date_time = utcnow()
        else:
            campaign.completed_date_time = None
        session.add(campaign)


@activity.defn
async def cancel_pending_rows(campaign_id: str) -> int:
    """Cancel stops new rows; rows already invited stay invited."""
    async with session_scope() as session:
        result = await session.exec(update(CampaignRow).where(  # type: ignore[call-overload]
            CampaignRow.campaign_id == campaign_id, CampaignRow.state == "pending").values(
            state="canceled", reason="the campaign was canceled", updated_date_time=utcnow()))
        return result.rowcount


@activity.defn
async def reset_failed_rows(campaign_id: str) -> int:
    async with session_scope() as session:
        result = await session.exec(update(CampaignRow).where(  # type: ignore[call-overload]
            CampaignRow.campaign_id == campaign_id, CampaignRow.state == "failed").values(
            state="pending", reason=None, updated_date_time=utcnow()))
        return result.rowcount


def row_invitation_id(campaign_id: str, row_number: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"campaign:{campaign_id}:row:{row_number}"))


class CampaignInviter:
    """Invites one row through the address's InvitationWorkflow (update-with-start, exactly as
    `POST /invitations` does), so a campaign row and a single invitation behave the same."""

    def __init__(self, client: Client):
        self.client = client

    @activity.defn(name="invite_campaign_row")
    async def invite_row(self, data: RowInput) -> RowOutcome:
        async with heartbeating():
            return await self._invite_row(data)

    async def _invite_row(self, data: RowInput) -> RowOutcome:
        async with session_scope() as session:
            row = (await session.exec(select(CampaignRow).where(
                CampaignRow.campaign_id == data.campaign_id, CampaignRow.row_number == data.row_number))).one()
            if row.state != "pending":
                return RowOutcome(state=row.state, reason=row.reason)
            campaign = await session.get(Campaign, data.campaign_id)
            existing = (await session.exec(select(User.id).where(
                User.organization_id == campaign.organization_id, User.mail == row.email))).first()
            spec = InvitationSpec(
                invitation_id=row_invitation_id(campaign.id, row.row_number),
                organization_id=campaign.organization_id, email=row.email, link_id=new_link_id(),
                proposed_user_id=existing or str(uuid.uuid4()), invite_redirect_url=row.invite_redirect_url,
                invited_by_id=campaign.created_by_id, invited_by_name=campaign.created_by_name,
                invited_user_display_name=row.display_name,
                send_invitation_message=row.send_invitation_message,
                customized_message_body=row.customized_message_body,
                group_ids=row.group_ids, application_ids=row.application_ids)
        try:
            result = await invite(self.client, spec)
            outcome = RowOutcome(state="invited")
        except GraphError as error:
            if error.status >= 500:
                raise  # the workflow service did not answer: retried
            result, outcome = None, RowOutcome(state="failed", reason=f"{error.code}: {error.message}")
        async with session_scope() as session:
            row = (await session.exec(select(CampaignRow).where(
                CampaignRow.campaign_id == data.campaign_id, CampaignRow.row_number == data.row_number))).one()
            row.state, row.reason = outcome.state, outcome.reason
            row.attempts += 1
            row.updated_date_time = utcnow()
            if result is not None:
                row.invitation_id, row.user_id = result.invitation_id, result.user_id
            session.add(row)
        return outcome


ALL = [next_rows, set_campaign_state, cancel_pending_rows, reset_failed_rows]
