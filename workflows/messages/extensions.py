"""Custom extensions (Graph accessPackageCustomExtension), called from the access-request and
assignment processes: the stages, the callout activities' inputs and outputs, and the callout's
instance id."""

import uuid
from datetime import timedelta

from pydantic import BaseModel

STAGES = ("assignmentRequestCreated", "assignmentRequestApproved", "assignmentRequestGranted",
          "assignmentRequestRemoved", "assignmentFourteenDaysBeforeExpiration",
          "assignmentOneDayBeforeExpiration")
# Only these stages can hold a request until the external system resumes it.
BLOCKING_STAGES = ("assignmentRequestCreated", "assignmentRequestApproved")


def callout_instance_id(subject_id: str, stage: str) -> str:
    """The callout's id (Graph's customExtensionStageInstanceId), derived from the request or
    assignment and the stage, so a retried activity makes the same call."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"callout:{subject_id}:{stage}"))


class CalloutInput(BaseModel):
    stage: str
    request_id: str | None = None
    assignment_id: str | None = None
    workflow_id: str


class CalloutResult(BaseModel):
    configured: bool
    instance_id: str | None = None
    extension_name: str | None = None
    wait: bool = False
    timeout: timedelta | None = None


class ResumeRecord(BaseModel):
    instance_id: str
    state: str  # resumed: continue | deny ; or timedOut
