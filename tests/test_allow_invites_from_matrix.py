"""allowInvitesFrom × who invites: Global Administrator, User Administrator, Guest Inviter, a
member, a member who owns the group they pre-assign, a guest. Allowed is a 201; refused a 403 that
names the setting. Resending follows the same setting: whoever may invite resends what they sent."""

import pytest

from foyer.models.enums import Role
from tests.factories import make_group_and_app, make_owner, make_person, update_organization
from tests.support import unique_email

KINDS = ["Global Administrator", "User Administrator", "Guest Inviter", "member", "member owner", "guest"]
ALLOWED = {
    "none": set(),
    "adminsAndGuestInviters": {"Global Administrator", "User Administrator", "Guest Inviter"},
    "adminsGuestInvitersAndAllMembers": {"Global Administrator", "User Administrator", "Guest Inviter",
                                         "member", "member owner"},
    "everyone": set(KINDS),
}


def _body(**extra) -> dict:
    return {"invitedUserEmailAddress": unique_email(), "inviteRedirectUrl": "https://app.contoso.test/",
            "sendInvitationMessage": False, **extra}


async def _caller(organization_id: str, kind: str) -> tuple[dict, dict]:
    """(Authorization headers, extra invitation properties) for a kind of caller."""
    if kind == "member owner":
        owner, headers = await make_person(organization_id, Role.member, "Owen Owner")
        group, _ = await make_group_and_app(organization_id, "Owen's")
        await make_owner(group, owner.id)
        return headers, {"foyerPreAssignedGroupIds": [group.id]}
    _, headers = await make_person(organization_id, kind, f"{kind} inviter", guest=kind == Role.guest)
    return headers, {}


@pytest.mark.parametrize("setting", list(ALLOWED))
async def test_who_may_invite(api, organization_id, setting):
    await update_organization(organization_id, allow_invites_from=setting)
    for kind in KINDS:
        headers, extra = await _caller(organization_id, kind)
        response = await api.post("/v1.0/invitations", headers=headers, json=_body(**extra))
        if kind in ALLOWED[setting]:
            assert response.status_code == 201, (setting, kind, response.text)
            assert response.json()["foyerPreAssignedGroupIds"] == extra.get("foyerPreAssignedGroupIds", [])
        else:
            assert response.status_code == 403, (setting, kind, response.text)
            error = response.json()["error"]
            assert error["code"] == "Authorization_RequestDenied"
            assert f"allowInvitesFrom={setting}" in error["message"], error


async def test_a_member_resends_what_they_sent_while_they_may_invite(api, organization_id):
    _, alice = await make_person(organization_id, Role.member, "Alice Inviter")
    _, bob = await make_person(organization_id, Role.member, "Bob Bystander")
    created = await api.post("/v1.0/invitations", headers=alice, json=_body())
    assert created.status_code == 201, created.text
    path = f"/v1.0/invitations/{created.json()['id']}/resend"

    others = await api.post(path, headers=bob)
    assert others.status_code == 403
    assert "resend the invitations you sent" in others.json()["error"]["message"]
    resent = await api.post(path, headers=alice)
    assert resent.status_code == 201, resent.text

    await update_organization(organization_id, allow_invites_from="adminsAndGuestInviters")
    refused = await api.post(f"/v1.0/invitations/{resent.json()['id']}/resend", headers=alice)
    assert refused.status_code == 403
    assert "allowInvitesFrom=adminsAndGuestInviters" in refused.json()["error"]["message"]
