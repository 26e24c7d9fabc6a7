"""The assignment process's contract: the AssignmentWorkflow's input, signals, query and
results, its activities' inputs and outputs, and the business-key ids."""

import uuid
from datetime import datetime

from pydantic import BaseModel

# The AssignmentWorkflow's signals (arguments: ExtendSignal, RemoveSignal).
EXTEND = "extend"
REMOVE = "remove"


def assignment_id_for_request(request_id: str) -> str:
    """The id of the assignment a new (add) request creates: derived from the request, so a
    retried `record_request` and Graph's view of a request agree on it before it exists."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"assignment:{request_id}"))


def assignment_workflow_id(assignment_id: str) -> str:
    return f"assignment:{assignment_id}"


# --- the workflow's input, signals, query and results ---------------------------------------

class AssignmentInput(BaseModel):
    """The AssignmentWorkflow's input (the argument of `start_assignment_workflow` too)."""

    assignment_id: str
    request_id: str
    request_workflow_id: str | None
    organization_id: str
    access_package_id: str
    assignment_policy_id: str | None
    target_id: str
    end_at: datetime | None
    # The custom extension stages the policy configures (no callout is made for the others).
    extension_stages: list[str] = []
    # Carried across continue-as-new.
    delivered: bool = False
    notices_sent: list[str] = []


class ExtendSignal(BaseModel):
    request_id: str
    end_at: datetime | None
    request_workflow_id: str | None = None


class RemoveSignal(BaseModel):
    request_id: str
    request_workflow_id: str | None = None


class AssignmentStatus(BaseModel):
    state: str
    end_at: datetime | None
    notices_sent: list[str]


# --- activity payloads ----------------------------------------------------------------------

class DeliverInput(BaseModel):
    assignment_id: str
    request_id: str
    organization_id: str
    access_package_id: str
    assignment_policy_id: str | None
    target_id: str
    start_at: datetime
    end_at: datetime | None
    workflow_id: str


class DeliveryResult(BaseModel):
    """`deliver_assignment`'s result; also the argument of the request's DELIVERY_FINISHED signal."""

    state: str  # delivered | partiallyDelivered | deliveryFailed
    resource_states: list[dict]


class RemoveInput(BaseModel):
    assignment_id: str
    reason: str  # expired | removed
    request_id: str | None = None
    workflow_id: str


class ExtendInput(BaseModel):
    assignment_id: str
    end_at: datetime | None
    request_id: str
    workflow_id: str


class ExpiryNoticeInput(BaseModel):
    assignment_id: str
    days_before: int
    end_at: datetime
