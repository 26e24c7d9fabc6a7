"""The invitation campaign's contract: the CampaignWorkflow's input, signals, Updates, query and
results, its activities' inputs and outputs, and the business-key ids of the campaign and of
what its rows start."""

import uuid

from pydantic import BaseModel

# The CampaignWorkflow's signals (no argument).
PAUSE = "pause"
RESUME = "resume"


def campaign_workflow_id(campaign_id: str) -> str:
    return f"campaign:{campaign_id}"


def row_invitation_id(campaign_id: str, row_number: int) -> str:
    """The invitation a row makes: derived, so a retried row makes the same invitation."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"campaign:{campaign_id}:row:{row_number}"))


def row_package_request_id(campaign_id: str, row_number: int, entry: str) -> str:
    """The access package request a row makes for one of its packages (entry: the package as the
    row names it)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"campaign:{campaign_id}:row:{row_number}:package:{entry}"))


# --- the workflow's input, query and results ------------------------------------------------

class CampaignInput(BaseModel):
    campaign_id: str
    concurrency: int = 20
    rate_per_minute: int = 600
    # Carried across continue-as-new: rows up to here have been started.
    after_row: int = 0
    paused: bool = False
    retry_failed: bool = False


class CampaignStatus(BaseModel):
    state: str  # running | paused | canceled | completed
    after_row: int
    in_flight: int
    started_this_run: int


# --- activity payloads ----------------------------------------------------------------------

class NextRowsInput(BaseModel):
    campaign_id: str
    after_row: int
    limit: int


class RowInput(BaseModel):
    campaign_id: str
    row_number: int


class BatchInput(BaseModel):
    campaign_id: str
    row_numbers: list[int]


class BatchOutcome(BaseModel):
    invited: int = 0
    failed: int = 0
    # Rows that went through the one-row path (the address already had a guest or a workflow).
    one_by_one: int = 0


class RowOutcome(BaseModel):
    state: str  # invited | failed | skipped
    reason: str | None = None


class CampaignStateInput(BaseModel):
    campaign_id: str
    state: str  # running | paused | canceled | completed
