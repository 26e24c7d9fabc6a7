"""Activities of the invitation → redemption journey. Each one is safe to retry."""

from datetime import timedelta

from sqlmodel import select
from temporalio import activity

from foyer.activities import mail
from foyer.activities.store import audit, heartbeating
from foyer import security
from foyer.db import session_scope
from foyer.errors import Refused
from foyer.durations import parse_duration
from foyer.policy import domain_allowed, guest_user_principal_name
from foyer.usecases.ownership import preassignment_refusal
from foyer.rules.codes import CODE_LIFETIME, code_limit
from foyer.templating import render_mail
from foyer.usecases.invitations import grant_memberships, redeem_url
from foyer.usecases.redemption import ADDRESS_LOCK_AFTER_FAILURES, attempt_ended, locked_attempt
from foyer.usecases import federated_sign_in
from foyer.models.base import utcnow
from foyer.models.directory import Organization, User
from foyer.models.enums import ADMIN_ROLES, ExternalUserState, InvitationState, UserType
from foyer.models.invitation import Invitation, Passcode
from foyer.workflows.messages.invitation import (
    InvitationEventInput, InvitationMailInput, IssuePasscodeInput, PasscodeIssued, RecordedInvitation,
    RecordInvitationInput, RedeemFederatedInput, RedeemInput, RedeemOutcome,
)

# Redemption codes are limited as sign-in codes are (foyer.rules.codes.code_limit): per
# (address, client) one a minute and five an hour, per address a ceiling of
# CODES_PER_ADDRESS_PER_HOUR. Only holders of the invitation link can ask at all. What ends an
# attempt (five wrong tries a code, a hundred in a row an address) is foyer.usecases.redemption's.


# --- recording an invitation ----------------------------------------------------------------

@activity.defn
async def record_invitation(data: RecordInvitationInput) -> RecordedInvitation:
    """Create or reuse the guest, write the invitation with its link digest, supersede older
    invitations to the same address. Retrying with the same invitation id returns the same row."""
    async with session_scope() as session:
        org = await session.get(Organization, data.spec.organization_id)
        if org is None:
            raise Refused("organizationNotFound", f"no organization {data.spec.organization_id}")
        return await record_in_session(session, org, data)


