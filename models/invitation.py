"""Invitations, their redemption links and the one-time passcodes that prove an address."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from foyer.models.base import json_field, new_id, utc_field
from foyer.models.enums import InvitationState


class Invitation(SQLModel, table=True):
    """One `POST /invitations` (or campaign row). The InvitationWorkflow owns its lifecycle."""
    __tablename__ = "invitations"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    user_id: str = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    email: str = Field(index=True)
    workflow_id: str = Field(index=True)
    state: str = Field(default=InvitationState.pending, index=True)
    invited_by_id: str | None = None
    invited_by_name: str | None = None
    # The inviter's role when inviting (models.enums.Role): what may this invitation grant at
    # redemption (foyer.policy.invitation_refusal). None for rows whose inviter is unknown.
    invited_by_role: str | None = None
    invite_redirect_url: str
    invited_user_display_name: str | None = None
    invited_user_type: str = "Guest"
    send_invitation_message: bool = False
    customized_message_body: str | None = None
    message_language: str | None = None
    cc_recipients: list[dict] = json_field()
    reset_redemption: bool = False
    # Foyer extensions: where the guest lands once they redeem.
    group_ids: list[str] = json_field()
    application_ids: list[str] = json_field()
    lifetime: str = "P30D"
    # The current link. Only its SHA-256 digest is kept; `link_id` is the nonce the token is
    # derived from with FOYER_SECRET_KEY (so a retried mail activity can rebuild it). With the key
    # it rebuilds the link, so it stays in this row: never in workflow history.
    link_id: str = Field(default_factory=new_id)
    link_token_hash: str = Field(unique=True, index=True)
    link_issued_date_time: datetime = utc_field(default_now=True, nullable=False)
    expires_date_time: datetime = utc_field(nullable=False)
    consecutive_passcode_failures: int = 0
    created_date_time: datetime = utc_field(default_now=True, nullable=False, index=True)
    redeemed_date_time: datetime | None = utc_field()
    ended_date_time: datetime | None = utc_field()


class Passcode(SQLModel, table=True):
    """An email one-time passcode, bound to the challenge (browser request) that asked for it."""
    __tablename__ = "passcodes"

    id: str = Field(primary_key=True)  # the challenge id, chosen by whoever asked for the code
    invitation_id: str = Field(foreign_key="invitations.id", index=True, ondelete="CASCADE")
    email: str = Field(index=True)
    code_hash: str
    client: str | None = None  # who asked: as SignInChallenge.client
    expires_date_time: datetime = utc_field(nullable=False)
    failed_attempts: int = 0
    consumed_date_time: datetime | None = utc_field()
    created_date_time: datetime = utc_field(default_now=True, nullable=False, index=True)
