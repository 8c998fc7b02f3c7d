"""A holiday planned at many locations at once: the same days, times and jobs everywhere, with
what each location makes of it (the review), then all of it in one transaction.

A location's exceptions are the storage rules, worked out for the review and again, inside the
transaction, for the creation (so the answer counts what was made, not what was foreseen):
- a session already there at the same start is left as it is (repeating a plan changes
  nothing), and one cancelled at that start stays cancelled (a location and a start name one
  session);
- a time that overlaps another lunch planned there is skipped: one venue, one lunch at a time;
- an archived location takes no new sessions;
- a lunch that has begun is not planned (it is recorded from /today instead).

Sessions are inserted in bulk (`insert_sessions`, which the CSV import uses too): a summer at 200
locations is thousands of rows, and one flush per session would hold SQLite's write lock for
seconds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.db import Database, upsert
from storage.errors import OutOfScope
from storage.models import Location, LunchSession, Role, SessionJob, SessionStatus
from storage.roles import coordinator_scope, require_role
from storage.rota import JobSpec, SessionPlan, session_times

# One plan's sessions in all: a summer (25 lunch days) at 400 locations, or 100 days at 100.
# Far beyond that, a mistyped range is likelier than a plan; the review says to split it.
MAX_SESSIONS = 10_000
CHUNK = 1_000  # sessions inserted by one statement


@dataclass(frozen=True, kw_only=True)
class Plan:
    """The same sessions at each of several locations, as a coordinator describes them."""

    location_ids: tuple[int, ...]
    first_day: date
    last_day: date
    weekdays: frozenset[int]  # 0 = Monday
    start: time
    end: time
    jobs: tuple[JobSpec, ...]

    def at(self, location_id: int) -> SessionPlan:
        return SessionPlan(
            location_id=location_id,
            first_day=self.first_day,
            last_day=self.last_day,
            weekdays=self.weekdays,
            start=self.start,
            end=self.end,
            jobs=self.jobs,
        )


@dataclass(frozen=True, kw_only=True)
class AtLocation:
    """What the plan makes at one location."""

    location_id: int
    name: str
    new: int = 0
    existing: int = 0  # already there at that start: left as they are
    cancelled: int = 0  # there at that start and cancelled: they stay cancelled
    clashing: int = 0  # overlapping another lunch planned there: skipped
    archived: bool = False  # takes no new sessions: every one skipped

    @property
    def usual(self) -> bool:
        """Nothing to say about it: every session of the plan is new there."""
        return not (self.existing or self.cancelled or self.clashing or self.archived)


@dataclass(frozen=True, kw_only=True)
class Outlook:
    """A plan location by location, by name: foreseen (the review) or done (the creation)."""

    locations: list[AtLocation]
    per_location: int  # the sessions the plan's dates and times make at one location

    @property
    def new(self) -> int:
        return sum(place.new for place in self.locations)

    @property
    def existing(self) -> int:
        return sum(place.existing for place in self.locations)

    @property
    def cancelled(self) -> int:
        return sum(place.cancelled for place in self.locations)

    @property
    def clashing(self) -> int:
        return sum(place.clashing for place in self.locations)

    @property
    def archived(self) -> list[AtLocation]:
        return [place for place in self.locations if place.archived]

    @property
    def making(self) -> list[AtLocation]:
        """The locations where the plan makes at least one session."""
        return [place for place in self.locations if place.new]

    @property
    def exceptions(self) -> list[AtLocation]:
        return [place for place in self.locations if not place.usual]


@dataclass(frozen=True, kw_only=True)
class NewSession:
    location_id: int
    starts_at: datetime
    ends_at: datetime
    jobs: tuple[JobSpec, ...]


def times_of(plan: Plan, tz: ZoneInfo, now: datetime) -> list[tuple[datetime, datetime]]:
    """The UTC start and end of each session the plan makes at one location (the same at
    every location), leaving out those that have begun."""
    return session_times(plan.at(0), tz, after=now)


async def review(
    db: Database, *, actor_telegram_id: int, plan: Plan, tz: ZoneInfo, now: datetime
) -> Outlook:
    """What the plan would make at each location, without making it. Raises OutOfScope if a
    location is not the site lead's."""
    async with db.read() as session:
        await _require_all(session, actor_telegram_id, plan.location_ids)
        outlook, _ = await _outlook(session, plan, times_of(plan, tz, now))
        return outlook


async def create(
    db: Database, *, actor_telegram_id: int, plan: Plan, tz: ZoneInfo, now: datetime
) -> Outlook:
    """Make the plan's sessions, all in one transaction, by the rules above; returns what was
    made and skipped at each location. Raises ValueError for a plan that makes nothing or more
    than MAX_SESSIONS, OutOfScope if a location is not the site lead's."""
    times = times_of(plan, tz, now)
    if not times or len(times) * len(plan.location_ids) > MAX_SESSIONS:
        raise ValueError(f"a plan makes 1 to {MAX_SESSIONS} sessions")
    async with db.transaction() as session:
        actor = await _require_all(session, actor_telegram_id, plan.location_ids)
        foreseen, wanted = await _outlook(session, plan, times)
        made = await insert_sessions(session, wanted, now)
        # A session made a moment ago at the same start (by another tap) exists now.
        outlook = Outlook(
            locations=[
                replace(
                    place,
                    new=made[place.location_id],
                    existing=place.existing + place.new - made[place.location_id],
                )
                for place in foreseen.locations
            ],
            per_location=foreseen.per_location,
        )
        audit.record(
            session,
            at=now,
            actor_id=actor,
            action="sessions.created",
            subject=("location", plan.location_ids[0]) if len(plan.location_ids) == 1 else None,
            locations=len(plan.location_ids),
            created=outlook.new,
            existing=outlook.existing,
            cancelled=outlook.cancelled,
            clashing=outlook.clashing,
            archived=len(outlook.archived),
            first=plan.first_day.isoformat(),
            last=plan.last_day.isoformat(),
        )
        return outlook


