"""Shared by the Conditional Access API tests: the paths, a policy body, and a fixture that leaves
the organization with no policy before and after each test (a policy left behind would apply to
every other test's sign-ins)."""

import pytest
from sqlmodel import delete

from foyer.db import session_scope
from foyer.models.conditional_access import ConditionalAccessPolicy

POLICIES = "/v1.0/identity/conditionalAccess/policies"
EVALUATE = "/v1.0/identity/conditionalAccess/evaluate"
STRENGTHS = "/v1.0/identity/conditionalAccess/authenticationStrength/policies"
MFA = "00000000-0000-0000-0000-000000000002"
PHISHING_RESISTANT = "00000000-0000-0000-0000-000000000004"


def body(**overrides) -> dict:
    """Graph's "Require MFA for guests" example, report-only."""
    return {"displayName": "Require MFA for guests", "state": "enabledForReportingButNotEnforced",
            "conditions": {"clientAppTypes": ["all"], "applications": {"includeApplications": ["All"]},
                           "users": {"includeGuestsOrExternalUsers": {
                               "guestOrExternalUserTypes": "b2bCollaborationGuest,b2bDirectConnectUser",
                               "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants",
                                                   "membershipKind": "all"}}}},
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
            "sessionControls": {"signInFrequency": {"isEnabled": True, "type": "hours", "value": 12,
                                                    "frequencyInterval": "timeBased"}},
            **overrides}


async def remove_policies(organization_id: str) -> None:
    async with session_scope() as session:
        await session.exec(delete(ConditionalAccessPolicy).where(
            ConditionalAccessPolicy.organization_id == organization_id))


@pytest.fixture(autouse=True)
async def no_policies(organization_id):
    await remove_policies(organization_id)
    yield
    await remove_policies(organization_id)
