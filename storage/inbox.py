"""The inbox: updates from Telegram, made durable before Telegram is told they were received.

Polling stores a getUpdates batch in one transaction and only then asks with the next offset
(which is what confirms the batch to Telegram); a webhook answers 200 only after `store`
committed. The drainer (bot/updates.py) claims stored updates, at most one per chat at a time
and in update_id order, hands them to the handlers and marks them finished.

At least once: an update whose handlers were running at a crash is handed over again at the
next start (`resume`). Handlers are idempotent, so a repeat books nothing twice.

Several instances can drain one PostgreSQL inbox: a claim skips rows another transaction has
locked, and a row is claimable only while no earlier row of its chat is pending or being
handled, so per-chat order holds across instances too.

The payload is what people typed: handled rows are deleted after KEEP_HANDLED (long enough to
recognise a repeat, as Telegram keeps an unconfirmed update for 24 hours), and nothing here is
ever logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import aliased

from storage.db import Database, rowcount, upsert
from storage.models import InboxStatus, InboxUpdate

KEEP_HANDLED = timedelta(days=1)
# A claim not renewed for this long is taken to belong to an instance that died (see `claim`);
# the drainer renews its claims every HEARTBEAT while their handlers run.
CLAIM_TIMEOUT = timedelta(seconds=30)
HEARTBEAT = timedelta(seconds=10)
# Where the chat of each kind of update is found (the first that is present wins).
_CHAT_PATHS: tuple[tuple[str, ...], ...] = (
    ("chat", "id"),
    ("message", "chat", "id"),  # a callback query: the message its button is on
    ("from", "id"),
    ("user", "id"),
    ("voter_chat", "id"),
)
OPEN = (InboxStatus.PENDING, InboxStatus.HANDLING)


@dataclass(frozen=True, kw_only=True)
class Received:
    """One update as stored: what the drainer hands to the handlers."""

    update_id: int
    chat_key: int
    kind: str
    payload: dict[str, Any]


def describe(update: dict[str, Any]) -> Received | None:
    """The update's id, kind and chat, read from Telegram's JSON; None if it has no update_id."""
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    kind = next((key for key in update if key != "update_id"), "unknown")
    body = update.get(kind)
    chat_key = 0  # nothing to order by: all such updates share one lane
    if isinstance(body, dict):
        for path in _CHAT_PATHS:
            value: Any = body
            for step in path:
                value = value.get(step) if isinstance(value, dict) else None
            if isinstance(value, int) and not isinstance(value, bool):
                chat_key = value
                break
    return Received(update_id=update_id, chat_key=chat_key, kind=kind[:32], payload=update)


async def store(db: Database, updates: list[Received], *, now: datetime) -> int:
    """Store a batch in one transaction; returns how many were new (a repeat is ignored)."""
    if not updates:
        return 0
    rows = [
        {
            "update_id": u.update_id,
            "chat_key": u.chat_key,
            "kind": u.kind,
            "payload": u.payload,
            "status": InboxStatus.PENDING,
            "received_at": now,
        }
        for u in updates
    ]
    async with db.transaction() as session:
        added = await session.execute(
            upsert(session, InboxUpdate, None, key=["update_id"]).returning(InboxUpdate.id), rows
        )
        return len(added.all())


async def claim(
    db: Database, *, now: datetime, limit: int, busy: frozenset[int] = frozenset()
) -> list[Received]:
    """Take up to `limit` updates to handle: for each chat only its oldest open update, and none
    of a chat in `busy` (this instance is handling one of it). A claim left by a dead instance
    is taken again after CLAIM_TIMEOUT."""
    if limit <= 0:
        return []
    stale = now - CLAIM_TIMEOUT
    claimable = or_(
        InboxUpdate.status == InboxStatus.PENDING,
        and_(InboxUpdate.status == InboxStatus.HANDLING, InboxUpdate.claimed_at < stale),
    )
    earlier = aliased(InboxUpdate)
    blocked = (
        select(earlier.id)
        .where(
            earlier.chat_key == InboxUpdate.chat_key,
            earlier.update_id < InboxUpdate.update_id,
            earlier.status.in_(OPEN),
        )
        .exists()
    )
    query = select(InboxUpdate).where(claimable, ~blocked)
    if busy:
        query = query.where(InboxUpdate.chat_key.not_in(busy))
    query = query.order_by(InboxUpdate.update_id).limit(limit)
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    async with db.transaction() as session:
        rows = list((await session.scalars(query)).all())
        if rows:
            await session.execute(
                update(InboxUpdate)
                .where(InboxUpdate.id.in_([r.id for r in rows]))
                .values(status=InboxStatus.HANDLING, claimed_at=now)
            )
        return [
            Received(
                update_id=r.update_id, chat_key=r.chat_key, kind=r.kind, payload=dict(r.payload)
            )
            for r in rows
        ]


async def finish(db: Database, update_id: int, *, now: datetime, failed: bool = False) -> None:
    """The handlers ran: the update is done (it is kept a day to recognise a repeat)."""
    status = InboxStatus.FAILED if failed else InboxStatus.HANDLED
    async with db.transaction() as session:
        await session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id == update_id)
            .values(status=status, finished_at=now)
        )


async def renew(db: Database, update_ids: list[int], *, now: datetime) -> int:
    """The heartbeat: these updates are still being handled here (their claims stay ours)."""
    if not update_ids:
        return 0
    async with db.transaction() as session:
        result = await session.execute(
            update(InboxUpdate)
            .where(
                InboxUpdate.update_id.in_(update_ids),
                InboxUpdate.status == InboxStatus.HANDLING,
            )
            .values(claimed_at=now)
        )
        return rowcount(result)


async def resume(db: Database) -> int:
    """At start, when this is the only instance: what was being handled at a crash or a stop is
    handed over again. Returns how many."""
    async with db.transaction() as session:
        result = await session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.status == InboxStatus.HANDLING)
            .values(status=InboxStatus.PENDING, claimed_at=None)
        )
        return rowcount(result)


async def purge(db: Database, *, now: datetime) -> int:
    """Delete finished updates older than KEEP_HANDLED (they hold what people typed)."""
    async with db.transaction() as session:
        result = await session.execute(
            delete(InboxUpdate).where(
                InboxUpdate.status.not_in(OPEN), InboxUpdate.finished_at < now - KEEP_HANDLED
            )
        )
        return rowcount(result)


@dataclass(frozen=True, kw_only=True)
class Backlog:
    waiting: int  # stored, not finished
    oldest_received_at: datetime | None


async def backlog(db: Database) -> Backlog:
    query = select(func.count(), func.min(InboxUpdate.received_at)).where(
        InboxUpdate.status.in_(OPEN)
    )
    async with db.read() as session:
        count, oldest = (await session.execute(query)).one()
    return Backlog(waiting=int(count), oldest_received_at=oldest)


async def statuses(db: Database) -> dict[int, InboxStatus]:
    """Every stored update's state, by update_id (for tests and checks)."""
    async with db.read() as session:
        rows = await session.execute(select(InboxUpdate.update_id, InboxUpdate.status))
        return dict(rows.tuples().all())
