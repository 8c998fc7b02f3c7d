"""The programme's day at a glance: every location's lunches on one local day, counted as the
site day counts them, for /today's first screen, its spreadsheet, and the coordinators' morning
list. However many locations there are, it is the same five statements (the locations run, the
lunches, their jobs, their bookings counted, the placed families; six with the volunteers'
names), after the reader's role and scope.

What each lunch (a session that day) counts:
- places: what its jobs need;
- booked: the volunteers on its rota (booked, or already marked as came or no-show), as the
  site day lists them; confirmed: those of them who answered a reminder with "I'm coming";
- to fill: places nobody holds. A place offered to the first on the waitlist is held until they
  answer: it is neither booked nor to fill, and counts as offered;
- counts: whether its meals and children are recorded, once it has begun.
A cancelled lunch, or one marked as did not run, needs nobody: it counts in none of these, and
is counted on its own.

A coordinator of the whole programme sees every open location; a site lead their own.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, spreadsheet
from storage.choosing import Page, clamp
from storage.db import Database
from storage.models import (
    Booking,
    Location,
    LunchSession,
    Person,
    PlacementDay,
    Referral,
    ReferralStatus,
    Role,
    SessionJob,
    SessionStatus,
)
from storage.referrals import DayFamilies
from storage.roles import coordinator_scope, require_role
from storage.rota import ON_THE_DAY
from storage.text import folded

NO_FAMILIES = DayFamilies(families=0, children=0, with_needs=0)
DAY_HEADER = (
    "Date",
    "Location",
    "Start",
    "End",
    "Lunch",
    "Places",
    "Booked",
    "Confirmed",
    "Offered",
    "To fill",
    "Jobs to fill",
    "Not confirmed yet",
    "Families placed",
    "Children placed",
    "Families with allergies or dietary needs",
    "Meals served",
    "Children fed",
)
STATE_WORDS = {"on": "on", "cancelled": "cancelled", "not_run": "did not run"}


class LunchState(enum.StrEnum):
    ON = "on"
    CANCELLED = "cancelled"
    NOT_RUN = "not_run"


_STATES = {
    SessionStatus.SCHEDULED: LunchState.ON,
    SessionStatus.CANCELLED: LunchState.CANCELLED,
    SessionStatus.NOT_RUN: LunchState.NOT_RUN,
}


@dataclass(frozen=True, kw_only=True)
class JobGap:
    job: str
    free: int


@dataclass(frozen=True, kw_only=True)
class Volunteer:
    """Someone on a lunch's rota, for the morning list and the day's file."""

    name: str
    job: str
    confirmed: bool


@dataclass(frozen=True, kw_only=True)
class Lunch:
    session_id: int
    location_id: int
    location_name: str
    starts_at: datetime
    ends_at: datetime
    state: LunchState
    places: int
    taken: int  # places held: booked, offered from the waitlist, came, no-show
    booked: int
    confirmed: int
    gaps: tuple[JobGap, ...]  # the jobs with places free, in the session's order
    meals_served: int | None
    children_attended: int | None
    volunteers: tuple[Volunteer, ...] = ()  # only when the names were asked for

    @property
    def on(self) -> bool:
        return self.state is LunchState.ON

    @property
    def free(self) -> int:
        return sum(gap.free for gap in self.gaps) if self.on else 0

    @property
    def offered(self) -> int:
        return max(0, self.taken - self.booked) if self.on else 0

    @property
    def counted(self) -> bool:
        return self.meals_served is not None and self.children_attended is not None

    def to_record(self, now: datetime) -> bool:
        """Begun, and its meals and children still to write down."""
        return self.on and self.starts_at <= now and not self.counted


@dataclass(frozen=True, kw_only=True)
class Tally:
    """What a set of lunches adds up to (a location's, or the whole day's)."""

    lunches: int = 0  # on: neither cancelled nor marked as did not run
    places: int = 0
    booked: int = 0
    confirmed: int = 0
    offered: int = 0
    free: int = 0
    short: int = 0  # lunches with a place to fill
    empty: int = 0  # lunches that need people and have nobody booked
    begun: int = 0
    recorded: int = 0  # of those begun, with their counts
    cancelled: int = 0
    not_run: int = 0

    @property
    def unconfirmed(self) -> int:
        return self.booked - self.confirmed

    @property
    def to_record(self) -> int:
        return self.begun - self.recorded


def tally(lunches: Sequence[Lunch], now: datetime) -> Tally:
    on = [lunch for lunch in lunches if lunch.on]
    begun = [lunch for lunch in on if lunch.starts_at <= now]
    return Tally(
        lunches=len(on),
        places=sum(lunch.places for lunch in on),
        booked=sum(lunch.booked for lunch in on),
        confirmed=sum(lunch.confirmed for lunch in on),
        offered=sum(lunch.offered for lunch in on),
        free=sum(lunch.free for lunch in on),
        short=sum(1 for lunch in on if lunch.free > 0),
        empty=sum(1 for lunch in on if lunch.places > 0 and lunch.taken == 0),
        begun=len(begun),
        recorded=sum(1 for lunch in begun if lunch.counted),
        cancelled=sum(1 for lunch in lunches if lunch.state is LunchState.CANCELLED),
        not_run=sum(1 for lunch in lunches if lunch.state is LunchState.NOT_RUN),
    )


@dataclass(frozen=True, kw_only=True)
class LocationDay:
    location_id: int
    name: str
    lunches: tuple[Lunch, ...]  # by start
    tally: Tally
    families: DayFamilies = NO_FAMILIES


@dataclass(frozen=True, kw_only=True)
class ProgrammeDay:
    day: date
    locations: tuple[LocationDay, ...]  # the locations with a lunch that day, worst gaps first
    tally: Tally
    families: DayFamilies
    runs: int  # open locations the reader runs, lunch or not: more than one is a choice

    @property
    def at_locations(self) -> int:
        return len(self.locations)


def worst_first(place: LocationDay) -> tuple[Any, ...]:
    """Most places to fill first; then lunches with nobody at all; then the most volunteers yet
    to confirm, counts to record; then by name."""
    t = place.tally
    return (-t.free, -t.empty, -t.unconfirmed, -t.to_record, folded(place.name), place.location_id)


async def programme_day(
    db: Database,
    *,
    actor_telegram_id: int,
    day: date,
    tz: ZoneInfo,
    now: datetime,
    names: bool = False,
) -> ProgrammeDay:
    """Every lunch on `day` at the locations the coordinator runs, by location, worst gaps
    first; with `names`, who is on each lunch's rota too."""
    async with db.read() as session:
        actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
        scope = await coordinator_scope(session, actor.id)
        runs = select(func.count()).select_from(Location).where(Location.archived_at.is_(None))
        if scope is not None:
            runs = runs.where(Location.id.in_(scope))
        run = int(await session.scalar(runs) or 0)
        lunches = await lunches_of(session, _on_the_day(day, tz, scope), names=names)
        families = await _families(session, day, {lunch.location_id for lunch in lunches})
    by_place: defaultdict[int, list[Lunch]] = defaultdict(list)
    for lunch in lunches:
        by_place[lunch.location_id].append(lunch)
    places = [
        LocationDay(
            location_id=location_id,
            name=theirs[0].location_name,
            lunches=tuple(theirs),
            tally=tally(theirs, now),
            families=families.get(location_id, NO_FAMILIES),
        )
        for location_id, theirs in by_place.items()
    ]
    places.sort(key=worst_first)
    return ProgrammeDay(
        day=day,
        locations=tuple(places),
        tally=tally(lunches, now),
        families=_sum_families(families.values()),
        runs=run,
    )


