"""The schedule lives in the database: this planner, run by the clock every minute, makes sure
every reminder and alert that should exist is a row in the outbox, with its due time. Nothing
is held in memory, so a restart loses nothing; every row has a dedupe key, so planning again
adds nothing twice.

Reminders come a whole number of days before a session at the session's own time of day (so
the day before an 11:30 lunch means 11:30, even across a clock change), or a number of hours
before it. None falls in the quiet hours: one that can wait comes when they end, one that
cannot comes just before they begin, the evening before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox
from storage.db import Database
from storage.models import (
    Booking,
    BookingStatus,
    LunchSession,
    Person,
    SessionJob,
    SessionStatus,
)
from storage.roles import coordinators_for

HOURS_A_DAY = 24
# Reminders become rows this long before they are due; the planner runs every minute, so this
# is ample, and each run writes only a few rows however many bookings there are.
PLAN_AHEAD = timedelta(hours=1)
JUST_BEFORE = timedelta(minutes=1)


@dataclass(frozen=True, kw_only=True)
class Policy:
    tz: ZoneInfo
    reminder_hours: tuple[int, ...] = (24, 2)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    unfilled_horizon: timedelta = timedelta(hours=48)
    late_window: timedelta = timedelta(hours=24)
    morning_at: time = time(8, 0)


def reminder_due(starts_at: datetime, hours: int, policy: Policy) -> datetime:
    """When the reminder `hours` before a session starting at `starts_at` is due (UTC)."""
    if hours % HOURS_A_DAY == 0:
        local = starts_at.astimezone(policy.tz)
        day = local.date() - timedelta(days=hours // HOURS_A_DAY)
        due = datetime.combine(day, local.time(), tzinfo=policy.tz).astimezone(UTC)
    else:
        due = starts_at - timedelta(hours=hours)
    return _outside_quiet_hours(due, starts_at, policy)


def superseded(starts_at: datetime, hours: int, policy: Policy, now: datetime) -> bool:
    """A closer reminder for the same session is already due (the bot was down): only that
    one is worth sending."""
    return any(
        reminder_due(starts_at, other, policy) <= now
        for other in policy.reminder_hours
        if other < hours
    )


def quiet_until(now: datetime, starts_at: datetime, policy: Policy) -> datetime | None:
    """If it is quiet hours now and a message about a session can wait until they end (the
    session starts later), when they end; else None: send now."""
    if not in_quiet_hours(now, policy):
        return None
    end = _quiet_end(now, policy)
    return end if end < starts_at else None


@dataclass(frozen=True, kw_only=True)
class OfferWindow:
    """How long a freed place is held for the volunteer it is offered to, in waking hours:
    an offer made in the quiet hours, or whose window would reach into them, runs its whole
    window from their end (its message waits for then too), so nobody loses a waitlist place
    asleep. Never past the session's start: a place is no use once the lunch has begun."""

    length: timedelta
    quiet: Policy | None = None  # None: no quiet hours to respect

    def deadline(self, now: datetime, starts_at: datetime) -> datetime:
        if self.quiet is None or self.quiet.quiet_start == self.quiet.quiet_end:
            return min(now + self.length, starts_at)
        policy = self.quiet
        opens = _quiet_end(now, policy) if in_quiet_hours(now, policy) else now
        deadline = opens + self.length
        night = _next_quiet_start(opens, policy)
        if night < deadline:
            # Only once: a window longer than a whole waking day (a configuration of days)
            # is long enough as it is.
            deadline = _quiet_end(night, policy) + self.length
        return min(deadline, starts_at)


def _quiet_end(moment: datetime, policy: Policy) -> datetime:
    """When the quiet hours that `moment` falls in end."""
    local = moment.astimezone(policy.tz)
    end_day = local.date() if local.time() < policy.quiet_end else local.date() + timedelta(1)
    return datetime.combine(end_day, policy.quiet_end, tzinfo=policy.tz).astimezone(UTC)


def _next_quiet_start(moment: datetime, policy: Policy) -> datetime:
    """When the next quiet hours after `moment` (which is outside them) begin."""
    local = moment.astimezone(policy.tz)
    for day in (local.date(), local.date() + timedelta(1)):
        start = datetime.combine(day, policy.quiet_start, tzinfo=policy.tz).astimezone(UTC)
        if start > moment:
            return start
    raise AssertionError("quiet hours begin every day")  # pragma: no cover


def in_quiet_hours(moment: datetime, policy: Policy) -> bool:
    start, end, now = policy.quiet_start, policy.quiet_end, moment.astimezone(policy.tz).time()
    if start == end:
        return False
    return start <= now < end if start < end else (now >= start or now < end)


