"""The per-minute sending rate holds (time-skipping server): 5 a minute means 5 in the first
minute, 10 after the second, and so on, however many the window would allow."""

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import insert
from sqlmodel import func, select

from foyer.db import session_scope
from foyer.settings import get_settings
from foyer.models.campaign import Campaign, CampaignRow
from foyer.workflows.campaign import CampaignWorkflow
from foyer.workflows.messages import CampaignInput, campaign_workflow_id


async def invited(campaign_id: str) -> int:
    async with session_scope() as session:
        return (await session.exec(select(func.count()).select_from(CampaignRow).where(
            CampaignRow.campaign_id == campaign_id, CampaignRow.state == "invited"))).one()


async def settle(campaign_id: str, expected: int) -> int:
    for _ in range(100):
        count = await invited(campaign_id)
        if count >= expected:
            return count
        await asyncio.sleep(0.05)
    return await invited(campaign_id)


async def test_rate_per_minute_holds(time_env, organization_id):
    campaign_id = str(uuid.uuid4())
    domain = f"rate-{campaign_id[:6]}.example"
    async with session_scope() as session:
        session.add(Campaign(id=campaign_id, organization_id=organization_id, display_name="Paced",
                             rate_per_minute=5, concurrency=10, workflow_id=campaign_workflow_id(campaign_id),
                             row_count=12))
        await session.flush()
        await session.exec(insert(CampaignRow).values([{
            "id": str(uuid.uuid4()), "campaign_id": campaign_id, "row_number": n, "email": f"g{n}@{domain}",
            "invite_redirect_url": "https://app.contoso.test/", "send_invitation_message": False,
            "group_ids": [], "application_ids": [], "state": "pending", "attempts": 0} for n in range(1, 13)]))
    handle = await time_env.client.start_workflow(
        CampaignWorkflow.run, CampaignInput(campaign_id=campaign_id, concurrency=10, rate_per_minute=5),
        id=campaign_workflow_id(campaign_id), task_queue=get_settings().task_queue)

    assert await settle(campaign_id, 5) == 5
    await time_env.sleep(timedelta(seconds=30))
    assert await invited(campaign_id) == 5  # the minute's budget is spent
    await time_env.sleep(timedelta(seconds=31))
    assert await settle(campaign_id, 10) == 10
    await time_env.sleep(timedelta(seconds=61))
    assert await settle(campaign_id, 12) == 12
    status = await handle.result()
    assert (status.state, status.after_row) == ("completed", 12)
    async with session_scope() as session:
        assert (await session.get(Campaign, campaign_id)).state == "completed"
