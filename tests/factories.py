"""Directory builders shared by the tests and the bench (`python -m bench`, bench.record_histories):
users, API tokens, groups and applications, catalogs with an access package and its policy,
sign-up user flows, API connectors, and the organization's settings, written straight to the
database as an admin would have made them (the admin API that makes them is tested on its own).

Import this only after the settings are fixed (tests/conftest.py; bench/env.py's `configure()`):
it reads them through foyer.db and foyer.settings.
"""

import uuid

from sqlmodel import delete, select

from foyer.db import session_scope
from foyer.security import api_token_hash, new_api_token
from foyer.settings import get_settings
from foyer.models.directory import Application, ApplicationOwner, Group, GroupOwner, Organization, User
from foyer.models.entitlement import AccessPackage, AssignmentPolicy, Catalog, CatalogResource
from foyer.models.enums import Role, UserType
from foyer.models.conditional_access import ConditionalAccessPolicy
from foyer.models.cross_tenant import CrossTenantPartner
from foyer.models.federation import FederationConfiguration, IdentityProvider
from foyer.models.sign_up import ApiConnector, UserFlow, UserFlowAttribute
from foyer.models.token import ApiToken
from foyer.workflows.messages.access import AccessRequestSpec

GUEST_DOMAIN = "fabrikam.example"


# --- people and tokens ------------------------------------------------------------------------

def user_row(organization_id: str, name: str, *, guest: bool = False, handle: str | None = None) -> User:
    """A member (of the organization's domain) or an accepted guest (of fabrikam.example), not yet
    added to a session; `handle` is the mail's local part (default: from the name, made unique)."""
    handle = handle or f"{name.lower().replace(' ', '.')}.{uuid.uuid4().hex[:6]}"
    home = get_settings().organization_domain
    domain = GUEST_DOMAIN if guest else home
    return User(organization_id=organization_id, display_name=name, mail=f"{handle}@{domain}",
                user_principal_name=f"{handle}_{domain}#EXT#@{home}" if guest else f"{handle}@{domain}",
                user_type=UserType.guest if guest else UserType.member,
                external_user_state="Accepted" if guest else None)


async def make_user(organization_id: str, name: str = "Mia Member", *, guest: bool = False) -> User:
    async with session_scope() as session:
        user = user_row(organization_id, name, guest=guest)
        session.add(user)
    return user


def token_row(organization_id: str, role: str, *, user_id: str | None = None,
              name: str | None = None) -> tuple[ApiToken, dict]:
    """An API token row (not yet added) and the Authorization headers that carry it."""
    token = new_api_token()
    row = ApiToken(organization_id=organization_id, name=name or f"{role} token", role=role,
                   token_hash=api_token_hash(token), user_id=user_id)
    return row, {"Authorization": f"Bearer {token}"}


async def make_token(organization_id: str, role: str, *, user_id: str | None = None,
                     name: str | None = None) -> dict:
    """A new API token with `role` (for `user_id`, if given): its Authorization headers."""
    row, headers = token_row(organization_id, role, user_id=user_id, name=name)
    async with session_scope() as session:
        session.add(row)
    return headers


async def make_people(organization_id: str, tag: str, count: int, *,
                      guest: bool) -> list[tuple[User, dict]]:
    """`count` users named "<tag> <i>", each with a token of their own (guest or member role),
    in one transaction: [(user, Authorization headers)]."""
    made = []
    async with session_scope() as session:
        for i in range(count):
            user = user_row(organization_id, f"{tag} {i}", guest=guest, handle=f"{tag}{i:05d}".lower())
            row, headers = token_row(organization_id, Role.guest if guest else Role.member,
                                     user_id=user.id, name=f"{tag} {i}")
            session.add_all([user, row])
            made.append((user, headers))
    return made


# --- groups, applications, entitlement management ---------------------------------------------

async def make_group_and_app(organization_id: str, name: str = "Partners") -> tuple[Group, Application]:
    """A group and an application (what an admin would have made)."""
    async with session_scope() as session:
        group = Group(organization_id=organization_id, display_name=f"{name} {uuid.uuid4().hex[:6]}")
        app = Application(organization_id=organization_id, display_name=f"{name} portal")
        session.add_all([group, app])
    return group, app


def single(user: User | str) -> dict:
    """A Graph singleUser subject set for a user (or a user id)."""
    return {"@odata.type": "#microsoft.graph.singleUser", "userId": getattr(user, "id", user)}


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


