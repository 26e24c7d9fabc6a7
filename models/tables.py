"""Imports every table so SQLModel.metadata is complete (Alembic and tests use this)."""

from sqlmodel import SQLModel

from models.audit import AuditRecord
from models.campaign import Campaign, CampaignRow
from models.entitlement import (
    AccessPackage, ApprovalStage, Assignment, AssignmentPolicy, AssignmentRequest, Catalog,
    CatalogResource, ConnectedOrganization, CustomExtension, CustomExtensionCall,
)
from models.directory import Application, AppRoleAssignment, Group, GroupMember, Organization, User
from models.invitation import Invitation, Passcode
from models.outbox import OutboxMessage
from models.sign_in import SignInChallenge
from models.sign_up import ApiConnector, CallbackReceipt, SignUp, UserFlow, UserFlowAttribute
from models.token import ApiToken

metadata = SQLModel.metadata

__all__ = [
    "metadata", "ApiToken", "Application", "AppRoleAssignment", "AuditRecord", "Group",
    "GroupMember", "Invitation", "Organization", "OutboxMessage", "Passcode", "User",
    "AccessPackage", "ApprovalStage", "Assignment", "AssignmentPolicy", "AssignmentRequest",
    "Campaign", "CampaignRow", "Catalog", "CatalogResource", "ConnectedOrganization", "CustomExtension", "CustomExtensionCall",
    "SignInChallenge", "ApiConnector", "CallbackReceipt", "SignUp", "UserFlow", "UserFlowAttribute",
]
