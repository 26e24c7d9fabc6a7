"""update_with_audit: the one way a PATCH changes a directory row — set the changed properties,
stamp the change, write its audit record and commit in one transaction, so a change is never
saved without its audit record (nor audited without being saved)."""

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer.audit import audit
from foyer.errors import Refused
from foyer.models.base import utcnow


async def update_with_audit(session: AsyncSession, row: SQLModel, changes: Mapping[str, Any], *,
                            modified_properties: Iterable[str], category: str, activity: str,
                            organization_id: str, actor: Mapping[str, Any], target_type: str,
                            target_name: str | None = None, stamp: bool = False,
                            conflict: str = "the object changed concurrently; retry",
                            details: Mapping[str, Any] | None = None) -> None:
    """Set `changes` (attribute name → value) on `row`, stamp `modified_date_time` when `stamp`,
    audit `activity` with details {"modifiedProperties": "a,b"} (the names as the caller sent
    them; plus `details`, such as {"actingAs": "owner"}) and commit. A concurrent change that
    breaks a constraint is Refused("conflictingObject",
    `conflict`) — a 409 at the API, never a 500. `target_name`, when not given, is the row's
    display name after the change."""
    for name, value in changes.items():
        setattr(row, name, value)
    if stamp:
        row.modified_date_time = utcnow()
    session.add(row)
    await audit(session, key=None, category=category, activity=activity, organization_id=organization_id,
                **actor, target_type=target_type, target_id=row.id,
                target_name=target_name if target_name is not None else getattr(row, "display_name", None),
                details={"modifiedProperties": ",".join(modified_properties), **(details or {})})
    await commit(session, conflict)


async def commit(session: AsyncSession, conflict: str) -> None:
    """Commit; a concurrent change that breaks a constraint is Refused("conflictingObject",
    `conflict`) (a 409 at the API), never a 500."""
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Refused("conflictingObject", conflict) from None
