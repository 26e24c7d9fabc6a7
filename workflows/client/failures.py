"""Temporal failures as `Refused`: a business refusal found in the failure's causes keeps its
code; the workflow service not answering, or a workflow failing, is a transient 5xx."""

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from foyer.errors import REFUSAL_STATUS, Refused


def refusal(error: BaseException | None, also: dict[str, int] | None = None) -> Refused | None:
    """The business refusal inside a Temporal failure (Update, activity, workflow), if any.
    `also`: codes a caller knows besides the shared table, with their status."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, ApplicationError):
            # The first detail, when it is a mapping, is what the refusal carries (field errors).
            details = error.details[0] if error.details and isinstance(error.details[0], dict) else None
            if error.type in REFUSAL_STATUS:
                return Refused(error.type, error.message, details=details)
            if also and error.type in also:
                return Refused(error.type, error.message, status_hint=also[error.type], details=details)
        error = error.__cause__
        seen += 1
    return None


def run_closed(error: BaseException) -> bool:
    """The workflow run an Update or query was sent to has ended (or never existed)."""
    return isinstance(error, RPCError) and error.status in (RPCStatusCode.NOT_FOUND,
                                                            RPCStatusCode.FAILED_PRECONDITION) \
        or "already completed" in str(error)


def workflow_failed(error: WorkflowUpdateFailedError) -> Refused:
    return Refused("workflowFailed", str(error.cause or error), status_hint=502)


def unavailable(error: Exception) -> Refused:
    return Refused("serviceUnavailable", f"the workflow service did not answer: {error}",
                   status_hint=503, retry_after=5)


def refused_or_failed(error: BaseException) -> Refused:
    """What to raise for a failed Update or RPC: its refusal, else a transient failure."""
    if isinstance(error, WorkflowUpdateFailedError):
        return refusal(error) or workflow_failed(error)
    if isinstance(error, RPCError):
        return unavailable(error)
    return refusal(error) or unavailable(error)
