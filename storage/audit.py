"""The audit log: written inside the transaction of the change it records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import AuditEntry, Person


@dataclass(frozen=True, kw_only=True)
class AuditRecord:
    at: datetime
    actor_id: int | None
    action: str
    subject_type: str | None
    subject_id: int | None
    details: dict[str, Any]


def record(
    session: AsyncSession,
    *,
    at: datetime,
    actor_id: int | None,
    action: str,
    subject: tuple[str, int] | None = None,
    **details: Any,
) -> None:
    """Add an audit row to the caller's transaction. Details must hold no personal data."""
    session.add(
        AuditEntry(
            at=at,
            actor_id=actor_id,
            action=action,
            subject_type=subject[0] if subject else None,
            subject_id=subject[1] if subject else None,
            details=details,
        )
    )


async def refused(
    db: Database,
    *,
    telegram_id: int,
    reason: str,
    now: datetime,
    subject: tuple[str, int] | None = None,
    what: str = "",
) -> None:
    """Record an attempt that was refused (a forged button, a command without the role), in
    its own transaction: the refused change itself was rolled back."""
    async with db.transaction() as session:
        actor = await session.scalar(select(Person.id).where(Person.telegram_id == telegram_id))
        record(
            session,
            at=now,
            actor_id=actor,
            action="access.refused",
            subject=subject,
            reason=reason,
            what=what[:64],
        )


async def recent(db: Database, *, action: str | None = None, limit: int = 50) -> list[AuditRecord]:
    """The newest audit rows first, optionally of one action."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    async with db.read() as session:
        rows = (await session.scalars(query)).all()
    return [
        AuditRecord(
            at=r.at,
            actor_id=r.actor_id,
            action=r.action,
            subject_type=r.subject_type,
            subject_id=r.subject_id,
            details=dict(r.details),
        )
        for r in rows
    ]
