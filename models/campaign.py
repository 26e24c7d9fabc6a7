"""Bulk onboarding campaigns: one row per guest to invite, with its verdict and outcome."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from foyer.models.base import json_field, new_id, utc_field


class Campaign(SQLModel, table=True):
    __tablename__ = "campaigns"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    display_name: str
    state: str = Field(default="running", index=True)  # running | paused | canceled | completed
    rate_per_minute: int = 600
    concurrency: int = 20
    created_by_id: str | None = None
    created_by_name: str | None = None
    # The creator's role (models.enums.Role): its rows invite with it (foyer.policy).
    created_by_role: str | None = None
    workflow_id: str
    row_count: int = 0
    created_date_time: datetime = utc_field(default_now=True, nullable=False)
    completed_date_time: datetime | None = utc_field()


class CampaignRow(SQLModel, table=True):
    __tablename__ = "campaign_rows"
    __table_args__ = (UniqueConstraint("campaign_id", "row_number"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    campaign_id: str = Field(foreign_key="campaigns.id", index=True, ondelete="CASCADE")
    row_number: int  # the line in the uploaded file (or the index in the JSON body), 1-based
    email: str = Field(index=True)
    invite_redirect_url: str
    send_invitation_message: bool = True
    customized_message_body: str | None = None
    display_name: str | None = None
    group_ids: list[str] = json_field()
    application_ids: list[str] = json_field()
    access_package_ids: list[str] = json_field()  # packages the guest is assigned directly
    # pending | invited | skipped | failed | canceled ; redeemed is read from the invitation
    state: str = Field(default="pending", index=True)
    reason: str | None = None
    invitation_id: str | None = Field(default=None, index=True)
    user_id: str | None = None
    attempts: int = 0
    updated_date_time: datetime | None = utc_field(index=True)
