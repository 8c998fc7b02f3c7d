"""The evidence base: what the programme did in a period, per location and in total, from the
raw records, for funders' reports and the council's return.

Each figure is defined once, below (`MEALS_SERVED`, `CHILDREN_FED`...): its name and its
meaning in a funder's words. The bot's summary, `lunchbot report`, the CSV's header, the chart,
the weekly digest and the README use those names, and their values come from `figure_values`.

How they are counted:
- A session is in the period when its start, in programme time (`tz`), falls on a day from
  `start` to `end` inclusive, and it has started by `now`. Cancelled sessions, and sessions
  marked "did not run" (with a reason) after their start, count in no figure at all.
- *Sessions run*: sessions with evidence that a lunch took place: more than 0 meals served or
  children recorded, or at least one volunteer marked as came. A session where every volunteer
  was a no-show and no meals were served did not run; nor did one recorded as 0 meals and 0
  children with nobody marked as came (it is neither run nor missing its counts: nothing
  happened; "did not run" says why).
- *Sessions without counts*: started sessions with neither meals nor children recorded,
  whether or not attendance was marked: the gaps for coordinators to fill in, or to mark as
  "did not run". A session with a volunteer marked as came but no counts is both run and
  without counts.
- *Meals served* and *children fed* are the sums of the meals served and children recorded
  (nothing recorded counts as 0). Children fed counts attendances: a child who came on ten days
  counts ten times.
- *Referred families who came*: distinct referrals with a family attendance mark "came" on a
  day of the period; per location by the location the referral is placed at. Referrals whose
  details were purged still count: only their sensitive fields are gone. A family counts once
  however often it came, and children who came without a school's referral are not in it: it
  is not a part of children fed, and the two measure different things (never add them up).
- *Volunteer shifts*: bookings marked "came" at those sessions (which are therefore sessions
  run); *volunteer hours* add up the lengths of those sessions (start to end), one per shift.
- *Referrals received*: referrals created (received) in the period, by their status now. The
  total counts every one of them; a location's row counts those placed at it, so referrals not
  placed anywhere (waiting, waitlisted, declined) and families whose referral has no location
  any more appear in the total only. Every other total is the sum of the locations' rows.

With `location_id` everything is restricted to that one location, and a site lead's report to
the locations they lead. The figures are aggregate SQL (GROUP BY location), so a year of 56
locations costs a handful of queries however many sessions and families it holds.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, extract, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage import audit, spreadsheet
from storage.db import Database
from storage.errors import NotFound
from storage.models import (
    Booking,
    BookingStatus,
    FamilyAttendance,
    Location,
    LunchSession,
    Referral,
    ReferralStatus,
    Role,
    SessionStatus,
)
from storage.roles import coordinator_scope, require_location, require_role

# Three years, a leap day included: a longer period is a typo (or a job for the database).
MAX_REPORT_DAYS = 3 * 365 + 1
# A chart of more days than this shows weeks, so that its bars stay readable.
CHART_DAILY_MAX_DAYS = 92
TOTAL_ROW = "Total"


@dataclass(frozen=True)
class Definition:
    """One figure of the evidence base: its name wherever it is shown, and what it counts."""

    name: str
    meaning: str


MEALS_SERVED = Definition(
    "Meals served", "Meals served at the sessions run, as counted at each session on the day."
)
CHILDREN_FED = Definition(
    "Children fed (attendances)",
    "Children who came to the sessions run, added up session by session: a child who came on "
    "ten days counts ten times.",
)
FAMILIES_CAME = Definition(
    "Referred families who came",
    "Families referred by a partner school who came at least once, each counted once however "
    "often they came. Not a part of children fed: that counts every child at every session.",
)
SESSIONS_RUN = Definition(
    "Sessions run",
    "Lunch sessions that took place: more than 0 meals or children counted, or a volunteer "
    "marked as came. "
    "Cancelled sessions and sessions that did not run are not counted.",
)
SESSIONS_WITHOUT_COUNTS = Definition(
    "Sessions without counts",
    "Sessions that have started whose meals and children are not recorded yet: to record, "
    "or to mark as did not run.",
)
VOLUNTEER_SHIFTS = Definition(
    "Volunteer shifts",
    "Volunteers marked as came at the sessions run: one shift per volunteer per session.",
)
VOLUNTEER_HOURS = Definition(
    "Volunteer hours", "The lengths of those shifts' sessions, start to end, added up."
)
REFERRALS_RECEIVED = Definition(
    "Referrals received",
    "Referrals partner schools sent in the period, whatever has been decided about them since.",
)
# In the order every summary, the CSV and the README list them.
DEFINITIONS = (
    MEALS_SERVED,
    CHILDREN_FED,
    FAMILIES_CAME,
    SESSIONS_RUN,
    SESSIONS_WITHOUT_COUNTS,
    VOLUNTEER_SHIFTS,
    VOLUNTEER_HOURS,
    REFERRALS_RECEIVED,
)
# The referrals' statuses as the CSV's extra columns and the summaries' split name them.
REFERRAL_STATUS_WORDS = {
    ReferralStatus.PLACED: "placed",
    ReferralStatus.WAITLISTED: "on the waiting list",
    ReferralStatus.DECLINED: "not placed",
    ReferralStatus.SUBMITTED: "waiting for a decision",
}


@dataclass(frozen=True, kw_only=True)
class Figures:
    sessions: int  # SESSIONS_RUN: more than 0 meals or children, or a volunteer came
    meals_served: int
    children_fed: int  # attendances: sum of children_attended
    unique_families: int  # FAMILIES_CAME: distinct referrals marked as came in the period
    volunteer_shifts: int  # bookings with status ATTENDED
    volunteer_minutes: int  # sum of those shifts' session lengths
    referrals: dict[ReferralStatus, int]  # every status present as a key, 0 if none
    # SESSIONS_WITHOUT_COUNTS: started sessions, neither cancelled nor marked as did not run,
    # with no meals or children recorded. Optional for figures made up elsewhere.
    unrecorded: int = 0

    @property
    def volunteer_hours(self) -> float:
        return round(self.volunteer_minutes / 60, 1)

    @property
    def referrals_total(self) -> int:
        return sum(self.referrals.values())


def figure_values(figures: Figures) -> dict[Definition, int | float]:
    """Each defined figure's value, in the order of DEFINITIONS: what every rendering shows."""
    return {
        MEALS_SERVED: figures.meals_served,
        CHILDREN_FED: figures.children_fed,
        FAMILIES_CAME: figures.unique_families,
        SESSIONS_RUN: figures.sessions,
        SESSIONS_WITHOUT_COUNTS: figures.unrecorded,
        VOLUNTEER_SHIFTS: figures.volunteer_shifts,
        VOLUNTEER_HOURS: figures.volunteer_hours,
        REFERRALS_RECEIVED: figures.referrals_total,
    }


