"""Cancelling many sessions at once: a day's (a snow day: at every location, or a chosen few),
or a location's still to come (a venue lost for the rest of the holiday, or for good).

The preview counts whom the cancel will tell, each once however many of the sessions they are
on: the volunteers signed up (booked, offered or waiting), and the families placed at them
(told through their schools, never with their needs); and names the people on them without
Telegram, whom only the coordinator can tell. The cancel itself is one transaction: every
session of the scope, as it stands then, is cancelled and everyone told once through the
outbox (storage.rota.cancel_many), so what it answers is what the database holds. A site lead
reaches only their own locations, whatever the buttons say.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, dates, rota
from storage.choosing import Page, named, paged
from storage.db import Database
from storage.errors import NotFound, OutOfScope
from storage.locations import BY_NAME
from storage.models import (
    Booking,
    Location,
    LunchSession,
    Person,
    Role,
    SessionStatus,
)
from storage.roles import coordinator_scope, require_location, require_role
from storage.rota import CANCELLED_TELLS, Told
from storage.rota_import import parse_date

# The people without Telegram a preview names (the rest are counted): the coordinator phones them.
OFFLINE_NAMED = 12
# A day chosen from buttons: the next days that have sessions, this far ahead.
DAYS_AHEAD = 14
DAYS_OFFERED = 7
# A holiday ends at the first gap between lunches longer than this (as storage.directory says).
HOLIDAY_BREAK = timedelta(days=14)
# A chosen few locations: more than this is "every location" (the draft holds the ids).
CHOSEN_MAX = 500


class Span(enum.StrEnum):
    """How far ahead a location's sessions are cancelled (the values ride on buttons)."""

    HOLIDAY = "hol"  # the rest of this holiday: up to the next break of more than two weeks
    ALL = "all"  # every session still to come


@dataclass(frozen=True, kw_only=True)
class Scope:
    """The sessions a bulk cancel takes, all still to come and not cancelled: those on `day` at
    `location_ids` (None: at every location the coordinator runs); or, with no day, those at
    the one location of `location_ids` up to the end of `until` (None: all of them)."""

    day: date | None = None
    location_ids: frozenset[int] | None = None
    until: date | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat() if self.day else None,
            "locations": sorted(self.location_ids) if self.location_ids is not None else None,
            "until": self.until.isoformat() if self.until else None,
        }

    @classmethod
    def from_data(cls, data: object) -> Scope | None:
        """A scope kept in a draft; None when it is not one (nothing would be cancelled)."""
        if not isinstance(data, dict):
            return None
        try:
            day = date.fromisoformat(data["day"]) if data.get("day") else None
            until = date.fromisoformat(data["until"]) if data.get("until") else None
            ids = data.get("locations")
            chosen = None if ids is None else frozenset(int(i) for i in ids)
        except (KeyError, TypeError, ValueError):
            return None
        if day is None and (chosen is None or len(chosen) != 1):
            return None  # a location's sessions are one location's
        return cls(day=day, location_ids=chosen, until=until)


@dataclass(frozen=True, kw_only=True)
class Preview:
    """What a bulk cancel would do now."""

    sessions: int
    locations: int
    first: datetime | None  # the first and last sessions' starts
    last: datetime | None
    told: Told
    offline: list[str]  # up to OFFLINE_NAMED of the people without Telegram, "name (location)"


@dataclass(frozen=True, kw_only=True)
class DayLocation:
    """A location with sessions still to come on a day."""

    location_id: int
    name: str
    sessions: int


@dataclass(frozen=True, kw_only=True)
class Day:
    """A day ahead with sessions still to come."""

    day: date
    sessions: int
    locations: int


@dataclass(frozen=True, kw_only=True)
class LocationAhead:
    """A location's sessions still to come: all of them, and those of this holiday."""

    location_id: int
    name: str
    holiday_ends: date | None  # the last lunch of this holiday (None: nothing to come)
    this_holiday: int
    to_come: int


# --- choosing what to cancel -----------------------------------------------------------------


async def days_ahead(
    db: Database, *, actor_telegram_id: int, now: datetime, tz: ZoneInfo
) -> list[Day]:
    """The next DAYS_OFFERED days (within DAYS_AHEAD) with sessions still to come at the
    coordinator's locations, with how many sessions and locations each has."""
    async with db.read() as session:
        actor_scope = await _actor_scope(session, actor_telegram_id)
        query = (
            select(LunchSession.starts_at, LunchSession.location_id)
            .join(Location, Location.id == LunchSession.location_id)
            .where(
                LunchSession.status == SessionStatus.SCHEDULED,
                LunchSession.starts_at > now,
                LunchSession.starts_at <= now + timedelta(days=DAYS_AHEAD),
                Location.archived_at.is_(None),
            )
        )
        if actor_scope is not None:
            query = query.where(LunchSession.location_id.in_(actor_scope))
        rows = (await session.execute(query)).tuples().all()
    sessions: dict[date, int] = {}
    places: dict[date, set[int]] = {}
    for starts_at, location_id in rows:
        day = starts_at.astimezone(tz).date()
        sessions[day] = sessions.get(day, 0) + 1
        places.setdefault(day, set()).add(location_id)
    return [
        Day(day=day, sessions=sessions[day], locations=len(places[day]))
        for day in sorted(sessions)[:DAYS_OFFERED]
    ]


