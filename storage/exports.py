"""The rota as a spreadsheet: who is where, when, doing what, and whom to ring there.

One row per place at a session: each place a volunteer holds (booked, offered to them from the
waitlist, or already marked as came or no-show) and each place still open, so that a
spreadsheet's count of rows is the count of places, and "(open)" rows are the gaps. Cancelled
sessions, and sessions marked as did not run, are left out: nobody works at them.

A coordinator of the whole programme exports any locations; a site lead only their own (asking
for another's raises OutOfScope, which the bot audits). Every export is audited, with the period
and how many rows, never a name. Built in a handful of queries however long the period: a
holiday of 8,000 sessions at 200 locations is five statements.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, dates, spreadsheet
from storage.db import Database
from storage.errors import OutOfScope
from storage.models import (
    Booking,
    BookingStatus,
    CoordinatorScope,
    Location,
    LunchSession,
    Person,
    Role,
    RoleGrant,
    SessionJob,
    SessionStatus,
)
from storage.roles import coordinator_scope, require_role

# A year and a day: a longer rota is a typo; a year is the longest a plan looks ahead.
MAX_EXPORT_DAYS = 366
# "The rest of the holiday": the lunches from today until the first break longer than this.
# Between two holidays there are at least five weeks of term; inside one, a site may pause a week.
HOLIDAY_BREAK = timedelta(days=14)
OPEN = "(open)"
_Row = TypeVar("_Row", bound=tuple[Any, ...])
YES_NO = {True: "yes", False: "no"}  # as storage/spreadsheet.py writes True and False
ROTA_HEADER = (
    "Date",
    "Day",
    "Start",
    "End",
    "Location",
    "Job",
    "Volunteer",
    "Place",
    "Confirmed",
    "Site lead",
    "Site lead phone",
)


NO_TELEGRAM = "(no Telegram)"


class PlaceState(enum.StrEnum):
    """What a place at a session is, in the words the file and the sign-in sheet use."""

    BOOKED = "booked"
    OFFERED = "offered"  # freed and held for the first on the waitlist until they answer
    CAME = "came"
    NO_SHOW = "no-show"
    OPEN = "open"


# Every booking that holds a place (SessionJob.taken counts exactly these), and its word.
HOLDING = {
    BookingStatus.BOOKED: PlaceState.BOOKED,
    BookingStatus.OFFERED: PlaceState.OFFERED,
    BookingStatus.ATTENDED: PlaceState.CAME,
    BookingStatus.NO_SHOW: PlaceState.NO_SHOW,
}


class TooBig(Exception):
    """The file would be larger than the caller can send (`limit` bytes): nothing is audited."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes, over {limit}")
        self.size = size
        self.limit = limit


class PeriodProblem(enum.StrEnum):
    BACKWARDS = "backwards"
    TOO_LONG = "too_long"
    TOO_FAR = "too_far"  # outside the dates the bot keeps a rota for


@dataclass(frozen=True, kw_only=True)
class RotaExport:
    file: spreadsheet.CsvFile
    sessions: int
    locations: int
    filled: int  # places held, rows with a volunteer
    open: int  # rows "(open)"


@dataclass(frozen=True, kw_only=True)
class Lead:
    name: str
    phone: str | None


def period_problem(first: date, last: date, *, today: date) -> PeriodProblem | None:
    """What is wrong with a period asked for, if anything: a rota looks back as far as reports
    do (five years) and ahead as far as plans (a year)."""
    if last < first:
        return PeriodProblem.BACKWARDS
    if (last - first).days + 1 > MAX_EXPORT_DAYS:
        return PeriodProblem.TOO_LONG
    if first < dates.REPORTING.earliest(today) or last > dates.PLANNING.latest(today):
        return PeriodProblem.TOO_FAR
    return None


