"""The external-user lifecycle's contract (entitlement management's externalUserLifecycleAction,
and an access review's disableAndDeleteUserApplyAction): the GuestLifecycleWorkflow's input, its
`cancel` signal, its status query, its activities' payloads, and its business-key id (one per
guest)."""

from pydantic import BaseModel

CANCEL = "cancel"
# The activities that are Temporal clients (activities.guest_lifecycle.LifecycleDeleter), named
# by the workflows that run them (importing them would import the workflow client, a cycle).
DELETE_GOVERNED_GUEST = "delete_governed_guest"
START_LIFECYCLE_IF_LAST = "start_lifecycle_if_last"
END_LIFECYCLE_ON_ASSIGNMENT = "end_lifecycle_on_assignment"
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


# --- activity payloads ----------------------------------------------------------------------

class BlockGuestInput(BaseModel):
    """`block_guest`: disable the account, revoke its refresh tokens, mark when it will be deleted
    (`delete_after` from `blocked_at`, the workflow's clock: a retry writes the same dates)."""

    organization_id: str
    user_id: str
    reason: str
    delete_after: str | None
    blocked_at: str  # ISO 8601, the workflow's time of blocking
    workflow_id: str
    started_by: str | None = None


class UnblockGuestInput(BaseModel):
    organization_id: str
    user_id: str
    reason: str
    by_id: str | None = None
    workflow_id: str


class DeleteGuestInput(BaseModel):
    organization_id: str
    user_id: str
    reason: str
    workflow_id: str


class LifecycleStep(BaseModel):
    """What an activity found: `done` (it did its step), `gone` (the user no longer exists),
    `skipped` (nothing to do: already blocked or unblocked), or `assigned` (not blocked: the guest
    holds a live assignment again)."""

    state: str
    deletion_date_time: str | None = None


class AssignmentEndedInput(BaseModel):
    """The AssignmentWorkflow's hooks: an assignment was removed (`start_lifecycle_if_last`) or
    delivered (`end_lifecycle_on_assignment`)."""

    organization_id: str
    assignment_id: str
    target_id: str
    workflow_id: str
    # The remove signal's request id: `user-deleted:…` when the user is being deleted (no lifecycle).
    request_id: str | None = None
