"""A campaign mixing new addresses with one whose guest already exists (an invitation that was
revoked): the new ones go through the batch path, the known one through the one-row path; every
row is invited once, every address mailed once, and the known guest keeps its user id."""

import uuid

from tests.support import find_user, invitation_mail_settled, invite
from tests.test_campaign_end_to_end import wait_for_state


async def test_known_address_takes_the_one_row_path(api, admin, mail):
    domain = f"known-{uuid.uuid4().hex[:6]}.example"
    known = f"returning@{domain}"
    first = await invite(api, admin, known)
    assert (await api.post(f"/v1.0/invitations/{first['id']}/revoke", headers=admin)).status_code == 200
    await mail.wait_for(known)
    guest = await find_user(known)

    emails = [known, *(f"new{i}@{domain}" for i in range(20))]
    response = await api.post("/v1.0/invitationCampaigns", headers=admin, json={"rows": [
        {"invitedUserEmailAddress": e, "inviteRedirectUrl": "https://app.test/"} for e in emails], "concurrency": 10})
    assert response.status_code == 201, response.text
    done = await wait_for_state(api, admin, response.json()["id"], {"completed"})
    assert done["counts"]["invited"] == 21 and done["counts"]["failed"] == 0

    await mail.wait_for(known, count=2)  # the revoked invitation's mail, then the campaign's
    for email in emails[1:]:
        await mail.wait_for(email)
    await invitation_mail_settled(emails)  # then nothing more may arrive
    assert len(mail.to(known)) == 2 and all(len(mail.to(e)) == 1 for e in emails[1:])
    assert (await find_user(known)).id == guest.id
    invitations = (await api.get("/v1.0/invitations", headers=admin,
                                 params={"$filter": f"invitedUserEmailAddress eq '{known}'"})).json()["value"]
    assert sorted(i["foyerState"] for i in invitations) == ["pending", "revoked"]
