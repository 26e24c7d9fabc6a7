"""Starting an assignment's AssignmentWorkflow (done by the `start_assignment_workflow` activity,
on behalf of the access request that granted it)."""

from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from foyer.workflows.assignment import AssignmentWorkflow
from foyer.workflows.messages.assignment import AssignmentInput, assignment_workflow_id


async def start_assignment(client: Client, data: AssignmentInput, task_queue: str) -> None:
    """Idempotent: a retry of a start that went through finds the run started."""
    try:
        await client.start_workflow(AssignmentWorkflow.run, data, id=assignment_workflow_id(data.assignment_id),
                                    task_queue=task_queue)
    except WorkflowAlreadyStartedError:
        pass
