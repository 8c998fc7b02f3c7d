"""Half-filled multi-step forms, one per person and flow, kept in the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from storage.db import Database, rowcount, upsert
from storage.models import Draft

# A key in a draft's data: the form is done, and its draft is kept only so that a repeated tap
# gets the same answer again. /cancel leaves such a draft alone: there is nothing to cancel.
FINISHED = "finished"


@dataclass(frozen=True, kw_only=True)
class DraftState:
    flow: str
    awaiting: str | None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return bool(self.data.get(FINISHED))


async def save(
    db: Database,
    *,
    telegram_id: int,
    flow: str,
    awaiting: str | None,
    data: dict[str, Any],
    now: datetime,
    finished: bool = False,
) -> None:
    """Create or replace the person's draft of this flow (`finished`: the form is done, kept
    only to answer a repeated tap; it waits for nothing)."""
    values = {
        "telegram_id": telegram_id,
        "flow": flow,
        "awaiting": None if finished else awaiting,
        "data": (data | {FINISHED: True}) if finished else data,
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


async def close_all(db: Database, *, telegram_id: int) -> list[str]:
    """Forget every form the person has open, at whatever step (waiting for a typed answer or
    for a button): the flows closed, newest first. Finished forms are left alone."""
    async with db.transaction() as session:
        open_forms = [
            draft
            for draft in await session.scalars(
                select(Draft)
                .where(Draft.telegram_id == telegram_id)
                .order_by(Draft.updated_at.desc(), Draft.id.desc())
            )
            if not draft.data.get(FINISHED)
        ]
        if open_forms:
            await session.execute(delete(Draft).where(Draft.id.in_([d.id for d in open_forms])))
        return [draft.flow for draft in open_forms]


def _state(draft: Draft) -> DraftState:
    return DraftState(flow=draft.flow, awaiting=draft.awaiting, data=dict(draft.data))


# A form nobody has touched for this long is abandoned: it is deleted with what it holds.
ABANDONED_AFTER = timedelta(days=14)


async def expire(db: Database, *, older_than: datetime) -> int:
    """Forget forms left unfinished since `older_than` (they may hold sealed details)."""
    async with db.transaction() as session:
        result = await session.execute(delete(Draft).where(Draft.updated_at < older_than))
        return rowcount(result)