async def insert_sessions(
    session: AsyncSession, wanted: Sequence[NewSession], now: datetime
) -> Counter[int]:
    """Insert sessions and their jobs in bulk, in the caller's transaction: one already there
    at that location and start (made meanwhile) is left as it is. Returns how many were made
    at each location."""
    made: Counter[int] = Counter()
    for first in range(0, len(wanted), CHUNK):
        chunk = wanted[first : first + CHUNK]
        rows = [
            {
                "location_id": new.location_id,
                "starts_at": new.starts_at,
                "ends_at": new.ends_at,
                "status": SessionStatus.SCHEDULED,
                "created_at": now,
            }
            for new in chunk
        ]
        # RETURNING names only the rows inserted; a start already taken is passed over.
        statement = upsert(session, LunchSession, None, key=["location_id", "starts_at"])
        inserted = (
            await session.execute(
                statement.returning(
                    LunchSession.id, LunchSession.location_id, LunchSession.starts_at
                ),
                rows,
            )
        ).all()
        ids = {(location_id, starts_at): row_id for row_id, location_id, starts_at in inserted}
        jobs = [
            {
                "session_id": ids[(new.location_id, new.starts_at)],
                "job": spec.job,
                "places": spec.places,
                "taken": 0,
                "needs_check": spec.needs_check,
            }
            for new in chunk
            if (new.location_id, new.starts_at) in ids
            for spec in new.jobs
        ]
        if jobs:
            await session.execute(insert(SessionJob), jobs)
        made.update(location_id for _, location_id, _ in inserted)
    return made


async def _require_all(session: AsyncSession, telegram_id: int, location_ids: Sequence[int]) -> int:
    """The acting coordinator's person id, if every location is one they may plan at."""
    actor = await require_role(session, telegram_id, Role.COORDINATOR)
    scope = await coordinator_scope(session, actor.id)
    if scope is not None and not set(location_ids) <= scope:
        raise OutOfScope
    return actor.id


async def _outlook(
    session: AsyncSession,
    plan: Plan,
    times: list[tuple[datetime, datetime]],
) -> tuple[Outlook, list[NewSession]]:
    """What the plan makes at each location as the database stands, and the sessions to add."""
    places = (
        await session.execute(
            select(Location.id, Location.name, Location.archived_at.is_not(None)).where(
                Location.id.in_(plan.location_ids)
            )
        )
    ).all()
    there: dict[int, dict[datetime, SessionStatus]] = defaultdict(dict)
    lunches: dict[tuple[int, date], list[tuple[datetime, datetime]]] = defaultdict(list)
    if times:
        rows = await session.execute(
            select(
                LunchSession.location_id,
                LunchSession.starts_at,
                LunchSession.ends_at,
                LunchSession.status,
            ).where(
                LunchSession.location_id.in_(plan.location_ids),
                LunchSession.starts_at < times[-1][1],
                LunchSession.ends_at > times[0][0],
            )
        )
        for location_id, starts_at, ends_at, held in rows.tuples():
            there[location_id][starts_at] = held
            if held is not SessionStatus.CANCELLED:
                lunches[(location_id, starts_at.date())].append((starts_at, ends_at))
    outlook: list[AtLocation] = []
    wanted: list[NewSession] = []
    for location_id, name, archived in places:
        if archived:
            outlook.append(AtLocation(location_id=location_id, name=name, archived=True))
            continue
        counts: Counter[str] = Counter()
        for starts, ends in times:
            found = there[location_id].get(starts)
            if found is SessionStatus.CANCELLED:
                counts["cancelled"] += 1
            elif found is not None:
                counts["existing"] += 1
            elif _overlaps(lunches, location_id, starts, ends):
                counts["clashing"] += 1
            else:
                counts["new"] += 1
                wanted.append(
                    NewSession(
                        location_id=location_id, starts_at=starts, ends_at=ends, jobs=plan.jobs
                    )
                )
        outlook.append(
            AtLocation(
                location_id=location_id,
                name=name,
                new=counts["new"],
                existing=counts["existing"],
                cancelled=counts["cancelled"],
                clashing=counts["clashing"],
            )
        )
    outlook.sort(key=lambda place: (place.name.lower(), place.location_id))
    return Outlook(locations=outlook, per_location=len(times)), wanted


def _overlaps(
    lunches: dict[tuple[int, date], list[tuple[datetime, datetime]]],
    location_id: int,
    starts: datetime,
    ends: datetime,
) -> bool:
    """Another lunch at the location overlaps these times (lunches are bucketed by the UTC day
    they start; a lunch lasts less than a day, so the days either side cover it)."""
    day = starts.date()
    return any(
        other_starts < ends and other_ends > starts
        for bucket in (day - timedelta(days=1), day, day + timedelta(days=1))
        for other_starts, other_ends in lunches.get((location_id, bucket), ())
    )
