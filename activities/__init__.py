"""Temporal activities: every side effect (database writes, mail, callouts). Each is safe to retry.

A business refusal is raised as `foyer.errors.Refused`, the same type the use cases and the
Temporal client side raise, and turned into a non-retryable ApplicationError of the same type
(Graph's error code) and message in one place: `RefusalInterceptor`, which `worker.build_worker`
installs. Called in-process (a campaign records many invitations in one transaction, the API
checks a code attempt), an activity's refusal stays a Refused."""

from typing import Any

from temporalio.exceptions import ApplicationError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from foyer.errors import Refused


def refusal_failure(refused: Refused) -> ApplicationError:
    """The failure a refusal is recorded as: not retried (the same input is refused again); the
    workflow and the API read `type` as the Graph error code. A transient refusal (the workflow
    service did not answer, Refused.transient) is retried under the activity's retry policy, as
    the activities that re-raise one expect (a campaign row under load was otherwise lost)."""
    return ApplicationError(refused.message, type=refused.code, non_retryable=not refused.transient)


class _RefusalsAsFailures(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except Refused as refused:
            # The refusal's own cause (if any) stays the failure's cause, as when activities
            # raised the ApplicationError themselves; the Refused wrapper is not recorded.
            raise refusal_failure(refused) from refused.__cause__


class RefusalInterceptor(Interceptor):
    """Every activity's Refused becomes a non-retryable ApplicationError of the same type."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _RefusalsAsFailures(next)