def stage(approvers: list[User | str], *, deny_after: str = "P3D", escalate_after: str | None = None,
          escalation: list[User | str] = (), justification: bool = False) -> dict:
    """One approval stage (Graph's accessPackageApprovalStage) for these approvers (users or ids)."""
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
    """The AccessRequestWorkflow's input for `target` asking for `package` under `policy`."""
    return AccessRequestSpec(
        request_id=str(uuid.uuid4()), organization_id=organization_id, request_type=request_type,
        access_package_id=package.id, assignment_policy_id=policy.id,
        requestor_id=(requestor or target).id, target_id=target.id, **extra)


# --- self-service sign-up ---------------------------------------------------------------------

LOYALTY = "extension_0123456789abcdef0123456789abcdef_LoyaltyNumber"


def default_assignments() -> list[dict]:
    return [
        {"id": "displayName", "displayName": "Display name", "isOptional": False, "userInputType": "textBox",
         "userAttribute": {"id": "displayName"}, "userAttributeValues": [], "order": 1},
        {"id": "city", "displayName": "City", "isOptional": True, "userInputType": "textBox",
         "userAttribute": {"id": "city"}, "userAttributeValues": [], "order": 2},
        {"id": "country", "displayName": "Country", "isOptional": False, "userInputType": "dropdownSingleSelect",
         "userAttribute": {"id": "country"}, "order": 3,
         "userAttributeValues": [{"name": "Norway", "value": "NO", "isDefault": False},
                                 {"name": "Kenya", "value": "KE", "isDefault": False}]},
        {"id": LOYALTY, "displayName": "Loyalty number", "isOptional": True, "userInputType": "textBox",
         "userAttribute": {"id": LOYALTY}, "userAttributeValues": [], "order": 4},
    ]


async def make_flow(organization_id: str, **fields) -> str:
    """A user flow in the directory (default: default_assignments()); the LoyaltyNumber custom
    attribute is created too when its assignments name it."""
    flow_id = f"B2X_1_test_{uuid.uuid4().hex[:8]}"
    assignments = fields.pop("user_attribute_assignments", None) or default_assignments()
    fields.setdefault("display_name", "Partner sign-up")
    async with session_scope() as session:
        if any(a.get("id") == LOYALTY for a in assignments):
            existing = (await session.exec(select(UserFlowAttribute).where(
                UserFlowAttribute.organization_id == organization_id, UserFlowAttribute.id == LOYALTY))).first()
            if existing is None:
                session.add(UserFlowAttribute(id=LOYALTY, organization_id=organization_id, name="LoyaltyNumber",
                                              display_name="Loyalty number", data_type="int64"))
        session.add(UserFlow(id=flow_id, organization_id=organization_id,
                             identity_provider_ids=["EmailOtpSignup-OAUTH"],
                             user_attribute_assignments=assignments, **fields))
    return flow_id


async def make_connector(organization_id: str, target_url: str, **fields) -> str:
    """An API connector row (Graph's identityApiConnector) calling `target_url`."""
    async with session_scope() as session:
        row = ApiConnector(organization_id=organization_id, display_name=fields.pop("display_name", "Test connector"),
                           target_url=target_url, **fields)
        session.add(row)
    return row.id


# --- the organization -------------------------------------------------------------------------

async def update_organization(organization_id: str, **values) -> dict:
    """Set the organization's settings (Organization field names); returns the values they had."""
    async with session_scope() as session:
        org = await session.get(Organization, organization_id)
        previous = {key: getattr(org, key) for key in values}
        for key, value in values.items():
            setattr(org, key, value)
        session.add(org)
    return previous


async def reset_federation_and_access_policies(organization_id: str) -> None:
    """Remove the organization's identity providers and SAML federations (home realm discovery
    then sends every address to the passcode), its Conditional Access policies and its
    cross-tenant partner settings: each test starts from an organization with none."""
    async with session_scope() as session:
        for model in (IdentityProvider, FederationConfiguration, ConditionalAccessPolicy, CrossTenantPartner):
            await session.exec(delete(model).where(model.organization_id == organization_id))


async def make_owner(obj: Group | Application, user_id: str) -> None:
    """Make `user_id` an owner of a group or an application (as an administrator would)."""
    async with session_scope() as session:
        if isinstance(obj, Group):
            session.add(GroupOwner(group_id=obj.id, user_id=user_id))
        else:
            session.add(ApplicationOwner(application_id=obj.id, user_id=user_id))


async def make_person(organization_id: str, role: str, name: str, *, guest: bool = False) -> tuple[User, dict]:
    """A directory user and a token of theirs with `role`: (user, Authorization headers)."""
    user = await make_user(organization_id, name, guest=guest)
    return user, await make_token(organization_id, role, user_id=user.id, name=f"{name} token")