async def record_in_session(session, org: Organization, data: RecordInvitationInput) -> RecordedInvitation:
    """record_invitation's work inside the caller's transaction (a campaign records many
    invitations in one). Business refusals are raised before anything is written."""
    spec = data.spec
    existing = await session.get(Invitation, spec.invitation_id)
    if existing is not None:
        # A retry: the row's link (drawn on the first try) stands.
        return _recorded(existing, org, invitation_mail_key(existing, "invitation", 0)
                         if existing.send_invitation_message else None)

    if not domain_allowed(org.domain_list_mode, org.domain_list, spec.email):
        raise Refused("domainNotAllowed",
                      f"invitations to {spec.email.split('@')[-1]} are not allowed "
                      "by the organization's external collaboration settings")
    # Authoritative: the API checks the same rule, but a spec may reach here some other way
    # (a campaign row, a workflow carrying a spec from before the rule).
    refused = await preassignment_refusal(session, inviter_id=spec.invited_by_id, role=spec.invited_by_role,
                                          group_ids=spec.group_ids, application_ids=spec.application_ids,
                                          invited_user_type=spec.invited_user_type)
    if refused:
        raise Refused("Authorization_RequestDenied", refused)

    user = (await session.exec(select(User).where(
        User.organization_id == org.id, User.mail == spec.email))).first()
    if spec.reset_redemption:
        reset_target = await session.get(User, spec.reset_user_id) if spec.reset_user_id else None
        if reset_target is None or reset_target.organization_id != org.id:
            raise Refused("userNotFound", "invitedUser.id does not name a user of this organization")
        if user is not None and user.id != reset_target.id:
            raise Refused("conflictingObject",
                          f"{spec.email} already belongs to another user ({user.id})")
        user = reset_target
        user.mail = spec.email
        user.external_user_state = ExternalUserState.pending_acceptance
        user.external_user_state_change_date_time = data.issued_at
        user.identities = []
        session.add(user)
    elif user is not None and user.user_type == UserType.member and user.creation_type != "Invitation":
        raise Refused("memberAlreadyExists",
                      f"{spec.email} already belongs to a member of this organization")

    created = user is None
    if user is None:
        user = User(
            id=spec.proposed_user_id, organization_id=org.id, mail=spec.email,
            display_name=spec.invited_user_display_name or spec.email.split("@")[0],
            user_principal_name=guest_user_principal_name(spec.email, org.primary_domain),
            user_type=UserType.member if spec.invited_user_type == "Member" else UserType.guest,
            external_user_state=ExternalUserState.pending_acceptance,
            external_user_state_change_date_time=data.issued_at,
            creation_type="Invitation", identities=[], invited_by=spec.invited_by_id,
        )
        session.add(user)
        await session.flush()

    already_redeemed = user.external_user_state == ExternalUserState.accepted
    lifetime = parse_duration(spec.lifetime or org.invitation_lifetime)
    # Older pending invitations to this address stop working: their links die with them.
    older = await session.exec(select(Invitation).where(
        Invitation.user_id == user.id, Invitation.state == InvitationState.pending))
    for previous in older.all():
        previous.state = InvitationState.superseded
        previous.ended_date_time = utcnow()
        session.add(previous)

    # Drawn here, inside the transaction that writes the row, so it never leaves the database
    # (the workflow holds only the token's digest).
    link_id = security.new_link_id()
    invitation = Invitation(
        id=spec.invitation_id, organization_id=org.id, user_id=user.id, email=spec.email,
        workflow_id=data.workflow_id,
        state=InvitationState.redeemed if already_redeemed else InvitationState.pending,
        invited_by_id=spec.invited_by_id, invited_by_name=spec.invited_by_name,
        invited_by_role=spec.invited_by_role, invite_redirect_url=spec.invite_redirect_url,
        invited_user_display_name=spec.invited_user_display_name,
        invited_user_type=spec.invited_user_type,
        send_invitation_message=spec.send_invitation_message,
        customized_message_body=spec.customized_message_body,
        message_language=spec.message_language, cc_recipients=spec.cc_recipients,
        reset_redemption=spec.reset_redemption, group_ids=spec.group_ids,
        application_ids=spec.application_ids, lifetime=spec.lifetime or org.invitation_lifetime,
        link_id=link_id,
        link_token_hash=security.link_token_hash(security.link_token(link_id)),
        link_issued_date_time=data.issued_at, expires_date_time=data.issued_at + lifetime,
        created_date_time=data.issued_at,
        redeemed_date_time=data.issued_at if already_redeemed else None,
    )
    session.add(invitation)
    await session.flush()
    if already_redeemed:
        # Entra answers "Completed" for a guest who already redeemed: grant what this
        # invitation pre-assigns straight away (checked above; checked again as at redemption).
        await _apply_preassignments(session, invitation, user.id)
    outbox_key = None
    if spec.send_invitation_message:
        outbox_key = await _enqueue_invitation_mail(session, invitation, org, "invitation", 0)
    await audit(
        session, key=f"invite:{invitation.id}", category="UserManagement",
        activity="Invite external user", organization_id=org.id,
        actor_id=spec.invited_by_id, actor_name=spec.invited_by_name, target_type="User",
        target_id=user.id, target_name=spec.email, workflow_id=data.workflow_id,
        details={"invitationId": invitation.id, "userCreated": created,
                 "resetRedemption": spec.reset_redemption,
                 # Pre-assigning is adding members / assignments: in which capacity (an owner's
                 # invitation from My Groups or My Apps, or through the API, carries only theirs).
                 **({"preAssignedGroupIds": spec.group_ids, "preAssignedApplicationIds": spec.application_ids,
                     "actingAs": "administrator" if spec.invited_by_role in ADMIN_ROLES else "owner"}
                    if spec.group_ids or spec.application_ids else {})},
    )
    return _recorded(invitation, org, outbox_key)


def _recorded(invitation: Invitation, org: Organization, outbox_key: str | None = None) -> RecordedInvitation:
    issued = invitation.link_issued_date_time
    reminders = [issued + parse_duration(r) for r in org.invitation_reminders]
    return RecordedInvitation(
        invitation_id=invitation.id, user_id=invitation.user_id,
        status="Completed" if invitation.state == InvitationState.redeemed else "PendingAcceptance",
        expires_at=invitation.expires_date_time,
        reminders_at=[r for r in reminders if r < invitation.expires_date_time],
        link_token_hash=invitation.link_token_hash,
        outbox_key=outbox_key,
    )