def _sum_families(each: Iterable[DayFamilies]) -> DayFamilies:
    found = list(each)
    return DayFamilies(
        families=sum(f.families for f in found),
        children=sum(f.children for f in found),
        with_needs=sum(f.with_needs for f in found),
    )


def narrowed(found: ProgrammeDay, keep: Callable[[Lunch], bool], now: datetime) -> ProgrammeDay:
    """The same day with only the lunches `keep` keeps, counted again (the morning list: the
    lunches still to come); a location left with none goes."""
    places = []
    for place in found.locations:
        kept = tuple(lunch for lunch in place.lunches if keep(lunch))
        if kept:
            places.append(
                LocationDay(
                    location_id=place.location_id,
                    name=place.name,
                    lunches=kept,
                    tally=tally(kept, now),
                    families=place.families,
                )
            )
    places.sort(key=worst_first)
    return ProgrammeDay(
        day=found.day,
        locations=tuple(places),
        tally=tally([lunch for place in places for lunch in place.lunches], now),
        families=_sum_families(place.families for place in places),
        runs=found.runs,
    )


def page(found: ProgrammeDay, *, search: str, offset: int, limit: int) -> Page[LocationDay]:
    """The locations whose name holds the search (as every list matches it), a page of them."""
    needle = folded(search)
    matching = [place for place in found.locations if needle in folded(place.name)]
    offset = clamp(offset, len(matching), limit)
    return Page(shown=matching[offset : offset + limit], matching=len(matching), offset=offset)


