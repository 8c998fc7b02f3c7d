"""The site day as a coordinator or site lead reads it: a location's sessions on one local day,
and single sessions opened by id from a button. Every read here is checked against the reader's
scope first, because the id came from callback data, which a client can forge."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage import audit, locations, rota
from storage.db import Database
from storage.errors import Clash, NotFound
from storage.locations import LocationInfo
from storage.models import NOT_RUN_REASON_MAX, Location, LunchSession, SessionJob, SessionStatus
from storage.roles import require_location
from storage.rota import MAX_COUNT, JobView, SessionView, SiteSession
from storage.text import one_line

# "Are you sure?" before saving counts far from what a location can do. A child may have
# seconds, and volunteers and parents eat too, so meals run above children; but more than
# MEALS_PER_CHILD_MAX a child plus MEALS_SPARE is a slip of the keyboard ("5000" for "50").
MEALS_PER_CHILD_MAX = 3
MEALS_SPARE = 20
# A location's daily capacity (children a day) is a plan, not a wall: a busy day goes over it.
# Beyond CAPACITY_MARGIN times it (and MEALS_SPARE meals more), the figure is probably a typo.
CAPACITY_MARGIN = 2
# An unplanned lunch (never put on the rota) can be recorded for today and this many days back.
UNPLANNED_DAYS_BACK = 7


@dataclass(frozen=True, kw_only=True)
class SiteDay:
    location: LocationInfo
    day: date
    sessions: list[SiteSession]
    locations_run: int  # open locations the reader runs: more than one means a choice to offer


async def site_day(
    db: Database, *, actor_telegram_id: int, location_id: int, day: date, tz: ZoneInfo
) -> SiteDay:
    """Raises OutOfScope for a site lead's other locations, LookupError for no such place."""
    sessions = await rota.sessions_on(
        db, actor_telegram_id=actor_telegram_id, location_id=location_id, day=day, tz=tz
    )
    location = await locations.get(db, location_id)
    if location is None:
        raise NotFound("no such location")
    run = await locations.managed_by(db, actor_telegram_id=actor_telegram_id)
    return SiteDay(location=location, day=day, sessions=sessions, locations_run=len(run))


async def managed_session(db: Database, *, actor_telegram_id: int, session_id: int) -> SessionView:
    """A session the reader may run; OutOfScope or LookupError otherwise."""
    async with db.read() as session:
        location_id = await session.scalar(
            select(LunchSession.location_id).where(LunchSession.id == session_id)
        )
        if location_id is None:
            raise NotFound("no such session")
        await require_location(session, actor_telegram_id, location_id)
    view = await rota.session_view(db, session_id)
    if view is None:
        raise NotFound("no such session")
    return view


async def managed_job(
    db: Database, *, actor_telegram_id: int, job_id: int
) -> tuple[SessionView, JobView]:
    """A job on a session the reader may run; OutOfScope or LookupError otherwise."""
    async with db.read() as session:
        session_id = await session.scalar(
            select(SessionJob.session_id).where(SessionJob.id == job_id)
        )
    if session_id is None:
        raise NotFound("no such job")
    view = await managed_session(db, actor_telegram_id=actor_telegram_id, session_id=session_id)
    job = view.job(job_id)
    if job is None:
        raise NotFound("no such job")
    return view, job


# --- counts that look wrong ------------------------------------------------------------------


class CountDoubt(enum.StrEnum):
    """Why a site lead is asked "Are you sure?" before counts are saved."""

    MEALS_PER_CHILD = "meals_per_child"  # far more meals than the children could eat
    MEALS_OVER_CAPACITY = "meals_over_capacity"  # far more meals than the location can serve
    CHILDREN_OVER_CAPACITY = "children_over_capacity"  # far more children than it takes


@dataclass(frozen=True, kw_only=True)
class Doubts:
    meals: int
    children: int
    capacity: int  # the location's children a day (0: not set)
    doubts: tuple[CountDoubt, ...]


class Doubtful(Exception):
    """Counts that need a "Save anyway" before they are saved."""

    def __init__(self, doubts: Doubts) -> None:
        super().__init__("counts need confirming")
        self.doubts = doubts


