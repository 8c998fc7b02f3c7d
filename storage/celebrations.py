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
from storage.db import Database, upsert
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
    """What a digest covers. Its figures are those of the sessions on the seven days ending on
    the digest's day (programme time); its wins and new schools are those between the previous
    digest and this one, so that none falls between two digests."""

    start: date
    end: date
    since: datetime  # the previous digest's moment (UTC)
    sent_at: datetime  # this digest's moment (UTC)


def digest_due(now: datetime, policy: CelebrationPolicy, tz: ZoneInfo) -> DigestPeriod:
    """The latest digest whose time has come by `now`."""
    local = now.astimezone(tz)
    day = local.date() - timedelta(days=(local.weekday() - policy.digest_weekday) % 7)
    if datetime.combine(day, policy.digest_at, tzinfo=tz) > local:
        day -= timedelta(days=7)
    return _period(day, policy, tz)


def digest_next(now: datetime, policy: CelebrationPolicy, tz: ZoneInfo) -> DigestPeriod:
    """The next digest, whose time has not yet come (what /digest previews)."""
    due = digest_due(now, policy, tz)
    return _period(due.end + timedelta(days=7), policy, tz)


def _period(day: date, policy: CelebrationPolicy, tz: ZoneInfo) -> DigestPeriod:
    def moment(on: date) -> datetime:
        return datetime.combine(on, policy.digest_at, tzinfo=tz).astimezone(UTC)

    return DigestPeriod(
        start=day - timedelta(days=DIGEST_DAYS - 1),
        end=day,
        since=moment(day - timedelta(days=7)),
        sent_at=moment(day),
    )


async def plan(db: Database, *, now: datetime, policy: CelebrationPolicy, tz: ZoneInfo) -> int:
    """Queue every milestone celebration and digest now due; returns how many rows were new."""
    async with db.transaction() as session:
        rows = await _milestones(session, now, policy)
        rows += await _digests(session, now, policy, tz)
        return await outbox.queue_rows(session, rows)


async def totals(session: AsyncSession, now: datetime) -> dict[Total, int]:
    """The programme's totals so far: meals served, children fed, volunteer shifts worked.
    A shift counts once its session has ended: attendance may be marked when a cook arrives,
    hours before lunch is over."""
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
            LunchSession.ends_at <= now,
        )
    )
    return {Total.MEALS: int(meals), Total.CHILDREN: int(children), Total.SHIFTS: int(shifts or 0)}


@dataclass(frozen=True)
class _Crossing:
    """Thresholds a total has passed that were not recorded before."""

    fresh: list[tuple[str, int]]  # (key, threshold), lowest first
    highest: str  # the key of the highest threshold passed, recorded or not

    @property
    def celebrated(self) -> tuple[str, int] | None:
        """What deserves a message: the highest threshold passed, if it is new. Thresholds
        passed together, or while nobody counted, are recorded without one of their own."""
        if not self.fresh:
            return None
        key, level = self.fresh[-1]
        return (key, level) if key == self.highest else None


def _crossing(prefix: str, levels: tuple[int, ...], total: int, known: set[str]) -> _Crossing:
    keys = [(f"{prefix}:{level}", level) for level in levels if level <= total]
    fresh = [(key, level) for key, level in keys if key not in known]
    return _Crossing(fresh, keys[-1][0] if keys else "")


async def _milestones(
    session: AsyncSession, now: datetime, policy: CelebrationPolicy
) -> list[dict[str, Any]]:
    """Programme totals past a threshold (to the celebration chats, or the coordinators when
    there are none) and volunteers past one of their own (to them). Each threshold is recorded
    once; only a transaction that records it celebrates it, so two instances never both do."""
    known = set((await session.scalars(select(Milestone.key))).all())
    reached = await totals(session, now)
    levels = {Total.MEALS: policy.meals, Total.CHILDREN: policy.children}
    levels[Total.SHIFTS] = policy.shifts
    programme = {what: _crossing(what.value, levels[what], reached[what], known) for what in Total}
    personal = {
        person: _crossing(f"person:{person.id}:sessions", policy.personal, count, known)
        for person, count in await _sessions_worked(session, policy, now)
    }
    crossings = [c for c in [*programme.values(), *personal.values()] if c.fresh]
    if not crossings:
        return []
    ours = await _record(session, [pair for c in crossings for pair in c.fresh], now)
    rows: list[dict[str, Any]] = []
    coordinators = [] if policy.chats else await all_coordinators(session, programme_only=True)
    for what, crossing in programme.items():
        top = crossing.celebrated
        if top is not None and top[0] in ours:
            payload = {"what": what.value, "value": top[1]}
            key = f"milestone:{what.value}:{top[1]}"
            rows += _rows_for("milestone", payload, key, policy.chats, coordinators, now)
    for person, crossing in personal.items():
        top = crossing.celebrated
        if top is not None and top[0] in ours:
            key = f"milestone:person:{person.id}:sessions:{top[1]}"
            rows += _rows_for("milestone_personal", {"sessions": top[1]}, key, (), [person], now)
    return rows


async def _sessions_worked(
    session: AsyncSession, policy: CelebrationPolicy, now: datetime
) -> list[tuple[Person, int]]:
    """Volunteers who could have passed one of their thresholds: sessions attended, each.
    A session counts once it has ended: a cook marked on arrival is thanked after lunch, not
    while it is still being served."""
    if not policy.personal:
        return []
    query = (
        select(Person, func.count(Booking.id))
        .join(Booking, Booking.person_id == Person.id)
        .join(LunchSession, Booking.session_id == LunchSession.id)
        .where(
            Booking.status == BookingStatus.ATTENDED,
            LunchSession.status == SessionStatus.SCHEDULED,
            LunchSession.ends_at <= now,
            Person.active.is_(True),
        )
        .group_by(Person.id)
        .having(func.count(Booking.id) >= policy.personal[0])
    )
    return [(person, int(count)) for person, count in (await session.execute(query)).tuples()]


async def _record(session: AsyncSession, fresh: list[tuple[str, int]], now: datetime) -> set[str]:
    """Record thresholds as reached; returns the keys this transaction recorded (another
    instance may have recorded some at the same moment)."""
    added = await session.execute(
        upsert(session, Milestone, None, key=["key"]).returning(Milestone.key),
        [{"key": key, "value": level, "reached_at": now} for key, level in fresh],
    )
    return set(added.scalars().all())


async def _digests(
    session: AsyncSession, now: datetime, policy: CelebrationPolicy, tz: ZoneInfo
) -> list[dict[str, Any]]:
    period = digest_due(now, policy, tz)
    if now - period.sent_at > DIGEST_GRACE:
        return []
    payload = {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "since": period.since.isoformat(),
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
    targets += [(outbox.chat_of(p), p.id, f"{key}:person:{p.id}") for p in people]
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