def this_week(today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def next_week(today: date) -> tuple[date, date]:
    monday, sunday = this_week(today)
    return monday + timedelta(days=7), sunday + timedelta(days=7)


def local_span(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants from the start of `first` to the end of `last`, in programme time."""
    start = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


async def holiday_left(
    db: Database, *, actor_telegram_id: int, today: date, tz: ZoneInfo
) -> tuple[date, date] | None:
    """Today to the last lunch before the next break of more than HOLIDAY_BREAK, at the
    locations the coordinator may see; None when nothing is planned from today."""
    start, _ = local_span(today, today, tz)
    end = datetime.combine(dates.PLANNING.latest(today), time(0), tzinfo=tz).astimezone(UTC)
    async with db.read() as session:
        scope = await _scope(session, actor_telegram_id)
        query = (
            select(LunchSession.starts_at)
            .where(
                LunchSession.starts_at >= start,
                LunchSession.starts_at < end,
                LunchSession.status == SessionStatus.SCHEDULED,
            )
            .order_by(LunchSession.starts_at)
        )
        if scope is not None:
            query = query.where(LunchSession.location_id.in_(scope))
        starts = (await session.scalars(query)).all()
    if not starts:
        return None
    last = starts[0].astimezone(tz).date()
    for starts_at in starts[1:]:
        day = starts_at.astimezone(tz).date()
        if day - last > HOLIDAY_BREAK:
            break
        last = day
    return today, last


async def rota(
    db: Database,
    *,
    actor_telegram_id: int,
    first: date,
    last: date,
    location_ids: Collection[int] | None,
    tz: ZoneInfo,
    now: datetime,
    max_bytes: int | None = None,
) -> RotaExport:
    """The rota of `first` to `last` (programme dates, both included) at the chosen locations
    (None: every one the coordinator may see) as CSV. Raises ValueError for a period that
    `period_problem` refuses, OutOfScope for a location that is not the site lead's, TooBig
    for a file over `max_bytes`. Audited."""
    if period_problem(first, last, today=now.astimezone(tz).date()) is not None:
        raise ValueError("period refused")
    start, end = local_span(first, last, tz)
    async with db.read() as session:
        actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
        scope = await coordinator_scope(session, actor.id)
        wanted = _wanted(scope, location_ids)
        sessions = (
            await session.execute(
                _in_period(
                    select(
                        LunchSession.id,
                        LunchSession.location_id,
                        LunchSession.starts_at,
                        LunchSession.ends_at,
                    ),
                    start,
                    end,
                    wanted,
                )
            )
        ).all()
        jobs = (
            await session.execute(
                _in_period(
                    select(SessionJob.id, SessionJob.session_id, SessionJob.job, SessionJob.places)
                    .join(LunchSession, LunchSession.id == SessionJob.session_id)
                    .order_by(SessionJob.id),
                    start,
                    end,
                    wanted,
                )
            )
        ).all()
        holders = (
            await session.execute(
                _in_period(
                    select(
                        Booking.job_id,
                        Booking.status,
                        Booking.confirmed_at.is_not(None),
                        Person.display_name,
                        Person.telegram_id.is_(None),
                    )
                    .join(Person, Person.id == Booking.person_id)
                    .join(LunchSession, LunchSession.id == Booking.session_id)
                    .where(Booking.status.in_(HOLDING))
                    .order_by(Booking.created_at, Booking.id),
                    start,
                    end,
                    wanted,
                )
            )
        ).all()
        here = {row.location_id for row in sessions}
        names = await _location_names(session, here)
        leads = await site_leads(session, here)
    # By day and time, then by location's name, as a rota is read.
    sessions = sorted(sessions, key=lambda row: (row[2], names.get(row[1], "").lower(), row[0]))
    held: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for job_id, status, confirmed, name, offline in holders:
        # Someone without Telegram, put on by a coordinator: nobody but they can remind them.
        shown = f"{name} {NO_TELEGRAM}" if offline else name
        held[job_id].append((shown, HOLDING[status].value, YES_NO[bool(confirmed)]))
    by_session: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
    for job_id, session_id, job, places in jobs:
        by_session[session_id].append((job_id, job, places))
    lead_cells = {
        location_id: [
            "; ".join(lead.name for lead in leads.get(location_id, [])),
            "; ".join(lead.phone or "" for lead in leads.get(location_id, [])),
        ]
        for location_id in here
    }
    rows: list[list[spreadsheet.Cell]] = []
    filled = open_places = 0
    for session_id, location_id, starts_at, ends_at in sessions:
        local_start, local_end = starts_at.astimezone(tz), ends_at.astimezone(tz)
        # Cells as text, made once a session: a holiday's rota has half a million of them.
        where = [
            local_start.date().isoformat(),
            spreadsheet.WEEKDAY_NAMES[local_start.weekday()],
            f"{local_start:%H:%M}",
            f"{local_end:%H:%M}",
            names.get(location_id, "?"),
        ]
        lead = lead_cells[location_id]
        for job_id, job, places in by_session.get(session_id, []):
            taken = held.get(job_id, [])
            rows += [
                [*where, job, name, place, confirmed, *lead] for name, place, confirmed in taken
            ]
            gaps = max(0, places - len(taken))
            rows += [[*where, job, OPEN, PlaceState.OPEN.value, "", *lead] for _ in range(gaps)]
            filled += len(taken)
            open_places += gaps
    made = spreadsheet.file(ROTA_HEADER, rows)
    if max_bytes is not None and len(made.data) > max_bytes:
        raise TooBig(len(made.data), max_bytes)
    async with db.transaction() as session:
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="rota.exported",
            first=first.isoformat(),
            last=last.isoformat(),
            locations=sorted(wanted) if wanted is not None else "all",
            sessions=len(sessions),
            rows=len(rows),
        )
    return RotaExport(
        file=made,
        sessions=len(sessions),
        locations=len(here),
        filled=filled,
        open=open_places,
    )


async def site_leads(session: AsyncSession, location_ids: Collection[int]) -> dict[int, list[Lead]]:
    """The site leads of each location (coordinators limited to it), by name; coordinators of
    the whole programme are not anyone's site lead."""
    if not location_ids:
        return {}
    rows = (
        await session.execute(
            select(CoordinatorScope.location_id, Person.display_name, Person.phone)
            .join(Person, Person.id == CoordinatorScope.person_id)
            .join(
                RoleGrant,
                (RoleGrant.person_id == Person.id) & (RoleGrant.role == Role.COORDINATOR),
            )
            .where(CoordinatorScope.location_id.in_(sorted(location_ids)))
            .order_by(func.lower(Person.display_name), Person.id)
        )
    ).all()
    found: dict[int, list[Lead]] = defaultdict(list)
    for location_id, name, phone in rows:
        found[location_id].append(Lead(name=name, phone=phone))
    return found


def _wanted(scope: frozenset[int] | None, location_ids: Collection[int] | None) -> set[int] | None:
    """The locations to export (None: all of them); a site lead's at most."""
    if location_ids is None:
        return set(scope) if scope is not None else None
    wanted = set(location_ids)
    if not wanted:
        raise ValueError("no locations chosen")
    if scope is not None and not wanted <= scope:
        raise OutOfScope
    return wanted


def _in_period(
    query: Select[_Row], start: datetime, end: datetime, wanted: set[int] | None
) -> Select[_Row]:
    """Sessions that run (not cancelled, not marked as did not run) in the period."""
    query = query.where(
        LunchSession.starts_at >= start,
        LunchSession.starts_at < end,
        LunchSession.status == SessionStatus.SCHEDULED,
    )
    if wanted is not None:
        query = query.where(LunchSession.location_id.in_(sorted(wanted)))
    return query


async def _scope(session: AsyncSession, actor_telegram_id: int) -> frozenset[int] | None:
    actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
    return await coordinator_scope(session, actor.id)


async def _location_names(session: AsyncSession, location_ids: Collection[int]) -> dict[int, str]:
    if not location_ids:
        return {}
    rows = await session.execute(
        select(Location.id, Location.name).where(Location.id.in_(sorted(location_ids)))
    )
    return dict(rows.tuples().all())


async def _count(session: AsyncSession, query: Select[tuple[Location]]) -> int:
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
