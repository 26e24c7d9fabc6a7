"""A request is checked against its policy before anything waits on it: separation of duties,
who may request, the target's scope, required answers and justification."""

import pytest
from sqlmodel import select

from foyer.workflows.client import access_requests
from foyer.errors import Refused
from foyer.db import session_scope
from foyer.models.entitlement import AccessPackage, AssignmentPolicy
from tests.factories import make_package, make_user, request, self_service


async def refused(client, spec) -> Refused:
    with pytest.raises(Refused) as error:
        await access_requests.submit_request(client, spec)
    return error.value


async def test_separation_of_duties(time_env, organization_id):
    guest = await make_user(organization_id, "Sam Guest", guest=True)
    sales, _, _, _ = await make_package(organization_id, name="Sales", policy=self_service())
    audit_package, audit_policy, _, _ = await make_package(organization_id, name="Audit", policy=self_service())
    async with session_scope() as session:
        row = await session.get(AccessPackage, audit_package.id)
        row.incompatible_access_package_ids = [sales.id]
        session.add(row)
        sales_policy = (await session.exec(select(AssignmentPolicy).where(
            AssignmentPolicy.access_package_id == sales.id))).one()
    await access_requests.submit_request(time_env.client, request(organization_id, sales, sales_policy, guest))
    handle = time_env.client.get_workflow_handle(f"access-request:{sales.id}:{guest.id}")
    await handle.result()  # delivered: the guest now holds Sales

    error = await refused(time_env.client, request(organization_id, audit_package, audit_policy, guest))
    assert error.status == 409 and error.code == "separationOfDutiesConflict"
    assert "Sales" in error.message


async def test_scope_requestor_answers_and_justification(time_env, organization_id):
    member = await make_user(organization_id, "Max Member")
    guest = await make_user(organization_id, "Gil Guest", guest=True)
    package, policy, _, _ = await make_package(organization_id, policy=self_service(
        questions=[{"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "id": "q1",
                    "text": "Which project?", "isRequired": True,
                    "choices": [{"actualValue": "apollo", "text": "Apollo"}]},
                   {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "id": "q2",
                    "text": "Ticket", "isRequired": False, "regexPattern": "[A-Z]+-[0-9]+"}],
        request_approval_settings={"isApprovalRequiredForAdd": False, "isRequestorJustificationRequired": True,
                                   "stages": []}))

    # allExternalUsers: a member is out of scope.
    error = await refused(time_env.client, request(organization_id, package, policy, member))
    assert error.code == "requestNotAllowed" and "scope" in error.message
    # Nobody may request on someone else's behalf under this policy.
    error = await refused(time_env.client, request(organization_id, package, policy, guest, requestor=member))
    assert error.code == "requestNotAllowed"
    error = await refused(time_env.client, request(organization_id, package, policy, guest,
                                                   answers=[{"question": {"id": "q1"}, "answeredValue": "apollo"}]))
    assert error.status == 400 and "justification" in error.message
    error = await refused(time_env.client, request(organization_id, package, policy, guest, justification="x"))
    assert error.status == 400 and "Which project?" in error.message
    error = await refused(time_env.client, request(
        organization_id, package, policy, guest, justification="x",
        answers=[{"question": {"id": "q1"}, "answeredValue": "gemini"}]))
    assert error.status == 400 and "not a choice" in error.message
    error = await refused(time_env.client, request(
        organization_id, package, policy, guest, justification="x",
        answers=[{"question": {"id": "q1"}, "answeredValue": "apollo"},
                 {"question": {"id": "q2"}, "answeredValue": "ticket 7"}]))
    assert error.status == 400 and "expected form" in error.message
    plan = await access_requests.submit_request(time_env.client, request(
        organization_id, package, policy, guest, justification="Apollo work",
        answers=[{"question": {"id": "q1"}, "answeredValue": "apollo"},
                 {"question": {"id": "q2"}, "answeredValue": "APL-42"}]))
    assert plan.stages == []


async def test_a_request_names_things_of_its_own_organization(time_env, organization_id):
    """submit_request checks the package, policy and target against the request's organization
    before any workflow starts (for the API, the My Access page and campaign rows alike)."""
    guest = await make_user(organization_id, "Oda Guest", guest=True)
    package, policy, _, _ = await make_package(organization_id, policy=self_service())
    _, other_policy, _, _ = await make_package(organization_id, name="Other", policy=self_service())

    error = await refused(time_env.client, request("another-organization", package, policy, guest))
    assert error.status == 404 and error.code == "Request_ResourceNotFound" and package.id in error.message

    error = await refused(time_env.client, request(organization_id, package, other_policy, guest))
    assert error.status == 400 and "assignmentPolicyId" in error.message

    spec = request(organization_id, package, policy, guest)
    spec.target_id = "no-such-user"
    error = await refused(time_env.client, spec)
    assert error.status == 404 and "no-such-user" in error.message
