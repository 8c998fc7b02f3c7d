"""Half-filled multi-step forms, one per person and flow, kept in the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database, rowcount, upsert
from storage.models import Draft

# A key in a draft's data: the form is done, and its draft is kept only so that a repeated tap
# gets the same answer again. /cancel leaves such a draft alone: there is nothing to cancel.
FINISHED = "finished"

# The list on screen (handlers/choose.py) keeps its state in a draft of this flow, one per
# person: which list is shown, and each kind of list's search and what it lists (a day, a
# referral...), so that a search survives a restart. While the list is the last thing shown its
# draft waits for SEARCHING: the person's next text message searches it. Any other form saved
# after it takes typed answers back (`save` stops the list listening), and while it listens it
# is the one that hears them (`waiting_for_text`).
LIST_FLOW = "list"
SEARCHING = "search"


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
        if flow != LIST_FLOW:
            await stop_listening(session, telegram_id)
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
    """The newest of the person's drafts that is waiting for a typed answer, if any: a list
    that listens first (it was shown after anything else was asked, or it would not listen)."""
    async with db.read() as session:
        draft = await session.scalar(
            select(Draft)
            .where(Draft.telegram_id == telegram_id, Draft.awaiting.is_not(None))
            .order_by(
                case((Draft.flow == LIST_FLOW, 0), else_=1),
                Draft.updated_at.desc(),
                Draft.id.desc(),
            )
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
        # A list is forgotten with the rest; it is named only if it was searched (a search is
        # something to cancel, a list merely shown is not).
        return [
            draft.flow
            for draft in open_forms
            if draft.flow != LIST_FLOW or _searched(dict(draft.data))
        ]


# --- the list on screen -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ListState:
    """A kind of list as last shown: what it lists (its arguments) and the search in force."""

    kind: str
    args: dict[str, Any]
    search: str


async def list_shown(
    db: Database,
    *,
    telegram_id: int,
    kind: str,
    args: dict[str, Any],
    now: datetime,
    fresh: bool = False,
    search: str | None = None,
) -> str:
    """The list of `kind` is on screen now, listing `args`: its draft listens for a typed
    search. Returns the search in force: `search` when given, none when the list is opened
    afresh (by its command), else the one this kind of list had."""
    async with db.transaction() as session:
        draft = await _list_draft(session, telegram_id)
        data = dict(draft.data) if draft is not None else {}
        kept = data.get("lists")
        lists: dict[str, Any] = dict(kept) if isinstance(kept, dict) else {}
        before = lists.get(kind)
        if search is None:
            search = "" if fresh or not isinstance(before, dict) else str(before.get("search", ""))
        lists[kind] = {"args": args, "search": search}
        values = {
            "telegram_id": telegram_id,
            "flow": LIST_FLOW,
            "awaiting": SEARCHING,
            "data": {"shown": kind, "lists": lists},
            "updated_at": now,
        }
        await session.execute(
            upsert(
                session,
                Draft,
                values,
                key=["telegram_id", "flow"],
                update=["awaiting", "data", "updated_at"],
            )
        )
        return search


async def list_state(
    db: Database, *, telegram_id: int, kind: str | None = None
) -> ListState | None:
    """The list shown last (or the kind named) as it was left, if any."""
    async with db.read() as session:
        draft = await _list_draft(session, telegram_id)
    if draft is None:
        return None
    data = dict(draft.data)
    kind = kind or str(data.get("shown", ""))
    lists = data.get("lists")
    entry = lists.get(kind) if isinstance(lists, dict) else None
    if not isinstance(entry, dict):
        return None
    args = entry.get("args")
    return ListState(
        kind=kind,
        args=dict(args) if isinstance(args, dict) else {},
        search=str(entry.get("search", "")),
    )


async def leave_list(db: Database, *, telegram_id: int) -> None:
    """Something was chosen from the list, or another screen was asked for: typed text no
    longer searches it (its searches are kept, for when it is shown again). Read first: every
    command asks this, and most people have no list listening, so nothing is written."""
    async with db.read() as session:
        listening = await session.scalar(
            select(Draft.id).where(
                Draft.telegram_id == telegram_id,
                Draft.flow == LIST_FLOW,
                Draft.awaiting.is_not(None),
            )
        )
    if listening is None:
        return
    async with db.transaction() as session:
        await stop_listening(session, telegram_id)


async def stop_listening(session: AsyncSession, telegram_id: int) -> None:
    """In the caller's transaction: the person's list no longer hears typed text (another form
    has asked something since)."""
    await session.execute(
        update(Draft)
        .where(
            Draft.telegram_id == telegram_id,
            Draft.flow == LIST_FLOW,
            Draft.awaiting.is_not(None),
        )
        .values(awaiting=None)
    )


async def _list_draft(session: AsyncSession, telegram_id: int) -> Draft | None:
    draft: Draft | None = await session.scalar(
        select(Draft).where(Draft.telegram_id == telegram_id, Draft.flow == LIST_FLOW)
    )
    return draft


def _searched(data: dict[str, Any]) -> bool:
    lists = data.get("lists")
    return isinstance(lists, dict) and any(
        isinstance(entry, dict) and entry.get("search") for entry in lists.values()
    )


def _state(draft: Draft) -> DraftState:
    return DraftState(flow=draft.flow, awaiting=draft.awaiting, data=dict(draft.data))


# A form nobody has touched for this long is abandoned: it is deleted with what it holds.
ABANDONED_AFTER = timedelta(days=14)


async def expire(db: Database, *, older_than: datetime) -> int:
    """Forget forms left unfinished since `older_than` (they may hold sealed details)."""
    async with db.transaction() as session:
        result = await session.execute(delete(Draft).where(Draft.updated_at < older_than))
        return rowcount(result)
