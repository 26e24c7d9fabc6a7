"""`/v1.0/policies/crossTenantAccessPolicy` (Graph): the organization's cross-tenant access settings.

- `/default` (GET, PATCH → 204, `resetToSystemDefault`): the redemption order
  (`invitationRedemptionIdentityProviderConfiguration`, which home realm discovery,
  foyer.rules.home_realm, follows for redemption, sign-up and sign-in), and the default B2B
  collaboration blocks (`b2bCollaborationInbound`, `b2bCollaborationOutbound`) and `inboundTrust`.
- `/partners` and `/partners/{tenantId}` (keyed by tenantId, as Graph's): one partner's blocks; a
  block left null inherits the default's.

What the blocks mean is foyer.rules.cross_tenant_access (`b2b_allowed`, `effective`). Reads are open
to members; changes need a Global Administrator and are audited ("Policy").
"""

import uuid
from typing import Any

from fastapi import Response
from pydantic import Field
from sqlmodel import select

from foyer.api.deps import GlobalAdminCaller, MemberCaller, OrganizationDep, SessionDep
from foyer.api.errors import GraphError, bad_request, not_found
from foyer.api.graph import GraphRouter
from foyer.api.schemas import GraphModel, refuse_null
from foyer.api.schemas import organization as shapes
from foyer.audit import audit
from foyer.models.cross_tenant import CrossTenantPartner
from foyer.models.directory import Organization
from foyer.rules.cross_tenant_access import b2b_setting_refusal, inbound_trust_refusal
from foyer.usecases.cross_tenant_access import PARTNER_COLUMNS, default_settings, partner_blocks
from foyer.rules.home_realm import DEFAULT_FALLBACK, DEFAULT_PRECEDENCE, precedence_refusal

router = GraphRouter(prefix="/v1.0/policies/crossTenantAccessPolicy", tags=["policies"])
CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#policies/crossTenantAccessPolicy"


def _blocks_refusal(blocks: dict) -> str | None:
    for name, value in blocks.items():
        refusal = inbound_trust_refusal(value) if name == "inboundTrust" else b2b_setting_refusal(name, value)
        if refusal:
            return refusal
    return None


@router.get("", response_model=shapes.CrossTenantAccessPolicy)
async def get_policy(caller: MemberCaller) -> dict:
    return {"@odata.context": f"{CONTEXT}/$entity", "id": "crossTenantAccessPolicy",
            "displayName": "CrossTenantAccessPolicy", "allowedCloudEndpoints": []}


# --- default -----------------------------------------------------------------------------------

def default_body(org: Organization) -> dict:
    precedence, fallback = list(org.redemption_precedence), org.redemption_fallback
    return {
        "@odata.context": f"{CONTEXT}/default/$entity",
        "id": "default",
        "isServiceDefault": (precedence == DEFAULT_PRECEDENCE and fallback == DEFAULT_FALLBACK
                             and not org.cross_tenant_default),
        "invitationRedemptionIdentityProviderConfiguration": {
            "primaryIdentityProviderPrecedenceOrder": precedence,
            "fallbackIdentityProvider": fallback,
        },
        **default_settings(org),
    }


class RedemptionConfigurationUpdate(GraphModel):
    primary_identity_provider_precedence_order: list[str]
    # Graph: "must always be specified".
    fallback_identity_provider: str


class DefaultUpdate(GraphModel):
    invitation_redemption_identity_provider_configuration: RedemptionConfigurationUpdate | None = None
    b2b_collaboration_inbound: Any = Field(None, alias="b2bCollaborationInbound")
    b2b_collaboration_outbound: Any = Field(None, alias="b2bCollaborationOutbound")
    inbound_trust: Any = None

    _present = refuse_null("invitation_redemption_identity_provider_configuration", "b2b_collaboration_inbound",
                           "b2b_collaboration_outbound", "inbound_trust")


@router.get("/default", response_model=shapes.CrossTenantAccessPolicyConfigurationDefault)
async def get_default(caller: MemberCaller, org: OrganizationDep) -> dict:
    return default_body(org)


@router.patch("/default", status_code=204)
async def update_default(body: DefaultUpdate, caller: GlobalAdminCaller, session: SessionDep,
                         org: OrganizationDep) -> Response:
    if not body.model_fields_set:
        raise bad_request("nothing to update: give invitationRedemptionIdentityProviderConfiguration, "
                          "b2bCollaborationInbound, b2bCollaborationOutbound or inboundTrust")
    blocks = body.model_dump(by_alias=True, include={"b2b_collaboration_inbound", "b2b_collaboration_outbound",
                                                      "inbound_trust"} & body.model_fields_set)
    if refusal := _blocks_refusal(blocks):
        raise bad_request(refusal)
    change = body.invitation_redemption_identity_provider_configuration
    if change is not None and (refusal := precedence_refusal(change.primary_identity_provider_precedence_order,
                                                             change.fallback_identity_provider)):
        raise bad_request(refusal)
    before = default_body(org)
    if change is not None:
        org.redemption_precedence = list(change.primary_identity_provider_precedence_order)
        org.redemption_fallback = change.fallback_identity_provider
    org.cross_tenant_default = {**org.cross_tenant_default, **blocks}
    session.add(org)
    await _audit(session, caller, org, "Update cross-tenant access default settings", "default", before,
                 default_body(org))
    await session.commit()
    return Response(status_code=204)


