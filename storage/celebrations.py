"""Celebrations: milestones crossed and the weekly digest, planned into the outbox.

Like reminders, they are planned by the clock every minute from what the database holds, and
each becomes a notice with a dedupe key: a milestone is celebrated once ever, a digest once per
period, however often the planner runs and across restarts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox
from storage.db import Database, rowcount, upsert
from storage.models import (
    Booking,
    BookingStatus,
    LunchSession,
    Milestone,
    Person,
    School,
    SessionStatus,
)
from storage.roles import all_coordinators

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, kw_only=True)
class CelebrationPolicy:
    # Groups or channels (their chat ids) where approved wins, milestones and digests appear.
    chats: tuple[int, ...] = ()
    digest_weekday: int = 4  # Monday is 0: Friday
    digest_at: time = time(16, 0)
    meals: tuple[int, ...] = (100, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000)
    children: tuple[int, ...] = (100, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000)
    shifts: tuple[int, ...] = (50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000)
    personal: tuple[int, ...] = (1, 10, 25, 50, 100, 250)


# A digest whose time came while the bot was down still goes out, this long after.
DIGEST_GRACE = timedelta(days=1)
DIGEST_DAYS = 7


class Total(enum.StrEnum):
    """The programme totals whose thresholds are celebrated."""

    MEALS = "meals"
    CHILDREN = "children"
    SHIFTS = "shifts"


@dataclass(frozen=True, kw_only=True)
class DigestPeriod:
    """The week a digest covers: the seven days ending on the digest's day, programme time."""

    start: date
    end: date
    sent_at: datetime  # the moment the digest is due (UTC)


def digest_due(now: datetime, policy: CelebrationPolicy, tz: ZoneInfo) -> DigestPeriod:
    """The latest digest whose time has come by `now`."""
    local = now.astimezone(tz)
    back = (local.weekday() - policy.digest_weekday) % 7
    day = local.date() - timedelta(days=back)
    moment = datetime.combine(day, policy.digest_at, tzinfo=tz)
    if moment > local:
        day -= timedelta(days=7)
        moment = datetime.combine(day, policy.digest_at, tzinfo=tz)
    return DigestPeriod(
        start=day - timedelta(days=DIGEST_DAYS - 1), end=day, sent_at=moment.astimezone(UTC)
    )


def week_to(day: date) -> tuple[date, date]:
    """The seven days ending on `day` (a digest's period, or a preview's)."""
    return day - timedelta(days=DIGEST_DAYS - 1), day


async def plan(db: Database, *, now: datetime, policy: CelebrationPolicy, tz: ZoneInfo) -> int:
    """Queue every milestone celebration and digest now due; returns how many rows were new."""
    async with db.transaction() as session:
        rows = await _programme_milestones(session, now, policy)
        rows += await _personal_milestones(session, now, policy)
        rows += await _digests(session, now, policy, tz)
        return await outbox.queue_rows(session, rows)


async def totals(session: AsyncSession) -> dict[Total, int]:
    """The programme's totals so far: meals served, children fed, volunteer shifts worked."""
    meals, children = (
        await session.execute(
            select(
                func.coalesce(func.sum(LunchSession.meals_served), 0),
                func.coalesce(func.sum(LunchSession.children_attended), 0),
            ).where(LunchSession.status == SessionStatus.SCHEDULED)
        )
    ).one()
    shifts = await session.scalar(
        select(func.count())
        .select_from(Booking)
        .join(LunchSession, Booking.session_id == LunchSession.id)
        .where(
            Booking.status == BookingStatus.ATTENDED,
            LunchSession.status == SessionStatus.SCHEDULED,
        )
    )
    return {Total.MEALS: int(meals), Total.CHILDREN: int(children), Total.SHIFTS: int(shifts or 0)}


async def _programme_milestones(
    session: AsyncSession, now: datetime, policy: CelebrationPolicy
) -> list[dict[str, Any]]:
    thresholds = {Total.MEALS: policy.meals, Total.CHILDREN: policy.children}
    thresholds[Total.SHIFTS] = policy.shifts
    reached = await totals(session)
    rows: list[dict[str, Any]] = []
    for what, levels in thresholds.items():
        value = await _newly_crossed(session, what.value, levels, reached[what], now)
        if value is None:
            continue
        # Nowhere to post it: the coordinators celebrate it themselves.
        coordinators = [] if policy.chats else await all_coordinators(session, programme_only=True)
        rows += _rows_for(
            "milestone",
            {"what": what.value, "value": value},
            f"milestone:{what.value}:{value}",
            policy.chats,
            coordinators,
            now,
        )
    return rows