def day_span(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants a local day runs between."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def _on_the_day(day: date, tz: ZoneInfo, scope: frozenset[int] | None) -> Select[Any]:
    start, end = day_span(day, tz)
    query = (
        select(LunchSession.id)
        .join(Location, Location.id == LunchSession.location_id)
        .where(
            LunchSession.starts_at >= start,
            LunchSession.starts_at < end,
            Location.archived_at.is_(None),
        )
    )
    return query if scope is None else query.where(LunchSession.location_id.in_(scope))


async def lunches_of(session: AsyncSession, ids: Select[Any], *, names: bool) -> list[Lunch]:
    """The lunches whose ids `ids` selects, by start and location, counted: four statements
    however many (five with the names of who is on each rota)."""
    wanted = ids.scalar_subquery()
    # Columns, not ORM rows: a week at 200 locations is a thousand lunches.
    rows = (
        await session.execute(
            select(
                LunchSession.id,
                LunchSession.location_id,
                Location.name,
                LunchSession.starts_at,
                LunchSession.ends_at,
                LunchSession.status,
                LunchSession.meals_served,
                LunchSession.children_attended,
            )
            .join(Location, Location.id == LunchSession.location_id)
            .where(LunchSession.id.in_(wanted))
            .order_by(LunchSession.starts_at, Location.name_key, LunchSession.id)
        )
    ).tuples()
    jobs: defaultdict[int, list[tuple[str, int, int]]] = defaultdict(list)
    for session_id, job, places, taken in (
        await session.execute(
            select(SessionJob.session_id, SessionJob.job, SessionJob.places, SessionJob.taken)
            .where(SessionJob.session_id.in_(wanted))
            .order_by(SessionJob.id)
        )
    ).tuples():
        jobs[session_id].append((job, places, taken))
    booked = {
        session_id: (int(count), int(confirmed))
        for session_id, count, confirmed in (
            await session.execute(
                select(Booking.session_id, func.count(), func.count(Booking.confirmed_at))
                .where(Booking.session_id.in_(wanted), Booking.status.in_(ON_THE_DAY))
                .group_by(Booking.session_id)
            )
        ).tuples()
    }
    rotas = await _volunteers(session, wanted) if names else {}
    lunches = []
    for session_id, location_id, location_name, starts_at, ends_at, status, meals, children in rows:
        theirs = jobs.get(session_id, [])
        count, confirmed = booked.get(session_id, (0, 0))
        lunches.append(
            Lunch(
                session_id=session_id,
                location_id=location_id,
                location_name=location_name,
                starts_at=starts_at,
                ends_at=ends_at,
                state=_STATES[status],
                places=sum(places for _, places, _ in theirs),
                taken=sum(taken for _, _, taken in theirs),
                booked=count,
                confirmed=confirmed,
                gaps=tuple(
                    JobGap(job=job, free=places - taken)
                    for job, places, taken in theirs
                    if places > taken
                ),
                meals_served=meals,
                children_attended=children,
                volunteers=tuple(rotas.get(session_id, ())),
            )
        )
    return lunches


async def _volunteers(session: AsyncSession, wanted: Any) -> dict[int, list[Volunteer]]:
    """Who is on each lunch's rota, job by job and then by name, as the site day lists them."""
    rows = (
        await session.execute(
            select(Booking.session_id, Person.display_name, SessionJob.job, Booking.confirmed_at)
            .join(Person, Person.id == Booking.person_id)
            .join(SessionJob, SessionJob.id == Booking.job_id)
            .where(Booking.session_id.in_(wanted), Booking.status.in_(ON_THE_DAY))
        )
    ).tuples()
    found: defaultdict[int, list[Volunteer]] = defaultdict(list)
    for session_id, name, job, confirmed_at in rows:
        found[session_id].append(Volunteer(name=name, job=job, confirmed=confirmed_at is not None))
    for theirs in found.values():
        theirs.sort(key=lambda v: (v.job, v.name.lower()))
    return found


async def _families(
    session: AsyncSession, day: date, location_ids: set[int]
) -> dict[int, DayFamilies]:
    """The families placed at each location's lunch that day (a lunch not cancelled), each
    once: how many, their children, and how many have needs or allergies (never which)."""
    if not location_ids:
        return {}
    rows = (
        await session.execute(
            select(
                Referral.id,
                Referral.location_id,
                Referral.children,
                Referral.needs_sealed.is_not(None),
            )
            .join(PlacementDay, PlacementDay.referral_id == Referral.id)
            .join(LunchSession, LunchSession.id == PlacementDay.session_id)
            .where(
                PlacementDay.day == day,
                Referral.status == ReferralStatus.PLACED,
                Referral.location_id == LunchSession.location_id,
                LunchSession.status != SessionStatus.CANCELLED,
                LunchSession.location_id.in_(location_ids),
            )
            .distinct()
        )
    ).tuples()
    families: defaultdict[int, list[tuple[int, bool]]] = defaultdict(list)
    for _referral_id, location_id, children, needs in rows:
        if location_id is not None:
            families[location_id].append((children, bool(needs)))
    return {
        location_id: DayFamilies(
            families=len(placed),
            children=sum(children for children, _ in placed),
            with_needs=sum(needs for _, needs in placed),
        )
        for location_id, placed in families.items()
    }


# --- the day as a spreadsheet -----------------------------------------------------------------


def day_file(found: ProgrammeDay, tz: ZoneInfo) -> spreadsheet.CsvFile:
    """One row a lunch, the locations worst gaps first as on screen (a spreadsheet sorts it
    otherwise in a click). Names come only if `programme_day` was asked for them."""
    rows: list[list[spreadsheet.Cell]] = []
    for place in found.locations:
        for lunch in place.lunches:
            starts, ends = lunch.starts_at.astimezone(tz), lunch.ends_at.astimezone(tz)
            waiting = [v for v in lunch.volunteers if not v.confirmed]
            rows.append(
                [
                    starts.date(),
                    lunch.location_name,
                    f"{starts:%H:%M}",
                    f"{ends:%H:%M}",
                    STATE_WORDS[lunch.state.value],
                    lunch.places if lunch.on else None,
                    lunch.booked if lunch.on else None,
                    lunch.confirmed if lunch.on else None,
                    lunch.offered if lunch.on else None,
                    lunch.free if lunch.on else None,
                    "; ".join(f"{gap.job} x{gap.free}" for gap in lunch.gaps) if lunch.on else "",
                    "; ".join(f"{v.name} ({v.job})" for v in waiting) if lunch.on else "",
                    place.families.families,
                    place.families.children,
                    place.families.with_needs,
                    lunch.meals_served,
                    lunch.children_attended,
                ]
            )
    return spreadsheet.file(DAY_HEADER, rows)


async def export_day(
    db: Database, *, actor_telegram_id: int, day: date, tz: ZoneInfo, now: datetime
) -> tuple[ProgrammeDay, spreadsheet.CsvFile]:
    """The day's file for a coordinator who asked for it, with who is on each rota: audited,
    like every export (the day and how many rows, never a name), unless it is empty."""
    found = await programme_day(
        db, actor_telegram_id=actor_telegram_id, day=day, tz=tz, now=now, names=True
    )
    made = day_file(found, tz)
    if made.rows == 0:  # nothing to send: nothing was exported
        return found, made
    async with db.transaction() as session:
        actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="programme_day.exported",
            day=day.isoformat(),
            locations=found.at_locations,
            rows=made.rows,
        )
    return found, made
