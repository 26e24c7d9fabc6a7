"""Custom extension callouts: Foyer POSTs a signed JSON event to an external system at a stage of
a request or an assignment; a waiting stage is resumed by the system's signed callback."""

import json
import time

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from foyer.activities.outcomes import count_call
from foyer.activities.store import insert_ignore
from foyer import outbound
from foyer.db import session_scope
from foyer.durations import parse_duration
from foyer.security import SIGNATURE_HEADER, extension_secrets, sign
from foyer.settings import get_settings
from foyer.models.base import utcnow
from foyer.models.entitlement import (
    AccessPackage, Assignment, AssignmentPolicy, AssignmentRequest, CustomExtension, CustomExtensionCall,
)
from foyer.workflows.messages.extensions import (
    BLOCKING_STAGES, CalloutInput, CalloutResult, ResumeRecord, callout_instance_id,
)

CALLOUT_TIMEOUT_SECONDS = 10


@activity.defn
async def call_custom_extension(data: CalloutInput) -> CalloutResult:
    """POST the stage's event to the policy's custom extension, if one is configured for it.
    The instance id is derived from the subject and stage, so a retry is the same call."""
    async with session_scope() as session:
        request = await session.get(AssignmentRequest, data.request_id) if data.request_id else None
        assignment = await session.get(Assignment, data.assignment_id) if data.assignment_id else None
        policy_id = (request.assignment_policy_id if request else None) or \
            (assignment.assignment_policy_id if assignment else None)
        policy = await session.get(AssignmentPolicy, policy_id) if policy_id else None
        setting = next((s for s in (policy.custom_extension_stage_settings if policy else [])
                        if s.get("stage") == data.stage), None)
        if setting is None:
            return CalloutResult(configured=False)
        extension = await session.get(CustomExtension, (setting.get("customExtension") or {}).get("id"))
        if extension is None:
            return CalloutResult(configured=False)
        package = await session.get(AccessPackage, policy.access_package_id)
        subject = data.assignment_id or data.request_id
        instance_id = callout_instance_id(subject, data.stage)
        await insert_ignore(session, CustomExtensionCall, [{
            "id": instance_id, "extension_id": extension.id, "request_id": data.request_id,
            "assignment_id": data.assignment_id, "stage": data.stage, "state": "sent",
            "created_date_time": utcnow()}], ["id"])
        wait = extension.callback_timeout is not None and data.stage in BLOCKING_STAGES
        payload = {
            "type": f"microsoft.graph.accessPackageCustomExtensionStage.{data.stage}",
            "source": f"{get_settings().public_url.rstrip('/')}/v1.0/identityGovernance/entitlementManagement",
            "id": instance_id,
            "time": utcnow().isoformat(),
            "data": {
                "stage": data.stage,
                "customExtensionStageInstanceId": instance_id,
                "callbackUriPath": (f"/v1.0/identityGovernance/entitlementManagement/assignmentRequests/"
                                    f"{data.request_id}/resume") if wait else None,
                "assignmentRequest": {"id": request.id, "requestType": request.request_type,
                                      "justification": request.justification, "answers": request.answers,
                                      "requestorId": request.requestor_id} if request else None,
                "assignment": {"id": assignment.id, "state": assignment.state,
                               "endDateTime": assignment.end_date_time.isoformat() if assignment.end_date_time else None}
                if assignment else None,
                "accessPackage": {"id": package.id, "displayName": package.display_name},
                "assignmentPolicy": {"id": policy.id, "displayName": policy.display_name},
                "targetId": request.target_id if request else assignment.target_id,
            },
        }
        target_url, name, secrets = extension.target_url, extension.display_name, extension_secrets(extension.id)
        timeout = parse_duration(extension.callback_timeout) if wait else None
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(secrets, int(time.time()), body)}
    status, error, refused = None, None, None
    try:
        # Connects only to an address that passes the outbound rule, resolved now (not when saved).
        async with outbound.client(timeout=CALLOUT_TIMEOUT_SECONDS) as client:
            response = await client.post(target_url, content=body, headers=headers)
        status = response.status_code
        if status >= 300:
            error = f"answered HTTP {status}"
    except httpx.HTTPError as failure:
        refused = outbound.refusal_in(failure)
        error = f"destination refused: {refused}" if refused else f"{type(failure).__name__}: {failure}"
    async with session_scope() as session:
        call = await session.get(CustomExtensionCall, instance_id)
        call.response_status, call.error = status, error
        call.state = "failed" if error else ("sent" if call.state == "failed" else call.state)
        session.add(call)
    count_call("foyer_custom_extension_call_outcomes", "Custom extension calls by outcome",
               outcome="refused" if refused else ("failed" if error else "sent"))
    if error:
        # Retried by Temporal; a stage that must wait fails closed once the retries run out. A
        # refused destination is not retried: the call was not made, and will not be.
        raise ApplicationError(f"custom extension '{name}' {error}", type="customExtensionFailed",
                               non_retryable=refused is not None)
    return CalloutResult(configured=True, instance_id=instance_id, extension_name=name, wait=wait,
                         timeout=timeout)


@activity.defn
async def record_resume(data: ResumeRecord) -> None:
    async with session_scope() as session:
        call = await session.get(CustomExtensionCall, data.instance_id)
        if call is None or call.state in ("resumed", "timedOut"):
            return
        call.state = "timedOut" if data.state == "timedOut" else "resumed"
        call.resumed_state = data.state
        call.resumed_date_time = utcnow()
        session.add(call)


ALL = [call_custom_extension, record_resume]