async def _personal_milestones(
    session: AsyncSession, now: datetime, policy: CelebrationPolicy
) -> list[dict[str, Any]]:
    if not policy.personal:
        return []
    counts = (
        await session.execute(
            select(Person, func.count(Booking.id))
            .join(Booking, Booking.person_id == Person.id)
            .join(LunchSession, Booking.session_id == LunchSession.id)
            .where(
                Booking.status == BookingStatus.ATTENDED,
                LunchSession.status == SessionStatus.SCHEDULED,
                Person.active.is_(True),
            )
            .group_by(Person.id)
            .having(func.count(Booking.id) >= policy.personal[0])
        )
    ).tuples()
    rows = []
    for person, sessions in counts:
        value = await _newly_crossed(
            session, f"person:{person.id}:sessions", policy.personal, sessions, now
        )
        if value is not None:
            rows.append(
                outbox.row(
                    chat_id=person.telegram_id,
                    person_id=person.id,
                    kind="milestone_personal",
                    payload={"sessions": value},
                    dedupe_key=f"milestone:person:{person.id}:sessions:{value}",
                    due_at=now,
                    now=now,
                )
            )
    return rows


async def _newly_crossed(
    session: AsyncSession, prefix: str, levels: tuple[int, ...], total: int, now: datetime
) -> int | None:
    """Record every threshold `total` has crossed; the highest one recorded just now (and so
    not celebrated before) is returned, to be celebrated. Thresholds passed together, or while
    the bot was not counting, are recorded without a message of their own."""
    crossed = [level for level in levels if level <= total]
    if not crossed:
        return None
    keys = [f"{prefix}:{level}" for level in crossed]
    known = set((await session.scalars(select(Milestone.key).where(Milestone.key.in_(keys)))).all())
    fresh = [(key, level) for key, level in zip(keys, crossed, strict=True) if key not in known]
    if not fresh:
        return None
    added = await session.execute(
        upsert(
            session,
            Milestone,
            [{"key": key, "value": level, "reached_at": now} for key, level in fresh],
            key=["key"],
        )
    )
    if rowcount(added) != len(fresh):
        return None  # another instance recorded them at the same moment: it celebrates
    key, level = fresh[-1]
    return level if key == keys[-1] else None


async def _digests(
    session: AsyncSession, now: datetime, policy: CelebrationPolicy, tz: ZoneInfo
) -> list[dict[str, Any]]:
    period = digest_due(now, policy, tz)
    if now - period.sent_at > DIGEST_GRACE:
        return []
    payload = {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "until": period.sent_at.isoformat(),
    }
    key = f"digest:{period.end.isoformat()}"
    coordinators = await all_coordinators(session, programme_only=False)
    return _rows_for("digest", payload, key, policy.chats, coordinators, now)


def _rows_for(
    kind: str,
    payload: dict[str, Any],
    key: str,
    chats: tuple[int, ...],
    people: list[Person],
    now: datetime,
) -> list[dict[str, Any]]:
    """One notice for each celebration chat and each person, due now, each with its own key."""
    targets: list[tuple[int, int | None, str]] = [(c, None, f"{key}:chat:{c}") for c in chats]
    targets += [(p.telegram_id, p.id, f"{key}:person:{p.id}") for p in people]
    return [
        outbox.row(
            chat_id=chat_id,
            person_id=person_id,
            kind=kind,
            payload=payload,
            dedupe_key=dedupe_key,
            due_at=now,
            now=now,
        )
        for chat_id, person_id, dedupe_key in targets
    ]


async def new_schools(db: Database, *, start: datetime, end: datetime) -> list[str]:
    """Partner schools that joined in [start, end): their names."""
    async with db.read() as session:
        return list(
            (
                await session.scalars(
                    select(School.name)
                    .where(School.created_at >= start, School.created_at < end)
                    .order_by(School.name)
                )
            ).all()
        )


async def coordinator_count(db: Database) -> int:
    """How many coordinators (site leads too) get the digest."""
    async with db.read() as session:
        return len(await all_coordinators(session, programme_only=False))
