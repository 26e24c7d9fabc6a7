"""Pause stops new rows until resume; cancel stops new rows for good, and rows already invited
stay invited; retry sends failed rows again."""

import asyncio

from tests.factories import update_organization
from tests.support import unique_email
from tests.test_campaign_end_to_end import wait_for_state


def rows(count: int) -> list[dict]:
    domain = f"paced-{unique_email().split('@')[0][-6:]}.example"
    return [{"invitedUserEmailAddress": f"g{i}@{domain}", "inviteRedirectUrl": "https://app.contoso.test/",
             "sendInvitationMessage": False} for i in range(count)]


async def counts(api, headers, campaign_id: str) -> dict:
    return (await api.get(f"/v1.0/invitationCampaigns/{campaign_id}", headers=headers)).json()["counts"]


async def test_pause_resume_then_cancel(api, admin):
    # 60 a minute: one row a second, slow enough to act in between.
    created = (await api.post("/v1.0/invitationCampaigns", headers=admin, json={
        "rows": rows(40), "ratePerMinute": 60, "concurrency": 1})).json()
    campaign_id = created["id"]
    for _ in range(100):
        if (await counts(api, admin, campaign_id))["invited"] >= 2:
            break
        await asyncio.sleep(0.1)
    assert (await api.post(f"/v1.0/invitationCampaigns/{campaign_id}/pause", headers=admin)).status_code == 202
    paused = await wait_for_state(api, admin, campaign_id, {"paused"})
    await asyncio.sleep(2.5)
    still = await counts(api, admin, campaign_id)
    assert still["invited"] <= paused["counts"]["invited"] + 1  # at most the row already under way
    assert still["pending"] > 0

    assert (await api.post(f"/v1.0/invitationCampaigns/{campaign_id}/resume", headers=admin)).status_code == 202
    await wait_for_state(api, admin, campaign_id, {"running"})
    for _ in range(300):  # rows flow again (one a second): wait for the next one, bounded
        resumed = await counts(api, admin, campaign_id)
        if resumed["invited"] > still["invited"]:
            break
        await asyncio.sleep(0.1)
    assert resumed["invited"] > still["invited"]

    canceled = await api.post(f"/v1.0/invitationCampaigns/{campaign_id}/cancel", headers=admin)
    assert canceled.status_code == 200, canceled.text
    final = await wait_for_state(api, admin, campaign_id, {"canceled"})
    assert final["counts"]["pending"] == 0
    assert final["counts"]["invited"] >= resumed["invited"]
    assert final["counts"]["canceled"] == 40 - final["counts"]["invited"]

    again = await api.post(f"/v1.0/invitationCampaigns/{campaign_id}/cancel", headers=admin)
    assert again.status_code == 409
    assert (await api.post(f"/v1.0/invitationCampaigns/{campaign_id}/pause", headers=admin)).status_code == 409


async def test_failed_rows_are_retried(api, admin, organization_id):
    batch = rows(3)
    created = (await api.post("/v1.0/invitationCampaigns", headers=admin, json={"rows": batch})).json()
    done = await wait_for_state(api, admin, created["id"], {"completed"})
    assert done["counts"]["invited"] == 3
    # Block the domain, then start rows that will now fail at invitation time.
    domain = batch[0]["invitedUserEmailAddress"].split("@")[1]
    fresh = [{**r, "invitedUserEmailAddress": "new-" + r["invitedUserEmailAddress"]} for r in batch]
    later = (await api.post("/v1.0/invitationCampaigns", headers=admin, json={
        "rows": fresh, "ratePerMinute": 60, "concurrency": 1})).json()
    await update_organization(organization_id, domain_list_mode="blockList", domain_list=[domain])
    failed = await wait_for_state(api, admin, later["id"], {"completed"})
    assert failed["counts"]["failed"] >= 1
    await update_organization(organization_id, domain_list_mode="none", domain_list=[])
    retried = await api.post(f"/v1.0/invitationCampaigns/{later['id']}/retryFailed", headers=admin)
    assert retried.status_code == 200, retried.text
    final = await wait_for_state(api, admin, later["id"], {"completed"})
    assert final["counts"]["failed"] == 0 and final["counts"]["invited"] == 3
