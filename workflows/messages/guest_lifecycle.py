"""The external-user lifecycle's contract (entitlement management's externalUserLifecycleAction,
and an access review's disableAndDeleteUserApplyAction): the GuestLifecycleWorkflow's input, its
`cancel` signal, its status query, its activities' payloads, and its business-key id (one per
guest)."""

from pydantic import BaseModel

CANCEL = "cancel"
# Why a guest's lifecycle started.
LAST_ASSIGNMENT_REMOVED = "lastAssignmentRemoved"
ACCESS_REVIEW_DENIED = "accessReviewDenied"


def guest_lifecycle_workflow_id(user_id: str) -> str:
    return f"guest-lifecycle:{user_id}"


class GuestLifecycleInput(BaseModel):
    """Block the guest at once and, when `delete_after` (ISO 8601) is set, delete them after it.
    The duration is the setting's at the moment the lifecycle started: a later change of the
    setting does not move a deletion already scheduled."""

    organization_id: str
    user_id: str
    reason: str  # LAST_ASSIGNMENT_REMOVED or ACCESS_REVIEW_DENIED
    delete_after: str | None = "P30D"
    # Who started it, for the audit records: a workflow id (the assignment's, the review's).
    started_by: str | None = None


class CancelLifecycle(BaseModel):
    """A new assignment arrived, or an administrator restored the guest: unblock, delete nothing."""

    reason: str
    by_id: str | None = None


class LifecycleStatus(BaseModel):
    user_id: str
    # blocking | blocked | cancelled | deleted | gone (deleted by someone else meanwhile)
    state: str
    deletion_date_time: str | None = None
