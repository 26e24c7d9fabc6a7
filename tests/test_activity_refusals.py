"""Activities raise foyer.errors.Refused; the worker's RefusalInterceptor records it as the
non-retryable ApplicationError of the same type and message that the workflows, the API and the
recorded histories know."""

import pytest
from temporalio.exceptions import ApplicationError

from foyer.activities import RefusalInterceptor
from foyer.errors import Refused
from foyer.worker import build_worker


class _Next:
    def __init__(self, error: BaseException | None):
        self.error = error

    async def execute_activity(self, input):
        if self.error:
            raise self.error
        return "done"


async def test_a_refusal_becomes_a_non_retryable_failure_of_the_same_type():
    interceptor = RefusalInterceptor().intercept_activity(_Next(Refused("domainNotAllowed", "not that domain")))
    with pytest.raises(ApplicationError) as raised:
        await interceptor.execute_activity(None)
    failure = raised.value
    assert (failure.type, failure.message, failure.non_retryable) == ("domainNotAllowed", "not that domain", True)
    assert failure.__cause__ is None  # the Refused wrapper is not recorded as a cause


async def test_the_refusals_cause_stays_the_failures_cause():
    try:
        try:
            int("x")
        except ValueError as error:
            raise Refused("invalidRequest", "the request is not valid") from error
    except Refused as refused:
        interceptor = RefusalInterceptor().intercept_activity(_Next(refused))
    with pytest.raises(ApplicationError) as raised:
        await interceptor.execute_activity(None)
    assert raised.value.type == "invalidRequest" and isinstance(raised.value.__cause__, ValueError)


async def test_other_errors_and_results_pass_through():
    assert await RefusalInterceptor().intercept_activity(_Next(None)).execute_activity(None) == "done"
    with pytest.raises(LookupError):
        await RefusalInterceptor().intercept_activity(_Next(LookupError("no outbox message"))).execute_activity(None)


def test_every_worker_has_it(monkeypatch):
    seen = {}

    class FakeWorker:
        def __init__(self, client, **options):
            seen.update(options)

    monkeypatch.setattr("foyer.worker.Worker", FakeWorker)
    extra = object()
    build_worker(client=None, task_queue="q", interceptors=[extra])
    assert isinstance(seen["interceptors"][0], RefusalInterceptor) and seen["interceptors"][1] is extra


async def test_a_transient_refusal_stays_retryable():
    # The workflow service did not answer (Refused.transient): the activity's retry policy retries
    # it, as the activities that re-raise one expect (a campaign row is never lost to a timeout).
    interceptor = RefusalInterceptor().intercept_activity(_Next(Refused(
        "serviceUnavailable", "the workflow service did not answer", status_hint=503)))
    with pytest.raises(ApplicationError) as raised:
        await interceptor.execute_activity(None)
    assert (raised.value.type, raised.value.non_retryable) == ("serviceUnavailable", False)
