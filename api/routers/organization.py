"""`/v1.0/organization` and the policies that govern external collaboration.

- `/v1.0/policies/authorizationPolicy` (Graph): who may invite guests (`allowInvitesFrom`), what
  guests may read (`guestUserRoleId`, foyer.rules.guest_access) and what members may create
  (`defaultUserRolePermissions`).
- `/v1.0/policies/groupSelfServicePolicy` (Foyer's own): Entra's Groups > General switches (owners
  approve requests to join in My Groups; My Groups restricted to administrators).
- `/v1.0/policies/externalCollaborationPolicy` (Foyer's own): the domain allow/block list, email
  one-time passcodes, invitation lifetime and reminders.

Reads are open to members; changes need a Global Administrator and are audited ("Policy").
Invitations and redemptions read these settings when they happen, so a change applies to
invitations already waiting too.
"""

import re
from typing import Literal

from fastapi import Response
from pydantic import AnyHttpUrl, Field, StrictBool, field_validator

from foyer.audit import audit
from foyer.api.deps import GlobalAdminCaller, MemberCaller, OrganizationDep, SessionDep
from foyer.api.errors import bad_request, not_found
from foyer.api.graph import GraphRouter
from foyer.api.schemas import GraphModel, iso, refuse_null
from foyer.rules.emails import normalize_email
from foyer.api.schemas import organization as shapes
from foyer.durations import check_duration, parse_duration
from foyer.names import DisplayName
from foyer.models.directory import Organization
from foyer.models.enums import AllowInvitesFrom, DomainListMode
from foyer.rules.guest_access import GUEST_LEVELS

organization_router = GraphRouter(prefix="/v1.0/organization", tags=["organization"])
policies_router = GraphRouter(prefix="/v1.0/policies", tags=["policies"])
routers = (organization_router, policies_router)

MAX_DOMAINS = 1000
MAX_REMINDERS = 10
DOMAIN_PATTERN = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")



# --- organization ---------------------------------------------------------------------------

def organization_body(org: Organization) -> dict:
    return {
        "id": org.id,
        "displayName": org.display_name,
        "verifiedDomains": [{"type": "Managed", "isDefault": False, "isInitial": False, **d}
                            for d in org.verified_domains],
        "privacyProfile": {"statementUrl": org.privacy_statement_url,
                           "contactEmail": org.privacy_contact_email},
        "createdDateTime": iso(org.created_date_time),
    }


class PrivacyProfile(GraphModel):
    statement_url: AnyHttpUrl | None = None
    contact_email: str | None = None

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else normalize_email(value, "privacyProfile.contactEmail")


class OrganizationUpdate(GraphModel):
    display_name: DisplayName | None = Field(default=None, min_length=1, max_length=256)
    privacy_profile: PrivacyProfile | None = None

    _present = refuse_null("display_name")


@organization_router.get("", response_model=shapes.OrganizationCollection)
async def get_organization(caller: MemberCaller, org: OrganizationDep) -> dict:
    return {"value": [organization_body(org)]}


@organization_router.patch("/{organization_id}", status_code=204)
async def update_organization(organization_id: str, body: OrganizationUpdate,
                              caller: GlobalAdminCaller, session: SessionDep,
                              org: OrganizationDep) -> Response:
    if organization_id != org.id:
        raise not_found(f"organization {organization_id}")
    changes: dict = {}
    if "display_name" in body.model_fields_set:
        changes["displayName"] = org.display_name = body.display_name
    profile = body.privacy_profile
    if "privacy_profile" in body.model_fields_set:
        if profile is None:  # privacyProfile: null clears both
            org.privacy_statement_url = org.privacy_contact_email = None
            changes["privacyProfile"] = None
        else:
            if "statement_url" in profile.model_fields_set:
                org.privacy_statement_url = str(profile.statement_url) if profile.statement_url else None
                changes["privacyProfile.statementUrl"] = org.privacy_statement_url
            if "contact_email" in profile.model_fields_set:
                org.privacy_contact_email = profile.contact_email
                changes["privacyProfile.contactEmail"] = org.privacy_contact_email
    if not changes:
        raise bad_request("nothing to update: give displayName or privacyProfile")
    session.add(org)
    await audit(session, key=None, category="Policy", activity="Update organization",
                organization_id=org.id, **caller.actor, target_type="Organization",
                target_id=org.id, target_name=org.display_name, details=changes)
    await session.commit()
    return Response(status_code=204)


# --- authorizationPolicy ----------------------------------------------------------------------

def authorization_policy_body(org: Organization) -> dict:
    return {
        "id": "authorizationPolicy",
        "displayName": "Authorization Policy",
        "description": "Used to manage authorization related settings across the company.",
        "allowInvitesFrom": org.allow_invites_from,
        "guestUserRoleId": org.guest_user_role_id,
        "defaultUserRolePermissions": {
            "allowedToCreateSecurityGroups": org.allowed_to_create_security_groups,
            "allowedToCreateApps": org.allowed_to_create_apps,
            # Members always read the directory in Foyer: shown, not settable.
            "allowedToReadOtherUsers": True,
        },
    }


