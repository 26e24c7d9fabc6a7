"""`/v1.0/invitations`: Graph's invitation manager, plus Foyer's list / resend / revoke."""

import uuid
from typing import Literal

from fastapi import Request
from pydantic import AnyHttpUrl, Field, field_validator
from sqlmodel import col, select

from foyer.api.deps import INVITERS, CallerDep, InviterCaller, OrganizationDep, SessionDep, TemporalDep, get_in_org
from foyer.errors import Refused
from foyer.api.errors import GraphError, bad_request
from foyer.api.graph import GraphRouter
from foyer.api.odata import collection, list_page
from foyer.api.schemas import GraphModel, iso
from foyer.api.schemas import invitations as shapes
from foyer.durations import check_duration
from foyer.rules.emails import normalize_email
from foyer.names import DisplayName, MultilineText
from foyer.policy import may_invite
from foyer.usecases.invitations import audit_refused_invitation, invitation_spec, invite_refusal, redeem_url
from foyer.usecases.ownership import preassignment_refusal
from foyer.models.directory import Application, Group
from foyer.models.enums import ADMIN_ROLES, InvitationState
from foyer.models.invitation import Invitation
from foyer.workflows.client.invitations import invite_guest, revoke
from foyer.workflows.messages.invitation import InvitationSpec, RevokeRequest

router = GraphRouter(prefix="/v1.0/invitations", tags=["invitations"])


class EmailAddress(GraphModel):
    name: DisplayName | None = Field(default=None, max_length=256)
    address: str

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return normalize_email(value, "ccRecipients address")


class Recipient(GraphModel):
    email_address: EmailAddress


class MessageInfo(GraphModel):
    customized_message_body: MultilineText | None = Field(default=None, max_length=10000)
    message_language: str | None = Field(default=None, max_length=20)
    cc_recipients: list[Recipient] = Field(default_factory=list, max_length=10)


class UserReference(GraphModel):
    id: str


class InvitationCreate(GraphModel):
    invited_user_email_address: str
    invite_redirect_url: AnyHttpUrl
    invited_user_display_name: DisplayName | None = Field(default=None, max_length=256)
    send_invitation_message: bool = False
    invited_user_message_info: MessageInfo | None = None
    invited_user_type: Literal["Guest", "Member"] = "Guest"
    reset_redemption: bool = False
    invited_user: UserReference | None = None
    # Foyer extensions.
    foyer_pre_assigned_group_ids: list[str] = Field(default_factory=list, max_length=100)
    foyer_pre_assigned_application_ids: list[str] = Field(default_factory=list, max_length=100)
    foyer_link_lifetime: str | None = None

    @field_validator("invited_user_email_address")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalize_email(value, "invitedUserEmailAddress")

    @field_validator("foyer_link_lifetime")
    @classmethod
    def _lifetime(cls, value: str | None) -> str | None:
        if value is None:
            return None
        check_duration(value, "foyerLinkLifetime", at_least="PT1H", at_most="P365D")
        return value


def invitation_body(row: Invitation, *, status: str | None = None, with_url: bool = False) -> dict:
    """Graph's invitation. The redeem URL is a live secret: it is shown once, to whoever created
    (or resent) the invitation, never again in lists."""
    completed = row.state == InvitationState.redeemed
    url = row.invite_redirect_url if completed else redeem_url(row.link_id)
    return {
        "id": row.id,
        "invitedUserEmailAddress": row.email,
        "invitedUserDisplayName": row.invited_user_display_name,
        "invitedUserType": row.invited_user_type,
        "inviteRedirectUrl": row.invite_redirect_url,
        "inviteRedeemUrl": url if with_url else None,
        "sendInvitationMessage": row.send_invitation_message,
        "invitedUserMessageInfo": {
            "customizedMessageBody": row.customized_message_body,
            "messageLanguage": row.message_language,
            "ccRecipients": row.cc_recipients,
        },
        "resetRedemption": row.reset_redemption,
        "invitedUser": {"id": row.user_id},
        "status": status or ("Completed" if completed else "PendingAcceptance"),
        "foyerState": row.state,
        "foyerPreAssignedGroupIds": row.group_ids,
        "foyerPreAssignedApplicationIds": row.application_ids,
        "foyerLinkLifetime": row.lifetime,
        "foyerInvitedBy": row.invited_by_name,
        "foyerCreatedDateTime": iso(row.created_date_time),
        "foyerExpiresDateTime": iso(row.expires_date_time),
        "foyerRedeemedDateTime": iso(row.redeemed_date_time),
        "foyerWorkflowId": row.workflow_id,
    }