async def day_locations(
    db: Database,
    *,
    actor_telegram_id: int,
    day: date,
    now: datetime,
    tz: ZoneInfo,
    search: str,
    offset: int,
    limit: int,
) -> Page[DayLocation]:
    """The locations (a site lead's own) with sessions still to come on `day`, by name, whose
    name holds `search`; a page of them, as the database counts and pages them."""
    start, end = _local_day(day, tz)
    async with db.read() as session:
        actor_scope = await _actor_scope(session, actor_telegram_id)
        that_day = (
            LunchSession.status == SessionStatus.SCHEDULED,
            LunchSession.starts_at > now,
            LunchSession.starts_at >= start,
            LunchSession.starts_at < end,
        )
        query = select(Location).where(
            Location.archived_at.is_(None),
            named(Location.name_key, search),
            Location.id.in_(select(LunchSession.location_id).where(*that_day)),
        )
        if actor_scope is not None:
            query = query.where(Location.id.in_(actor_scope))
        rows, matching, offset = await paged(
            session, query, order=BY_NAME, offset=offset, limit=limit
        )
        counts = dict(
            (
                await session.execute(
                    select(LunchSession.location_id, func.count())
                    .where(LunchSession.location_id.in_([row.id for row in rows]), *that_day)
                    .group_by(LunchSession.location_id)
                )
            )
            .tuples()
            .all()
        )
    return Page(
        shown=[
            DayLocation(location_id=row.id, name=row.name, sessions=counts.get(row.id, 0))
            for row in rows
        ],
        matching=matching,
        offset=offset,
    )


async def may_choose(db: Database, *, actor_telegram_id: int, location_id: int) -> str:
    """The name of a location the coordinator may cancel at (a site lead: their own); raises
    OutOfScope or NotFound otherwise (a forged button)."""
    async with db.read() as session:
        await require_location(session, actor_telegram_id, location_id)
        name = await session.scalar(
            select(Location.name).where(Location.id == location_id, Location.archived_at.is_(None))
        )
    if name is None:
        raise NotFound("no such open location")
    return str(name)


async def location_ahead(
    db: Database, *, actor_telegram_id: int, location_id: int, now: datetime, tz: ZoneInfo
) -> LocationAhead:
    """A location's sessions still to come, and where this holiday ends for it: its last
    lunch before a gap of more than HOLIDAY_BREAK."""
    name = await may_choose(db, actor_telegram_id=actor_telegram_id, location_id=location_id)
    async with db.read() as session:
        starts = (
            await session.scalars(
                select(LunchSession.starts_at)
                .where(
                    LunchSession.location_id == location_id,
                    LunchSession.status == SessionStatus.SCHEDULED,
                    LunchSession.starts_at > now,
                )
                .order_by(LunchSession.starts_at)
            )
        ).all()
    days = [starts_at.astimezone(tz).date() for starts_at in starts]
    if not days:
        return LocationAhead(
            location_id=location_id, name=name, holiday_ends=None, this_holiday=0, to_come=0
        )
    last, count = days[0], 1
    for day in days[1:]:
        if day - last > HOLIDAY_BREAK:
            break
        last, count = day, count + 1
    return LocationAhead(
        location_id=location_id,
        name=name,
        holiday_ends=last,
        this_holiday=count,
        to_come=len(days),
    )


def location_scope(ahead: LocationAhead, span: Span) -> Scope:
    """The scope of cancelling a location's sessions this far ahead."""
    until = ahead.holiday_ends if span is Span.HOLIDAY else None
    return Scope(location_ids=frozenset({ahead.location_id}), until=until)


def day_of(text: str, *, today: date) -> date | None:
    """A day typed as a date (as a spreadsheet's: 2026-08-13, 13/08/2026, 13.08.2026), or
    "today" or "tomorrow"; from today to a year ahead."""
    typed = text.strip().lower()
    day = {"today": today, "tomorrow": today + timedelta(days=1)}.get(typed) or parse_date(typed)
    if day is None or not dates.PLANNING.holds(today, day, day):
        return None
    return day


# --- the preview and the cancel --------------------------------------------------------------


