"""Organization, users (members and guests), groups and applications."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from foyer.models.base import json_field, new_id, utc_field
from foyer.models.enums import AllowInvitesFrom, DomainListMode, UserType


class Organization(SQLModel, table=True):
    """The tenant, and its external collaboration settings (enforced on invite and redemption)."""
    __tablename__ = "organizations"

    id: str = Field(default_factory=new_id, primary_key=True)
    display_name: str
    # [{"name": "contoso.com", "isDefault": true, "isInitial": true}]
    verified_domains: list[dict] = json_field()
    privacy_statement_url: str | None = None
    privacy_contact_email: str | None = None
    allow_invites_from: str = AllowInvitesFrom.admins_guest_inviters_and_all_members
    domain_list_mode: str = DomainListMode.none
    domain_list: list[str] = json_field()
    email_otp_enabled: bool = True
    # ISO 8601 durations.
    invitation_lifetime: str = "P30D"
    invitation_reminders: list[str] = json_field(lambda: ["P3D", "P10D"])
    # Graph's authenticationFlowsPolicy.selfServiceSignUp.isEnabled (on by default, as in Entra).
    self_service_sign_up_enabled: bool = True
    # Graph's authorizationPolicy: what guests may read (foyer.rules.guest_access's three levels;
    # Entra's default is the limited Guest User level) and what members may create.
    guest_user_role_id: str = "10dae51f-b6af-4016-8d66-8c2a99b929b3"
    allowed_to_create_security_groups: bool = True
    allowed_to_create_apps: bool = True
    # Foyer's self-service group settings (Entra's Groups > General switches, defaults as Entra's):
    # whether owners approve requests to join their groups in My Groups, and whether members
    # (not administrators) may use My Groups at all.
    owners_can_manage_join_requests: bool = False
    restrict_my_groups: bool = False
    # Graph's crossTenantAccessPolicy/default invitationRedemptionIdentityProviderConfiguration:
    # which kind of identity provider home realm discovery tries first, and what when none matches
    # (defaults as Entra's; Foyer's defaultConfiguredIdp is the email one-time passcode, if enabled).
    redemption_precedence: list[str] = json_field(
        lambda: ["azureActiveDirectory", "externalFederation", "socialIdentityProviders"])
    redemption_fallback: str = "defaultConfiguredIdp"
    # crossTenantAccessPolicy/default's other blocks (b2bCollaborationInbound and Outbound,
    # inboundTrust) as an admin set them; what is absent is the service default
    # (foyer.rules.cross_tenant_access.service_default).
    cross_tenant_default: dict = json_field(dict)
    # Graph's entitlementManagementSettings: what happens to a governed guest (one who came in
    # through entitlement management) who loses their last access package assignment — none,
    # blockSignIn, or blockSignInAndDelete after durationUntilExternalUserDeletedAfterBlocked.
    external_user_lifecycle_action: str = "blockSignInAndDelete"
    duration_until_external_user_deleted_after_blocked: str = "P30D"
    created_date_time: datetime = utc_field(default_now=True, nullable=False)

    @property
    def primary_domain(self) -> str:
        for domain in self.verified_domains:
            if domain.get("isDefault"):
                return domain["name"]
        return self.verified_domains[0]["name"] if self.verified_domains else "foyer.localhost"


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("organization_id", "mail", name="uq_user_org_mail"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    display_name: str | None = None
    given_name: str | None = None
    surname: str | None = None
    # Lower-cased: one address, one user.
    mail: str | None = Field(default=None, index=True)
    user_principal_name: str = Field(unique=True)
    user_type: str = Field(default=UserType.member, index=True)
    external_user_state: str | None = Field(default=None, index=True)
    external_user_state_change_date_time: datetime | None = utc_field()
    creation_type: str | None = None
    identities: list[dict] = json_field()
    account_enabled: bool = True
    invited_by: str | None = None
    # Graph's signInActivity: written by the OpenID Provider (foyer.usecases.sign_in_log). Access
    # reviews find inactive guests by last_successful_sign_in_date_time.
    last_sign_in_date_time: datetime | None = utc_field()
    last_successful_sign_in_date_time: datetime | None = utc_field()
    last_non_interactive_sign_in_date_time: datetime | None = utc_field()
    # Attributes with no column of their own (jobTitle, city, country, extension_<appId>_<name>),
    # as collected by a self-service sign-up user flow.
    custom_attributes: dict = json_field(dict)
    # A guest governed by entitlement management's external-user lifecycle: one who came in
    # through it (a connected organization's person who requested a package, or a package
    # assignment made a new guest). Guests who existed before their first assignment are not.
    governed_by_entitlement: bool = False
    # Set while the guest lifecycle has blocked this account: when it will be deleted (None: blocked
    # only, or not blocked).
    lifecycle_blocked_date_time: datetime | None = utc_field()
    scheduled_deletion_date_time: datetime | None = utc_field()
    created_date_time: datetime = utc_field(default_now=True, nullable=False, index=True)


class Group(SQLModel, table=True):
    __tablename__ = "groups"
    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    display_name: str
    description: str | None = None
    created_date_time: datetime = utc_field(default_now=True, nullable=False)


class GroupOwner(SQLModel, table=True):
    """A user who owns a group (Graph's group owners): manages its members, in the API and in My
    Groups, and may put it in a catalog they own."""
    __tablename__ = "group_owners"
    group_id: str = Field(foreign_key="groups.id", primary_key=True, ondelete="CASCADE")
    user_id: str = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE", index=True)
    added_date_time: datetime = utc_field(default_now=True, nullable=False)


class GroupJoinRequest(SQLModel, table=True):
    """A member's request to join a group, waiting for one of its owners in My Groups (the
    GroupJoinRequestWorkflow holds the wait; this row is what the pages read)."""
    __tablename__ = "group_join_requests"
    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    group_id: str = Field(foreign_key="groups.id", index=True, ondelete="CASCADE")
    user_id: str = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    justification: str | None = None
    # pending, approved, denied, expired, cancelled
    state: str = Field(default="pending", index=True)
    workflow_id: str
    decided_by_id: str | None = None
    decided_date_time: datetime | None = utc_field()
    created_date_time: datetime = utc_field(default_now=True, nullable=False)


class GroupMember(SQLModel, table=True):
    __tablename__ = "group_members"
    group_id: str = Field(foreign_key="groups.id", primary_key=True, ondelete="CASCADE")
    user_id: str = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE", index=True)
    added_date_time: datetime = utc_field(default_now=True, nullable=False)


class Application(SQLModel, table=True):
    """An application registration, and the relying party Foyer's OpenID Provider signs it in as
    (its `app_id` is the OAuth client id). Graph keeps `appRoleAssignmentRequired` on the service
    principal; Foyer has no service principals, so it lives here."""
    __tablename__ = "applications"
    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    app_id: str = Field(default_factory=new_id, unique=True)
    display_name: str
    # Graph's web.redirectUris (confidential clients: a client secret), spa.redirectUris and
    # publicClient.redirectUris (public clients: PKCE, no secret), web.homePageUrl (My Apps' link).
    web_redirect_uris: list[str] = json_field()
    spa_redirect_uris: list[str] = json_field()
    public_client_redirect_uris: list[str] = json_field()
    home_page_url: str | None = None
    # Graph's passwordCredentials: [{"keyId", "displayName", "hint", "startDateTime",
    # "endDateTime", "secretHash"}]; the secret text is shown once and only its digest is kept.
    password_credentials: list[dict] = json_field()
    # Graph's appRoles: [{"id", "value", "displayName", "description", "isEnabled",
    # "allowedMemberTypes", "origin"}]; the `roles` claim carries the values assigned.
    app_roles: list[dict] = json_field()
    # Graph's groupMembershipClaims: None (no `groups` claim), "SecurityGroup", "All",
    # "ApplicationGroup" (only groups assigned to this app).
    group_membership_claims: str | None = None
    # Graph's optionalClaims: {"idToken": [{"name": ...}], "accessToken": [...]}.
    optional_claims: dict = json_field(dict)
    # The service principal's appRoleAssignmentRequired: a token only for those assigned, directly,
    # through a group, or through an access package. True by default (Entra's is false; Foyer's
    # users are mostly guests, and an app shared with guests should say who).
    app_role_assignment_required: bool = True
    # The partner organization this registration signs our people in for (Foyer's
    # foyerPartnerTenantId, like a service principal's appOwnerOrganizationId): its sign-ins are
    # B2B collaboration outbound, held to the cross-tenant settings for that tenant.
    partner_tenant_id: str | None = None
    created_date_time: datetime = utc_field(default_now=True, nullable=False)


class ApplicationOwner(SQLModel, table=True):
    """A user who owns an application (Graph's application owners): assigns it, shares it with
    guests from My Apps, and may put it in a catalog they own."""
    __tablename__ = "application_owners"
    application_id: str = Field(foreign_key="applications.id", primary_key=True, ondelete="CASCADE")
    user_id: str = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE", index=True)
    added_date_time: datetime = utc_field(default_now=True, nullable=False)


class AppRoleAssignment(SQLModel, table=True):
    """A user assigned to an application (Graph appRoleAssignment, default role)."""
    __tablename__ = "app_role_assignments"

    __table_args__ = (UniqueConstraint("application_id", "principal_id", "app_role_id"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    application_id: str = Field(foreign_key="applications.id", index=True, ondelete="CASCADE")
    principal_id: str = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    app_role_id: str = "00000000-0000-0000-0000-000000000000"
    created_date_time: datetime = utc_field(default_now=True, nullable=False)


class GroupAppRoleAssignment(SQLModel, table=True):
    """A group assigned to an application (Graph appRoleAssignment with principalType Group): its
    members get the app role."""
    __tablename__ = "group_app_role_assignments"

    __table_args__ = (UniqueConstraint("application_id", "group_id", "app_role_id"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    application_id: str = Field(foreign_key="applications.id", index=True, ondelete="CASCADE")
    group_id: str = Field(foreign_key="groups.id", index=True, ondelete="CASCADE")
    app_role_id: str = "00000000-0000-0000-0000-000000000000"
    created_date_time: datetime = utc_field(default_now=True, nullable=False)