def referral_column(status: ReferralStatus) -> str:
    return f"{REFERRALS_RECEIVED.name}, now {REFERRAL_STATUS_WORDS[status]}"


@dataclass(frozen=True, kw_only=True)
class LocationFigures:
    location_id: int
    name: str
    figures: Figures


@dataclass(frozen=True, kw_only=True)
class Report:
    start: date  # first day, programme time, inclusive
    end: date  # last day, inclusive
    locations: list[LocationFigures]  # every location with anything in the period, by name
    total: Figures
    days: list[date]  # every day start..end
    meals_by_day: dict[str, list[int]]  # location name -> meals served on each of `days`


@dataclass(frozen=True, kw_only=True)
class Place:
    """A location a coordinator may report on."""

    location_id: int
    name: str
    archived: bool


@dataclass(frozen=True, kw_only=True)
class Places:
    locations: list[Place]  # by name, archived ones too (a past period may concern them)
    whole_programme: bool  # False for a site lead: "all" means all of their own locations


class PeriodProblem(enum.StrEnum):
    BACKWARDS = "backwards"  # the last day is before the first
    TOO_LONG = "too_long"  # more than MAX_REPORT_DAYS
    NOT_STARTED = "not_started"  # the first day is still to come


def period_problem(start: date, end: date, *, today: date | None = None) -> PeriodProblem | None:
    """What is wrong with a period asked for, if anything (`today` also refuses the future)."""
    if end < start:
        return PeriodProblem.BACKWARDS
    if (end - start).days + 1 > MAX_REPORT_DAYS:
        return PeriodProblem.TOO_LONG
    if today is not None and start > today:
        return PeriodProblem.NOT_STARTED
    return None


