"""Through the official Graph SDK: an admin creates a Conditional Access policy that asks guests
for phishing-resistant MFA, reads it back (the authentication strength expanded), asks the what-if
action which policies apply to a guest, lists the built-in strengths and deletes the policy."""

from msgraph.generated.identity.conditional_access.evaluate.evaluate_post_request_body import EvaluatePostRequestBody
from msgraph.generated.models.application_context import ApplicationContext
from msgraph.generated.models.authentication_strength_policy import AuthenticationStrengthPolicy
from msgraph.generated.models.conditional_access_all_external_tenants import ConditionalAccessAllExternalTenants
from msgraph.generated.models.conditional_access_applications import ConditionalAccessApplications
from msgraph.generated.models.conditional_access_client_app import ConditionalAccessClientApp
from msgraph.generated.models.conditional_access_condition_set import ConditionalAccessConditionSet
from msgraph.generated.models.conditional_access_external_tenants_membership_kind import (
    ConditionalAccessExternalTenantsMembershipKind,
)
from msgraph.generated.models.conditional_access_grant_controls import ConditionalAccessGrantControls
from msgraph.generated.models.conditional_access_guest_or_external_user_types import (
    ConditionalAccessGuestOrExternalUserTypes,
)
from msgraph.generated.models.conditional_access_guests_or_external_users import ConditionalAccessGuestsOrExternalUsers
from msgraph.generated.models.conditional_access_policy import ConditionalAccessPolicy
from msgraph.generated.models.conditional_access_policy_state import ConditionalAccessPolicyState
from msgraph.generated.models.conditional_access_users import ConditionalAccessUsers
from msgraph.generated.models.user_sign_in import UserSignIn
from msgraph.generated.models.what_if_analysis_reasons import WhatIfAnalysisReasons

from tests import factories
from tests.conditional_access_support import PHISHING_RESISTANT, no_policies  # noqa: F401
from tests.graph_sdk import graph_client


async def test_policy_and_what_if_through_the_sdk(server, admin, organization_id):
    guest = await factories.make_user(organization_id, "Sid Guest", guest=True)
    member = await factories.make_user(organization_id, "Sam Member")
    async with graph_client(server, admin) as graph:
        policies = graph.identity.conditional_access.policies
        created = await policies.post(ConditionalAccessPolicy(
            display_name="Phishing-resistant MFA for guests", state=ConditionalAccessPolicyState.Enabled,
            conditions=ConditionalAccessConditionSet(
                client_app_types=[ConditionalAccessClientApp.All],
                applications=ConditionalAccessApplications(include_applications=["All"]),
                users=ConditionalAccessUsers(include_guests_or_external_users=ConditionalAccessGuestsOrExternalUsers(
                    # The SDK writes a flags enum only when given one member (a list is dropped unsent).
                    guest_or_external_user_types=ConditionalAccessGuestOrExternalUserTypes.B2bCollaborationGuest,
                    external_tenants=ConditionalAccessAllExternalTenants(
                        membership_kind=ConditionalAccessExternalTenantsMembershipKind.All)))),
            grant_controls=ConditionalAccessGrantControls(
                operator="OR", authentication_strength=AuthenticationStrengthPolicy(id=PHISHING_RESISTANT))))
        assert created.id and created.state == ConditionalAccessPolicyState.Enabled
        read = await policies.by_conditional_access_policy_id(created.id).get()
        strength = read.grant_controls.authentication_strength
        assert strength.id == PHISHING_RESISTANT and strength.display_name == "Phishing-resistant MFA"
        guests = read.conditions.users.include_guests_or_external_users
        assert guests.guest_or_external_user_types == [ConditionalAccessGuestOrExternalUserTypes.B2bCollaborationGuest]
        assert isinstance(guests.external_tenants, ConditionalAccessAllExternalTenants)

        async def what_if(user):
            answer = await graph.identity.conditional_access.evaluate.post(EvaluatePostRequestBody(
                sign_in_identity=UserSignIn(user_id=user.id),
                sign_in_context=ApplicationContext(include_applications=[]), applied_policies_only=False))
            (result,) = answer.value
            return result

        result = await what_if(guest)
        assert result.policy_applies is True and result.analysis_reasons == [WhatIfAnalysisReasons.NotSet]
        result = await what_if(member)
        assert result.policy_applies is False and result.analysis_reasons == [WhatIfAnalysisReasons.Users]

        strengths = await graph.identity.conditional_access.authentication_strength.policies.get()
        assert len(strengths.value) == 3

        await policies.by_conditional_access_policy_id(created.id).delete()
        assert (await policies.get()).value == []