async def preview(
    db: Database, *, actor_telegram_id: int, scope: Scope, now: datetime, tz: ZoneInfo
) -> Preview:
    """What cancelling the scope would do now: its sessions and whom it would tell."""
    async with db.read() as session:
        actor_scope = await _actor_scope(session, actor_telegram_id)
        _require_within(scope, actor_scope)
        rows = (
            await session.execute(
                _sessions(scope, actor_scope, now, tz).with_only_columns(
                    LunchSession.id, LunchSession.location_id, LunchSession.starts_at
                )
            )
        ).all()
        ids = [row.id for row in rows]
        told = await rota.who_is_told_of(session, ids) if ids else Told()
        offline = await _offline(session, ids) if told.offline else []
    starts = sorted(row.starts_at for row in rows)
    return Preview(
        sessions=len(rows),
        locations=len({row.location_id for row in rows}),
        first=starts[0] if starts else None,
        last=starts[-1] if starts else None,
        told=told,
        offline=offline,
    )


async def cancel(
    db: Database, *, actor_telegram_id: int, scope: Scope, now: datetime, tz: ZoneInfo
) -> Preview:
    """Cancel every session of the scope, as they stand now, in one transaction: each person
    signed up for any of them is told once, each placed family's school once (audited, each
    session and the whole). Returns what was done, counted as it was done; no sessions left
    in the scope (a second tap) cancels nothing."""
    async with db.transaction() as session:
        actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
        actor_scope = await coordinator_scope(session, actor.id)
        _require_within(scope, actor_scope)
        lunches = (
            await session.scalars(
                _sessions(scope, actor_scope, now, tz)
                .order_by(LunchSession.starts_at, LunchSession.id)
                .with_for_update(of=LunchSession)
            )
        ).all()
        ids = [lunch.id for lunch in lunches]
        offline = await _offline(session, ids)
        told = await rota.cancel_many(session, lunches, actor, now)
        places = {lunch.location_id for lunch in lunches}
        if lunches:
            audit.record(
                session,
                at=now,
                actor_id=actor.id,
                action="sessions.bulk_cancelled",
                subject=("location", next(iter(places))) if len(places) == 1 else None,
                day=scope.day.isoformat() if scope.day else None,
                until=scope.until.isoformat() if scope.until else None,
                every_location=scope.location_ids is None,
                locations=len(places),
                sessions=len(lunches),
                volunteers=told.volunteers,
                offline=told.offline,
                families=told.families,
                schools=told.schools,
            )
        return Preview(
            sessions=len(lunches),
            locations=len(places),
            first=lunches[0].starts_at if lunches else None,
            last=lunches[-1].starts_at if lunches else None,
            told=told,
            offline=offline,
        )


# --- inside ----------------------------------------------------------------------------------


async def _actor_scope(session: AsyncSession, telegram_id: int) -> frozenset[int] | None:
    actor = await require_role(session, telegram_id, Role.COORDINATOR)
    return await coordinator_scope(session, actor.id)


def _require_within(scope: Scope, actor_scope: frozenset[int] | None) -> None:
    """A site lead cancels only at their own locations: a chosen one elsewhere is a forgery."""
    chosen = scope.location_ids
    if chosen is not None and actor_scope is not None and not chosen <= actor_scope:
        raise OutOfScope
    if chosen is not None and not 0 < len(chosen) <= CHOSEN_MAX:
        raise NotFound("no locations chosen")


def _sessions(
    scope: Scope, actor_scope: Collection[int] | None, now: datetime, tz: ZoneInfo
) -> Select[tuple[LunchSession]]:
    """The scope's sessions: scheduled, still to come, at open locations the coordinator runs."""
    query = (
        select(LunchSession)
        .join(Location, Location.id == LunchSession.location_id)
        .where(
            LunchSession.status == SessionStatus.SCHEDULED,
            LunchSession.starts_at > now,
            Location.archived_at.is_(None),
        )
    )
    if scope.day is not None:
        start, end = _local_day(scope.day, tz)
        query = query.where(LunchSession.starts_at >= start, LunchSession.starts_at < end)
    if scope.until is not None:
        query = query.where(LunchSession.starts_at < _local_day(scope.until, tz)[1])
    if scope.location_ids is not None:
        query = query.where(LunchSession.location_id.in_(scope.location_ids))
    if actor_scope is not None:
        query = query.where(LunchSession.location_id.in_(actor_scope))
    return query


async def _offline(session: AsyncSession, session_ids: list[int]) -> list[str]:
    """The people without Telegram signed up for those sessions, "name (location)", each once
    by name and location; the first OFFLINE_NAMED by name (Told.offline counts them all)."""
    if not session_ids:
        return []
    rows = (
        await session.execute(
            select(Person.display_name, Location.name)
            .join(Booking, Booking.person_id == Person.id)
            .join(LunchSession, LunchSession.id == Booking.session_id)
            .join(Location, Location.id == LunchSession.location_id)
            .where(
                Booking.session_id.in_(session_ids),
                Booking.status.in_(CANCELLED_TELLS),
                Person.telegram_id.is_(None),
            )
            .distinct()
            .order_by(Person.display_name, Location.name)
            .limit(OFFLINE_NAMED)
        )
    ).tuples()
    return [f"{name} ({where})" for name, where in rows]


def _local_day(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants of the start of `day` and of the next, in programme time."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end