# --- the reports -----------------------------------------------------------------------------


async def report(
    db: Database,
    *,
    start: date,
    end: date,
    tz: ZoneInfo,
    now: datetime,
    location_id: int | None = None,
) -> Report:
    """The figures for the whole programme, or one location: for the digest and the CLI (the
    caller decides who may see them)."""
    _require_period(start, end)
    async with db.read() as session:
        if location_id is not None:
            await _require_location_exists(session, location_id)
        return await _report(
            session,
            start=start,
            end=end,
            tz=tz,
            now=now,
            location_ids=None if location_id is None else frozenset({location_id}),
            listed=frozenset() if location_id is None else frozenset({location_id}),
        )


async def report_for(
    db: Database,
    *,
    actor_telegram_id: int,
    start: date,
    end: date,
    tz: ZoneInfo,
    now: datetime,
    location_id: int | None = None,
) -> Report:
    """The figures a coordinator asked for: a site lead's only over their own locations (one
    of them, or all of them). Audited: who, which period, which location."""
    _require_period(start, end)
    async with db.read() as session:
        if location_id is not None:
            actor = await require_location(session, actor_telegram_id, location_id)
            await _require_location_exists(session, location_id)
            scope: frozenset[int] | None = frozenset({location_id})
        else:
            actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
            scope = await coordinator_scope(session, actor.id)
        result = await _report(
            session,
            start=start,
            end=end,
            tz=tz,
            now=now,
            location_ids=scope,
            listed=frozenset() if location_id is None else frozenset({location_id}),
        )
    async with db.transaction() as session:
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="impact.reported",
            subject=None if location_id is None else ("location", location_id),
            start=start.isoformat(),
            end=end.isoformat(),
            site_lead=location_id is None and scope is not None,
        )
    return result


async def places_for(db: Database, *, actor_telegram_id: int) -> Places:
    """The locations a coordinator may report on: every one, or a site lead's own."""
    async with db.read() as session:
        actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
        scope = await coordinator_scope(session, actor.id)
        query = select(Location).order_by(func.lower(Location.name), Location.id)
        if scope is not None:
            query = query.where(Location.id.in_(scope))
        rows = (await session.scalars(query)).all()
    return Places(
        locations=[
            Place(location_id=row.id, name=row.name, archived=row.archived_at is not None)
            for row in rows
        ],
        whole_programme=scope is None,
    )


async def location_named(db: Database, name: str) -> int | None:
    """The location called `name` (any case), for the command line."""
    async with db.read() as session:
        found = await session.scalar(
            select(Location.id).where(func.lower(Location.name) == name.strip().lower())
        )
    return int(found) if found is not None else None


# --- what the figures become -----------------------------------------------------------------


def csv_header() -> list[str]:
    """The defined figures by name (what they count is in the README and the bot), then the
    referrals received split by their status now."""
    return [
        "Location",
        "First day",
        "Last day",
        *(definition.name for definition in DEFINITIONS),
        *(referral_column(status) for status in ReferralStatus),
        "Note",
    ]


