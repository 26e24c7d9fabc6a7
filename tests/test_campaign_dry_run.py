"""A dry run answers every row's verdict, naming the row and the column, and invites nobody."""

from sqlmodel import func, select

from foyer.db import session_scope
from foyer.models.campaign import Campaign
from tests.factories import update_organization
from tests.support import invite


ENTRA_HEADER = ("version:v1.0\n"
                "Email address to invite [inviteeEmail] Required,Redirection url [inviteRedirectURL] Required,"
                "Send invitation message (true or false) [sendEmail],Customized invitation message "
                "[customizedMessageBody],Display name [displayName],Groups [groupIds]\n"
                "Example: someone@something.com,https://www.microsoft.com,true,Hello,,\n")


async def test_every_kind_of_bad_row(api, admin, mail, organization_id, make_member, new_email):
    await update_organization(organization_id, domain_list_mode="blockList", domain_list=["blocked.example"])
    member = await make_member()
    already = new_email()
    await invite(api, admin, already, sendInvitationMessage=False)
    good, dup = new_email(), new_email()
    body = ENTRA_HEADER + "\n".join([
        f"{good},https://app.contoso.test/,true,Welcome,Good Guest,",        # line 4
        "not-an-address,https://app.contoso.test/,true,,,",                   # 5
        "eve@blocked.example,https://app.contoso.test/,true,,,",              # 6
        f"{dup},https://app.contoso.test/,true,,,",                           # 7
        f"{dup.upper()},https://app.contoso.test/,false,,,",                  # 8 duplicate
        f"{member.mail},https://app.contoso.test/,true,,,",                   # 9 member
        f"{already},https://app.contoso.test/,true,,,",                       # 10 invited
        f"{new_email()},,true,,,",                                            # 11 no redirect
        f"{new_email()},https://app.contoso.test/,perhaps,,,",                # 12 bad flag
        f"{new_email()},https://app.contoso.test/,true,,,no-such-group",      # 13 unknown group
    ]) + "\n"
    async with session_scope() as session:
        campaigns_before = (await session.exec(select(func.count()).select_from(Campaign))).one()
    response = await api.post("/v1.0/invitationCampaigns", headers=admin,
                              files={"file": ("partners.csv", body, "text/csv")}, data={"dryRun": "true"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["dryRun"] is True and result["rowCount"] == 10 and result["validCount"] == 2
    codes = {row["row"]: [(p["column"], p["code"]) for p in row["problems"]] for row in result["rows"]}
    assert codes == {
        4: [], 5: [("inviteeEmail", "badAddress")], 6: [("inviteeEmail", "domainNotAllowed")], 7: [],
        8: [("inviteeEmail", "duplicateInFile")], 9: [("inviteeEmail", "alreadyMember")],
        10: [("inviteeEmail", "alreadyInvited")], 11: [("inviteRedirectURL", "missingRedirectUrl")],
        12: [("sendEmail", "badValue")], 13: [("groupIds", "unknownGroup")],
    }
    assert "row 7" in result["rows"][4]["problems"][0]["message"]
    async with session_scope() as session:
        assert (await session.exec(select(func.count()).select_from(Campaign))).one() == campaigns_before
    assert mail.to(good) == []


async def test_unreadable_input_is_a_clear_400(api, admin):
    no_email = await api.post("/v1.0/invitationCampaigns", headers=admin,
                              files={"file": ("x.csv", "name,url\na,b\n", "text/csv")})
    assert no_email.status_code == 400 and "inviteeEmail" in no_email.json()["error"]["message"]
    empty = await api.post("/v1.0/invitationCampaigns", headers=admin, json={"rows": []})
    assert empty.status_code == 400
    wrong = await api.post("/v1.0/invitationCampaigns", headers=admin, json={"rows": "nope"})
    assert wrong.status_code == 400
    rate = await api.post("/v1.0/invitationCampaigns", headers=admin, json={
        "rows": [{"invitedUserEmailAddress": "a@b.example", "inviteRedirectUrl": "https://x.test/"}],
        "ratePerMinute": 0})
    assert rate.status_code == 400 and "ratePerMinute" in rate.json()["error"]["message"]
    member = await api.post("/v1.0/invitationCampaigns", json={"rows": []})
    assert member.status_code == 401
