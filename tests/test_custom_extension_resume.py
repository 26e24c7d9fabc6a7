"""A custom extension that must resume the request: Foyer calls a real HTTP server (signed), the
request waits, and the server's signed callback lets it go on (or denies it). Forged, stale and
conflicting callbacks are refused; the same answer twice is accepted once."""

import asyncio
import time

import httpx

from foyer.workflows.client import access_requests
from foyer.db import session_scope
from foyer.models.entitlement import AssignmentPolicy, AssignmentRequest, CustomExtensionCall
from tests.factories import make_package, make_user, request, self_service
from tests.extension_receiver import ExtensionReceiver, resume
from foyer.workflows.access_request import AccessRequestWorkflow

PREFIX = "/v1.0/identityGovernance/entitlementManagement"


async def configure(api, admin, organization_id, receiver: ExtensionReceiver, timeout: str = "PT1H"):
    package, policy, group, app = await make_package(organization_id, policy=self_service())
    catalog_id = package.catalog_id
    created = await api.post(f"{PREFIX}/catalogs/{catalog_id}/customWorkflowExtensions", headers=admin, json={
        "displayName": "Partner approval system",
        "endpointConfiguration": {"@odata.type": "#microsoft.graph.httpRequestEndpoint", "targetUrl": receiver.url},
        "callbackConfiguration": {"@odata.type": "#microsoft.graph.customExtensionCallbackConfiguration",
                                  "timeoutDuration": timeout}})
    assert created.status_code == 201, created.text
    extension = created.json()
    receiver.secret = extension["foyerSigningSecret"]
    async with session_scope() as session:
        row = await session.get(AssignmentPolicy, policy.id)
        row.custom_extension_stage_settings = [
            {"stage": "assignmentRequestCreated", "customExtension": {"id": extension["id"]}},
            {"stage": "assignmentRequestGranted", "customExtension": {"id": extension["id"]}}]
        session.add(row)
    return package, policy, extension


async def request_state(request_id: str) -> AssignmentRequest:
    async with session_scope() as session:
        return await session.get(AssignmentRequest, request_id)


async def test_resume_lets_the_request_go_on(api, admin, server, temporal, organization_id):
    async with ExtensionReceiver() as receiver:
        package, policy, extension = await configure(api, admin, organization_id, receiver)
        guest = await make_user(organization_id, "Cara Guest", guest=True)
        spec = request(organization_id, package, policy, guest, justification="Need the partner portal")
        await access_requests.submit_request(temporal.client, spec)
        created = await receiver.event("assignmentRequestCreated")
        assert created["data"]["assignmentRequest"]["justification"] == "Need the partner portal"
        assert created["data"]["targetId"] == guest.id
        assert receiver.bad_signatures == 0

        await asyncio.sleep(0.3)
        assert (await request_state(spec.request_id)).state == "submitted"  # waiting, not delivered

        forged = await resume(server, created, "approve", receiver.secret, signature="t=1,v1=00")
        assert forged.status_code == 401 and forged.json()["error"]["code"] == "InvalidAuthenticationToken"
        wrong_key = await resume(server, created, "approve", "not-the-secret")
        assert wrong_key.status_code == 401
        stale = await resume(server, created, "approve", receiver.secret, timestamp=int(time.time()) - 3600)
        assert stale.status_code == 401

        first = await resume(server, created, "approve", receiver.secret)
        assert first.status_code == 204, first.text
        again = await resume(server, created, "approve", receiver.secret)
        assert again.status_code == 204  # the same answer twice: accepted once
        conflicting = await resume(server, created, "deny", receiver.secret)
        assert conflicting.status_code == 409 and conflicting.json()["error"]["code"] == "conflictingDecision"

        handle = temporal.client.get_workflow_handle_for(AccessRequestWorkflow.run, f"access-request:{package.id}:{guest.id}")
        assert (await handle.result()).state == "delivered"
        granted = await receiver.event("assignmentRequestGranted")
        assert granted["data"]["callbackUriPath"] is None  # a notification: nothing to resume
    async with session_scope() as session:
        call = await session.get(CustomExtensionCall, created["data"]["customExtensionStageInstanceId"])
    assert (call.state, call.resumed_state, call.response_status) == ("resumed", "continue", 202)


async def test_extension_denies(api, admin, server, temporal, organization_id):
    async with ExtensionReceiver() as receiver:
        package, policy, _ = await configure(api, admin, organization_id, receiver)
        guest = await make_user(organization_id, "Dora Guest", guest=True)
        spec = request(organization_id, package, policy, guest)
        await access_requests.submit_request(temporal.client, spec)
        created = await receiver.event("assignmentRequestCreated")
        assert (await resume(server, created, "deny", receiver.secret)).status_code == 204
        handle = temporal.client.get_workflow_handle_for(AccessRequestWorkflow.run, f"access-request:{package.id}:{guest.id}")
        assert (await handle.result()).state == "denied"
    row = await request_state(spec.request_id)
    assert row.state == "denied" and "Partner approval system" in row.status


async def test_unknown_request_or_instance_is_refused_alike(api, server):
    body_event = {"data": {"stage": "assignmentRequestCreated", "customExtensionStageInstanceId": "nope",
                           "callbackUriPath": f"{PREFIX}/assignmentRequests/nope/resume"}}
    response = await resume(server, body_event, "approve", "whatever")
    assert response.status_code == 401
    async with httpx.AsyncClient() as client:
        garbage = await client.post(f"{server}{PREFIX}/assignmentRequests/nope/resume", content=b"not json")
    assert garbage.status_code == 400
