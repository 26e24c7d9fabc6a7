"""`/v1.0/policies/crossTenantAccessPolicy/default` (Graph): the redemption order —
`invitationRedemptionIdentityProviderConfiguration`, which kind of identity provider home realm
discovery (foyer.rules.home_realm) tries first for redemption, sign-up and sign-in, and what when
none matches. Reads are open to members; a change needs a Global Administrator, is audited, and
answers 204 as Graph's does.
"""

from fastapi import Response

from foyer.api.deps import GlobalAdminCaller, MemberCaller, OrganizationDep, SessionDep
from foyer.api.errors import bad_request
from foyer.api.graph import GraphRouter
from foyer.api.schemas import GraphModel, refuse_null
from foyer.api.schemas import organization as shapes
from foyer.audit import audit
from foyer.models.directory import Organization
from foyer.rules.home_realm import DEFAULT_FALLBACK, DEFAULT_PRECEDENCE, precedence_refusal

router = GraphRouter(prefix="/v1.0/policies/crossTenantAccessPolicy", tags=["policies"])


def default_body(org: Organization) -> dict:
    precedence, fallback = list(org.redemption_precedence), org.redemption_fallback
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/crossTenantAccessPolicy/default/$entity",
        "id": "default",
        "isServiceDefault": precedence == DEFAULT_PRECEDENCE and fallback == DEFAULT_FALLBACK,
        "invitationRedemptionIdentityProviderConfiguration": {
            "primaryIdentityProviderPrecedenceOrder": precedence,
            "fallbackIdentityProvider": fallback,
        },
    }


class RedemptionConfigurationUpdate(GraphModel):
    primary_identity_provider_precedence_order: list[str]
    # Graph: "must always be specified".
    fallback_identity_provider: str


class DefaultUpdate(GraphModel):
    invitation_redemption_identity_provider_configuration: RedemptionConfigurationUpdate | None = None

    _present = refuse_null("invitation_redemption_identity_provider_configuration")


@router.get("/default", response_model=shapes.CrossTenantAccessPolicyConfigurationDefault)
async def get_default(caller: MemberCaller, org: OrganizationDep) -> dict:
    return default_body(org)


@router.patch("/default", status_code=204)
async def update_default(body: DefaultUpdate, caller: GlobalAdminCaller, session: SessionDep,
                         org: OrganizationDep) -> Response:
    change = body.invitation_redemption_identity_provider_configuration
    if change is None:
        raise bad_request("nothing to update: give invitationRedemptionIdentityProviderConfiguration")
    if refusal := precedence_refusal(change.primary_identity_provider_precedence_order,
                                     change.fallback_identity_provider):
        raise bad_request(refusal)
    before = default_body(org)["invitationRedemptionIdentityProviderConfiguration"]
    org.redemption_precedence = list(change.primary_identity_provider_precedence_order)
    org.redemption_fallback = change.fallback_identity_provider
    session.add(org)
    await audit(session, key=None, category="Policy", activity="Update cross-tenant access default settings",
                organization_id=org.id, **caller.actor, target_type="Policy", target_id="crossTenantAccessPolicy/default",
                target_name="Cross-tenant access default settings",
                details={"before": before, "after": default_body(org)["invitationRedemptionIdentityProviderConfiguration"]})
    await session.commit()
    return Response(status_code=204)