def _outside_quiet_hours(due: datetime, starts_at: datetime, policy: Policy) -> datetime:
    if not in_quiet_hours(due, policy):
        return due
    local = due.astimezone(policy.tz)
    end = _quiet_end(due, policy)
    if end < starts_at:
        return end
    start_day = (
        local.date() if local.time() >= policy.quiet_start else (local.date() - timedelta(1))
    )
    start = datetime.combine(start_day, policy.quiet_start, tzinfo=policy.tz).astimezone(UTC)
    return start - JUST_BEFORE


async def plan(db: Database, *, now: datetime, policy: Policy) -> int:
    """Queue every reminder and alert now known; returns how many rows were new."""
    async with db.transaction() as session:
        rows = await _reminders(session, now, policy)
        rows += await _unfilled(session, now, policy)
        rows += await _morning_lists(session, now, policy)
        return await outbox.queue_rows(session, rows)


async def _reminders(session: AsyncSession, now: datetime, policy: Policy) -> list[dict[str, Any]]:
    if not policy.reminder_hours:
        return []
    # A day's margin: a whole-day reminder can come up to an hour earlier across a clock change.
    horizon = now + timedelta(hours=max(policy.reminder_hours) + HOURS_A_DAY)
    booked = (
        (
            await session.execute(
                select(Booking, LunchSession, Person)
                .join(LunchSession, Booking.session_id == LunchSession.id)
                .join(Person, Booking.person_id == Person.id)
                .where(
                    Booking.status == BookingStatus.BOOKED,
                    LunchSession.status == SessionStatus.SCHEDULED,
                    LunchSession.starts_at > now,
                    LunchSession.starts_at <= horizon,
                    Person.active.is_(True),
                )
            )
        )
        .tuples()
        .all()
    )
    rows = []
    for booking, lunch, person in booked:
        for hours in policy.reminder_hours:
            due = reminder_due(lunch.starts_at, hours, policy)
            if due > now + PLAN_AHEAD:
                continue  # planned on a later run: each run writes only what is near
            # Booked (or offered the place and took it) after the reminder's time, or confirmed
            # already: it would only nag.
            if due < booking.updated_at or booking.confirmed_at is not None:
                continue
            rows.append(
                _row(
                    person,
                    "reminder",
                    now,
                    due=due,
                    key=f"reminder:{booking.id}:{hours}:{lunch.starts_at:%Y%m%d%H%M}",
                    payload={
                        "booking_id": booking.id,
                        "hours": hours,
                        "starts_at": lunch.starts_at.isoformat(),
                    },
                )
            )
    return rows


async def _unfilled(session: AsyncSession, now: datetime, policy: Policy) -> list[dict[str, Any]]:
    gaps = (
        (
            await session.execute(
                select(LunchSession.id, LunchSession.location_id).where(
                    LunchSession.status == SessionStatus.SCHEDULED,
                    LunchSession.starts_at > now,
                    LunchSession.starts_at <= now + policy.unfilled_horizon,
                    LunchSession.id.in_(
                        select(SessionJob.session_id).where(SessionJob.taken < SessionJob.places)
                    ),
                )
            )
        )
        .tuples()
        .all()
    )
    leads = await coordinators_for(session, {location_id for _, location_id in gaps})
    people = {person.id: person for group in leads.values() for person in group}
    day = now.astimezone(policy.tz).date().isoformat()
    # One summary a day for each coordinator, not one message per session.
    return [
        _row(person, "unfilled", now, key=f"unfilled:{day}:{person.id}", payload={"day": day})
        for person in people.values()
    ]


async def _morning_lists(
    session: AsyncSession, now: datetime, policy: Policy
) -> list[dict[str, Any]]:
    local = now.astimezone(policy.tz)
    if local.time() < policy.morning_at:
        return []
    day_end = datetime.combine(local.date() + timedelta(1), time(0), tzinfo=policy.tz)
    todays = (
        await session.scalars(
            select(LunchSession.location_id).where(
                LunchSession.status == SessionStatus.SCHEDULED,
                LunchSession.starts_at > now,
                LunchSession.starts_at < day_end.astimezone(UTC),
            )
        )
    ).all()
    leads = await coordinators_for(session, set(todays))
    people = {person.id: person for group in leads.values() for person in group}
    return [
        _row(
            person,
            "morning_list",
            now,
            key=f"morning:{local.date().isoformat()}:{person.id}",
            payload={"day": local.date().isoformat()},
        )
        for person in people.values()
    ]


def _row(
    person: Person,
    kind: str,
    now: datetime,
    *,
    key: str,
    payload: dict[str, Any],
    due: datetime | None = None,
) -> dict[str, Any]:
    return outbox.row(
        chat_id=outbox.chat_of(person),
        person_id=person.id,
        kind=kind,
        payload=payload,
        dedupe_key=key,
        due_at=due or now,
        now=now,
    )
