"""Audit records: who did what to which target, when, with what result, and in which workflow."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from foyer.models.base import json_field, new_id, utc_field


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_records"
    id: str = Field(default_factory=new_id, primary_key=True)
    # Set by retried activities so a retry never writes the same record twice.
    idempotency_key: str | None = Field(default=None, unique=True)
    organization_id: str | None = Field(default=None, index=True)
    activity_date_time: datetime = utc_field(default_now=True, nullable=False, index=True)
    category: str  # UserManagement, GroupManagement, ApplicationManagement, Invitation, Policy
    activity_display_name: str
    initiated_by_id: str | None = None
    initiated_by_name: str | None = None
    target_type: str | None = None
    target_id: str | None = Field(default=None, index=True)
    target_display_name: str | None = None
    result: str = "success"  # success | failure
    result_reason: str | None = None
    workflow_id: str | None = Field(default=None, index=True)
    details: dict = json_field(dict)
