"""The request-to-join-a-group process's contract: the GroupJoinRequestWorkflow's input, its
`decide` Update, its status query, its activities' inputs and outputs, and its business-key
workflow id (one open request per person and group)."""

from pydantic import BaseModel

DEFAULT_EXPIRES_AFTER = "P14D"


def group_join_workflow_id(group_id: str, user_id: str) -> str:
    return f"group-join:{group_id}:{user_id}"


class GroupJoinInput(BaseModel):
    """The workflow's one input: who asks to join which group, and how long owners have to answer
    (ISO 8601; the request expires after it)."""

    request_id: str
    organization_id: str
    group_id: str
    user_id: str
    justification: str | None = None
    expires_after: str = DEFAULT_EXPIRES_AFTER


class JoinDecision(BaseModel):
    """An owner's (or an administrator's) answer. Who may decide is checked before the Update is
    sent (foyer.usecases.ownership.require_manager); `capacity` is what the audit record says they
    acted as."""

    decision: str  # approve | deny
    decided_by_id: str
    decided_by_name: str | None = None  # the display name only: no address enters the history
    capacity: str = "owner"


class JoinStatus(BaseModel):
    request_id: str
    # opening | pending | approved | denied | expired | refused
    state: str
    message: str | None = None


class ApplyJoinDecisionInput(BaseModel):
    request_id: str
    decision: JoinDecision


class RecordedJoin(BaseModel):
    """What `record_group_join_request` found: None when the request is recorded and pending,
    else why it may not be made (the workflow then ends `refused`)."""

    refusal: str | None = None
