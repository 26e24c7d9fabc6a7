"""Foyer's business gauges for Prometheus, read from the directory when /metrics is scraped.

No background loop polls the database: the /metrics handler awaits `DirectoryCollector.refresh()`
(a few COUNT ... GROUP BY queries on indexed columns, one read-only session) and then
prometheus_client renders what it read. Every replica reads the same database, so every replica
reports the same figures: aggregate them across replicas with max(), not sum().

The labels are states, never ids, names, addresses or tokens: nothing here identifies a person.
"""

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlmodel import select

from foyer.db import reading
from foyer.models.campaign import CampaignRow
from foyer.models.entitlement import ApprovalStage, AssignmentRequest, CustomExtensionCall
from foyer.models.invitation import Invitation
from foyer.models.outbox import OutboxMessage

log = logging.getLogger("foyer.metrics")

# (metric name, help, the table's state column): one gauge family, one sample per state present.
BY_STATE = [
    ("foyer_invitations", "Invitations by state (pending, redeemed, expired, revoked, superseded).",
     Invitation.state),
    ("foyer_access_requests", "Access package assignment requests by state.", AssignmentRequest.state),
    ("foyer_campaign_rows", "Campaign rows by state, over every campaign.", CampaignRow.state),
    ("foyer_custom_extension_calls", "Custom extension calls by outcome (sent, failed, resumed, timedOut).",
     CustomExtensionCall.state),
]
# The outbox's sent rows grow without bound; only the two states an operator watches are counted.
OUTBOX_WATCHED = ("pending", "failed")


async def read_directory() -> dict[str, dict[str, int]]:
    """{metric name: {state: count}} for the gauges, read in one read-only session."""
    counts: dict[str, dict[str, int]] = {}
    async with reading() as session:
        for name, _help, column in BY_STATE:
            rows = await session.exec(select(column, func.count()).group_by(column))
            counts[name] = {str(state): count for state, count in rows.all()}
        rows = await session.exec(select(OutboxMessage.state, func.count())
                                  .where(OutboxMessage.state.in_(OUTBOX_WATCHED))
                                  .group_by(OutboxMessage.state))
        counts["foyer_outbox_messages"] = {state: 0 for state in OUTBOX_WATCHED} | dict(rows.all())
        # A stage waits for a decision while it is in progress on a request still pending approval
        # (the same rule as the approver's list, api/pages/approvals.py).
        waiting = await session.exec(
            select(func.count()).select_from(ApprovalStage)
            .join(AssignmentRequest, AssignmentRequest.id == ApprovalStage.request_id)
            .where(ApprovalStage.status == "InProgress", AssignmentRequest.state == "pendingApproval"))
        counts["foyer_approval_stages_waiting"] = {"": waiting.one()}
    return counts


class DirectoryCollector(Collector):
    """The gauges of the last `refresh()`; `foyer_directory_read_ok` is 0 when it failed (the
    HTTP metrics are still served: a database outage must not blind the scrape)."""

    HELP = {name: help_ for name, help_, _column in BY_STATE} | {
        "foyer_outbox_messages": "Outbox messages not yet sent (pending) or given up on (failed).",
        "foyer_approval_stages_waiting": "Approval stages waiting for an approver's decision.",
    }

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = {}
        self.read_ok = False

    async def refresh(self) -> None:
        try:
            self.counts = await read_directory()
            self.read_ok = True
        except Exception:  # the scrape goes on without the gauges; the reason goes to the log
            log.exception("metrics: reading the directory failed")
            self.counts, self.read_ok = {}, False

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("foyer_directory_read_ok",
                                "1 if the last scrape read the directory's figures, 0 if that failed.",
                                value=1 if self.read_ok else 0)
        for name, by_state in self.counts.items():
            if "" in by_state:  # a single figure, no state label
                yield GaugeMetricFamily(name, self.HELP[name], value=by_state[""])
                continue
            family = GaugeMetricFamily(name, self.HELP[name], labels=["state"])
            for state, count in sorted(by_state.items()):
                family.add_metric([state], count)
            yield family

    def describe(self) -> list:
        return []  # the families depend on the database: collected only at scrape time