def to_csv(report: Report) -> str:
    """One row per location and a "Total" row, under a header row that says what each figure
    counts. The total row's note says what it holds beyond the locations' rows."""
    rows = [_csv_row(row.name, report, row.figures, "") for row in report.locations]
    rows.append(_csv_row(TOTAL_ROW, report, report.total, total_note(report)))
    return spreadsheet.text(csv_header(), rows)


def total_note(report: Report) -> str:
    """Why the total is more than the locations' rows, when it is."""
    unplaced = report.total.referrals_total - sum(
        row.figures.referrals_total for row in report.locations
    )
    families = report.total.unique_families - sum(
        row.figures.unique_families for row in report.locations
    )
    notes = []
    if unplaced:
        notes.append(
            "1 referral received is not placed at any location"
            if unplaced == 1
            else f"{unplaced} referrals received are not placed at any location"
        )
    if families:
        notes.append(
            "1 family came but their referral has no location now"
            if families == 1
            else f"{families} families came but their referral has no location now"
        )
    return (
        "Total of all locations; " + "; ".join(notes) + " (counted in the total only)"
        if notes
        else "Total of all locations"
    )


def meals_series(report: Report) -> tuple[str, list[date], dict[str, list[int]]]:
    """What a chart of meals shows: per day, or per week (from the first day) for a long
    period. Returns the unit ("day" or "week"), the first day of each bar, and the series."""
    if len(report.days) <= CHART_DAILY_MAX_DAYS:
        return "day", list(report.days), {k: list(v) for k, v in report.meals_by_day.items()}
    weeks = report.days[::7]
    series = {
        name: [sum(values[n : n + 7]) for n in range(0, len(values), 7)]
        for name, values in report.meals_by_day.items()
    }
    return "week", weeks, series


def _csv_row(name: str, report: Report, figures: Figures, note: str) -> list[spreadsheet.Cell]:
    values = figure_values(figures)
    return [
        name,
        report.start,
        report.end,
        *(f"{values[d]:.1f}" if d is VOLUNTEER_HOURS else values[d] for d in DEFINITIONS),
        *(figures.referrals[status] for status in ReferralStatus),
        note,
    ]


# --- inside the read -------------------------------------------------------------------------


@dataclass
class _Tally:
    sessions: int = 0
    unrecorded: int = 0
    meals: int = 0
    children: int = 0
    families: int = 0
    shifts: int = 0
    seconds: int = 0
    referrals: dict[ReferralStatus, int] = field(default_factory=dict)

    def figures(self) -> Figures:
        return Figures(
            sessions=self.sessions,
            unrecorded=self.unrecorded,
            meals_served=self.meals,
            children_fed=self.children,
            unique_families=self.families,
            volunteer_shifts=self.shifts,
            volunteer_minutes=round(self.seconds / 60),
            referrals={status: self.referrals.get(status, 0) for status in ReferralStatus},
        )

    def empty(self) -> bool:
        return not (
            self.sessions
            or self.unrecorded
            or self.families
            or self.shifts
            or any(self.referrals.values())
        )


