"""Conditional Access policies (Graph's conditionalAccessPolicy, identity/conditionalAccess/policies).

The policy's three blocks are kept as Graph writes them (validated on the way in by
foyer.usecases.conditional_access); foyer.rules.conditional_access reads them at every sign-in."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from foyer.models.base import json_field, new_id, utc_field


class ConditionalAccessPolicy(SQLModel, table=True):
    __tablename__ = "conditional_access_policies"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    display_name: str
    description: str | None = None
    # enabled | disabled | enabledForReportingButNotEnforced
    state: str
    # conditionalAccessConditionSet: {"users": {...}, "applications": {...}, "clientAppTypes": [...]}
    conditions: dict = json_field(dict)
    # conditionalAccessGrantControls: {"operator", "builtInControls", "authenticationStrength": {"id"}}
    grant_controls: dict | None = json_field(dict)
    # conditionalAccessSessionControls: {"signInFrequency": {...}}
    session_controls: dict | None = json_field(dict)
    created_date_time: datetime = utc_field(default_now=True, nullable=False)
    modified_date_time: datetime | None = utc_field()
