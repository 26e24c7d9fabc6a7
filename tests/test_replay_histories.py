"""Determinism gate: every recorded workflow history in tests/histories/ must replay
against today's workflow code without a nondeterminism error.

The histories come from `python -m bench.record_histories` (a real dev server, worker, database
and SMTP server). A failure here means a workflow change would break runs already in flight:
guard it with `workflow.patched(...)`, or, if no old run can still be open, re-record.
Needs no server and none of conftest's fixtures.
"""

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from foyer.worker import WORKFLOWS

pytestmark = pytest.mark.database_independent

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    data = json.loads(path.read_text())
    started = data["events"][0].get("workflowExecutionStartedEventAttributes", {})
    workflow_id = started.get("rootWorkflowExecution", {}).get("workflowId") or path.stem
    return WorkflowHistory.from_json(workflow_id, data)


def test_enough_histories_recorded():
    assert len(HISTORIES) >= 4, f"expected at least 4 recorded histories, found {HISTORIES}"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays_deterministically(path: Path):
    history = load(path)
    assert history.events[0].HasField("workflow_execution_started_event_attributes")
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    # Raises (temporalio.workflow.NondeterminismError among others) if replay diverges.
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None
