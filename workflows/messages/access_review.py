"""The access review processes' contract.

- The definition's recurrence is a Temporal Schedule, `access-review-schedule:{definition id}`,
  whose action starts an AccessReviewOccurrenceWorkflow (AccessReviewOccurrenceInput): it opens
  that occurrence's instances (one per resource) and starts one AccessReviewWorkflow per instance.
- An AccessReviewWorkflow (`access-review:{instance id}`, AccessReviewInput) runs one instance:
  snapshot and mail, reminders halfway and the day before the end, close at the end (or on
  `stop`), the default decision for what nobody reviewed, and — with auto-apply, or on the
  `apply` Update after the end — the denied access removed.

Decisions are rows (foyer.models.access_reviews), written by reviewers through the API and pages;
no decision ever enters a workflow's history.
"""

from pydantic import BaseModel

STOP = "stop"
SEND_REMINDER = "send_reminder"


def access_review_schedule_id(definition_id: str) -> str:
    return f"access-review-schedule:{definition_id}"


def access_review_workflow_id(instance_id: str) -> str:
    return f"access-review:{instance_id}"


class AccessReviewOccurrenceInput(BaseModel):
    organization_id: str
    definition_id: str


class OpenOccurrenceInput(BaseModel):
    organization_id: str
    definition_id: str
    # When the occurrence started (the workflow's start time): the instances of one occurrence are
    # found again by it, so a retried activity opens them once.
    started: str


class OpenedOccurrence(BaseModel):
    instance_ids: list[str]
    # The definition was stopped or deleted meanwhile: nothing was opened.
    stopped: bool = False


class AccessReviewInput(BaseModel):
    organization_id: str
    definition_id: str
    instance_id: str


class BegunReview(BaseModel):
    """What begin_access_review found and settled when the instance started."""

    end_date_time: str  # ISO 8601, UTC
    start_date_time: str
    decisions: int
    mail_reviewers: bool
    reminders: bool
    auto_apply: bool
    # The instance was stopped, or its definition deleted, before it began.
    stopped: bool = False


class ReviewMailInput(BaseModel):
    instance_id: str
    # "start", "reminder-half", "reminder-last-day", "reminder-{n}" (sendReminder)
    kind: str


class AppliedDecisions(BaseModel):
    applied: int
    # Assignment workflows to signal `remove` (the denied package assignments), and guests whose
    # denial disables and deletes them (disableAndDeleteUserApplyAction): the workflow steers those.
    assignment_workflow_ids: list[str] = []
    users_to_block_and_delete: list[str] = []


class GuestLifecyclesInput(BaseModel):
    organization_id: str
    user_ids: list[str]
    delete_after: str
    started_by: str


class ReviewStatus(BaseModel):
    instance_id: str
    # starting | inProgress | completing | completed | applying | applied | stopped
    state: str
