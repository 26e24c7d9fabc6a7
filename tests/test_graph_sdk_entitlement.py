"""Through the official Graph SDK, the entitlement journey an Entra admin scripts: a catalog with a
group in it, an access package granting its membership, a policy whose one approval stage names an
approver; a member asks for the package, the approver finds the request waiting at Graph's
`accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')`, approves the stage, and the
assignment is delivered."""

import asyncio
import uuid

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.identity_governance.entitlement_management.assignments.assignments_request_builder import (
    AssignmentsRequestBuilder,
)
from msgraph.generated.models.access_package import AccessPackage
from msgraph.generated.models.access_package_approval_stage import AccessPackageApprovalStage
from msgraph.generated.models.access_package_assignment import AccessPackageAssignment
from msgraph.generated.models.access_package_assignment_approval_settings import (
    AccessPackageAssignmentApprovalSettings,
)
from msgraph.generated.models.access_package_assignment_policy import AccessPackageAssignmentPolicy
from msgraph.generated.models.access_package_assignment_request import AccessPackageAssignmentRequest
from msgraph.generated.models.access_package_assignment_requestor_settings import (
    AccessPackageAssignmentRequestorSettings,
)
from msgraph.generated.models.access_package_assignment_state import AccessPackageAssignmentState
from msgraph.generated.models.access_package_catalog import AccessPackageCatalog
from msgraph.generated.models.access_package_request_state import AccessPackageRequestState
from msgraph.generated.models.access_package_request_type import AccessPackageRequestType
from msgraph.generated.models.access_package_resource import AccessPackageResource
from msgraph.generated.models.access_package_resource_request import AccessPackageResourceRequest
from msgraph.generated.models.access_package_resource_role import AccessPackageResourceRole
from msgraph.generated.models.access_package_resource_role_scope import AccessPackageResourceRoleScope
from msgraph.generated.models.access_package_resource_scope import AccessPackageResourceScope
from msgraph.generated.models.allowed_target_scope import AllowedTargetScope
from msgraph.generated.models.approval_stage import ApprovalStage
from msgraph.generated.models.expiration_pattern import ExpirationPattern
from msgraph.generated.models.expiration_pattern_type import ExpirationPatternType
from msgraph.generated.models.group import Group
from msgraph.generated.models.single_user import SingleUser

from tests.graph_sdk import graph_client


