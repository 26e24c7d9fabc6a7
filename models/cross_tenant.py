"""Cross-tenant access settings for one partner organization (Graph's
crossTenantAccessPolicyConfigurationPartner, keyed by `tenantId`). A block left null inherits the
organization's default (Organization.cross_tenant_default over the service default)."""

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from foyer.models.base import utc_field


def _nullable_json() -> Field:
    return Field(default=None, sa_column=Column(JSON, nullable=True))


class CrossTenantPartner(SQLModel, table=True):
    __tablename__ = "cross_tenant_partners"

    organization_id: str = Field(foreign_key="organizations.id", primary_key=True)
    # The partner organization's tenant id (a Foyer organization's id, or the `tid` its tokens carry).
    tenant_id: str = Field(primary_key=True)
    b2b_collaboration_inbound: dict | None = _nullable_json()
    b2b_collaboration_outbound: dict | None = _nullable_json()
    inbound_trust: dict | None = _nullable_json()
    created_date_time: datetime = utc_field(default_now=True, nullable=False)
