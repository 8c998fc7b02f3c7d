"""The outbox: messages the bot sends on its own, queued with the change that causes them.

Rows are claimed by the delivery engine (bot/delivery.py) when due. A claim marks the row as
being sent and names the instance that holds it; that instance's heartbeat renews all of its
claims every HEARTBEAT, so a row left claimed by an instance that died is claimed again once it
has not been renewed for CLAIM_TIMEOUT (seconds, not minutes), and at most the sends in flight
at a crash can repeat. An instance that knows it is alone (SQLite) hands every claim back at
start (`resume`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database, rowcount, upsert
from storage.models import Notice, NoticeStatus, Person

CLAIM_TIMEOUT = timedelta(seconds=30)
HEARTBEAT = timedelta(seconds=10)
ERROR_MAX = 200
FINAL = (
    NoticeStatus.SENT,
    NoticeStatus.BLOCKED,
    NoticeStatus.GONE,
    NoticeStatus.FAILED,
    NoticeStatus.SKIPPED,
)


@dataclass(frozen=True, kw_only=True)
class Outgoing:
    notice_id: int
    chat_id: int
    person_id: int | None
    kind: str
    payload: dict[str, Any]
    attempts: int
    active: bool = True  # False: the person blocked the bot; nothing more is sent to them
    batched: bool = False  # one copy of a broadcast: it yields to single notices when sending


def chat_of(person: Person) -> int:
    """The chat a person's notices go to: their Telegram id. Raises for someone without
    Telegram, whom nothing is sent to (the callers choose people the bot can reach)."""
    if person.telegram_id is None:
        raise ValueError("a person without Telegram is sent nothing")
    return person.telegram_id


def row(
    *,
    chat_id: int,
    person_id: int | None,
    kind: str,
    payload: dict[str, Any],
    dedupe_key: str,
    due_at: datetime,
    now: datetime,
    batch: str | None = None,
) -> dict[str, Any]:
    """The values of one outbox row, for `queue` or a bulk insert of many (`queue_rows`)."""
    return {
        "chat_id": chat_id,
        "person_id": person_id,
        "kind": kind,
        "payload": payload,
        "dedupe_key": dedupe_key,
        "due_at": due_at,
        "status": NoticeStatus.PENDING,
        "attempts": 0,
        "created_at": now,
        "batch": batch,
    }


async def queue(
    session: AsyncSession,
    *,
    person: Person | None = None,
    chat_id: int | None = None,
    kind: str,
    payload: dict[str, Any],
    dedupe_key: str,
    due_at: datetime,
    now: datetime,
    batch: str | None = None,
) -> None:
    """Add a notice to the caller's transaction, for a person or for a chat that is nobody's
    (a celebration group); a second one with the same key is ignored. A person without
    Telegram (put on the rota by a coordinator, by name only) is sent nothing: no notice is
    queued for them."""
    if person is not None and chat_id is not None:
        raise ValueError("a notice goes to a person or to a chat")
    if person is not None and person.telegram_id is None:
        return
    target = person.telegram_id if person is not None else chat_id
    if target is None:
        raise ValueError("a notice goes to a person or to a chat")
    values = row(
        chat_id=target,
        person_id=person.id if person is not None else None,
        kind=kind,
        payload=payload,
        dedupe_key=dedupe_key,
        due_at=due_at,
        now=now,
        batch=batch,
    )
    await queue_rows(session, [values])


async def queue_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Add many notices (made by `row`) in the caller's transaction; returns how many were new
    (a row whose dedupe key is taken already is ignored)."""
    if not rows:
        return 0
    # An executemany, not one statement with thousands of VALUES: SQLAlchemy compiles that far
    # more slowly, while SQLite's write lock is held. RETURNING names only the rows inserted.
    added = await session.execute(
        upsert(session, Notice, None, key=["dedupe_key"]).returning(Notice.id), rows
    )
    return len(added.all())


async def batch_counts(db: Database, batch: str) -> dict[NoticeStatus, int]:
    """How many of a batch's notices are in each state (a broadcast's progress)."""
    query = select(Notice.status, func.count()).where(Notice.batch == batch).group_by(Notice.status)
    async with db.read() as session:
        return dict((await session.execute(query)).tuples().all())


async def batched_counts(db: Database) -> dict[NoticeStatus, int]:
    """How many notices of all batches (broadcasts) are in each state."""
    query = (
        select(Notice.status, func.count()).where(Notice.batch.is_not(None)).group_by(Notice.status)
    )
    async with db.read() as session:
        return dict((await session.execute(query)).tuples().all())


async def oldest_due(db: Database, *, now: datetime) -> datetime | None:
    """When the longest-waiting pending notice fell due (None when nothing is due)."""
    query = select(func.min(Notice.due_at)).where(
        Notice.status == NoticeStatus.PENDING, Notice.due_at <= now
    )
    async with db.read() as session:
        due: datetime | None = (await session.execute(query)).scalar_one()
        return due


