"""A blocking custom extension that never resumes the request times out and the request is
denied (time-skipping server); one that cannot be reached denies it too (fail closed)."""

from datetime import timedelta

from foyer.workflows.client import access_requests
from foyer.db import session_scope
from foyer.security import extension_secret
from foyer.models.entitlement import (
    Assignment, AssignmentPolicy, AssignmentRequest, CustomExtension, CustomExtensionCall,
)
from tests.factories import make_package, make_user, request, self_service
from tests.extension_receiver import ExtensionReceiver
from tests.ports import free_port
from foyer.workflows.access_request import AccessRequestWorkflow


async def with_extension(organization_id: str, target_url: str, timeout: str | None = "PT2H"):
    package, policy, _, _ = await make_package(organization_id, policy=self_service())
    async with session_scope() as session:
        extension = CustomExtension(catalog_id=package.catalog_id, display_name="Vetting service",
                                    target_url=target_url, callback_timeout=timeout)
        session.add(extension)
        await session.flush()
        row = await session.get(AssignmentPolicy, policy.id)
        row.custom_extension_stage_settings = [{"stage": "assignmentRequestApproved",
                                                "customExtension": {"id": extension.id}}]
        session.add(row)
    return package, policy, extension


async def test_no_resume_before_the_timeout_denies(time_env, organization_id):
    async with ExtensionReceiver() as receiver:
        package, policy, extension = await with_extension(organization_id, receiver.url)
        receiver.secret = extension_secret(extension.id)
        guest = await make_user(organization_id, "Tim Guest", guest=True)
        await access_requests.submit_request(time_env.client, request(organization_id, package, policy, guest))
        event = await receiver.event("assignmentRequestApproved")
        handle = time_env.client.get_workflow_handle_for(AccessRequestWorkflow.run, f"access-request:{package.id}:{guest.id}")
        await time_env.sleep(timedelta(hours=1))
        assert (await handle.query(AccessRequestWorkflow.current)).state == "submitted"
        await time_env.sleep(timedelta(hours=1, minutes=1))
        final = await handle.result()
    assert final.state == "denied"
    async with session_scope() as session:
        call = await session.get(CustomExtensionCall, event["data"]["customExtensionStageInstanceId"])
    assert call.state == "timedOut"


async def test_unreachable_extension_fails_closed(time_env, organization_id):
    package, policy, _ = await with_extension(organization_id, f"http://127.0.0.1:{free_port()}/gone")
    guest = await make_user(organization_id, "Una Guest", guest=True)
    spec = request(organization_id, package, policy, guest)
    await access_requests.submit_request(time_env.client, spec)
    handle = time_env.client.get_workflow_handle_for(AccessRequestWorkflow.run, f"access-request:{package.id}:{guest.id}")
    final = await handle.result()
    assert final.state == "denied" and final.assignment_id
    async with session_scope() as session:
        row = await session.get(AssignmentRequest, spec.request_id)
        assert await session.get(Assignment, final.assignment_id) is None  # nothing was granted
    assert "Vetting service" in row.status and "cannot continue" in row.status
