"""The access-request process's contract: the AccessRequestWorkflow's input, Updates, signal,
query and results, its activities' inputs and outputs, and its business-key workflow id."""

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

# Graph accessPackageAssignmentRequest.requestType values, by what they do to the assignment.
ADD_TYPES = {"userAdd", "adminAdd"}
UPDATE_TYPES = {"userUpdate", "adminUpdate"}
REMOVE_TYPES = {"userRemove", "adminRemove", "systemRemove"}

# The AccessRequestWorkflow's signal, sent by the AssignmentWorkflow once it has delivered,
# extended or removed what the request asked for (argument: assignment.DeliveryResult).
DELIVERY_FINISHED = "delivery_finished"


def access_request_workflow_id(access_package_id: str, target_id: str) -> str:
    return f"access-request:{access_package_id}:{target_id}"


# --- the workflow's input, Updates, query and results ---------------------------------------

class AccessRequestInput(BaseModel):
    access_package_id: str
    target_id: str


class AccessRequestSpec(BaseModel):
    """One Graph assignmentRequest, as the API validated its shape (the `submit` Update)."""

    request_id: str
    organization_id: str
    request_type: str
    access_package_id: str
    assignment_policy_id: str | None = None
    requestor_id: str | None = None
    requestor_is_admin: bool = False
    target_id: str
    justification: str | None = None
    answers: list[dict] = Field(default_factory=list)
    # Graph entitlementManagementSchedule: {"startDateTime", "expiration": {"type", "endDateTime", "duration"}}
    schedule: dict = Field(default_factory=dict)


class Decision(BaseModel):
    stage_id: str
    approver_id: str
    approver_name: str | None = None
    review_result: str  # Approve | Deny
    justification: str | None = None


class DecisionResult(BaseModel):
    stage_id: str
    review_result: str
    request_state: str


class CancelRequest(BaseModel):
    by_user_id: str | None = None
    by_admin: bool = False


class ResumeRequest(BaseModel):
    """A custom extension's callback: go on, or deny."""

    instance_id: str
    state: str  # continue | deny


class RequestStatus(BaseModel):
    state: str
    request_id: str | None = None
    stage_index: int | None = None
    stage_id: str | None = None
    approver_ids: list[str] = []
    escalated: bool = False
    assignment_id: str | None = None


# --- activity payloads ----------------------------------------------------------------------

class RecordRequestInput(BaseModel):
    spec: AccessRequestSpec
    workflow_id: str
    now: datetime


class StagePlan(BaseModel):
    stage_id: str
    index: int
    approver_ids: list[str]
    escalation_approver_ids: list[str] = Field(default_factory=list)
    deny_after: timedelta
    escalate_after: timedelta | None = None
    justification_required: bool = False


class RequestPlan(BaseModel):
    """What `record_request` planned; also the `submit` Update's result."""

    request_id: str
    request_type: str
    requestor_id: str | None
    target_id: str
    assignment_id: str  # the assignment to create, extend or remove
    stages: list[StagePlan] = Field(default_factory=list)
    end_at: datetime | None = None  # None: never expires
    # The custom extension stages the policy configures (no callout is made for the others).
    extension_stages: list[str] = Field(default_factory=list)


class StageEventInput(BaseModel):
    request_id: str
    stage_id: str
    event: str  # opened | reminder | escalated
    approver_ids: list[str]
    now: datetime
    due_at: datetime | None = None


class DecisionInput(BaseModel):
    request_id: str
    stage_id: str
    approver_id: str
    approver_name: str | None = None
    review_result: str  # Approve | Deny
    justification: str | None = None
    workflow_id: str


class RequestStateInput(BaseModel):
    request_id: str
    state: str
    status: str | None = None
    workflow_id: str
    stage_id: str | None = None  # with state "denied" after a deadline: that stage expired