async def _report(
    session: AsyncSession,
    *,
    start: date,
    end: date,
    tz: ZoneInfo,
    now: datetime,
    location_ids: frozenset[int] | None,
    listed: frozenset[int],
) -> Report:
    """`location_ids` limits every figure (None: the whole programme); `listed` are locations
    shown even with nothing in the period (the one asked for)."""
    since, until = _bounds(start, end, tz)
    dialect = session.get_bind().dialect.name
    ran: list[ColumnElement[bool]] = [
        LunchSession.starts_at >= since,
        LunchSession.starts_at < until,
        LunchSession.starts_at <= now,
        # Cancelled sessions, and those that began but did not run, count in no figure.
        LunchSession.status == SessionStatus.SCHEDULED,
    ]
    placed: list[ColumnElement[bool]] = []
    if location_ids is not None:
        ran.append(LunchSession.location_id.in_(location_ids))
        placed.append(Referral.location_id.in_(location_ids))
    tallies: dict[int | None, _Tally] = defaultdict(_Tally)

    counted = or_(
        LunchSession.meals_served.is_not(None), LunchSession.children_attended.is_not(None)
    )
    fed = or_(LunchSession.meals_served > 0, LunchSession.children_attended > 0)
    came = (
        select(Booking.id)
        .where(Booking.session_id == LunchSession.id, Booking.status == BookingStatus.ATTENDED)
        .exists()
    )
    sessions = select(
        LunchSession.location_id,
        func.sum(case((or_(fed, came), 1), else_=0)),
        func.sum(case((counted, 0), else_=1)),
        func.sum(func.coalesce(LunchSession.meals_served, 0)),
        func.sum(func.coalesce(LunchSession.children_attended, 0)),
    ).where(*ran)
    for location_id, run, unrecorded, meals, children in await _rows(
        session, sessions.group_by(LunchSession.location_id)
    ):
        tally = tallies[location_id]
        tally.sessions, tally.unrecorded = int(run), int(unrecorded)
        tally.meals, tally.children = int(meals), int(children)

    shifts = (
        select(LunchSession.location_id, func.count(Booking.id), func.sum(_length(dialect)))
        .join(Booking, Booking.session_id == LunchSession.id)
        .where(*ran, Booking.status == BookingStatus.ATTENDED)
    )
    for location_id, count, seconds in await _rows(
        session, shifts.group_by(LunchSession.location_id)
    ):
        tallies[location_id].shifts = int(count)
        tallies[location_id].seconds = round(float(seconds or 0))

    families = (
        select(Referral.location_id, func.count(func.distinct(FamilyAttendance.referral_id)))
        .join(Referral, Referral.id == FamilyAttendance.referral_id)
        .where(
            FamilyAttendance.attended.is_(True),
            FamilyAttendance.day >= start,
            FamilyAttendance.day <= end,
            *placed,
        )
    )
    # A referral is at one location (or none), so the groups never share a family.
    for location_id, count in await _rows(session, families.group_by(Referral.location_id)):
        tallies[location_id].families = int(count)

    received = select(Referral.location_id, Referral.status, func.count()).where(
        Referral.created_at >= since, Referral.created_at < until, *placed
    )
    for location_id, status, count in await _rows(
        session, received.group_by(Referral.location_id, Referral.status)
    ):
        tallies[location_id].referrals[ReferralStatus(status)] = int(count)

    shown = {k for k, tally in tallies.items() if k is not None and not tally.empty()} | listed
    names: dict[int, str] = {}
    if shown:
        names = {
            int(location_id): str(name)
            for location_id, name in await _rows(
                session, select(Location.id, Location.name).where(Location.id.in_(shown))
            )
        }
    order = sorted(names, key=lambda location_id: (names[location_id].lower(), location_id))
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return Report(
        start=start,
        end=end,
        locations=[
            LocationFigures(location_id=k, name=names[k], figures=tallies[k].figures())
            for k in order
        ],
        total=_sum(tallies.values()),
        days=days,
        meals_by_day=await _meals_by_day(session, ran, tz, since, until, days, names),
    )


async def _meals_by_day(
    session: AsyncSession,
    ran: list[ColumnElement[bool]],
    tz: ZoneInfo,
    since: datetime,
    until: datetime,
    days: list[date],
    names: dict[int, str],
) -> dict[str, list[int]]:
    dialect = session.get_bind().dialect.name
    # Grouped outside a subquery: PostgreSQL would not see a CASE holding bound times in the
    # SELECT list and the same CASE in GROUP BY as one expression.
    each = (
        select(
            LunchSession.location_id.label("location_id"),
            _local_day(dialect, LunchSession.starts_at, tz, since, until).label("day"),
            func.coalesce(LunchSession.meals_served, 0).label("meals"),
        )
        .where(*ran)
        .subquery()
    )
    grouped = select(each.c.location_id, each.c.day, func.sum(each.c.meals)).group_by(
        each.c.location_id, each.c.day
    )
    series = {location_id: [0] * len(days) for location_id in names}
    for location_id, day, meals in await _rows(session, grouped):
        index = (date.fromisoformat(str(day)) - days[0]).days
        if location_id in series and 0 <= index < len(days):
            series[location_id][index] = int(meals)
    ordered = sorted(names, key=lambda location_id: (names[location_id].lower(), location_id))
    return {names[location_id]: series[location_id] for location_id in ordered}


