"""The FOYER_WORKER_* concurrency settings and `foyer worker`'s flags reach the Temporal SDK's two
workers (worker.build_worker: the workflow worker with its local activities, the activity worker),
each only the options that concern it; unset ones keep the SDK's defaults."""

import uuid

import pytest

from foyer.cli import build_parser, worker_sizes
from foyer.settings import Settings
from foyer.worker import build_worker


def configured(worker, name: str):
    return worker._config.get(name)  # what the SDK Worker was built with


async def test_settings_reach_both_sdk_workers(temporal, monkeypatch):
    for name, value in {"ACTIVITIES": "17", "WORKFLOW_TASKS": "9", "LOCAL_ACTIVITIES": "23"}.items():
        monkeypatch.setenv(f"FOYER_WORKER_MAX_CONCURRENT_{name}", value)
    monkeypatch.setenv("FOYER_WORKER_WORKFLOW_TASK_POLLS", "3")
    monkeypatch.setenv("FOYER_WORKER_ACTIVITY_TASK_POLLS", "4")
    monkeypatch.setenv("FOYER_WORKER_MAX_CACHED_WORKFLOWS", "")  # empty = unset: the SDK's default
    monkeypatch.setattr("foyer.worker.get_settings", lambda: Settings(_env_file=None))
    workflows, activities = build_worker(temporal.client, task_queue=f"sizes-{uuid.uuid4().hex[:8]}").workers
    assert configured(workflows, "workflows") and configured(workflows, "no_remote_activities")
    assert (configured(workflows, "max_concurrent_workflow_tasks"),
            configured(workflows, "max_concurrent_local_activities"),
            configured(workflows, "max_concurrent_workflow_task_polls")) == (9, 23, 3)
    assert (configured(activities, "max_concurrent_activities"),
            configured(activities, "max_concurrent_activity_task_polls")) == (17, 4)
    # Each worker gets only its own sizes; the cache keeps the SDK's default (1000).
    assert configured(workflows, "max_concurrent_activities") is None
    assert configured(activities, "max_concurrent_workflow_tasks") is None
    assert configured(workflows, "max_cached_workflows") == 1000


async def test_defaults_and_flags_win_over_settings(temporal, monkeypatch):
    monkeypatch.setattr("foyer.worker.get_settings", lambda: Settings(_env_file=None, worker_max_concurrent_activities=40))
    workflows, activities = build_worker(temporal.client, task_queue=f"sizes-{uuid.uuid4().hex[:8]}").workers
    assert configured(activities, "max_concurrent_activities") == 40
    assert configured(workflows, "max_concurrent_workflow_tasks") is None  # the SDK's own default

    sizes = worker_sizes(build_parser().parse_args(
        ["worker", "--max-concurrent-activities", "5", "--max-concurrent-workflow-tasks", "6"]))
    assert sizes == {"max_concurrent_activities": 5, "max_concurrent_workflow_tasks": 6}
    # (one SDK worker per queue and client: a fresh queue for the second build)
    workflows, activities = build_worker(temporal.client, task_queue=f"sizes-{uuid.uuid4().hex[:8]}",
                                         **sizes).workers
    assert configured(activities, "max_concurrent_activities") == 5
    assert configured(workflows, "max_concurrent_workflow_tasks") == 6
    assert worker_sizes(build_parser().parse_args(["worker"])) == {}


@pytest.mark.parametrize("name, value", [("FOYER_WORKER_MAX_CONCURRENT_ACTIVITIES", "0"),
                                         ("FOYER_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS", "1"),
                                         ("FOYER_DATABASE_POOL_SIZE", "0")])
def test_sizes_out_of_range_are_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name.removeprefix("FOYER_").lower()):
        Settings(_env_file=None)
