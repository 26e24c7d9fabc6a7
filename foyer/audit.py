"""Retry-safe writes every layer shares: insert-if-absent and audit records (the API's routers,
use cases and activities alike)."""

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer.models.audit import AuditRecord


async def insert_ignore(session: AsyncSession, model: type[SQLModel], rows: list[dict[str, Any]],
                        conflict: list[str]) -> None:
    """INSERT … ON CONFLICT DO NOTHING, on SQLite and PostgreSQL alike (retry-safe writes)."""
    if not rows:
        return
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(model).values(rows).on_conflict_do_nothing(index_elements=conflict)
    await session.exec(statement)  # type: ignore[call-overload]


async def audit(session: AsyncSession, *, key: str | None, category: str, activity: str,
                organization_id: str | None = None, actor_id: str | None = None,
                actor_name: str | None = None, target_type: str | None = None,
                target_id: str | None = None, target_name: str | None = None,
                result: str = "success", reason: str | None = None,
                workflow_id: str | None = None, details: dict | None = None) -> None:
    """Write one audit record; with `key`, a retried activity writes it only once."""
    row = AuditRecord(
        idempotency_key=key, organization_id=organization_id, category=category,
        activity_display_name=activity, initiated_by_id=actor_id, initiated_by_name=actor_name,
        target_type=target_type, target_id=target_id, target_display_name=target_name,
        result=result, result_reason=reason, workflow_id=workflow_id, details=details or {},
    )
    if key is None:
        session.add(row)
        return
    values = row.model_dump()
    await insert_ignore(session, AuditRecord, [values], ["idempotency_key"])