class DefaultUserRolePermissionsUpdate(GraphModel):
    allowed_to_create_security_groups: StrictBool | None = None
    allowed_to_create_apps: StrictBool | None = None
    allowed_to_read_other_users: StrictBool | None = None

    _present = refuse_null("allowed_to_create_security_groups", "allowed_to_create_apps")

    @field_validator("allowed_to_read_other_users")
    @classmethod
    def _read_only(cls, value):
        if value is not True:
            raise ValueError("Foyer's members always read other users: only true is accepted")
        return value


class AuthorizationPolicyUpdate(GraphModel):
    allow_invites_from: AllowInvitesFrom | None = None
    guest_user_role_id: str | None = None
    default_user_role_permissions: DefaultUserRolePermissionsUpdate | None = None

    @field_validator("guest_user_role_id")
    @classmethod
    def _guest_level(cls, value: str | None) -> str:
        level = (value or "").strip().lower()
        if level not in GUEST_LEVELS:
            raise ValueError("guestUserRoleId must be one of " + ", ".join(
                f"{guid} ({name})" for guid, name in GUEST_LEVELS.items()))
        return level

    _present = refuse_null("allow_invites_from", "default_user_role_permissions")


@policies_router.get("/authorizationPolicy", response_model=shapes.AuthorizationPolicy)
async def get_authorization_policy(caller: MemberCaller, org: OrganizationDep) -> dict:
    return authorization_policy_body(org)


@policies_router.patch("/authorizationPolicy", status_code=204)
async def update_authorization_policy(body: AuthorizationPolicyUpdate, caller: GlobalAdminCaller,
                                      session: SessionDep, org: OrganizationDep) -> Response:
    """A partial update: what the body names changes, the rest stays."""
    if not body.model_fields_set:
        raise bad_request("nothing to update: give allowInvitesFrom, guestUserRoleId or "
                          "defaultUserRolePermissions")
    before = authorization_policy_body(org)
    if body.allow_invites_from is not None:
        org.allow_invites_from = body.allow_invites_from.value
    if body.guest_user_role_id is not None:
        org.guest_user_role_id = body.guest_user_role_id
    permissions = body.default_user_role_permissions
    if permissions is not None:
        if permissions.allowed_to_create_security_groups is not None:
            org.allowed_to_create_security_groups = permissions.allowed_to_create_security_groups
        if permissions.allowed_to_create_apps is not None:
            org.allowed_to_create_apps = permissions.allowed_to_create_apps
    session.add(org)
    after = authorization_policy_body(org)
    changed = {k: v for k, v in after.items() if before[k] != v}
    details = {**changed, **({"previousAllowInvitesFrom": before["allowInvitesFrom"]}
                             if "allowInvitesFrom" in changed else {})}
    await audit(session, key=None, category="Policy", activity="Update authorization policy",
                organization_id=org.id, **caller.actor, target_type="Policy",
                target_id="authorizationPolicy", target_name="Authorization Policy", details=details)
    await session.commit()
    return Response(status_code=204)


# --- groupSelfServicePolicy (Foyer) ---------------------------------------------------------------

def group_self_service_body(org: Organization) -> dict:
    return {
        "id": "groupSelfServicePolicy",
        "ownersCanManageMembershipRequests": org.owners_can_manage_join_requests,
        "restrictUserAccessToMyGroups": org.restrict_my_groups,
    }


class GroupSelfServiceUpdate(GraphModel):
    owners_can_manage_membership_requests: StrictBool | None = None
    restrict_user_access_to_my_groups: StrictBool | None = None

    _present = refuse_null("owners_can_manage_membership_requests", "restrict_user_access_to_my_groups")


@policies_router.get("/groupSelfServicePolicy", response_model=shapes.GroupSelfServicePolicy)
async def get_group_self_service_policy(caller: MemberCaller, org: OrganizationDep) -> dict:
    return group_self_service_body(org)


@policies_router.patch("/groupSelfServicePolicy", status_code=204)
async def update_group_self_service_policy(body: GroupSelfServiceUpdate, caller: GlobalAdminCaller,
                                           session: SessionDep, org: OrganizationDep) -> Response:
    if not body.model_fields_set:
        raise bad_request("nothing to update: give ownersCanManageMembershipRequests or "
                          "restrictUserAccessToMyGroups")
    before = group_self_service_body(org)
    if body.owners_can_manage_membership_requests is not None:
        org.owners_can_manage_join_requests = body.owners_can_manage_membership_requests
    if body.restrict_user_access_to_my_groups is not None:
        org.restrict_my_groups = body.restrict_user_access_to_my_groups
    session.add(org)
    after = group_self_service_body(org)
    await audit(session, key=None, category="Policy", activity="Update group self-service settings",
                organization_id=org.id, **caller.actor, target_type="Policy",
                target_id="groupSelfServicePolicy", target_name="Group self-service settings",
                details={k: v for k, v in after.items() if before[k] != v})
    await session.commit()
    return Response(status_code=204)


