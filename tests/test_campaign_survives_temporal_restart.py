"""The Temporal dev server SIGKILLed mid-campaign and started again on its database file (same
port): the worker, left running, reconnects by itself; the campaign finishes with every row
invited and every address mailed exactly once."""

import pytest

from foyer.models.base import utcnow
from tests.process_stack import campaign_emails, stack  # noqa: F401

pytestmark = pytest.mark.long_running(40)

ROWS = 150


@pytest.mark.timeout(420)
async def test_campaign_survives_temporal_restart(stack, admin):  # noqa: F811
    emails = campaign_emails(ROWS, "restart")
    campaign_id = await stack.start_campaign(admin, emails, concurrency=10, ratePerMinute=6000)

    await stack.wait_for_invited(admin, campaign_id, 50, timeout=120)
    outage = [utcnow()]
    await stack.temporal.kill()
    pending = (await stack.campaign(admin, campaign_id))["counts"]["pending"]
    assert pending > 0  # killed mid-campaign
    await stack.temporal.start()  # same --db-filename, same port
    outage.append(utcnow())
    assert stack.temporal.starts == 2

    done = await stack.wait_for_state(admin, campaign_id, "completed", timeout=300)
    assert done["counts"]["invited"] == ROWS
    assert done["counts"]["pending"] == done["counts"]["failed"] == 0
    assert await stack.row_states(campaign_id) == {"invited": ROWS}

    await stack.wait_for_mail(campaign_id, emails, timeout=150)
    await stack.assert_each_mailed_once(emails, outage)
    assert stack.worker.alive() and len(stack.worker.pids) == 1  # never restarted