def doubts_about(meals: int, children: int, capacity: int) -> tuple[CountDoubt, ...]:
    """What looks wrong with these counts at a location of `capacity` children a day."""
    found = []
    if meals > children * MEALS_PER_CHILD_MAX + MEALS_SPARE:
        found.append(CountDoubt.MEALS_PER_CHILD)
    if capacity > 0 and meals > capacity * CAPACITY_MARGIN + MEALS_SPARE:
        found.append(CountDoubt.MEALS_OVER_CAPACITY)
    if capacity > 0 and children > capacity * CAPACITY_MARGIN:
        found.append(CountDoubt.CHILDREN_OVER_CAPACITY)
    return tuple(found)


async def record_counts(
    db: Database,
    *,
    actor_telegram_id: int,
    session_id: int,
    meals: int,
    children: int,
    now: datetime,
    sure: bool,
) -> SessionView:
    """Save a session's meals and children; unless `sure`, raises Doubtful for counts far from
    the location's capacity or the children recorded, so that the person confirms them."""
    view = await managed_session(db, actor_telegram_id=actor_telegram_id, session_id=session_id)
    if not sure:
        await _require_plausible(db, view.location_id, meals, children)
    return await rota.record_counts(
        db,
        actor_telegram_id=actor_telegram_id,
        session_id=session_id,
        meals=meals,
        children=children,
        now=now,
    )


async def _require_plausible(db: Database, location_id: int, meals: int, children: int) -> None:
    async with db.read() as session:
        capacity = await session.scalar(
            select(Location.daily_child_capacity).where(Location.id == location_id)
        )
    found = doubts_about(meals, children, int(capacity or 0))
    if found:
        raise Doubtful(
            Doubts(meals=meals, children=children, capacity=int(capacity or 0), doubts=found)
        )


# --- a session that did not run --------------------------------------------------------------


class NotRunReason(enum.StrEnum):
    """The usual reasons, offered as buttons (on a button: short codes)."""

    VENUE = "v"  # the venue was closed or not available
    VOLUNTEERS = "s"  # not enough volunteers to run it safely
    CHILDREN = "c"  # no children came
    WEATHER = "w"  # severe weather


class NotRunRefused(enum.StrEnum):
    NOT_BEGUN = "not_begun"  # still to come: cancel it instead
    CANCELLED = "cancelled"
    COUNTED = "counted"  # meals or children are recorded: it ran


class CannotMarkNotRun(Exception):
    def __init__(self, why: NotRunRefused) -> None:
        super().__init__(why.value)
        self.why = why


async def mark_not_run(
    db: Database,
    *,
    actor_telegram_id: int,
    session_id: int,
    reason: str,
    typed: bool,
    now: datetime,
) -> SessionView:
    """Record that a session which has begun did not run, and why: it then counts in no figure
    and no longer asks for meal counts. Refused for a session with meals or children recorded
    (correct the counts to 0 first). Audited; a typed reason stays out of the audit log, since
    it may name someone. Saying it again replaces the reason."""
    cleaned = one_line(reason)[:NOT_RUN_REASON_MAX].strip()
    if not cleaned:
        raise ValueError("a reason is needed")
    async with db.transaction() as session:
        lunch = await session.get(LunchSession, session_id, with_for_update=True)
        if lunch is None:
            raise NotFound("no such session")
        actor = await require_location(session, actor_telegram_id, lunch.location_id)
        if lunch.status is SessionStatus.CANCELLED:
            raise CannotMarkNotRun(NotRunRefused.CANCELLED)
        if lunch.starts_at > now:
            raise CannotMarkNotRun(NotRunRefused.NOT_BEGUN)
        if (lunch.meals_served or 0) > 0 or (lunch.children_attended or 0) > 0:
            raise CannotMarkNotRun(NotRunRefused.COUNTED)
        if lunch.status is not SessionStatus.NOT_RUN or lunch.not_run_reason != cleaned:
            audit.record(
                session,
                at=now,
                actor_id=actor.id,
                action="session.not_run",
                subject=("session", lunch.id),
                reason="typed" if typed else cleaned,
                was_meals=lunch.meals_served,
                was_children=lunch.children_attended,
            )
            lunch.status, lunch.not_run_reason = SessionStatus.NOT_RUN, cleaned
            lunch.meals_served = lunch.children_attended = None
            await session.flush()
    view = await rota.session_view(db, session_id)
    if view is None:
        raise NotFound("no such session")
    return view


