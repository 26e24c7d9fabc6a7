"""A 200-row campaign on the dev server: every guest written, every invitation mailed exactly
once, counts and the results CSV agree with the directory."""

import pytest
import asyncio
import csv
import io

from sqlmodel import func, select

from foyer.db import session_scope
from foyer.models.directory import User
from tests.support import invitation_mail_settled, unique_email

pytestmark = pytest.mark.long_running(26)


async def wait_for_state(api, headers, campaign_id: str, states: set[str], timeout: float = 90) -> dict:
    for _ in range(int(timeout / 0.25)):
        body = (await api.get(f"/v1.0/invitationCampaigns/{campaign_id}", headers=headers)).json()
        if body["state"] in states:
            return body
        await asyncio.sleep(0.25)
    raise AssertionError(f"campaign {campaign_id} stayed {body['state']}: {body['counts']}")


async def test_two_hundred_rows_each_mailed_once(api, admin, mail):
    domain = f"bulk-{unique_email().split('@')[0][-6:]}.example"
    emails = [f"guest{i:03d}@{domain}" for i in range(200)]
    rows = [{"invitedUserEmailAddress": e, "inviteRedirectUrl": "https://app.contoso.test/",
             "sendInvitationMessage": True, "invitedUserDisplayName": f"Guest {i}"} for i, e in enumerate(emails)]
    rows.append({"invitedUserEmailAddress": "broken", "inviteRedirectUrl": "https://app.contoso.test/"})
    response = await api.post("/v1.0/invitationCampaigns", headers=admin, json={
        "displayName": "Partner onboarding", "rows": rows, "concurrency": 25})
    assert response.status_code == 201, response.text
    campaign = response.json()
    assert campaign["rowCount"] == 201 and campaign["counts"]["skipped"] == 1

    done = await wait_for_state(api, admin, campaign["id"], {"completed"})
    assert done["counts"] == {"pending": 0, "invited": 200, "redeemed": 0, "skipped": 1, "failed": 0,
                              "canceled": 0}
    for email in emails:
        await mail.wait_for(email)
    await invitation_mail_settled(emails)  # then nothing more may arrive
    assert all(len(mail.to(e)) == 1 for e in emails)
    async with session_scope() as session:
        guests = (await session.exec(select(func.count()).select_from(User).where(
            User.mail.endswith(f"@{domain}")))).one()
    assert guests == 200

    results = await api.get(f"/v1.0/invitationCampaigns/{campaign['id']}/results", headers=admin)
    assert results.status_code == 200 and results.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(results.text)))
    assert len(table) == 201
    assert {r["result"] for r in table} == {"invited", "skipped"}
    assert next(r for r in table if r["result"] == "skipped")["reason"].startswith("inviteeEmail:")
    assert all(r["invitationId"] for r in table if r["result"] == "invited")
    # The same results as JSON, for a client that asks for it (the shape /openapi.json declares).
    as_json = await api.get(f"/v1.0/invitationCampaigns/{campaign['id']}/results",
                            headers={**admin, "Accept": "application/json"})
    assert as_json.status_code == 200 and as_json.headers["content-type"].startswith("application/json")
    items = as_json.json()["value"]
    assert [(i["row"], i["invitedUserEmailAddress"], i["result"], i["invitationId"] or "", i["redeemed"])
            for i in items] == [(int(r["row"]), r["invitedUserEmailAddress"], r["result"], r["invitationId"],
                                 r["redeemed"] == "true") for r in table]
    assert next(i for i in items if i["result"] == "skipped")["reason"].startswith("inviteeEmail:")

    listed = (await api.get("/v1.0/invitationCampaigns", headers=admin)).json()["value"]
    assert campaign["id"] in {c["id"] for c in listed}