@activity.defn
async def send_invitation_mail(data: InvitationMailInput) -> bool:
    """Deliver the invitation mail `record_invitation` queued (`outbox_key`), or queue and deliver
    a reminder. Keyed by invitation, link and sequence: each is sent at most once. Returns False
    when there is nothing to send (the invitation is no longer pending)."""
    async with heartbeating():
        return await _send_invitation_mail(data)


async def _send_invitation_mail(data: InvitationMailInput) -> bool:
    key = data.outbox_key
    if key is None:
        async with session_scope() as session:
            invitation = await session.get(Invitation, data.invitation_id)
            if invitation is None or invitation.state != InvitationState.pending:
                return False
            org = await session.get(Organization, invitation.organization_id)
            key = await _enqueue_invitation_mail(session, invitation, org, data.kind, data.sequence)
    await mail.deliver(key)
    return True


def invitation_mail_key(invitation: Invitation, kind: str, sequence: int) -> str:
    """The outbox key of one invitation mail. It travels through history (activity results and
    inputs), so it names the invitation only, never its link id; each new link is a new
    invitation id anyway."""
    return f"invitation:{invitation.id}:{kind}:{sequence}"


async def _enqueue_invitation_mail(session, invitation: Invitation, org: Organization, kind: str,
                                   sequence: int) -> str:
    key = invitation_mail_key(invitation, kind, sequence)
    completed = invitation.state == InvitationState.redeemed
    context = {
        "organization": org.display_name, "inviter": invitation.invited_by_name or org.display_name,
        "display_name": invitation.invited_user_display_name or invitation.email,
        "message": invitation.customized_message_body, "reminder": kind == "reminder",
        "link": invitation.invite_redirect_url if completed else redeem_url(invitation.link_id),
        "expires": invitation.expires_date_time, "privacy_url": org.privacy_statement_url,
        "already_member": completed,
    }
    subject, text, html = render_mail("invitation", **context)
    cc = [c.get("emailAddress", {}).get("address") for c in invitation.cc_recipients]
    await mail.enqueue(session, key=key, to=[invitation.email], cc=[a for a in cc if a],
                       subject=subject, text=text, html=html, sensitive=not completed)
    return key


@activity.defn
async def expire_invitation(data: InvitationEventInput) -> bool:
    return await _end_invitation(data, InvitationState.expired, "Invitation expired")


@activity.defn
async def revoke_invitation(data: InvitationEventInput) -> bool:
    return await _end_invitation(data, InvitationState.revoked, "Revoke invitation")


async def _end_invitation(data: InvitationEventInput, state: str, activity_name: str) -> bool:
    async with session_scope() as session:
        invitation = await session.get(Invitation, data.invitation_id)
        if invitation is None or invitation.state != InvitationState.pending:
            return False
        invitation.state = state
        invitation.ended_date_time = utcnow()
        session.add(invitation)
        await audit(
            session, key=f"{state}:{invitation.id}", category="UserManagement",
            activity=activity_name, organization_id=invitation.organization_id,
            actor_id=data.actor_id, actor_name=data.actor_name, target_type="User",
            target_id=invitation.user_id, target_name=invitation.email,
            workflow_id=data.workflow_id, reason=data.reason,
            details={"invitationId": invitation.id},
        )
        return True


# --- passcodes and redemption ---------------------------------------------------------------

