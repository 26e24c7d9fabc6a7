"""Building catalogs, packages and policies straight in the directory for workflow tests."""

import uuid

from workflows.messages.access import AccessRequestSpec
from foyer.db import session_scope
from models.directory import Application, Group, User
from models.entitlement import AccessPackage, AssignmentPolicy, Catalog, CatalogResource
from models.enums import UserType


async def make_user(organization_id: str, name: str, *, guest: bool = False) -> User:
    handle = f"{name.lower().replace(' ', '.')}.{uuid.uuid4().hex[:6]}"
    domain = "fabrikam.example" if guest else "contoso.test"
    async with session_scope() as session:
        user = User(organization_id=organization_id, display_name=name, mail=f"{handle}@{domain}",
                    user_principal_name=f"{handle}@{domain}" if not guest else f"{handle}_{domain}#EXT#@contoso.test",
                    user_type=UserType.guest if guest else UserType.member,
                    external_user_state="Accepted" if guest else None)
        session.add(user)
    return user


def single(user: User) -> dict:
    return {"@odata.type": "#microsoft.graph.singleUser", "userId": user.id}


async def make_package(organization_id: str, *, policy: dict, name: str = "Partner access",
                       extra_group_ids: tuple[str, ...] = ()) -> tuple[AccessPackage, AssignmentPolicy, Group, Application]:
    """A catalog with a group and an app, a package granting group membership and app access,
    and one assignment policy built from `policy` (AssignmentPolicy field names)."""
    suffix = uuid.uuid4().hex[:6]
    async with session_scope() as session:
        catalog = Catalog(organization_id=organization_id, display_name=f"Catalog {suffix}")
        group = Group(organization_id=organization_id, display_name=f"{name} group {suffix}")
        app = Application(organization_id=organization_id, display_name=f"{name} app {suffix}")
        session.add_all([catalog, group, app])
        await session.flush()
        scopes = []
        for system, origin, role in [("AadGroup", group.id, "Member"), ("AadApplication", app.id, "Default Access"),
                                     *[("AadGroup", g, "Member") for g in extra_group_ids]]:
            resource = CatalogResource(catalog_id=catalog.id, origin_system=system, origin_id=origin,
                                       display_name=origin, roles=[{"originId": role, "displayName": role}])
            session.add(resource)
            await session.flush()
            scopes.append({"id": str(uuid.uuid4()), "resourceId": resource.id, "originSystem": system,
                           "originId": origin, "role": role})
        package = AccessPackage(organization_id=organization_id, catalog_id=catalog.id,
                                display_name=f"{name} {suffix}", resource_role_scopes=scopes)
        session.add(package)
        await session.flush()
        row = AssignmentPolicy(access_package_id=package.id, display_name="Policy", **policy)
        session.add(row)
    return package, row, group, app


def self_service(**overrides) -> dict:
    """A policy where guests ask for themselves, without approval, for 30 days."""
    policy = {
        "allowed_target_scope": "allExternalUsers",
        "requestor_settings": {"enableTargetsToSelfAddAccess": True, "enableTargetsToSelfUpdateAccess": True,
                               "enableTargetsToSelfRemoveAccess": True},
        "request_approval_settings": {"isApprovalRequiredForAdd": False, "isApprovalRequiredForUpdate": False,
                                      "stages": []},
        "expiration": {"type": "afterDuration", "duration": "P30D"},
    }
    policy.update(overrides)
    return policy


def stage(approvers: list[User], *, deny_after: str = "P3D", escalate_after: str | None = None,
          escalation: list[User] = (), justification: bool = False) -> dict:
    return {
        "durationBeforeAutomaticDenial": deny_after,
        "isApproverJustificationRequired": justification,
        "isEscalationEnabled": escalate_after is not None,
        "durationBeforeEscalation": escalate_after,
        "primaryApprovers": [single(a) for a in approvers],
        "escalationApprovers": [single(e) for e in escalation],
    }


def request(organization_id: str, package: AccessPackage, policy: AssignmentPolicy, target: User,
            *, requestor: User | None = None, request_type: str = "userAdd", **extra) -> AccessRequestSpec:
    return AccessRequestSpec(
        request_id=str(uuid.uuid4()), organization_id=organization_id, request_type=request_type,
        access_package_id=package.id, assignment_policy_id=policy.id,
        requestor_id=(requestor or target).id, target_id=target.id, **extra)


async def stage_open(client, workflow_id: str, index: int = 0):
    """Wait until approval stage `index` is open (approvers are mailed at that moment)."""
    import asyncio

    from workflows.access_request import AccessRequestWorkflow

    handle = client.get_workflow_handle_for(AccessRequestWorkflow.run, workflow_id)
    for _ in range(200):
        status = await handle.query(AccessRequestWorkflow.current)
        if status.state == "pendingApproval" and status.stage_index == index and status.stage_id:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"stage {index} of {workflow_id} did not open")
