"""The cross-tenant access settings that apply to one partner organization: its own blocks where
set, else the organization's default, else the service default (foyer.rules.cross_tenant_access).
Read at sign-in by foyer.usecases.sign_in_policy; written by the crossTenantAccessPolicy router."""

from foyer.models.cross_tenant import CrossTenantPartner
from foyer.models.directory import Organization
from foyer.rules.cross_tenant_access import effective, service_default

# Graph's property name → the partner row's column.
PARTNER_COLUMNS = {"b2bCollaborationInbound": "b2b_collaboration_inbound",
                   "b2bCollaborationOutbound": "b2b_collaboration_outbound", "inboundTrust": "inbound_trust"}


def partner_blocks(row: CrossTenantPartner | None) -> dict:
    """The partner's blocks by Graph name (None: inherits)."""
    return {name: getattr(row, column) for name, column in PARTNER_COLUMNS.items()} if row else {}


def default_settings(org: Organization) -> dict:
    return effective(service_default(), org.cross_tenant_default)


async def settings_for(session, org: Organization, tenant_id: str) -> dict:
    """The blocks (b2bCollaborationInbound, b2bCollaborationOutbound, inboundTrust) for `tenant_id`."""
    partner = await session.get(CrossTenantPartner, (org.id, tenant_id))
    return effective(default_settings(org), partner_blocks(partner))