async def test_request_approved_through_the_sdk_is_delivered(server, admin, make_token, make_member):
    suffix = uuid.uuid4().hex[:8]
    requestor, approver = await make_member("Rae Requestor"), await make_member("Abe Approver")
    async with graph_client(server, admin) as graph:
        em = graph.identity_governance.entitlement_management
        group = await graph.groups.post(Group(display_name=f"SDK partners {suffix}", mail_enabled=False,
                                              mail_nickname=f"sdk{suffix}", security_enabled=True))
        catalog = await em.catalogs.post(AccessPackageCatalog(display_name=f"SDK catalog {suffix}",
                                                              description="Made by the Graph SDK"))
        added = await em.resource_requests.post(AccessPackageResourceRequest(
            request_type=AccessPackageRequestType.AdminAdd, catalog=AccessPackageCatalog(id=catalog.id),
            resource=AccessPackageResource(origin_id=group.id, origin_system="AadGroup")))
        assert added.resource.id and added.resource.origin_id == group.id

        package = await em.access_packages.post(AccessPackage(
            display_name=f"SDK package {suffix}", catalog=AccessPackageCatalog(id=catalog.id)))
        scope = await em.access_packages.by_access_package_id(package.id).resource_role_scopes.post(
            AccessPackageResourceRoleScope(
                role=AccessPackageResourceRole(origin_id="Member", origin_system="AadGroup",
                                               resource=AccessPackageResource(id=added.resource.id)),
                scope=AccessPackageResourceScope(origin_id=group.id, origin_system="AadGroup")))
        assert scope.role.origin_id == "Member"

        # Durations as ISO 8601 strings: the SDK writes a timedelta as str() ("3 days, 0:00:00"),
        # which Graph refuses too.
        policy = await em.assignment_policies.post(AccessPackageAssignmentPolicy(
            display_name="Members, with approval", access_package=AccessPackage(id=package.id),
            allowed_target_scope=AllowedTargetScope.AllMemberUsers,
            expiration=ExpirationPattern(type=ExpirationPatternType.AfterDuration, duration="P30D"),
            requestor_settings=AccessPackageAssignmentRequestorSettings(enable_targets_to_self_add_access=True),
            request_approval_settings=AccessPackageAssignmentApprovalSettings(
                is_approval_required_for_add=True,
                stages=[AccessPackageApprovalStage(duration_before_automatic_denial="P3D",
                                                   primary_approvers=[SingleUser(user_id=approver.id)])])))
        assert policy.id and policy.allowed_target_scope == AllowedTargetScope.AllMemberUsers
        [stage_settings] = policy.request_approval_settings.stages
        assert [a.user_id for a in stage_settings.primary_approvers] == [approver.id]

    async with graph_client(server, await make_token("member", user_id=requestor.id)) as as_requestor:
        request = await as_requestor.identity_governance.entitlement_management.assignment_requests.post(
            AccessPackageAssignmentRequest(
                request_type=AccessPackageRequestType.UserAdd, justification="Partner project",
                # Graph's request body names the package and policy by id (not on the SDK's model).
                assignment=AccessPackageAssignment(additional_data={
                    "accessPackageId": package.id, "assignmentPolicyId": policy.id})))
        assert request.id and request.request_type == AccessPackageRequestType.UserAdd
        assert request.state == AccessPackageRequestState.PendingApproval

    async with graph_client(server, await make_token("member", user_id=approver.id)) as as_approver:
        approvals = as_approver.identity_governance.entitlement_management.access_package_assignment_approvals
        # The request answers `pendingApproval` at once; its open stage is written by the request
        # workflow moments later, and only then does the approver see it waiting.
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            waiting = await approvals.filter_by_current_user_with_on("approver").get()
            mine = [a for a in waiting.value if a.id == request.id]
            if mine:
                break
            assert asyncio.get_running_loop().time() < deadline, "the approval never reached its approver"
            await asyncio.sleep(0.2)
        [approval] = mine
        [open_stage] = approval.stages
        assert open_stage.status == "InProgress" and open_stage.assigned_to_me is True

        stages = await approvals.by_approval_id(request.id).stages.get()
        assert [s.id for s in stages.value] == [open_stage.id]
        await approvals.by_approval_id(request.id).stages.by_approval_stage_id(open_stage.id).patch(
            ApprovalStage(review_result="Approve", justification="Known partner"))

        decided = await approvals.by_approval_id(request.id).stages.by_approval_stage_id(open_stage.id).get()
        assert decided.review_result == "Approve" and decided.justification == "Known partner"
        assert decided.reviewed_by.id == approver.id and decided.reviewed_date_time is not None

    async with graph_client(server, admin) as graph:
        em = graph.identity_governance.entitlement_management
        mine = RequestConfiguration(query_parameters=AssignmentsRequestBuilder.AssignmentsRequestBuilderGetQueryParameters(
            filter=f"accessPackage/id eq '{package.id}' and target/objectId eq '{requestor.id}'",
            expand=["target", "accessPackage"]))
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            assignments = (await em.assignments.get(mine)).value
            if assignments and assignments[0].state == AccessPackageAssignmentState.Delivered:
                break
            assert asyncio.get_running_loop().time() < deadline, [(a.id, a.state) for a in assignments]
            await asyncio.sleep(0.2)
        [assignment] = assignments
        assert assignment.target.object_id == requestor.id
        assert assignment.access_package.id == package.id
        assert assignment.schedule.expiration.type == ExpirationPatternType.AfterDateTime
        assert assignment.schedule.expiration.end_date_time is not None

        members = await graph.groups.by_group_id(group.id).members.get()
        assert requestor.id in [m.id for m in members.value]
        # The request's record follows the assignment's: the assignment workflow signals the
        # request workflow once it has delivered, and the request then writes its own state.
        while True:
            done = await em.assignment_requests.by_access_package_assignment_request_id(request.id).get()
            if done.state != AccessPackageRequestState.Delivering:
                break
            assert asyncio.get_running_loop().time() < deadline, done.state
            await asyncio.sleep(0.2)
        assert done.state == AccessPackageRequestState.Delivered and done.completed_date_time is not None
        assert done.requestor.object_id == requestor.id
