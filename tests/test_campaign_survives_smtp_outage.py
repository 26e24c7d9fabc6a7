"""The SMTP server stopped mid-campaign and started again a few seconds later: the campaign
finishes, no row fails, and every address receives exactly one invitation mail."""

import pytest
from sqlalchemy import String, cast
from sqlmodel import col, func, select

from foyer.db import session_scope
from foyer.models.base import utcnow
from foyer.models.outbox import OutboxMessage
from tests.process_stack import campaign_emails, eventually, stack  # noqa: F401

pytestmark = pytest.mark.long_running(35)

ROWS = 150


async def failed_deliveries(domain: str) -> int:
    """Outbox messages to the campaign's addresses that have met a refused or dropped delivery."""
    async with session_scope() as session:
        return (await session.exec(select(func.count()).select_from(OutboxMessage).where(
            col(OutboxMessage.key).startswith("invitation:"), OutboxMessage.last_error.is_not(None),
            cast(OutboxMessage.to_addresses, String).like(f"%@{domain}%")))).one()


@pytest.mark.timeout(300)
async def test_campaign_survives_smtp_outage(stack, admin):  # noqa: F811
    emails = campaign_emails(ROWS, "outage")
    domain = emails[0].split("@")[1]
    campaign_id = await stack.start_campaign(admin, emails, concurrency=10, ratePerMinute=6000)

    await eventually(lambda: len(stack.mail.messages) >= 20, "the first mails", timeout=120)
    outage = [utcnow()]
    stack.mail.stop()
    # The outage is seen: deliveries fail and are recorded as such, and nothing arrives meanwhile.
    received = len(stack.mail.messages)
    await eventually(failed_deliveries_of(domain), "failed deliveries during the outage", timeout=60)
    assert len(stack.mail.messages) == received
    outage.append(utcnow())
    stack.mail.start()

    done = await stack.wait_for_state(admin, campaign_id, "completed", timeout=180)
    assert done["counts"]["invited"] == ROWS
    assert done["counts"]["failed"] == done["counts"]["pending"] == 0
    assert await stack.row_states(campaign_id) == {"invited": ROWS}

    await stack.wait_for_mail(campaign_id, emails, timeout=180)
    await stack.assert_each_mailed_once(emails, outage)


def failed_deliveries_of(domain: str):
    async def check():
        return await failed_deliveries(domain) >= 3
    return check
