"""Half-filled multi-step forms, one per person and flow, kept in the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from storage.db import Database, rowcount, upsert
from storage.models import Draft


@dataclass(frozen=True, kw_only=True)
class DraftState:
    flow: str
    awaiting: str | None
    data: dict[str, Any] = field(default_factory=dict)


async def save(
    db: Database,
    *,
    telegram_id: int,
    flow: str,
    awaiting: str | None,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Create or replace the person's draft of this flow."""
    values = {
        "telegram_id": telegram_id,
        "flow": flow,
        "awaiting": awaiting,
        "data": data,
        "updated_at": now,
    }
    async with db.transaction() as session:
        await session.execute(
            upsert(
                session,
                Draft,
                values,
                key=["telegram_id", "flow"],
                update=["awaiting", "data", "updated_at"],
            )
        )


async def load(db: Database, *, telegram_id: int, flow: str) -> DraftState | None:
    async with db.read() as session:
        draft = await session.scalar(
            select(Draft).where(Draft.telegram_id == telegram_id, Draft.flow == flow)
        )
        return _state(draft) if draft else None


async def waiting_for_text(db: Database, *, telegram_id: int) -> DraftState | None:
    """The newest of the person's drafts that is waiting for a typed answer, if any."""
    async with db.read() as session:
        draft = await session.scalar(
            select(Draft)
            .where(Draft.telegram_id == telegram_id, Draft.awaiting.is_not(None))
            .order_by(Draft.updated_at.desc(), Draft.id.desc())
            .limit(1)
        )
        return _state(draft) if draft else None


async def discard(db: Database, *, telegram_id: int, flow: str) -> bool:
    """Forget the draft; True if there was one."""
    async with db.transaction() as session:
        result = await session.execute(
            delete(Draft).where(Draft.telegram_id == telegram_id, Draft.flow == flow)
        )
        return rowcount(result) > 0


def _state(draft: Draft) -> DraftState:
    return DraftState(flow=draft.flow, awaiting=draft.awaiting, data=dict(draft.data))


# A form nobody has touched for this long is abandoned: it is deleted with what it holds.
ABANDONED_AFTER = timedelta(days=14)


async def expire(db: Database, *, older_than: datetime) -> int:
    """Forget forms left unfinished since `older_than` (they may hold sealed details)."""
    async with db.transaction() as session:
        result = await session.execute(delete(Draft).where(Draft.updated_at < older_than))
        return rowcount(result)
