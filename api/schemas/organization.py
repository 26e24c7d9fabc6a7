"""Response shapes of /v1.0/organization and /v1.0/policies (Graph's organization,
authorizationPolicy; Foyer's externalCollaborationPolicy and groupSelfServicePolicy)."""

from pydantic import Field

from foyer.api.schemas import Collection, GraphResource


class VerifiedDomain(GraphResource):
    name: str | None = None
    type: str | None = None
    is_default: bool | None = None
    is_initial: bool | None = None
    capabilities: str | None = None


class PrivacyProfile(GraphResource):
    statement_url: str | None = None
    contact_email: str | None = None


class Organization(GraphResource):
    id: str | None = None
    display_name: str | None = None
    verified_domains: list[VerifiedDomain] | None = None
    privacy_profile: PrivacyProfile | None = None
    created_date_time: str | None = None


OrganizationCollection = Collection[Organization]


class DefaultUserRolePermissions(GraphResource):
    allowed_to_create_security_groups: bool | None = None
    allowed_to_create_apps: bool | None = None
    allowed_to_read_other_users: bool | None = None


class AuthorizationPolicy(GraphResource):
    id: str | None = None
    display_name: str | None = None
    description: str | None = None
    allow_invites_from: str | None = None
    guest_user_role_id: str | None = None
    default_user_role_permissions: DefaultUserRolePermissions | None = None


class GroupSelfServicePolicy(GraphResource):
    """Foyer's own (Entra's Groups > General switches; Graph has no such resource)."""
    id: str | None = None
    owners_can_manage_membership_requests: bool | None = None
    restrict_user_access_to_my_groups: bool | None = None


class DomainRestrictions(GraphResource):
    mode: str | None = None
    domains: list[str] | None = None


class ExternalCollaborationPolicy(GraphResource):
    """Foyer's own (Graph has no such resource): domain allow/block list, email one-time
    passcodes, invitation lifetime and reminders (ISO 8601 durations)."""
    id: str | None = None
    domain_restrictions: DomainRestrictions | None = None
    email_one_time_passcode_enabled: bool | None = None
    invitation_lifetime: str | None = None
    invitation_reminders: list[str] | None = None


class InvitationRedemptionIdentityProviderConfiguration(GraphResource):
    primary_identity_provider_precedence_order: list[str] | None = None
    fallback_identity_provider: str | None = None


class CrossTenantAccessPolicyConfigurationDefault(GraphResource):
    id: str | None = None
    is_service_default: bool | None = None
    invitation_redemption_identity_provider_configuration: InvitationRedemptionIdentityProviderConfiguration | None = None
    # crossTenantAccessPolicyB2BSetting and crossTenantAccessPolicyInboundTrust, as stored.
    b2b_collaboration_inbound: dict | None = Field(None, alias="b2bCollaborationInbound")
    b2b_collaboration_outbound: dict | None = Field(None, alias="b2bCollaborationOutbound")
    inbound_trust: dict | None = None


class CrossTenantAccessPolicyConfigurationPartner(GraphResource):
    tenant_id: str | None = None
    b2b_collaboration_inbound: dict | None = Field(None, alias="b2bCollaborationInbound")
    b2b_collaboration_outbound: dict | None = Field(None, alias="b2bCollaborationOutbound")
    inbound_trust: dict | None = None


CrossTenantAccessPolicyConfigurationPartnerCollection = Collection[CrossTenantAccessPolicyConfigurationPartner]


class CrossTenantAccessPolicy(GraphResource):
    id: str | None = None
    display_name: str | None = None
    allowed_cloud_endpoints: list[str] | None = None
