"""Counters of the outcomes of Foyer's outbound calls (API connectors, custom extensions).

They go through the SDK's metric meter, so the worker serves them next to the SDK's own
temporal_* metrics on FOYER_WORKER_METRICS_ADDRESS (foyer.temporal.worker_runtime); without that
address the SDK's meter drops them. The meter adds the activity type, task queue and namespace;
the labels here are outcomes only, never a URL, an address or a name.
"""

import logging

from temporalio import activity

log = logging.getLogger("foyer.outbound")


def count_call(metric: str, description: str, **labels: str) -> None:
    """Add one to the counter `metric` with `labels` (from inside an activity), and log the
    outcome (foyer.logs adds the workflow, run and trace ids; no URL or name is logged)."""
    activity.metric_meter().create_counter(metric, description).add(1, labels)
    log.info("outbound call %s", metric.removeprefix("foyer_").removesuffix("_outcomes"),
             extra={"outcome": labels})
