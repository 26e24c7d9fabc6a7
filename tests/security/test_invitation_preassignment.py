"""Finding 1 of "Close the holes": inviting must not be a way into groups and applications.

Pre-assigning groups (`foyerPreAssignedGroupIds`), applications (`foyerPreAssignedApplicationIds`)
and inviting as a Member (`invitedUserType: Member`) are for those who may add a group member or
an app role assignment directly: administrators (Global Administrator, User Administrator). Guest
Inviters and members may invite, but only plain guests. The rule holds when the invitation is
made (the API, and the activity that records it), when a campaign row is judged and invited, and
again when the grant is applied at redemption.
"""

import uuid

import httpx
import pytest
from sqlmodel import select

from foyer.workflows.messages.invitation import InvitationSpec
from foyer.api.campaign_rows import judge, parse_json
from foyer.errors import Refused
from foyer.workflows.client.invitations import invite_guest as start_invitation
from foyer.db import session_scope
from foyer.settings import get_settings
from foyer.models.audit import AuditRecord
from foyer.models.campaign import Campaign, CampaignRow
from foyer.models.directory import AppRoleAssignment, GroupMember, Organization
from foyer.models.enums import Role
from foyer.models.invitation import Invitation
from tests.factories import make_user
from tests.support import emailed_code, find_user, invite, link_in, submit_code
from tests.factories import make_group_and_app
from tests.test_campaign_end_to_end import wait_for_state
from foyer.workflows.campaign import CampaignWorkflow
from foyer.workflows.messages import CampaignInput, campaign_workflow_id

ROLES = [Role.global_administrator, Role.user_administrator, Role.guest_inviter, Role.member, Role.guest]
FIELDS = ["none", "foyerPreAssignedGroupIds", "foyerPreAssignedApplicationIds", "invitedUserType"]
# Under the default allowInvitesFrom (admins, Guest Inviters and all members may invite), what
# each role gets for an invitation carrying nothing extra ("none") or one pre-assignment field.
EXPECTED = {
    Role.global_administrator: {"none": 201, "foyerPreAssignedGroupIds": 201,
                                "foyerPreAssignedApplicationIds": 201, "invitedUserType": 201},
    Role.user_administrator: {"none": 201, "foyerPreAssignedGroupIds": 201,
                              "foyerPreAssignedApplicationIds": 201, "invitedUserType": 201},
    Role.guest_inviter: {"none": 201, "foyerPreAssignedGroupIds": 403,
                         "foyerPreAssignedApplicationIds": 403, "invitedUserType": 403},
    Role.member: {"none": 201, "foyerPreAssignedGroupIds": 403,
                  "foyerPreAssignedApplicationIds": 403, "invitedUserType": 403},
    # Guests may not invite at all under the default policy.
    Role.guest: {"none": 403, "foyerPreAssignedGroupIds": 403,
                 "foyerPreAssignedApplicationIds": 403, "invitedUserType": 403},
}


async def _caller(make_token, make_member, role: str) -> dict:
    user_id = (await make_member(f"{role} person")).id if role == Role.member else None
    return await make_token(role, user_id=user_id, name=f"{role} caller")


async def _memberships(user_id: str) -> tuple[list[str], list[str]]:
    async with session_scope() as session:
        groups = (await session.exec(select(GroupMember.group_id).where(GroupMember.user_id == user_id))).all()
        apps = (await session.exec(select(AppRoleAssignment.application_id).where(
            AppRoleAssignment.principal_id == user_id))).all()
    return list(groups), list(apps)