@router.post("", status_code=201, response_model=shapes.Invitation)
async def create_invitation(body: InvitationCreate, caller: CallerDep, session: SessionDep,
                            org: OrganizationDep, client: TemporalDep) -> dict:
    email = body.invited_user_email_address
    # The one rule for every invitation a person makes (here, My Groups, My Apps): who may invite,
    # what they may pre-assign (checked before the ids are looked up: who may not pre-assign
    # learns nothing of them), the domain lists.
    refused = await invite_refusal(session, org, inviter_id=caller.user_id, role=caller.role, email=email,
                                   group_ids=body.foyer_pre_assigned_group_ids,
                                   application_ids=body.foyer_pre_assigned_application_ids,
                                   invited_user_type=body.invited_user_type)
    if refused:
        await audit_refused_invitation(session, org, **caller.actor, email=email, refused=refused)
        raise refused
    if body.reset_redemption:
        if caller.role not in ADMIN_ROLES:
            raise GraphError(403, "Authorization_RequestDenied",
                             "resetRedemption needs the Global Administrator or User Administrator role")
        if body.invited_user is None:
            raise bad_request("resetRedemption needs invitedUser.id")
    await _check_targets(session, org, Group, body.foyer_pre_assigned_group_ids, "group")
    await _check_targets(session, org, Application, body.foyer_pre_assigned_application_ids, "application")

    message = body.invited_user_message_info or MessageInfo()
    spec = await invitation_spec(
        session, org, email=email, invite_redirect_url=str(body.invite_redirect_url),
        invited_by_id=caller.user_id or caller.token_id, invited_by_name=caller.name,
        invited_by_role=caller.role,
        invited_user_display_name=body.invited_user_display_name,
        invited_user_type=body.invited_user_type,
        send_invitation_message=body.send_invitation_message,
        customized_message_body=message.customized_message_body,
        message_language=message.message_language,
        cc_recipients=[r.model_dump(by_alias=True) for r in message.cc_recipients],
        reset_redemption=body.reset_redemption,
        reset_user_id=body.invited_user.id if body.invited_user else None,
        group_ids=body.foyer_pre_assigned_group_ids,
        application_ids=body.foyer_pre_assigned_application_ids,
        lifetime=body.foyer_link_lifetime,
    )
    await session.close()  # nothing to hold open while the workflow runs
    result = await invite_guest(client, spec)
    row = await session.get(Invitation, result.invitation_id)
    return invitation_body(row, status=result.status, with_url=True)


async def _check_targets(session, org, model, ids: list[str], kind: str) -> None:
    if not ids:
        return
    found = set((await session.exec(select(model.id).where(
        col(model.id).in_(ids), model.organization_id == org.id))).all())
    missing = [i for i in ids if i not in found]
    if missing:
        raise bad_request(f"no {kind} with id {', '.join(missing)}")


INVITATION_FIELDS = {
    "id": "id", "invitedUserEmailAddress": "email", "foyerState": "state",
    "invitedUserType": "invited_user_type", "foyerCreatedDateTime": "created_date_time",
    "foyerExpiresDateTime": "expires_date_time", "foyerWorkflowId": "workflow_id",
}