@router.post("/default/resetToSystemDefault", status_code=204)
async def reset_default(caller: GlobalAdminCaller, session: SessionDep, org: OrganizationDep) -> Response:
    before = default_body(org)
    org.redemption_precedence, org.redemption_fallback = list(DEFAULT_PRECEDENCE), DEFAULT_FALLBACK
    org.cross_tenant_default = {}
    session.add(org)
    await _audit(session, caller, org, "Reset cross-tenant access default settings", "default", before,
                 default_body(org))
    await session.commit()
    return Response(status_code=204)


async def _audit(session, caller, org: Organization, activity: str, target: str, before: dict, after: dict) -> None:
    changed = {k: v for k, v in after.items() if not k.startswith("@") and before.get(k) != v}
    await audit(session, key=None, category="Policy", activity=activity, organization_id=org.id, **caller.actor,
                target_type="Policy", target_id=f"crossTenantAccessPolicy/{target}",
                target_name="Cross-tenant access settings",
                details={"before": {k: before.get(k) for k in changed}, "after": changed})


# --- partners ----------------------------------------------------------------------------------

def partner_body(row: CrossTenantPartner) -> dict:
    return {"tenantId": row.tenant_id, **partner_blocks(row)}


def _tenant_id(value, org: Organization) -> str:
    try:
        tenant_id = str(uuid.UUID(str(value)))
    except ValueError:
        raise bad_request("tenantId must be the partner organization's id (a GUID)") from None
    if tenant_id == org.id:
        raise bad_request("tenantId is this organization's own id")
    return tenant_id


async def _partner(session, org: Organization, tenant_id: str) -> CrossTenantPartner:
    row = await session.get(CrossTenantPartner, (org.id, tenant_id.lower()))
    if row is None:
        raise not_found(f"partner configuration {tenant_id}")
    return row


class PartnerCreate(GraphModel):
    tenant_id: str
    b2b_collaboration_inbound: Any = Field(None, alias="b2bCollaborationInbound")
    b2b_collaboration_outbound: Any = Field(None, alias="b2bCollaborationOutbound")
    inbound_trust: Any = None


class PartnerUpdate(GraphModel):
    b2b_collaboration_inbound: Any = Field(None, alias="b2bCollaborationInbound")
    b2b_collaboration_outbound: Any = Field(None, alias="b2bCollaborationOutbound")
    inbound_trust: Any = None


def _blocks(body: GraphModel) -> dict:
    blocks = body.model_dump(by_alias=True, include=set(body.model_fields_set) - {"tenant_id"})
    if refusal := _blocks_refusal(blocks):
        raise bad_request(refusal)
    return blocks


@router.get("/partners", response_model=shapes.CrossTenantAccessPolicyConfigurationPartnerCollection)
async def list_partners(caller: MemberCaller, session: SessionDep, org: OrganizationDep) -> dict:
    rows = (await session.exec(select(CrossTenantPartner).where(CrossTenantPartner.organization_id == org.id)
                               .order_by(CrossTenantPartner.created_date_time))).all()
    return {"@odata.context": f"{CONTEXT}/partners", "value": [partner_body(row) for row in rows]}


@router.post("/partners", status_code=201, response_model=shapes.CrossTenantAccessPolicyConfigurationPartner)
async def create_partner(body: PartnerCreate, caller: GlobalAdminCaller, session: SessionDep,
                         org: OrganizationDep) -> dict:
    tenant_id = _tenant_id(body.tenant_id, org)
    blocks = _blocks(body)
    if await session.get(CrossTenantPartner, (org.id, tenant_id)) is not None:
        raise GraphError(409, "conflictingObject", f"a configuration for partner {tenant_id} already exists")
    row = CrossTenantPartner(organization_id=org.id, tenant_id=tenant_id,
                             **{PARTNER_COLUMNS[name]: value for name, value in blocks.items()})
    session.add(row)
    await _audit(session, caller, org, "Add cross-tenant access partner settings", f"partners/{tenant_id}", {},
                 partner_body(row))
    await session.commit()
    return {"@odata.context": f"{CONTEXT}/partners/$entity", **partner_body(row)}


@router.get("/partners/{tenant_id}", response_model=shapes.CrossTenantAccessPolicyConfigurationPartner)
async def get_partner(tenant_id: str, caller: MemberCaller, session: SessionDep, org: OrganizationDep) -> dict:
    return {"@odata.context": f"{CONTEXT}/partners/$entity", **partner_body(await _partner(session, org, tenant_id))}


@router.patch("/partners/{tenant_id}", status_code=204)
async def update_partner(tenant_id: str, body: PartnerUpdate, caller: GlobalAdminCaller, session: SessionDep,
                         org: OrganizationDep) -> Response:
    row = await _partner(session, org, tenant_id)
    if not body.model_fields_set:
        raise bad_request("nothing to update: give b2bCollaborationInbound, b2bCollaborationOutbound or inboundTrust")
    blocks = _blocks(body)
    before = partner_body(row)
    for name, value in blocks.items():
        setattr(row, PARTNER_COLUMNS[name], value)  # null: inherit the default again
    session.add(row)
    await _audit(session, caller, org, "Update cross-tenant access partner settings", f"partners/{row.tenant_id}",
                 before, partner_body(row))
    await session.commit()
    return Response(status_code=204)


@router.delete("/partners/{tenant_id}", status_code=204)
async def delete_partner(tenant_id: str, caller: GlobalAdminCaller, session: SessionDep,
                         org: OrganizationDep) -> Response:
    row = await _partner(session, org, tenant_id)
    before = partner_body(row)
    await session.delete(row)
    await _audit(session, caller, org, "Delete cross-tenant access partner settings", f"partners/{row.tenant_id}",
                 before, {})
    await session.commit()
    return Response(status_code=204)

