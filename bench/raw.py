"""The raw-ceiling workflows: no database, no mail, no API; what the server + Python worker can do.

- `NoopWorkflow`: one no-op activity, then done (the ceiling the targets are stated against).
- `NoopInviteWorkflow`: the invitation's *shape* without Foyer's work: update-with-start whose
  update runs one no-op activity, then the main loop runs one more no-op activity and ends. It
  separates what the Temporal pattern costs from what the database, SMTP and API add.
"""

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def noop(value: str) -> str:
    return value


@workflow.defn
class NoopWorkflow:
    @workflow.run
    async def run(self, value: str) -> str:
        return await workflow.execute_activity(noop, value, start_to_close_timeout=timedelta(seconds=30))


@workflow.defn
class NoopInviteWorkflow:
    def __init__(self) -> None:
        self.invited: str | None = None

    @workflow.run
    async def run(self, value: str) -> str:
        await workflow.wait_condition(lambda: self.invited is not None)
        await workflow.execute_activity(noop, self.invited, start_to_close_timeout=timedelta(seconds=30))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return value

    @workflow.update
    async def invite(self, value: str) -> str:
        recorded = await workflow.execute_activity(noop, value, start_to_close_timeout=timedelta(seconds=30))
        self.invited = recorded
        return recorded


@workflow.defn
class IdleWorkflow:
    """Returns at once: for timing client.start_workflow without leaving activity work behind."""

    @workflow.run
    async def run(self, value: str) -> str:
        return value