# --- externalCollaborationPolicy (Foyer) ----------------------------------------------------------

def external_collaboration_body(org: Organization) -> dict:
    return {
        "id": "externalCollaborationPolicy",
        "domainRestrictions": {"mode": org.domain_list_mode, "domains": list(org.domain_list)},
        "emailOneTimePasscodeEnabled": org.email_otp_enabled,
        "invitationLifetime": org.invitation_lifetime,
        "invitationReminders": list(org.invitation_reminders),
    }


class DomainRestrictions(GraphModel):
    mode: Literal["none", "allowList", "blockList"]
    domains: list[str] = Field(default_factory=list, max_length=MAX_DOMAINS)

    @field_validator("domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        seen: list[str] = []
        for raw in value:
            domain = raw.strip().lower() if isinstance(raw, str) else ""
            if not DOMAIN_PATTERN.match(domain):
                raise ValueError(f"{raw!r} is not a domain name such as fabrikam.com")
            if domain not in seen:
                seen.append(domain)
        return seen


class ExternalCollaborationUpdate(GraphModel):
    domain_restrictions: DomainRestrictions | None = None
    email_one_time_passcode_enabled: StrictBool | None = None
    invitation_lifetime: str | None = None
    invitation_reminders: list[str] | None = Field(default=None, max_length=MAX_REMINDERS)

    @field_validator("invitation_lifetime")
    @classmethod
    def _lifetime(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("may not be null")
        check_duration(value, "invitationLifetime", at_least="PT1H", at_most="P365D")
        return value

    @field_validator("invitation_reminders")
    @classmethod
    def _reminders(cls, value: list[str] | None) -> list[str]:
        if value is None:
            raise ValueError("may not be null; use [] for no reminders")
        parsed = [(check_duration(v, "invitationReminders"), v) for v in value]
        if len({delta for delta, _ in parsed}) != len(parsed):
            raise ValueError("invitationReminders has the same reminder twice")
        return [v for _, v in sorted(parsed)]

    _present = refuse_null("domain_restrictions", "email_one_time_passcode_enabled")


@policies_router.get("/externalCollaborationPolicy", response_model=shapes.ExternalCollaborationPolicy)
async def get_external_collaboration_policy(caller: MemberCaller, org: OrganizationDep) -> dict:
    return external_collaboration_body(org)


@policies_router.patch("/externalCollaborationPolicy", status_code=204)
async def update_external_collaboration_policy(body: ExternalCollaborationUpdate,
                                               caller: GlobalAdminCaller, session: SessionDep,
                                               org: OrganizationDep) -> Response:
    if not body.model_fields_set:
        raise bad_request("nothing to update: give domainRestrictions, emailOneTimePasscodeEnabled, "
                          "invitationLifetime or invitationReminders")
    restrictions = body.domain_restrictions
    if restrictions is not None:
        if restrictions.mode == DomainListMode.none and restrictions.domains:
            raise bad_request("domainRestrictions: mode 'none' takes no domains")
        if restrictions.mode != DomainListMode.none and not restrictions.domains:
            raise bad_request(f"domainRestrictions: mode '{restrictions.mode}' needs at least one domain")
    lifetime = body.invitation_lifetime or org.invitation_lifetime
    reminders = body.invitation_reminders if body.invitation_reminders is not None \
        else org.invitation_reminders
    too_late = [r for r in reminders if parse_duration(r) >= parse_duration(lifetime)]
    if too_late:
        raise bad_request(f"invitationReminders {', '.join(too_late)} must each be shorter than "
                          f"the invitationLifetime {lifetime}")

    before = external_collaboration_body(org)
    if restrictions is not None:
        org.domain_list_mode = restrictions.mode
        org.domain_list = restrictions.domains
    if body.email_one_time_passcode_enabled is not None:
        org.email_otp_enabled = body.email_one_time_passcode_enabled
    org.invitation_lifetime = lifetime
    org.invitation_reminders = list(reminders)
    session.add(org)
    after = external_collaboration_body(org)
    changed = {k: v for k, v in after.items() if before[k] != v}
    await audit(session, key=None, category="Policy", activity="Update external collaboration settings",
                organization_id=org.id, **caller.actor, target_type="Policy",
                target_id="externalCollaborationPolicy",
                target_name="External collaboration settings", details=changed)
    await session.commit()
    return Response(status_code=204)