def _denied(response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "Authorization_RequestDenied", response.text


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("role", ROLES)
async def test_role_by_preassignment_matrix(api, make_token, make_member, organization_id, new_email,
                                            role, field):
    group, app = await make_group_and_app(organization_id, "Privileged")
    extra = {"none": {}, "foyerPreAssignedGroupIds": {"foyerPreAssignedGroupIds": [group.id]},
             "foyerPreAssignedApplicationIds": {"foyerPreAssignedApplicationIds": [app.id]},
             "invitedUserType": {"invitedUserType": "Member"}}[field]
    email = new_email()
    response = await api.post("/v1.0/invitations", headers=await _caller(make_token, make_member, role), json={
        "invitedUserEmailAddress": email, "inviteRedirectUrl": "https://app.contoso.test/",
        "sendInvitationMessage": False, **extra})

    assert response.status_code == EXPECTED[role][field], response.text
    if response.status_code == 403:
        assert response.json()["error"]["code"] == "Authorization_RequestDenied"
        assert await find_user(email) is None  # refused before anything was written
        return
    body = response.json()
    user = await find_user(email)
    assert user is not None and user.id == body["invitedUser"]["id"]
    assert body["invitedUserType"] == ("Member" if field == "invitedUserType" else "Guest")
    assert user.user_type == ("Member" if field == "invitedUserType" else "Guest")
    assert body["foyerPreAssignedGroupIds"] == ([group.id] if field == "foyerPreAssignedGroupIds" else [])
    assert body["foyerPreAssignedApplicationIds"] == ([app.id] if field == "foyerPreAssignedApplicationIds" else [])
    async with session_scope() as session:
        row = await session.get(Invitation, body["id"])
    assert row.invited_by_role == role  # what the grant is checked against at redemption


async def test_refused_preassignment_names_the_field(api, make_token, organization_id, new_email):
    group, app = await make_group_and_app(organization_id, "Named")
    inviter = await make_token(Role.guest_inviter)
    response = await api.post("/v1.0/invitations", headers=inviter, json={
        "invitedUserEmailAddress": new_email(), "inviteRedirectUrl": "https://app.contoso.test/",
        "foyerPreAssignedGroupIds": [group.id], "foyerPreAssignedApplicationIds": [app.id],
        "invitedUserType": "Member"})
    _denied(response)
    message = response.json()["error"]["message"]
    assert "foyerPreAssignedGroupIds" in message and "foyerPreAssignedApplicationIds" in message
    assert "invitedUserType" in message
    # An unknown group is not revealed to a caller who may not pre-assign anyway.
    probe = await api.post("/v1.0/invitations", headers=inviter, json={
        "invitedUserEmailAddress": new_email(), "inviteRedirectUrl": "https://app.contoso.test/",
        "foyerPreAssignedGroupIds": ["no-such-group"]})
    _denied(probe)


async def test_reinviting_an_accepted_guest_grants_only_for_administrators(api, admin, make_token,
                                                                           organization_id):
    """Re-inviting a guest who already redeemed answers Completed and grants at once: only an
    administrator's invitation may carry groups or applications then."""
    group, app = await make_group_and_app(organization_id, "Re-invite")
    guest = await make_user(organization_id, "Accepted Guest", guest=True)
    inviter = await make_token(Role.guest_inviter)
    member = await make_token(Role.member, user_id=(await make_user(organization_id, "Mo Member")).id)

    for headers in (inviter, member):
        for extra in ({"foyerPreAssignedGroupIds": [group.id]}, {"foyerPreAssignedApplicationIds": [app.id]}):
            _denied(await api.post("/v1.0/invitations", headers=headers, json={
                "invitedUserEmailAddress": guest.mail, "inviteRedirectUrl": "https://app.contoso.test/",
                "sendInvitationMessage": False, **extra}))
    assert await _memberships(guest.id) == ([], [])

    # Re-inviting without pre-assignments is still theirs to do.
    plain = await invite(api, inviter, guest.mail, sendInvitationMessage=False)
    assert plain["status"] == "Completed"
    assert await _memberships(guest.id) == ([], [])

    granted = await invite(api, admin, guest.mail, sendInvitationMessage=False,
                           foyerPreAssignedGroupIds=[group.id], foyerPreAssignedApplicationIds=[app.id])
    assert granted["status"] == "Completed"
    assert await _memberships(guest.id) == ([group.id], [app.id])


async def test_the_recording_activity_refuses_what_the_inviter_may_not(temporal, organization_id, new_email):
    """The activity that records an invitation (and grants at once to an accepted guest) checks
    the rule itself, from the inviter's role in the spec: a spec that reaches the workflow some
    other way than the API is refused just the same."""
    group, app = await make_group_and_app(organization_id, "Activity")
    accepted = await make_user(organization_id, "Already Here", guest=True)

    def spec(email: str, role: str | None, **extra) -> InvitationSpec:
        return InvitationSpec(invitation_id=str(uuid.uuid4()), organization_id=organization_id, email=email,
                              proposed_user_id=str(uuid.uuid4()),
                              invite_redirect_url="https://app.contoso.test/", invited_by_id="someone",
                              invited_by_name="Someone", invited_by_role=role, **extra)

    cases = [
        spec(new_email(), Role.guest_inviter, group_ids=[group.id]),
        spec(new_email(), Role.member, application_ids=[app.id]),
        spec(new_email(), Role.member, invited_user_type="Member"),
        spec(new_email(), None, group_ids=[group.id]),  # inviter's role unknown: not an administrator
        spec(accepted.mail, Role.guest_inviter, group_ids=[group.id], application_ids=[app.id]),
    ]
    for case in cases:
        with pytest.raises(Refused) as refused:
            await start_invitation(temporal.client, case)
        assert refused.value.status == 403 and refused.value.code == "Authorization_RequestDenied", case
        assert await find_user(case.email) is None or case.email == accepted.mail
    assert await _memberships(accepted.id) == ([], [])

    allowed = await start_invitation(temporal.client, spec(accepted.mail, Role.user_administrator,
                                                           group_ids=[group.id]))
    assert allowed.status == "Completed"
    assert await _memberships(accepted.id) == ([group.id], [])


async def test_redemption_applies_no_grant_the_inviter_may_not_make(api, make_token, mail, server,
                                                                    organization_id, new_email):
    """Apply-time enforcement: even if a member's invitation row somehow carries groups,
    applications and Member type, redeeming it grants none of them."""
    group, app = await make_group_and_app(organization_id, "Smuggled")
    member = await make_token(Role.member, user_id=(await make_user(organization_id, "Meg Member")).id)
    email = new_email()
    created = await invite(api, member, email)
    async with session_scope() as session:
        row = await session.get(Invitation, created["id"])
        assert row.invited_by_role == Role.member
        row.group_ids, row.application_ids = [group.id], [app.id]
        session.add(row)

    link = link_in((await mail.wait_for(email))[0].text)
    async with httpx.AsyncClient(follow_redirects=False) as browser:
        challenge, code = await emailed_code(browser, link, mail, email)
        redeemed = await submit_code(browser, link, challenge, code)
        assert redeemed.status_code == 303, redeemed.text[:500]

    user = await find_user(email)
    assert user.external_user_state == "Accepted" and user.user_type == "Guest"
    assert await _memberships(user.id) == ([], [])
    async with session_scope() as session:
        [record] = (await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == user.id,
            AuditRecord.activity_display_name == "Redeem external user invite"))).all()
    assert record.details["groups"] == [] and record.details["applications"] == []
    assert record.details["refusedGroups"] == [group.id]
    assert record.details["refusedApplications"] == [app.id]