@router.get("", response_model=shapes.InvitationCollection)
async def list_invitations(request: Request, caller: InviterCaller, session: SessionDep,
                           org: OrganizationDep) -> dict:
    page = await list_page(request, session, Invitation, INVITATION_FIELDS,
                           where=[Invitation.organization_id == org.id])
    return collection(request, page, invitation_body)


async def _get(session, org, invitation_id: str) -> Invitation:
    return await get_in_org(session, Invitation, org, invitation_id, "invitation")


@router.get("/{invitation_id}", response_model=shapes.Invitation)
async def get_invitation(invitation_id: str, caller: InviterCaller, session: SessionDep,
                         org: OrganizationDep) -> dict:
    return invitation_body(await _get(session, org, invitation_id))


@router.post("/{invitation_id}/resend", status_code=201, response_model=shapes.Invitation)
async def resend_invitation(invitation_id: str, caller: CallerDep, session: SessionDep,
                            org: OrganizationDep, client: TemporalDep) -> dict:
    """A fresh invitation with the same content: new link, new lifetime; the old link stops working.
    Whoever may invite now (allowInvitesFrom) resends the invitations they sent; administrators and
    Guest Inviters (who read every invitation) any."""
    if not may_invite(org.allow_invites_from, caller.role):
        raise GraphError(403, "Authorization_RequestDenied",
                         f"the external collaboration settings (allowInvitesFrom={org.allow_invites_from}) "
                         f"do not allow the role '{caller.role}' to invite guests, nor to resend invitations")
    row = await _get(session, org, invitation_id)
    if caller.role not in INVITERS and row.invited_by_id not in {caller.user_id, caller.token_id} - {None}:
        raise GraphError(403, "Authorization_RequestDenied",
                         "only an administrator or a Guest Inviter resends another's invitation; you may "
                         "resend the invitations you sent")
    if row.state == InvitationState.redeemed:
        raise GraphError(409, "invitationNotPending", "the invitation was already redeemed")
    # The resent invitation is the caller's: it may carry only what the caller may pre-assign.
    refused = await preassignment_refusal(session, inviter_id=caller.user_id, role=caller.role,
                                          group_ids=row.group_ids, application_ids=row.application_ids,
                                          invited_user_type=row.invited_user_type)
    if refused:
        error = Refused("Authorization_RequestDenied", f"this invitation cannot be resent by you: {refused}")
        await audit_refused_invitation(session, org, **caller.actor, email=row.email, refused=error)
        raise error
    spec = InvitationSpec(
        invitation_id=str(uuid.uuid4()), organization_id=org.id, email=row.email,
        proposed_user_id=row.user_id,
        invite_redirect_url=row.invite_redirect_url,
        invited_by_id=caller.user_id or caller.token_id, invited_by_name=caller.name,
        invited_by_role=caller.role,
        invited_user_display_name=row.invited_user_display_name,
        invited_user_type=row.invited_user_type, send_invitation_message=True,
        customized_message_body=row.customized_message_body,
        message_language=row.message_language, cc_recipients=row.cc_recipients,
        group_ids=row.group_ids, application_ids=row.application_ids,
        lifetime=row.lifetime if row.lifetime != org.invitation_lifetime else None,
    )
    await session.close()
    result = await invite_guest(client, spec)
    return invitation_body(await session.get(Invitation, result.invitation_id), status=result.status,
                           with_url=True)


@router.post("/{invitation_id}/revoke", response_model=shapes.Invitation)
async def revoke_invitation(invitation_id: str, caller: InviterCaller, session: SessionDep,
                            org: OrganizationDep, client: TemporalDep) -> dict:
    row = await _get(session, org, invitation_id)
    if row.state != InvitationState.pending:
        raise GraphError(409, "invitationNotPending", f"the invitation is {row.state}, not pending")
    await revoke(client, row.workflow_id, RevokeRequest(
        invitation_id=row.id, actor_id=caller.user_id or caller.token_id, actor_name=caller.name))
    await session.refresh(row)
    return invitation_body(row)