async def claim_due(db: Database, *, now: datetime, limit: int, by: str) -> list[Outgoing]:
    """Take up to `limit` due notices for sending: single notices first (an offer or a
    reminder must not queue for minutes behind a broadcast's thousands), but never more than
    half of `limit` of them while a batch waits, so a pile of notices to a few slow chats cannot
    hold a broadcast up either. Several instances never take the same row: PostgreSQL skips
    rows another transaction has locked; SQLite has one writer at a time. `by` names the
    instance taking them (see `renew`)."""
    stale = now - CLAIM_TIMEOUT
    due = or_(
        and_(Notice.status == NoticeStatus.PENDING, Notice.due_at <= now),
        and_(Notice.status == NoticeStatus.SENDING, Notice.claimed_at < stale),
    )

    def oldest(batched: bool, count: int) -> Select[tuple[Notice]]:
        kind = Notice.batch.is_not(None) if batched else Notice.batch.is_(None)
        query = select(Notice).where(due, kind).order_by(Notice.due_at, Notice.id).limit(count)
        return query if db.is_sqlite else query.with_for_update(skip_locked=True)

    async with db.transaction() as session:
        batched = list((await session.scalars(oldest(True, limit))).all())
        singles = list((await session.scalars(oldest(False, limit))).all())
        singles = singles[: limit - min(len(batched), limit // 2)]
        rows = singles + batched[: limit - len(singles)]
        for row in rows:
            row.status = NoticeStatus.SENDING
            row.claimed_at = now
            row.claimed_by = by
            row.attempts += 1
        person_ids = {r.person_id for r in rows if r.person_id is not None}
        inactive = set(
            (
                await session.scalars(
                    select(Person.id).where(Person.id.in_(person_ids), Person.active.is_(False))
                )
            ).all()
        )
        return [
            Outgoing(
                notice_id=r.id,
                chat_id=r.chat_id,
                person_id=r.person_id,
                kind=r.kind,
                payload=dict(r.payload),
                attempts=r.attempts,
                active=r.person_id not in inactive,
                batched=r.batch is not None,
            )
            for r in rows
        ]


async def finish(
    db: Database, notice_id: int, status: NoticeStatus, *, now: datetime, error: str | None = None
) -> None:
    """Record a notice's final state."""
    if status not in FINAL:
        raise ValueError(f"{status} is not a final state")
    async with db.transaction() as session:
        await session.execute(
            update(Notice)
            .where(Notice.id == notice_id)
            .values(status=status, finished_at=now, last_error=_short(error))
        )


async def still_ours(db: Database, notice: Outgoing, *, now: datetime, by: str) -> bool:
    """Renew our claim just before sending: False if another instance has taken the notice
    since (our claim lapsed while we waited), so it must not be sent twice."""
    async with db.transaction() as session:
        renewed = await session.execute(
            update(Notice)
            .where(
                Notice.id == notice.notice_id,
                Notice.status == NoticeStatus.SENDING,
                Notice.claimed_by == by,
            )
            .values(claimed_at=now)
        )
        return rowcount(renewed) == 1


async def renew(db: Database, *, now: datetime, by: str) -> int:
    """The heartbeat: every claim `by` holds is still being worked on. Returns how many."""
    async with db.transaction() as session:
        result = await session.execute(
            update(Notice)
            .where(Notice.status == NoticeStatus.SENDING, Notice.claimed_by == by)
            .values(claimed_at=now)
        )
        return rowcount(result)


async def resume(db: Database) -> int:
    """At start, when this instance is the only one: what was being sent when the last run
    ended goes back in the queue now instead of after CLAIM_TIMEOUT. Returns how many."""
    async with db.transaction() as session:
        result = await session.execute(
            update(Notice)
            .where(Notice.status == NoticeStatus.SENDING)
            .values(status=NoticeStatus.PENDING, claimed_at=None, claimed_by=None)
        )
        return rowcount(result)


async def release(db: Database, notice_ids: list[int]) -> None:
    """Hand claimed notices back unsent (shutting down, or a chat with too many at once)."""
    if not notice_ids:
        return
    async with db.transaction() as session:
        await session.execute(
            update(Notice)
            .where(Notice.id.in_(notice_ids), Notice.status == NoticeStatus.SENDING)
            .values(
                status=NoticeStatus.PENDING,
                claimed_at=None,
                claimed_by=None,
                attempts=Notice.attempts - 1,
            )
        )


async def retry_at(
    db: Database, notice_id: int, *, due_at: datetime, error: str, attempt: bool = True
) -> None:
    """Put a notice back in the queue for another try (`attempt=False`: it was not tried, only
    put off, as a reminder in the quiet hours)."""
    async with db.transaction() as session:
        await session.execute(
            update(Notice)
            .where(Notice.id == notice_id)
            .values(
                status=NoticeStatus.PENDING,
                due_at=due_at,
                claimed_at=None,
                claimed_by=None,
                last_error=_short(error),
                attempts=Notice.attempts if attempt else Notice.attempts - 1,
            )
        )


async def move_chat(db: Database, *, old_chat_id: int, new_chat_id: int) -> int:
    """A group became a supergroup: its pending notices follow it."""
    async with db.transaction() as session:
        result = await session.execute(
            update(Notice)
            .where(
                Notice.chat_id == old_chat_id,
                Notice.status.in_([NoticeStatus.PENDING, NoticeStatus.SENDING]),
            )
            .values(chat_id=new_chat_id)
        )
        return rowcount(result)


async def counts(db: Database) -> dict[NoticeStatus, int]:
    """How many notices are in each state."""
    query = select(Notice.status, func.count()).group_by(Notice.status)
    async with db.transaction() as session:
        return dict((await session.execute(query)).tuples().all())


def _short(error: str | None) -> str | None:
    return error[:ERROR_MAX] if error else None
