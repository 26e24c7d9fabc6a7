"""Access-package rules that read the directory: who a policy's subject sets stand for, whether
a policy is offered to a person (used by the request activity and by the My Access page), and
the database checks before a request is submitted or a stage decided
(workflows.client.access_requests.submit_request and decide_stage)."""

from sqlmodel import select

from foyer.errors import Refused
from foyer.policy import email_domain
from foyer.usecases.authz import not_found
from foyer.models.directory import GroupMember, User
from foyer.models.entitlement import AccessPackage, ApprovalStage, AssignmentPolicy, AssignmentRequest, ConnectedOrganization
from foyer.models.enums import UserType
from foyer.workflows.messages.access import ADD_TYPES, AccessRequestSpec


async def subjects(session, subject_sets: list[dict], *, requestor: User | None, target: User) -> set[str]:
    """The user ids a list of Graph subject sets stands for."""
    users: set[str] = set()
    for subject in subject_sets:
        kind = subject.get("@odata.type", "")
        if kind.endswith("singleUser") and subject.get("userId"):
            users.add(subject["userId"])
        elif kind.endswith("groupMembers") and subject.get("groupId"):
            rows = await session.exec(select(GroupMember.user_id).where(GroupMember.group_id == subject["groupId"]))
            users.update(rows.all())
        elif kind.endswith("connectedOrganizationMembers") and subject.get("connectedOrganizationId"):
            org = await session.get(ConnectedOrganization, subject["connectedOrganizationId"])
            if org and target.mail and in_connected_org(org, target.mail):
                users.add(target.id)
        elif kind.endswith("internalSponsors") or kind.endswith("externalSponsors"):
            for org in await connected_orgs_of(session, target):
                users.update(org.internal_sponsor_ids if kind.endswith("internalSponsors")
                             else org.external_sponsor_ids)
        # requestorManager: Foyer's directory has no manager attribute yet; the stage's
        # fallback approvers take over when this resolves to nobody.
    return users


def in_connected_org(org: ConnectedOrganization, email: str) -> bool:
    domain = email_domain(email)
    return any((s.get("domainName") or "").lower() == domain for s in org.identity_sources)


async def connected_orgs_of(session, user: User) -> list[ConnectedOrganization]:
    if not user.mail:
        return []
    rows = (await session.exec(select(ConnectedOrganization).where(
        ConnectedOrganization.state == "configured"))).all()
    return [org for org in rows if in_connected_org(org, user.mail)]


async def target_allowed(session, policy: AssignmentPolicy, target: User) -> bool:
    scope = policy.allowed_target_scope
    if scope == "allDirectoryUsers":
        return True
    if scope == "allMemberUsers":
        return target.user_type == UserType.member
    if scope == "allExternalUsers":
        return target.user_type == UserType.guest
    if scope == "allConfiguredConnectedOrganizationUsers":
        return bool(await connected_orgs_of(session, target))
    if scope in ("specificDirectoryUsers", "specificConnectedOrganizationUsers"):
        return target.id in await subjects(session, policy.specific_allowed_targets,
                                            requestor=None, target=target)
    return False  # notSpecified: only admins assign directly


async def check_request_references(session, spec: AccessRequestSpec) -> None:
    """Refused unless the request names an access package and a target of its organization and,
    if any, a policy of that package (an add needs one): 404 for what does not exist, 400 for a
    policy of another package. The request workflow checks the rest (record_request)."""
    package = await session.get(AccessPackage, spec.access_package_id)
    if package is None or package.organization_id != spec.organization_id:
        raise not_found(f"access package {spec.access_package_id}")
    if spec.assignment_policy_id:
        policy = await session.get(AssignmentPolicy, spec.assignment_policy_id)
        if policy is None or policy.access_package_id != package.id:
            raise Refused("invalidRequest", f"assignment.assignmentPolicyId: the access package has no "
                          f"assignment policy {spec.assignment_policy_id}")
    elif spec.request_type in ADD_TYPES:
        raise Refused("invalidRequest", "assignment.assignmentPolicyId is required to add an assignment")
    target = await session.get(User, spec.target_id)
    if target is None or target.organization_id != spec.organization_id:
        raise not_found(f"user {spec.target_id}")


async def open_stage_workflow(session, stage_id: str, *, request_id: str | None = None,
                              organization_id: str | None = None) -> str:
    """The id of the request workflow whose open approval stage `stage_id` is. Refused as not
    found for a stage of another request or organization, and stageAlreadyDecided (409) once
    the stage or its request is decided. A quick look only: the workflow's `decide` validator has
    the last word (who may decide, once, with what justification)."""
    stage = await session.get(ApprovalStage, stage_id)
    request = await session.get(AssignmentRequest, stage.request_id) if stage else None
    if request is None or request_id not in (None, request.id) \
            or organization_id not in (None, request.organization_id):
        raise not_found(f"approval stage {stage_id} of request {request_id or '?'}")
    if stage.status in ("Completed", "Expired") or request.state != "pendingApproval":
        raise Refused("stageAlreadyDecided", f"this stage is {stage.status.lower()} and the request is {request.state}")
    return request.workflow_id