# --- a lunch that was never planned ----------------------------------------------------------


class UnplannedRefused(enum.StrEnum):
    TOO_OLD = "too_old"  # more than UNPLANNED_DAYS_BACK days ago
    NOT_YET = "not_yet"  # starts after now: plan it with /newsessions instead
    ARCHIVED = "archived"
    BACKWARDS = "backwards"  # ends before it starts (or in a clock change's missing hour)


class CannotRecordUnplanned(Exception):
    def __init__(self, why: UnplannedRefused) -> None:
        super().__init__(why.value)
        self.why = why


def unplanned_problem(
    day: date, start: time, end: time, *, tz: ZoneInfo, now: datetime
) -> UnplannedRefused | None:
    """What stops a lunch on `day` from `start` to `end` being recorded now, if anything."""
    today = now.astimezone(tz).date()
    if day < today - timedelta(days=UNPLANNED_DAYS_BACK) or day > today:
        return UnplannedRefused.TOO_OLD if day < today else UnplannedRefused.NOT_YET
    starts = datetime.combine(day, start, tzinfo=tz).astimezone(UTC)
    ends = datetime.combine(day, end, tzinfo=tz).astimezone(UTC)
    if ends <= starts:
        return UnplannedRefused.BACKWARDS
    if starts > now:
        return UnplannedRefused.NOT_YET
    return None


async def record_unplanned(
    db: Database,
    *,
    actor_telegram_id: int,
    location_id: int,
    day: date,
    start: time,
    end: time,
    meals: int,
    children: int,
    tz: ZoneInfo,
    now: datetime,
    sure: bool,
) -> SessionView:
    """A lunch that happened at a location but was never put on the rota (today, or up to
    UNPLANNED_DAYS_BACK days ago), with its counts: a session run like any other, with no
    jobs. Raises CannotRecordUnplanned, Clash (another session overlaps it), Doubtful (unless
    `sure`), OutOfScope or NotFound. Audited."""
    if not (0 <= meals <= MAX_COUNT and 0 <= children <= MAX_COUNT):
        raise ValueError("counts out of range")
    problem = unplanned_problem(day, start, end, tz=tz, now=now)
    if problem is not None:
        raise CannotRecordUnplanned(problem)
    starts = datetime.combine(day, start, tzinfo=tz).astimezone(UTC)
    ends = datetime.combine(day, end, tzinfo=tz).astimezone(UTC)
    if not sure:
        await _require_plausible(db, location_id, meals, children)
    async with db.transaction() as session:
        actor = await require_location(session, actor_telegram_id, location_id)
        location = await session.get(Location, location_id)
        if location is None:
            raise NotFound("no such location")
        if location.archived_at is not None:
            raise CannotRecordUnplanned(UnplannedRefused.ARCHIVED)
        overlapping = await session.scalar(
            select(LunchSession.id).where(
                LunchSession.location_id == location_id,
                LunchSession.status != SessionStatus.CANCELLED,
                LunchSession.starts_at < ends,
                LunchSession.ends_at > starts,
            )
        )
        taken = await session.scalar(
            select(LunchSession.id).where(
                LunchSession.location_id == location_id, LunchSession.starts_at == starts
            )
        )
        if overlapping is not None or taken is not None:
            raise Clash([])
        lunch = LunchSession(
            location_id=location_id,
            starts_at=starts,
            ends_at=ends,
            status=SessionStatus.SCHEDULED,
            meals_served=meals,
            children_attended=children,
            created_at=now,
        )
        session.add(lunch)
        try:
            await session.flush()
        except IntegrityError:  # the same lunch saved by a double tap a moment ago
            raise Clash([]) from None
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="session.unplanned",
            subject=("session", lunch.id),
            location_id=location_id,
            day=day.isoformat(),
            meals=meals,
            children=children,
            sure=sure,
        )
        session_id = lunch.id
    view = await rota.session_view(db, session_id)
    if view is None:
        raise NotFound("no such session")
    return view
