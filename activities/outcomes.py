"""Counters of the outcomes of Foyer's outbound calls (API connectors, custom extensions).

They go through the SDK's metric meter, so the worker serves them next to the SDK's own
temporal_* metrics on FOYER_WORKER_METRICS_ADDRESS (foyer.temporal.worker_runtime); without that
address the SDK's meter drops them. The meter adds the activity type, task queue and namespace;
the labels here are outcomes only, never a URL, an address or a name.
"""

from temporalio import activity


def count_call(metric: str, description: str, **labels: str) -> None:
    """Add one to the counter `metric` with `labels` (from inside an activity)."""
    activity.metric_meter().create_counter(metric, description).add(1, labels)
