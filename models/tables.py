"""Imports every table so SQLModel.metadata is complete (Alembic and tests use this)."""

from sqlmodel import SQLModel

from foyer.models.access_reviews import AccessReviewDecision, AccessReviewDefinition, AccessReviewInstance
from foyer.models.audit import AuditRecord
from foyer.models.campaign import Campaign, CampaignRow
from foyer.models.entitlement import (
    AccessPackage, ApprovalStage, Assignment, AssignmentPolicy, AssignmentRequest, Catalog,
    CatalogResource, ConnectedOrganization, CustomExtension, CustomExtensionCall,
)
from foyer.models.directory import (
    Application, ApplicationOwner, AppRoleAssignment, Group, GroupAppRoleAssignment, GroupJoinRequest,
    GroupMember, GroupOwner, Organization, User,
)
from foyer.models.conditional_access import ConditionalAccessPolicy
from foyer.models.cross_tenant import CrossTenantPartner
from foyer.models.federation import FederationAttempt, FederationConfiguration, IdentityProvider, SamlAssertionSeen
from foyer.models.invitation import Invitation, Passcode
from foyer.models.mfa import AuthenticationMethod, WebAuthnChallenge
from foyer.models.openid import AuthorizationCode, RefreshToken, RefreshTokenFamily, SignInLog, SigningKey
from foyer.models.outbox import OutboxMessage
from foyer.models.sign_in import SignInChallenge
from foyer.models.sign_up import ApiConnector, CallbackReceipt, SignUp, UserFlow, UserFlowAttribute
from foyer.models.token import ApiToken

metadata = SQLModel.metadata

__all__ = [
    "metadata", "ApiToken", "Application", "AppRoleAssignment", "AuditRecord", "Group",
    "GroupMember", "Invitation", "Organization", "OutboxMessage", "Passcode", "User",
    "AccessPackage", "ApprovalStage", "Assignment", "AssignmentPolicy", "AssignmentRequest",
    "Campaign", "CampaignRow", "Catalog", "CatalogResource", "ConnectedOrganization", "CustomExtension", "CustomExtensionCall",
    "GroupAppRoleAssignment", "ApplicationOwner", "GroupJoinRequest", "GroupOwner",
    "AuthorizationCode", "RefreshToken", "RefreshTokenFamily", "SignInLog", "SigningKey",
    "ConditionalAccessPolicy", "AuthenticationMethod", "WebAuthnChallenge",
    "AccessReviewDefinition", "AccessReviewInstance", "AccessReviewDecision",
    "CrossTenantPartner", "FederationAttempt", "FederationConfiguration", "IdentityProvider", "SamlAssertionSeen",
    "SignInChallenge", "ApiConnector", "CallbackReceipt", "SignUp", "UserFlow", "UserFlowAttribute",
]