def _sum(tallies: Any) -> Figures:
    total = _Tally()
    for tally in tallies:
        total.sessions += tally.sessions
        total.unrecorded += tally.unrecorded
        total.meals += tally.meals
        total.children += tally.children
        total.families += tally.families
        total.shifts += tally.shifts
        total.seconds += tally.seconds
        for status, count in tally.referrals.items():
            total.referrals[status] = total.referrals.get(status, 0) + count
    return total.figures()


async def _rows(session: AsyncSession, query: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in (await session.execute(query)).all()]


async def _require_location_exists(session: AsyncSession, location_id: int) -> None:
    if await session.get(Location, location_id) is None:
        raise NotFound("no such location")


def _require_period(start: date, end: date) -> None:
    problem = period_problem(start, end)
    if problem is not None:
        raise ValueError(f"not a period to report on: {problem.value}")


def _bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where the first day begins and the day after the last begins."""
    since = datetime.combine(start, time(0), tzinfo=tz).astimezone(UTC)
    until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return since, until


def _length(dialect: str) -> ColumnElement[Any]:
    """A session's length in seconds."""
    if dialect == "postgresql":
        return extract("epoch", LunchSession.ends_at - LunchSession.starts_at)
    return func.round(
        (func.julianday(LunchSession.ends_at) - func.julianday(LunchSession.starts_at)) * 86_400
    )


def _local_day(
    dialect: str, moment: Any, tz: ZoneInfo, since: datetime, until: datetime
) -> ColumnElement[Any]:
    """The programme's date ('YYYY-MM-DD') of a UTC time between `since` and `until`: the UTC
    time shifted by the zone's offset, which changes only at the clock changes in between."""
    spans = _offsets(tz, since, until)

    def shifted(seconds: int) -> ColumnElement[Any]:
        if dialect == "postgresql":
            utc = func.timezone(literal_column("'UTC'"), moment)
            return func.to_char(
                utc + literal_column(f"INTERVAL '{int(seconds)} seconds'"), "YYYY-MM-DD"
            )
        return func.date(moment, f"{int(seconds):+d} seconds")

    if len(spans) == 1:
        return shifted(spans[0][1])
    return case(
        *((moment < spans[n + 1][0], shifted(offset)) for n, (_, offset) in enumerate(spans[:-1])),
        else_=shifted(spans[-1][1]),
    )


def _offsets(tz: ZoneInfo, since: datetime, until: datetime) -> list[tuple[datetime, int]]:
    """(from when, UTC offset in seconds) for each stretch of constant offset in the period.
    Clock changes are a day or more apart and fall on whole seconds."""

    def offset(seconds: int) -> int:
        moment = datetime.fromtimestamp(seconds, UTC).astimezone(tz)
        shift = moment.utcoffset()
        return int(shift.total_seconds()) if shift is not None else 0

    first, last = int(since.timestamp()), int(until.timestamp())
    spans = [(since, offset(first))]
    day = 86_400
    here = first
    while here < last:
        after = min(here + day, last)
        if offset(after) != spans[-1][1]:
            low, high = here, after  # the old offset at `low`, the new one at `high`
            while high - low > 1:
                middle = (low + high) // 2
                if offset(middle) == spans[-1][1]:
                    low = middle
                else:
                    high = middle
            spans.append((datetime.fromtimestamp(high, UTC), offset(high)))
        here = after
    return spans
