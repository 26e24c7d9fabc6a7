"""Graph's invitation (`/v1.0/invitations`), with Foyer's `foyer*` properties: the invitation's
state, pre-assignments, link lifetime, inviter, dates and the id of its workflow."""

from foyer.api.schemas import Collection, GraphResource


class EmailAddress(GraphResource):
    name: str | None = None
    address: str | None = None


class Recipient(GraphResource):
    email_address: EmailAddress | None = None


class InvitedUserMessageInfo(GraphResource):
    customized_message_body: str | None = None
    message_language: str | None = None
    cc_recipients: list[Recipient] | None = None


class InvitedUser(GraphResource):
    """The invited user (Graph's user, of which an invitation shows only the id)."""
    id: str | None = None


class Invitation(GraphResource):
    id: str | None = None
    invited_user_email_address: str | None = None
    invited_user_display_name: str | None = None
    invited_user_type: str | None = None
    invite_redirect_url: str | None = None
    # Shown once, to whoever created or resent the invitation; null in lists and reads.
    invite_redeem_url: str | None = None
    send_invitation_message: bool | None = None
    invited_user_message_info: InvitedUserMessageInfo | None = None
    reset_redemption: bool | None = None
    invited_user: InvitedUser | None = None
    status: str | None = None
    foyer_state: str | None = None
    foyer_pre_assigned_group_ids: list[str] | None = None
    foyer_pre_assigned_application_ids: list[str] | None = None
    foyer_link_lifetime: str | None = None
    foyer_invited_by: str | None = None
    foyer_created_date_time: str | None = None
    foyer_expires_date_time: str | None = None
    foyer_redeemed_date_time: str | None = None
    foyer_workflow_id: str | None = None


InvitationCollection = Collection[Invitation]