async def test_resend_is_checked_against_whoever_resends(api, admin, make_token, organization_id, new_email):
    group, _ = await make_group_and_app(organization_id, "Resent")
    created = await invite(api, admin, new_email(), sendInvitationMessage=False,
                           foyerPreAssignedGroupIds=[group.id])
    inviter = await make_token(Role.guest_inviter)
    _denied(await api.post(f"/v1.0/invitations/{created['id']}/resend", headers=inviter))
    resent = await api.post(f"/v1.0/invitations/{created['id']}/resend", headers=admin)
    assert resent.status_code == 201, resent.text
    assert resent.json()["foyerPreAssignedGroupIds"] == [group.id]

    plain = await invite(api, admin, new_email(), sendInvitationMessage=False)
    again = await api.post(f"/v1.0/invitations/{plain['id']}/resend", headers=inviter)
    assert again.status_code == 201, again.text


async def test_campaign_rows_follow_the_creators_role(api, admin, temporal, organization_id, new_email):
    """A campaign row that pre-assigns what the campaign's creator may not is refused in the dry
    run and, should such a row be stored, fails when invited, with the reason; the creator's other
    rows go through."""
    group, app = await make_group_and_app(organization_id, "Campaign")
    rows = parse_json([
        {"invitedUserEmailAddress": new_email(), "inviteRedirectUrl": "https://app.test/",
         "foyerPreAssignedGroupIds": [group.id]},
        {"invitedUserEmailAddress": new_email(), "inviteRedirectUrl": "https://app.test/",
         "foyerPreAssignedApplicationIds": [app.id]},
        {"invitedUserEmailAddress": new_email(), "inviteRedirectUrl": "https://app.test/"},
    ])
    async with session_scope() as session:
        org = await session.get(Organization, organization_id)
        await judge(session, org, rows, Role.guest_inviter)
    assert [[(p["column"], p["code"]) for p in r.problems] for r in rows] == [
        [("groupIds", "Authorization_RequestDenied")], [("applicationIds", "Authorization_RequestDenied")], []]
    admin_rows = parse_json([{"invitedUserEmailAddress": new_email(), "inviteRedirectUrl": "https://app.test/",
                              "foyerPreAssignedGroupIds": [group.id], "foyerPreAssignedApplicationIds": [app.id]}])
    async with session_scope() as session:
        await judge(session, await session.get(Organization, organization_id), admin_rows, Role.user_administrator)
    assert admin_rows[0].problems == []

    # A stored campaign whose creator was a Guest Inviter: the activity refuses the row itself.
    campaign_id, emails = str(uuid.uuid4()), [new_email(), new_email()]
    async with session_scope() as session:
        session.add(Campaign(id=campaign_id, organization_id=organization_id, display_name="Inviter's",
                             created_by_id="inviter-token", created_by_name="Ivy Inviter",
                             created_by_role=Role.guest_inviter, workflow_id=campaign_workflow_id(campaign_id),
                             row_count=2))
        await session.flush()
        session.add_all([
            CampaignRow(campaign_id=campaign_id, row_number=1, email=emails[0],
                        invite_redirect_url="https://app.test/", send_invitation_message=False,
                        group_ids=[group.id]),
            CampaignRow(campaign_id=campaign_id, row_number=2, email=emails[1],
                        invite_redirect_url="https://app.test/", send_invitation_message=False)])
    await temporal.client.start_workflow(CampaignWorkflow.run, CampaignInput(campaign_id=campaign_id),
                                         id=campaign_workflow_id(campaign_id), task_queue=get_settings().task_queue)
    done = await wait_for_state(api, admin, campaign_id, {"completed"})
    assert done["counts"]["invited"] == 1 and done["counts"]["failed"] == 1, done
    async with session_scope() as session:
        stored = {r.row_number: r for r in (await session.exec(select(CampaignRow).where(
            CampaignRow.campaign_id == campaign_id))).all()}
        invited = await session.get(Invitation, stored[2].invitation_id)
    assert stored[1].state == "failed" and stored[1].reason.startswith("Authorization_RequestDenied:")
    assert await find_user(emails[0]) is None
    assert stored[2].state == "invited" and invited.invited_by_role == Role.guest_inviter

