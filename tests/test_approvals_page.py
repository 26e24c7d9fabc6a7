"""The Approvals pages over httpx: what waits for me (and what does not), refusals shown clearly
with a 4xx — my own request, a stage requiring a reason, a missing CSRF token — a denial, and a
request I do not approve staying invisible to me."""


import httpx

from foyer.workflows.client import access_requests
from foyer import sessions
from foyer.db import session_scope
from foyer.models.entitlement import AssignmentRequest
from tests.factories import make_package, make_user, request, self_service, single, stage
from tests.portal_support import csrf_in, sign_in, wait_for_state


async def test_requestor_cannot_approve_their_own_request(server, mail, temporal, organization_id):
    owner = await make_user(organization_id, "Oona Owner")
    other = await make_user(organization_id, "Otto Other")
    guest = await make_user(organization_id, "Gus Guest", guest=True)
    package, policy, _, _ = await make_package(organization_id, policy=self_service(
        requestor_settings={"enableOnBehalfRequestorsToAddAccess": True, "onBehalfRequestors": [single(owner)]},
        request_approval_settings={"isApprovalRequiredForAdd": True, "stages": [stage([owner, other])]}))
    plan = await access_requests.submit_request(temporal.client, request(
        organization_id, package, policy, guest, requestor=owner, justification="For the audit"))
    await mail.wait_for(owner.mail)

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, owner.mail)
        listing = await client.get("/approvals")
        assert plan.request_id not in listing.text  # nothing the owner can decide
        detail = await client.get(f"/approvals/{plan.request_id}")
        assert detail.status_code == 200
        assert 'id="decision-form"' not in detail.text and 'id="cannot-decide"' in detail.text
        token = sessions.csrf_token(client.cookies.get("foyer_session"), f"decide:{plan.request_id}")
        refused = await client.post(f"/approvals/{plan.request_id}", data={
            "csrf": token, "stage_id": plan.stages[0].stage_id, "decision": "Approve"})
        assert refused.status_code == 403
        assert "cannot approve or deny a request you made" in refused.text and 'role="alert"' in refused.text

    async with session_scope() as session:
        assert (await session.get(AssignmentRequest, plan.request_id)).state == "pendingApproval"


async def test_denial_needs_the_reason_the_stage_requires(server, mail, temporal, organization_id):
    approver = await make_user(organization_id, "Rita Reviewer")
    bystander = await make_user(organization_id, "Bea Bystander")
    guest = await make_user(organization_id, "Gro Guest", guest=True)
    package, policy, _, _ = await make_package(organization_id, policy=self_service(
        request_approval_settings={"isApprovalRequiredForAdd": True,
                                   "stages": [stage([approver], justification=True)]}))
    plan = await access_requests.submit_request(temporal.client, request(organization_id, package, policy, guest))
    await mail.wait_for(approver.mail)

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, bystander.mail)
        # Not an approver: the request is not shown (nor said to exist).
        assert (await client.get(f"/approvals/{plan.request_id}")).status_code == 404
        assert plan.request_id not in (await client.get("/approvals")).text

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, approver.mail)
        listing = await client.get("/approvals")
        assert f'id="pending-{plan.request_id}"' in listing.text and package.display_name in listing.text
        page = await client.get(f"/approvals/{plan.request_id}")
        assert 'id="decision-form"' in page.text
        assert '<textarea name="reason" id="reason" rows="3" required' in page.text
        action = f"/approvals/{plan.request_id}"
        data = {"csrf": csrf_in(page.text, action), "stage_id": plan.stages[0].stage_id, "decision": "Deny"}

        assert (await client.post(action, data={**data, "csrf": "forged"})).status_code == 403
        no_reason = await client.post(action, data=data)
        assert no_reason.status_code == 400 and "requires one" in no_reason.text
        denied = await client.post(action, data={**data, "reason": "Not on the project"})
        assert denied.status_code == 200 and "You denied this request" in denied.text
        await wait_for_state(plan.request_id, "denied")
        again = await client.post(action, data={**data, "reason": "twice"})
        assert again.status_code == 409 and "already decided" in again.text
        assert 'id="nothing-waiting"' in (await client.get("/approvals")).text
