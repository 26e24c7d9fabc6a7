"""The worker SIGKILLed twice mid-campaign, restarted each time: the campaign completes, every row
is invited, and every address receives exactly one invitation mail.

Rows and mails the killed worker had started are retried only once their activity's
start-to-close timeout has passed (no heartbeats): up to ROW_TIMEOUT (2 minutes) after the kill,
hence the long, bounded waits."""

import pytest

from foyer.models.base import utcnow
from tests.conftest import DATABASE_KIND
from tests.process_stack import campaign_emails, stack  # noqa: F401

# On PostgreSQL the production topology test (tests/test_production_topology.py) SIGKILLs a worker
# in the middle of a 2,000-row campaign and checks the same things (every row invited once, every
# mail sent once); this one is the SQLite pass's worker-kill test.
pytestmark = [pytest.mark.long_running(80), pytest.mark.skipif(
    DATABASE_KIND == "postgres",
    reason="the PostgreSQL pass kills a worker mid-campaign in tests/test_production_topology.py")]

ROWS = 150


@pytest.mark.timeout(480)
async def test_campaign_survives_two_worker_kills(stack, admin):  # noqa: F811
    emails = campaign_emails(ROWS, "killed")
    campaign_id = await stack.start_campaign(admin, emails, concurrency=10, ratePerMinute=6000)

    kills = []
    for at_least in (30, 90):
        await stack.wait_for_invited(admin, campaign_id, at_least, timeout=240)
        assert stack.worker.alive()
        kills.append(utcnow())
        stack.worker.kill()
        stack.worker.start()
        await stack.worker.wait_polling()
    # Both kills fell mid-campaign: rows were still waiting.
    assert (await stack.campaign(admin, campaign_id))["counts"]["pending"] > 0

    done = await stack.wait_for_state(admin, campaign_id, "completed", timeout=300)
    assert done["counts"]["invited"] == ROWS
    assert done["counts"]["pending"] == done["counts"]["failed"] == 0
    assert await stack.row_states(campaign_id) == {"invited": ROWS}

    await stack.wait_for_mail(campaign_id, emails, timeout=150)
    await stack.assert_each_mailed_once(emails, kills)
    assert len(stack.worker.pids) == 3  # the first worker and two restarts