@activity.defn
async def issue_passcode(data: IssuePasscodeInput) -> PasscodeIssued:
    """Mint a one-time passcode for one challenge and mail it, within the code limits (per
    address and client, and the address's ceiling). Retrying the same challenge re-sends
    nothing new."""
    now = utcnow()
    async with session_scope() as session:
        invitation = await session.get(Invitation, data.invitation_id)
        if invitation is None or invitation.state != InvitationState.pending:
            raise Refused("invitationNotPending", "this invitation can no longer be redeemed")
        if invitation.consecutive_passcode_failures >= ADDRESS_LOCK_AFTER_FAILURES:
            raise Refused("addressLocked", "too many wrong codes: this invitation is locked; "
                          "ask for a new invitation")
        org = await session.get(Organization, invitation.organization_id)
        _check_redemption_policy(org, invitation)
        existing = await session.get(Passcode, data.challenge_id)
        if existing is None:
            recent = (await session.exec(select(Passcode.created_date_time, Passcode.client).where(
                Passcode.email == invitation.email,
                Passcode.created_date_time > now - timedelta(hours=1)))).all()
            limit = code_limit([(created, asker) for created, asker in recent], data.client, False, now)
            if limit == "hourly":
                raise Refused("tooManyRequests", "too many codes were requested for this address "
                              "in the last hour; try again later")
            if limit == "resend":
                raise Refused("tooManyRequests", "a code was sent less than a minute ago; "
                              "check your mail or wait a minute before asking again")
            code = security.new_passcode()
            existing = Passcode(
                id=data.challenge_id, invitation_id=invitation.id, email=invitation.email,
                client=data.client,
                code_hash=security.passcode_hash(data.challenge_id, code),
                expires_date_time=now + CODE_LIFETIME, created_date_time=now,
            )
            session.add(existing)
            subject, text, html = render_mail(
                "passcode", code=code, organization=org.display_name,
                minutes=int(CODE_LIFETIME.total_seconds() // 60))
            await mail.enqueue(session, key=f"passcode:{data.challenge_id}", to=[invitation.email],
                               subject=subject, text=text, html=html, sensitive=True)
        expires_at = existing.expires_date_time
    await mail.deliver(f"passcode:{data.challenge_id}")
    return PasscodeIssued(expires_at=expires_at)


def _check_redemption_policy(org: Organization, invitation: Invitation, *, federated: bool = False) -> None:
    if not federated and not org.email_otp_enabled:
        raise Refused("emailOtpDisabled", f"{org.display_name} does not currently allow guests "
                      "to sign in with a one-time passcode; contact your inviter")
    if not domain_allowed(org.domain_list_mode, org.domain_list, invitation.email):
        raise Refused("domainNotAllowed", f"{org.display_name} no longer accepts guests from "
                      f"{invitation.email.split('@')[-1]}")


@activity.defn
async def redeem_with_passcode(data: RedeemInput) -> RedeemOutcome:
    """Redeem with a challenge whose code the page accepted (foyer.usecases.redemption's
    `record_passcode_attempt`): the guest becomes Accepted with an email identity and joins the
    pre-assigned groups and applications — all in one transaction. The limits are checked again:
    a wrong try that locked the code after it was accepted wins."""
    now = utcnow()
    async with session_scope() as session:
        invitation, passcode, missing = await locked_attempt(session, data.invitation_id, data.challenge_id)
        if missing:
            return missing
        if invitation.state == InvitationState.redeemed and passcode.consumed_date_time:
            # A retry of the attempt that already succeeded.
            return RedeemOutcome(outcome="redeemed", redirect_url=invitation.invite_redirect_url,
                                 user_id=invitation.user_id)
        if ended := attempt_ended(invitation, passcode):
            return ended
        if passcode.consumed_date_time is None:
            # No matching code was recorded for this challenge.
            return RedeemOutcome(outcome="unknownChallenge")
        org = await session.get(Organization, invitation.organization_id)
        _check_redemption_policy(org, invitation)

        invitation.consecutive_passcode_failures = 0
        session.add(passcode)
        return await _redeem(session, invitation, {"signInType": "emailAddress", "issuer": "mail",
                                                   "issuerAssignedId": invitation.email},
                             now=now, workflow_id=data.workflow_id)


async def _redeem(session, invitation: Invitation, identity: dict, *, now, workflow_id: str,
                  display_name: str | None = None, details: dict | None = None) -> RedeemOutcome:
    """Redeem, whatever proved the address: the invitation redeemed, the guest Accepted with
    `identity`, what the invitation pre-assigns granted, audited — in the caller's transaction."""
    invitation.state = InvitationState.redeemed
    invitation.redeemed_date_time = now
    user = await session.get(User, invitation.user_id)
    user.external_user_state = ExternalUserState.accepted
    user.external_user_state_change_date_time = now
    user.identities = [identity]
    if display_name and not user.display_name:
        user.display_name = display_name
    session.add_all([invitation, user])
    granted = await _apply_preassignments(session, invitation, user.id)
    await audit(
        session, key=f"redeem:{invitation.id}", category="UserManagement",
        activity="Redeem external user invite", organization_id=invitation.organization_id,
        actor_id=user.id, actor_name=invitation.email, target_type="User", target_id=user.id,
        target_name=invitation.email, workflow_id=workflow_id,
        details={"invitationId": invitation.id, **(details or {}), **granted},
    )
    return RedeemOutcome(outcome="redeemed", redirect_url=invitation.invite_redirect_url, user_id=user.id)


# What a page says for a refusal found only here (the page checks the same rule first, with the
# addresses in its message); no address enters the workflow's history.
IDENTITY_REFUSED = {
    "emailMismatch": "You signed in with another address than the one this invitation is for.",
    "emailNotVerified": "Your identity provider has not verified your address.",
    "emailMissing": "Your identity provider did not tell us your email address.",
    "identityInUse": "The account you signed in with already belongs to someone else here.",
}


@activity.defn
async def redeem_with_federated_identity(data: RedeemFederatedInput) -> RedeemOutcome:
    """Redeem with a round trip to the guest's own identity provider that the page verified: the
    attempt must be this invitation's, verified, unused, and vouch for the invited address
    (checked again here, by foyer.usecases.federated_sign_in's rule). The guest becomes Accepted
    with a federated identity and joins what the invitation pre-assigns — in one transaction."""
    now = utcnow()
    async with session_scope() as session:
        invitation = await session.get(Invitation, data.invitation_id, with_for_update=True)
        if invitation is None:
            return RedeemOutcome(outcome="notPending")
        attempt = await federated_sign_in.attempt_for_redemption(session, data.federation_attempt_id, invitation.id)
        if attempt is None:
            return RedeemOutcome(outcome="unknownChallenge")
        if invitation.state == InvitationState.redeemed and attempt.consumed_date_time:
            # A retry of the attempt that already succeeded.
            return RedeemOutcome(outcome="redeemed", redirect_url=invitation.invite_redirect_url,
                                 user_id=invitation.user_id)
        if invitation.state != InvitationState.pending:
            return RedeemOutcome(outcome="notPending")
        if attempt.consumed_date_time is not None:
            return RedeemOutcome(outcome="unknownChallenge")
        refused = await federated_sign_in.redemption_refusal(session, attempt, invitation)
        if refused is not None:
            # The outcome enters the workflow's history: the reason's code, never the addresses.
            return RedeemOutcome(outcome="identityRefused", message=IDENTITY_REFUSED.get(
                refused.code, "The account you signed in with cannot redeem this invitation."))
        org = await session.get(Organization, invitation.organization_id)
        _check_redemption_policy(org, invitation, federated=True)

        attempt.consumed_date_time = now
        session.add(attempt)
        return await _redeem(session, invitation, federated_sign_in.identity_entry(attempt), now=now,
                             workflow_id=data.workflow_id, display_name=attempt.display_name,
                             details={"identityProvider": attempt.issuer})


async def _apply_preassignments(session, invitation: Invitation, user_id: str) -> dict:
    """Grant what the invitation pre-assigns, if its inviter's recorded role may (the rule is
    checked again here, when the grant is applied, whatever the row came to carry). Returns the
    audit details: what was granted, and what was refused."""
    refused = await preassignment_refusal(session, inviter_id=invitation.invited_by_id,
                                          role=invitation.invited_by_role, group_ids=invitation.group_ids,
                                          application_ids=invitation.application_ids, invited_user_type="Guest")
    if not refused:
        await grant_memberships(session, user_id, invitation.group_ids, invitation.application_ids)
        return {"groups": invitation.group_ids, "applications": invitation.application_ids}
    return {"groups": [], "applications": [], "refusedGroups": invitation.group_ids,
            "refusedApplications": invitation.application_ids, "refusedReason": refused}


ALL = [record_invitation, send_invitation_mail, expire_invitation, revoke_invitation,
       issue_passcode, redeem_with_passcode, redeem_with_federated_identity]
