"""Campaign use cases shared by the campaign API (api/routers/campaigns.py) and the campaign page
(api/pages/campaign.py): the figures both show, the results file both serve, and the rule that an
ended campaign cannot be paused, resumed or canceled."""

import csv
import io
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from foyer.errors import Refused
from foyer.models.base import utcnow
from foyer.models.campaign import Campaign, CampaignRow
from foyer.models.enums import InvitationState
from foyer.models.invitation import Invitation

ENDED_STATES = ("canceled", "completed")
RESULT_COLUMNS = ["row", "invitedUserEmailAddress", "result", "reason", "invitationId", "userId", "redeemed"]


def _iso(value: datetime | None) -> str | None:
    # As api.schemas.iso writes Graph's timestamps (this layer cannot import the API's).
    return value.isoformat().replace("+00:00", "Z") if value else None


def refuse_ended(campaign: Campaign) -> None:
    """`campaignEnded` (409) for a campaign that has completed or was canceled: nothing to steer."""
    if campaign.state in ENDED_STATES:
        raise Refused("campaignEnded", f"the campaign is {campaign.state}")


async def campaign_body(session, campaign: Campaign) -> dict:
    """The campaign as the API answers it and the page's progress bar polls it: its settings, the
    rows counted by state, how many invitations were redeemed, and the rate and ETA of the last
    minute."""
    counts = dict((await session.exec(select(CampaignRow.state, func.count()).where(
        CampaignRow.campaign_id == campaign.id).group_by(CampaignRow.state))).all())
    redeemed = (await session.exec(select(func.count()).select_from(CampaignRow).join(
        Invitation, col(Invitation.id) == col(CampaignRow.invitation_id)).where(
        CampaignRow.campaign_id == campaign.id, Invitation.state == InvitationState.redeemed))).one()
    since = utcnow() - timedelta(minutes=1)
    last_minute = (await session.exec(select(func.count()).select_from(CampaignRow).where(
        CampaignRow.campaign_id == campaign.id, CampaignRow.state == "invited",
        CampaignRow.updated_date_time >= since))).one()
    pending = counts.get("pending", 0)
    # Rows a second over the last minute (or since the start, for a younger campaign).
    window = min(60.0, max(1.0, (utcnow() - campaign.created_date_time).total_seconds()))
    rate = last_minute / window
    return {
        "id": campaign.id, "displayName": campaign.display_name, "state": campaign.state,
        "rowCount": campaign.row_count, "ratePerMinuteLimit": campaign.rate_per_minute,
        "concurrency": campaign.concurrency,
        "counts": {"pending": pending, "invited": counts.get("invited", 0), "redeemed": redeemed,
                   "skipped": counts.get("skipped", 0), "failed": counts.get("failed", 0),
                   "canceled": counts.get("canceled", 0)},
        "rowsPerSecond": round(rate, 2),
        "etaSeconds": round(pending / rate) if rate and pending else (0 if not pending else None),
        "createdBy": campaign.created_by_name, "createdDateTime": _iso(campaign.created_date_time),
        "completedDateTime": _iso(campaign.completed_date_time), "foyerWorkflowId": campaign.workflow_id,
    }


async def result_rows(session, campaign: Campaign) -> list[dict]:
    """Every row's outcome, in file order: what was done with it, why, and whether the invitation
    was redeemed (the API's JSON results, and the rows of the CSV)."""
    rows = (await session.exec(select(CampaignRow, Invitation.state).outerjoin(
        Invitation, col(Invitation.id) == col(CampaignRow.invitation_id)).where(
        CampaignRow.campaign_id == campaign.id).order_by(CampaignRow.row_number))).all()
    return [{"row": row.row_number, "invitedUserEmailAddress": row.email, "result": row.state,
             "reason": row.reason, "invitationId": row.invitation_id, "userId": row.user_id,
             "redeemed": invitation_state == InvitationState.redeemed} for row, invitation_state in rows]


def results_csv(results: list[dict]) -> str:
    """result_rows as the CSV file the page and the API serve (booleans as true/false, nulls empty)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(RESULT_COLUMNS)
    for result in results:
        writer.writerow(["" if result[c] is None else ("true" if result[c] else "false")
                         if isinstance(result[c], bool) else result[c] for c in RESULT_COLUMNS])
    return out.getvalue()


def results_filename(campaign: Campaign) -> str:
    return f"campaign-{campaign.id}-results.csv"
