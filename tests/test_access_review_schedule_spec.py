"""What a definition's recurrence becomes on its Temporal Schedule (workflows.client.access_reviews.schedule_spec):
weekly every n weeks aligned on the start date, absoluteMonthly on its day every n months, a start
date today or past fires the first occurrence at once (and the schedule takes over after it), a
numbered range limits the remaining actions, an end date closes the spec."""

from datetime import datetime, timedelta, timezone

import pytest

from foyer.workflows.client.access_reviews import EPOCH, schedule_spec

pytestmark = pytest.mark.database_independent

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=timezone.utc)


def test_weekly_from_a_future_date_every_two_weeks():
    spec, state, immediately = schedule_spec(
        {"pattern": {"type": "weekly", "interval": 2}, "range": {"type": "noEnd", "startDate": "2026-12-10"}}, NOW)
    [interval] = spec.intervals
    start = datetime(2026, 12, 10, tzinfo=timezone.utc)
    assert interval.every == timedelta(weeks=2) and (EPOCH + interval.offset - start) % interval.every == timedelta(0)
    assert spec.start_at == start and not immediately and not state.limited_actions


def test_monthly_started_today_numbered_and_ending():
    spec, state, immediately = schedule_spec(
        {"pattern": {"type": "absoluteMonthly", "interval": 3, "dayOfMonth": 3},
         "range": {"type": "numbered", "startDate": "2026-12-03", "numberOfOccurrences": 4}}, NOW)
    [calendar] = spec.calendars
    assert [(r.start, r.end, r.step) for r in calendar.day_of_month] == [(3, 3, 1)]
    assert [(r.start, r.end, r.step) for r in calendar.month] == [(3, 12, 3)]  # Mar, Jun, Sep, Dec
    assert immediately and spec.start_at == datetime(2026, 12, 4, tzinfo=timezone.utc)
    assert state.limited_actions and state.remaining_actions == 3

    spec, _, _ = schedule_spec({"pattern": {"type": "weekly", "interval": 1},
                                "range": {"type": "endDate", "startDate": "2026-12-01", "endDate": "2027-03-31"}}, NOW)
    assert spec.end_at == datetime(2027, 3, 31, 23, 59, 59, tzinfo=timezone.utc)
