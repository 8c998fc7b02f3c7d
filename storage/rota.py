"""The rota: lunch sessions, the jobs at each (cook x2, server x3...), and volunteers' bookings.

Capacity lives in the database: a place is taken only by `UPDATE session_jobs SET taken =
taken + 1 WHERE taken < places`, checked by its row count, so fifty volunteers tapping the last
place at once book exactly one. A freed place is offered to the first on the waitlist and held
for them until they answer or the offer expires; only acceptance books it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    distinct,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage import audit, outbox, referrals
from storage.db import Database, rowcount
from storage.errors import (
    AlreadyDone,
    Clash,
    Closed,
    NotFound,
    NotRegistered,
    NotYours,
    PermissionDenied,
)
from storage.locations import home_ids_of, people_of
from storage.models import (
    LIVE_BOOKING,
    Booking,
    BookingStatus,
    CheckStatus,
    HomeLocation,
    Location,
    LunchSession,
    Person,
    Role,
    RoleGrant,
    SessionJob,
    SessionStatus,
)
from storage.roles import (
    coordinator_scope,
    coordinators_for,
    registered,
    require_location,
    require_role,
)
from storage.schedule import OfferWindow

MAX_SESSIONS_PER_PLAN = 400
MAX_PLACES_PER_JOB = 50
MAX_COUNT = 10_000  # meals or children at one session: anything above is a typo
# Volunteers arrive before lunch to cook and set up: their attendance can be marked from this
# long before the session starts.
ATTENDANCE_OPENS_BEFORE = timedelta(hours=2)
HOLDING = (BookingStatus.BOOKED, BookingStatus.OFFERED)
# A volunteer's place that a session's card shows (and /mysessions lists).
ON_THE_CARD = (BookingStatus.BOOKED, BookingStatus.WAITLISTED, BookingStatus.OFFERED)
ON_THE_DAY = (BookingStatus.BOOKED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW)


# --- what callers get back -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    job: str
    places: int
    needs_check: bool = False


@dataclass(frozen=True, kw_only=True)
class SessionPlan:
    """A holiday period's sessions at one location, as a coordinator describes them."""

    location_id: int
    first_day: date
    last_day: date
    weekdays: frozenset[int]  # 0 = Monday
    start: time
    end: time
    jobs: tuple[JobSpec, ...]


@dataclass(frozen=True, kw_only=True)
class JobView:
    job_id: int
    job: str
    places: int
    taken: int
    needs_check: bool
    waiting: int

    @property
    def free(self) -> int:
        return self.places - self.taken


@dataclass(frozen=True, kw_only=True)
class SessionView:
    session_id: int
    location_id: int
    location_name: str
    starts_at: datetime
    ends_at: datetime
    cancelled: bool
    jobs: tuple[JobView, ...]
    meals_served: int | None
    children_attended: int | None
    # Set when the session began but did not run (status NOT_RUN): why, as the site lead said.
    not_run_reason: str | None = None

    def job(self, job_id: int) -> JobView | None:
        return next((j for j in self.jobs if j.job_id == job_id), None)


@dataclass(frozen=True, kw_only=True)
class BookingView:
    booking_id: int
    status: BookingStatus
    job_id: int
    job: str
    session: SessionView
    position: int | None  # on the waitlist
    offer_expires_at: datetime | None
    confirmed_at: datetime | None = None
    volunteer: str = ""  # their display name, for coordinators' alerts


@dataclass(frozen=True, kw_only=True)
class SessionsPage:
    sessions: list[SessionView]
    total: int
    offset: int
    home_only: bool
    # The volunteer's own place in the page's sessions (booked, offered or waitlisted), by
    # session id: the list marks them.
    mine: dict[int, BookingStatus] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Created:
    created: int
    existing: int


@dataclass(frozen=True, kw_only=True)
class Told:
    """Who hears of a session cancelled or moved: volunteers signed up for it, and the
    schools of the families placed at it (told without the families' needs). People on the
    rota without Telegram are not told (`offline`: the coordinator phones them)."""

    volunteers: int = 0
    families: int = 0
    children: int = 0
    offline: int = 0
    schools: int = 0  # the families' schools (counted by a bulk cancel, which tells each once)

    def __add__(self, other: Told) -> Told:
        return Told(
            volunteers=self.volunteers + other.volunteers,
            families=self.families + other.families,
            children=self.children + other.children,
            offline=self.offline + other.offline,
            schools=self.schools + other.schools,
        )


class BookResult(enum.StrEnum):
    BOOKED = "booked"
    WAITLISTED = "waitlisted"
    ALREADY = "already"
    FULL = "full"
    CLOSED = "closed"  # cancelled, started, or gone
    OVERLAP = "overlap"
    NEEDS_CHECK = "needs_check"


# The results that come with the volunteer's booking: the new one, or the one they had.
_WITH_A_BOOKING = (BookResult.BOOKED, BookResult.WAITLISTED, BookResult.ALREADY)


@dataclass(frozen=True, kw_only=True)
class BookOutcome:
    result: BookResult
    booking: BookingView | None = None
    session: SessionView | None = None  # as it stands after the tap
    # The volunteer's place on the session after the tap, as its card shows it (booked,
    # waitlisted or offered); None when they hold none there.
    mine: BookingView | None = None


@dataclass(frozen=True, kw_only=True)
class SessionCard:
    """One session as a volunteer sees it, with their own place on it, if any."""

    session: SessionView
    mine: BookingView | None


class CancelResult(enum.StrEnum):
    CANCELLED = "cancelled"
    LEFT_WAITLIST = "left_waitlist"
    NOT_ACTIVE = "not_active"
    STARTED = "started"


class OfferResult(enum.StrEnum):
    BOOKED = "booked"
    DECLINED = "declined"
    EXPIRED = "expired"
    OVERLAP = "overlap"
    NOT_OFFERED = "not_offered"


@dataclass(frozen=True, kw_only=True)
class Helper:
    """A volunteer as the site lead sees them on the day."""

    booking_id: int
    name: str
    job: str
    status: BookingStatus
    confirmed: bool = False  # answered a reminder with "I'm coming"
    offline: bool = False  # without Telegram: put on by a coordinator, told nothing by the bot


@dataclass(frozen=True, kw_only=True)
class SiteSession:
    session: SessionView
    helpers: list[Helper]


# --- planning --------------------------------------------------------------------------------


def session_times(
    plan: SessionPlan, tz: ZoneInfo, *, after: datetime | None = None
) -> list[tuple[datetime, datetime]]:
    """The UTC start and end of every session in the plan, in the programme's time zone (so
    11:30 stays 11:30 on both sides of a clock change)."""
    times = []
    day = plan.first_day
    while day <= plan.last_day:
        if day.weekday() in plan.weekdays:
            starts = datetime.combine(day, plan.start, tzinfo=tz).astimezone(UTC)
            ends = datetime.combine(day, plan.end, tzinfo=tz).astimezone(UTC)
            # A session that has begun by now, or whose times fall in a clock change's missing
            # hour (and so would end before it starts), is left out.
            if (after is None or starts > after) and ends > starts:
                times.append((starts, ends))
        day += timedelta(days=1)
    return times


async def create_sessions(
    db: Database, *, actor_telegram_id: int, plan: SessionPlan, tz: ZoneInfo, now: datetime
) -> Created:
    """Create the plan's sessions; those that already exist (same location and start) stay as
    they are, so repeating a plan or an import changes nothing."""
    times = session_times(plan, tz, after=now)
    if not times or len(times) > MAX_SESSIONS_PER_PLAN:
        raise ValueError(f"a plan makes 1 to {MAX_SESSIONS_PER_PLAN} sessions")
    try:
        return await _create_sessions(db, actor_telegram_id, plan, times, now)
    except IntegrityError:
        # The same plan created at the same moment by another tap: now they exist, and running
        # again counts them as existing.
        return await _create_sessions(db, actor_telegram_id, plan, times, now)


async def _create_sessions(
    db: Database,
    actor_telegram_id: int,
    plan: SessionPlan,
    times: list[tuple[datetime, datetime]],
    now: datetime,
) -> Created:
    async with db.transaction() as session:
        actor = await require_location(session, actor_telegram_id, plan.location_id)
        created = await add_sessions(session, plan.location_id, times, plan.jobs, now)
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="sessions.created",
            subject=("location", plan.location_id),
            created=created,
            first=plan.first_day.isoformat(),
            last=plan.last_day.isoformat(),
        )
        return Created(created=created, existing=len(times) - created)


async def add_sessions(
    session: AsyncSession,
    location_id: int,
    times: Iterable[tuple[datetime, datetime]],
    jobs: Sequence[JobSpec],
    now: datetime,
) -> int:
    """Insert the sessions that do not exist yet, inside the caller's transaction."""
    wanted = list(times)
    existing = set(
        (
            await session.scalars(
                select(LunchSession.starts_at).where(
                    LunchSession.location_id == location_id,
                    LunchSession.starts_at.in_([starts for starts, _ in wanted]),
                )
            )
        ).all()
    )
    created = 0
    for starts, ends in wanted:
        if starts in existing:
            continue
        lunch = LunchSession(
            location_id=location_id,
            starts_at=starts,
            ends_at=ends,
            status=SessionStatus.SCHEDULED,
            created_at=now,
        )
        session.add(lunch)
        await session.flush()
        session.add_all(
            SessionJob(
                session_id=lunch.id,
                job=spec.job,
                places=spec.places,
                taken=0,
                needs_check=spec.needs_check,
            )
            for spec in jobs
        )
        created += 1
    await session.flush()
    return created


# --- browsing --------------------------------------------------------------------------------


async def upcoming(
    db: Database, *, telegram_id: int, now: datetime, offset: int, limit: int
) -> SessionsPage:
    """Sessions still to come at the volunteer's home locations (all open ones if none set)."""
    async with db.read() as session:
        person = await registered(session, telegram_id)
        homes = await home_ids_of(session, person.id)
        where = [
            LunchSession.starts_at > now,
            LunchSession.status == SessionStatus.SCHEDULED,
            Location.archived_at.is_(None),
        ]
        if homes:
            where.append(LunchSession.location_id.in_(homes))
        base = select(LunchSession).join(Location).where(*where)
        total = await session.scalar(select(func.count()).select_from(base.subquery())) or 0
        rows = (
            await session.scalars(
                base.order_by(LunchSession.starts_at, Location.name).offset(offset).limit(limit)
            )
        ).all()
        mine = (
            await session.execute(
                select(Booking.session_id, Booking.status).where(
                    Booking.person_id == person.id,
                    Booking.session_id.in_([row.id for row in rows]),
                    Booking.status.in_(
                        [BookingStatus.BOOKED, BookingStatus.WAITLISTED, BookingStatus.OFFERED]
                    ),
                )
            )
        ).all()
        return SessionsPage(
            sessions=await _views(session, rows),
            total=total,
            offset=offset,
            home_only=bool(homes),
            mine={row.session_id: row.status for row in mine},
        )


async def session_view(db: Database, session_id: int) -> SessionView | None:
    async with db.read() as session:
        lunch = await session.get(LunchSession, session_id)
        return (await _views(session, [lunch]))[0] if lunch else None


async def session_card(
    db: Database, *, telegram_id: int, session_id: int, now: datetime
) -> SessionCard | None:
    """The session and the volunteer's place on it: a few statements, however many places
    they hold elsewhere."""
    async with db.read() as session:
        found = (
            (
                await session.execute(
                    select(LunchSession, Location.name)
                    .outerjoin(Location, Location.id == LunchSession.location_id)
                    .where(LunchSession.id == session_id)
                )
            )
            .tuples()
            .one_or_none()
        )
        if found is None:
            return None
        lunch, location_name = found
        view = await _view(session, lunch, location_name)
        if lunch.status is not SessionStatus.SCHEDULED or lunch.ends_at <= now:
            return SessionCard(session=view, mine=None)
        place = (
            (
                await session.execute(
                    select(Booking, Person.display_name)
                    .join(Person, Booking.person_id == Person.id)
                    .where(
                        Person.telegram_id == telegram_id,
                        Booking.session_id == session_id,
                        Booking.status.in_(ON_THE_CARD),
                    )
                )
            )
            .tuples()
            .first()
        )
        if place is None:
            return SessionCard(session=view, mine=None)
        booking, name = place
        return SessionCard(session=view, mine=await _place(session, booking, view, name))


async def session_views(db: Database, session_ids: Sequence[int]) -> list[SessionView]:
    """Those sessions, in time order (any that no longer exist left out)."""
    async with db.read() as session:
        rows = (
            await session.scalars(
                select(LunchSession)
                .where(LunchSession.id.in_(list(session_ids)))
                .order_by(LunchSession.starts_at)
            )
        ).all()
        return await _views(session, rows)


async def session_of_job(db: Database, job_id: int) -> SessionView | None:
    async with db.read() as session:
        job = await session.get(SessionJob, job_id)
        lunch = await session.get(LunchSession, job.session_id) if job else None
        return (await _views(session, [lunch]))[0] if lunch else None


async def booking_view(db: Database, booking_id: int) -> BookingView | None:
    async with db.read() as session:
        booking = await session.get(Booking, booking_id)
        return await _booking_view(session, booking) if booking else None


async def my_bookings(db: Database, *, telegram_id: int, now: datetime) -> list[BookingView]:
    """The volunteer's bookings, offers and waitlist places for sessions still to come."""
    async with db.read() as session:
        person = await registered(session, telegram_id)
        rows = (
            await session.scalars(
                select(Booking)
                .join(LunchSession, Booking.session_id == LunchSession.id)
                .where(
                    Booking.person_id == person.id,
                    Booking.status.in_(
                        [BookingStatus.BOOKED, BookingStatus.WAITLISTED, BookingStatus.OFFERED]
                    ),
                    LunchSession.ends_at > now,
                    LunchSession.status == SessionStatus.SCHEDULED,
                )
                .order_by(LunchSession.starts_at)
            )
        ).all()
        return [await _booking_view(session, row) for row in rows]


# --- booking ---------------------------------------------------------------------------------

# The statements of a booking tap, built once (the sign-up rush runs them hundreds of times a
# minute; building and keying them afresh cost more than running them).
_BOOKING_START = (
    select(
        Person,
        exists().where(RoleGrant.person_id == Person.id, RoleGrant.role == Role.VOLUNTEER),
        SessionJob,
        LunchSession,
        Location,
    )
    .select_from(Person)
    .outerjoin(SessionJob, SessionJob.id == bindparam("job_id"))
    .outerjoin(LunchSession, LunchSession.id == SessionJob.session_id)
    .outerjoin(Location, Location.id == LunchSession.location_id)
    .where(Person.telegram_id == bindparam("telegram_id"))
    .with_for_update(of=Person, key_share=True)
)
_PLACES_THAT_MATTER = (
    select(Booking)
    .join(LunchSession, Booking.session_id == LunchSession.id)
    .where(
        Booking.person_id == bindparam("person_id"),
        or_(
            and_(Booking.session_id == bindparam("session_id"), Booking.status.in_(LIVE_BOOKING)),
            and_(
                Booking.status.in_(HOLDING),
                LunchSession.id != bindparam("session_id"),
                LunchSession.status == SessionStatus.SCHEDULED,
                LunchSession.starts_at < bindparam("ends_at"),
                LunchSession.ends_at > bindparam("starts_at"),
            ),
        ),
    )
)
_JOBS: Table = SessionJob.__table__  # type: ignore[assignment]
_BOOKINGS: Table = Booking.__table__  # type: ignore[assignment]
# Core, on the tables: the ORM's bulk path would look for the job in the session to update it.
_TAKE_PLACE = (
    update(_JOBS)
    .where(_JOBS.c.id == bindparam("job_id"), _JOBS.c.taken < _JOBS.c.places)
    .values(taken=_JOBS.c.taken + 1)
)
_NEW_BOOKING = insert(_BOOKINGS).returning(_BOOKINGS.c.id)
_SESSION_JOBS = (
    select(
        SessionJob.id,
        SessionJob.job,
        SessionJob.places,
        SessionJob.taken,
        SessionJob.needs_check,
        select(func.count())
        .where(Booking.job_id == SessionJob.id, Booking.status == BookingStatus.WAITLISTED)
        .correlate(SessionJob)
        .scalar_subquery(),
    )
    .where(SessionJob.session_id == bindparam("session_id"))
    .order_by(SessionJob.id)
)


async def book(
    db: Database, *, telegram_id: int, job_id: int, now: datetime, waitlist: bool
) -> BookOutcome:
    """Take a place in the job, or (with `waitlist`) a place in its queue when it is full."""
    try:
        async with db.transaction() as session:
            return await _book(session, telegram_id, job_id, now, waitlist)
    except IntegrityError:
        # The same volunteer's other tap won the race for the one live booking per session.
        async with db.transaction() as session:
            return await _book(session, telegram_id, job_id, now, waitlist)


async def _book(
    session: AsyncSession, telegram_id: int, job_id: int, now: datetime, waitlist: bool
) -> BookOutcome:
    # The sign-up rush: hundreds of these within minutes, so each statement here earns its
    # place (tests/e2e/test_booking_cost.py counts them). The session's view is built once, at
    # the end, as the booking left it.
    person, job, lunch, location = await _booking_start(session, telegram_id, job_id)
    if job is None or lunch is None:
        return BookOutcome(result=BookResult.CLOSED)
    places = await _places_that_matter(session, person.id, lunch)
    existing = next((b for b in places if b.session_id == lunch.id), None)

    where = location.name if location else "?"

    async def outcome(result: BookResult, booking: Booking | None = None) -> BookOutcome:
        return await _book_outcome(
            session, result, lunch, where, booking or existing, person.display_name, now
        )

    if (
        lunch.status is not SessionStatus.SCHEDULED
        or lunch.starts_at <= now
        or location is None
        or location.archived_at is not None
    ):
        return await outcome(BookResult.CLOSED)
    if existing is not None:
        return await outcome(BookResult.ALREADY)
    if job.needs_check and not _cleared(person, lunch.starts_at):
        return await outcome(BookResult.NEEDS_CHECK)
    if places:  # a place at another session at the same time
        return await outcome(BookResult.OVERLAP)
    taken = await session.execute(_TAKE_PLACE, {"job_id": job.id})
    if rowcount(taken) == 1:
        status = BookingStatus.BOOKED
    elif waitlist:
        status = BookingStatus.WAITLISTED
    else:
        return await outcome(BookResult.FULL)
    booking = Booking(
        session_id=lunch.id,
        job_id=job.id,
        person_id=person.id,
        status=status,
        created_at=now,
        updated_at=now,
        offer_expires_at=None,
        confirmed_at=None,
    )
    # A Core INSERT, not the session's flush: the new row is only read back from `booking`.
    booking.id = (
        await session.execute(
            _NEW_BOOKING,
            {
                "session_id": lunch.id,
                "job_id": job.id,
                "person_id": person.id,
                "status": status,
                "created_at": now,
                "updated_at": now,
            },
        )
    ).scalar_one()
    audit.record(
        session,
        at=now,
        actor_id=person.id,
        action=f"booking.{status.value}",
        subject=("booking", booking.id),
        session_id=lunch.id,
        job=job.job,
    )
    result = BookResult.BOOKED if status is BookingStatus.BOOKED else BookResult.WAITLISTED
    return await outcome(result, booking)


async def _book_outcome(
    session: AsyncSession,
    result: BookResult,
    lunch: LunchSession,
    location_name: str,
    held: Booking | None,
    volunteer: str,
    now: datetime,
) -> BookOutcome:
    """What the tap did, with the session as it now stands and the place the volunteer holds
    on it (the new booking, or the one they already had)."""
    view = await _view(session, lunch, location_name)
    place = await _place(session, held, view, volunteer) if held is not None else None
    return BookOutcome(
        result=result,
        booking=place if result in _WITH_A_BOOKING else None,
        session=view,
        mine=place if held is not None and _on_the_card(held, lunch, now) else None,
    )


async def _booking_start(
    session: AsyncSession, telegram_id: int, job_id: int
) -> tuple[Person, SessionJob | None, LunchSession | None, Location | None]:
    """In one statement: the volunteer (who must hold the volunteer role, checked here whatever
    the button said), locked until the booking's transaction ends so that two of their taps
    cannot book overlapping sessions; and the job with its session and location.

    PostgreSQL locks the person's row FOR NO KEY UPDATE: rows that only refer to the person (a
    notice to them, an audit row) can still be written by others meanwhile; a plain FOR UPDATE
    would block them, and two such transactions could deadlock. SQLite already has one writer
    at a time."""
    found = (
        (await session.execute(_BOOKING_START, {"telegram_id": telegram_id, "job_id": job_id}))
        .tuples()
        .one_or_none()
    )
    if found is None:
        raise NotRegistered
    person, is_volunteer, job, lunch, location = found
    if not is_volunteer:
        raise PermissionDenied(Role.VOLUNTEER)
    return person, job, lunch, location


async def _places_that_matter(
    session: AsyncSession, person_id: int, lunch: LunchSession
) -> list[Booking]:
    """The person's live place on this session, and any place they hold at another session
    at the same time: all a booking needs of their bookings, however many they hold."""
    found = await session.scalars(
        _PLACES_THAT_MATTER,
        {
            "person_id": person_id,
            "session_id": lunch.id,
            "starts_at": lunch.starts_at,
            "ends_at": lunch.ends_at,
        },
    )
    return list(found.all())


async def cancel(
    db: Database,
    *,
    telegram_id: int,
    booking_id: int,
    now: datetime,
    offer_window: OfferWindow | timedelta,
    late_window: timedelta | None = None,
) -> tuple[CancelResult, BookingView | None]:
    """A volunteer gives up their place (which passes down the waitlist) or their queue spot.
    Giving up a place within `late_window` of the start alerts the location's coordinators."""
    async with db.transaction() as session:
        person = await registered(session, telegram_id)
        booking = await _locked(session, booking_id)
        if booking is None or booking.person_id != person.id:
            raise NotYours  # someone else's booking: forged data
        lunch = await session.get(LunchSession, booking.session_id)
        if lunch is None or booking.status not in (BookingStatus.BOOKED, BookingStatus.WAITLISTED):
            return CancelResult.NOT_ACTIVE, await _booking_view(session, booking)
        if lunch.starts_at <= now:
            return CancelResult.STARTED, await _booking_view(session, booking)
        was = booking.status
        _set_status(booking, BookingStatus.CANCELLED, now)
        if was is BookingStatus.BOOKED:
            await _release(session, booking.job_id, now, offer_window)
            if late_window is not None and lunch.starts_at - now <= late_window:
                await _alert_leads(session, lunch, "late_dropout", booking, now)
        audit.record(
            session,
            at=now,
            actor_id=person.id,
            action="booking.cancelled",
            subject=("booking", booking.id),
            was=was.value,
        )
        result = (
            CancelResult.CANCELLED if was is BookingStatus.BOOKED else CancelResult.LEFT_WAITLIST
        )
        return result, await _booking_view(session, booking)


async def answer_offer(
    db: Database,
    *,
    telegram_id: int,
    booking_id: int,
    accept: bool,
    now: datetime,
    offer_window: OfferWindow | timedelta,
    late_window: timedelta | None = None,
) -> tuple[OfferResult, BookingView | None]:
    """Take or pass on a held place. Taking it within `late_window` of the start tells the
    location's coordinators that the gap is filled."""
    async with db.transaction() as session:
        person = await registered(session, telegram_id)
        await _lock(session, person)
        booking = await _locked(session, booking_id)
        if booking is None or booking.person_id != person.id:
            raise NotYours
        if booking.status is not BookingStatus.OFFERED:
            # The same answer again (a double tap) gets the same reply; anything else is over.
            repeated = {
                (BookingStatus.BOOKED, True): OfferResult.BOOKED,
                (BookingStatus.DECLINED, False): OfferResult.DECLINED,
            }
            result = repeated.get((booking.status, accept), OfferResult.NOT_OFFERED)
            return result, await _booking_view(session, booking)
        lunch = await session.get(LunchSession, booking.session_id)
        if lunch is None or _offer_over(booking, lunch, now):
            await _expire(session, booking, now)
            await _release(session, booking.job_id, now, offer_window)
            return OfferResult.EXPIRED, await _booking_view(session, booking)
        overlap = accept and await _overlapping(session, person.id, lunch)
        if accept and not overlap:
            _set_status(booking, BookingStatus.BOOKED, now)
            result = OfferResult.BOOKED
            if late_window is not None and lunch.starts_at - now <= late_window:
                await _alert_leads(session, lunch, "place_filled", booking, now)
        else:
            _set_status(booking, BookingStatus.DECLINED, now)
            await _release(session, booking.job_id, now, offer_window)
            result = OfferResult.OVERLAP if overlap else OfferResult.DECLINED
        audit.record(
            session,
            at=now,
            actor_id=person.id,
            action=f"offer.{result.value}",
            subject=("booking", booking.id),
        )
        return result, await _booking_view(session, booking)


async def confirm(
    db: Database, *, telegram_id: int, booking_id: int, now: datetime
) -> BookingView | None:
    """The volunteer answered a reminder with "I'm coming". None if the place is no longer
    theirs (cancelled meanwhile); confirming twice changes nothing."""
    async with db.transaction() as session:
        person = await registered(session, telegram_id)
        booking = await _locked(session, booking_id)
        if booking is None or booking.person_id != person.id:
            raise NotYours
        if booking.status is not BookingStatus.BOOKED:
            return None
        if booking.confirmed_at is None:
            booking.confirmed_at = now
            audit.record(
                session,
                at=now,
                actor_id=person.id,
                action="booking.confirmed",
                subject=("booking", booking.id),
            )
        return await _booking_view(session, booking)


async def pass_on(
    db: Database, *, booking_id: int, now: datetime, offer_window: OfferWindow | timedelta
) -> bool:
    """An offer its holder cannot receive (they blocked the bot): it goes to the next now."""
    async with db.transaction() as session:
        booking = await _locked(session, booking_id)
        if booking is None or booking.status is not BookingStatus.OFFERED:
            return False
        _set_status(booking, BookingStatus.EXPIRED, now)
        await _release(session, booking.job_id, now, offer_window)
        audit.record(
            session,
            at=now,
            actor_id=None,
            action="offer.passed_on",
            subject=("booking", booking.id),
        )
        return True


async def expire_offers(
    db: Database, *, now: datetime, offer_window: OfferWindow | timedelta
) -> int:
    """Pass on every offer nobody answered in time (run by the scheduler)."""
    async with db.transaction() as session:
        rows = (
            await session.scalars(
                select(Booking)
                .join(LunchSession, Booking.session_id == LunchSession.id)
                .where(
                    Booking.status == BookingStatus.OFFERED,
                    (Booking.offer_expires_at <= now) | (LunchSession.starts_at <= now),
                )
                .order_by(Booking.id)
                # An offer being answered right now is left to the answer.
                .with_for_update(of=Booking, skip_locked=True)
                .execution_options(populate_existing=True)
            )
        ).all()
        for booking in rows:
            await _expire(session, booking, now)
            await _release(session, booking.job_id, now, offer_window)
            audit.record(
                session,
                at=now,
                actor_id=None,
                action="offer.expired",
                subject=("booking", booking.id),
            )
        return len(rows)


# --- coordinators and site leads -------------------------------------------------------------


CANCELLED_TELLS = (BookingStatus.BOOKED, BookingStatus.OFFERED, BookingStatus.WAITLISTED)


async def who_is_told(
    db: Database, *, actor_telegram_id: int, session_id: int, moving: bool = False
) -> Told:
    """Who would be told if the session were cancelled (or, `moving`, given new times)."""
    async with db.read() as session:
        lunch = await _session(session, session_id)
        await require_location(session, actor_telegram_id, lunch.location_id)
        return await _to_tell(session, [lunch.id], HOLDING if moving else CANCELLED_TELLS)


async def who_is_told_of(session: AsyncSession, session_ids: list[int]) -> Told:
    """Who would be told if those sessions were cancelled at once (each person once), inside
    the caller's transaction: a bulk cancel's preview (storage.rota_bulk)."""
    return await _to_tell(session, session_ids, CANCELLED_TELLS, schools=True)


async def cancel_session(
    db: Database, *, actor_telegram_id: int, session_id: int, now: datetime
) -> Told:
    """Cancel a session: everyone booked, offered or waiting is told, and so are the schools
    of the families placed at it (who leave that day's register)."""
    async with db.transaction() as session:
        lunch = await _session(session, session_id)
        actor = await require_location(session, actor_telegram_id, lunch.location_id)
        _require_ahead(lunch, now)
        if lunch.status is SessionStatus.CANCELLED:
            raise AlreadyDone  # a second tap: the first one told everyone
        signed_up = await _cancel(session, lunch, actor, now)
        told = sum(1 for person in signed_up if person.telegram_id is not None)
        families = await referrals.sessions_cancelled(session, [lunch.id], now)
        return Told(
            volunteers=told,
            families=families.families,
            children=families.children,
            offline=len(signed_up) - told,
        )


async def _cancel(
    session: AsyncSession, lunch: LunchSession, actor: Person, now: datetime, *, tell: bool = True
) -> list[Person]:
    """Cancel one session for the volunteers (the caller then tells the families' schools):
    returns the people signed up for it, each once however many places they held. They are
    told now, or (not `tell`: a bulk cancel) by the caller, once for all their sessions."""
    lunch.status = SessionStatus.CANCELLED
    people: dict[int, Person] = {}
    for booking, person in await _live(session, lunch.id, CANCELLED_TELLS):
        _set_status(booking, BookingStatus.CANCELLED, now)
        if tell and person.id not in people:
            await _notify(
                session,
                person,
                "session_cancelled",
                {"session_id": lunch.id, "job_id": booking.job_id},
                f"session_cancelled:{lunch.id}:{person.id}",
                now=now,
            )
        people[person.id] = person
    await session.execute(
        update(SessionJob).where(SessionJob.session_id == lunch.id).values(taken=0)
    )
    await session.flush()
    audit.record(
        session,
        at=now,
        actor_id=actor.id,
        action="session.cancelled",
        subject=("session", lunch.id),
        told=len(people),
    )
    return list(people.values())


async def _cancel_all(
    session: AsyncSession, lunches: Sequence[LunchSession], actor: Person, now: datetime
) -> dict[int, tuple[Person, list[int]]]:
    """Cancel these sessions for the volunteers (as `_cancel` does one), in a few statements
    however many there are (a snow day's 200): returns each person signed up for any of them,
    with the sessions they were on, in time order. The caller tells them, once each."""
    ids = [lunch.id for lunch in lunches]
    if not ids:
        return {}
    order = {lunch.id: n for n, lunch in enumerate(lunches)}
    rows = (
        (
            await session.execute(
                select(Booking.session_id, Person)
                .join(Person, Booking.person_id == Person.id)
                .where(Booking.session_id.in_(ids), Booking.status.in_(CANCELLED_TELLS))
                .order_by(Booking.created_at, Booking.id)
                .with_for_update(of=Booking)
            )
        )
        .tuples()
        .all()
    )
    signed_up: dict[int, tuple[Person, list[int]]] = {}
    told: dict[int, set[int]] = {}
    for session_id, person in rows:
        sessions = signed_up.setdefault(person.id, (person, []))[1]
        if session_id not in sessions:
            sessions.append(session_id)
        told.setdefault(session_id, set()).add(person.id)
    for _, sessions in signed_up.values():
        sessions.sort(key=order.__getitem__)
    await session.execute(
        update(Booking)
        .where(Booking.session_id.in_(ids), Booking.status.in_(CANCELLED_TELLS))  # (locked)
        .values(status=BookingStatus.CANCELLED, updated_at=now, offer_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(update(SessionJob).where(SessionJob.session_id.in_(ids)).values(taken=0))
    for lunch in lunches:
        lunch.status = SessionStatus.CANCELLED
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="session.cancelled",
            subject=("session", lunch.id),
            told=len(told.get(lunch.id, ())),
        )
    await session.flush()
    return signed_up


async def _to_tell(
    session: AsyncSession,
    session_ids: list[int],
    statuses: Sequence[BookingStatus],
    *,
    schools: bool = False,
) -> Told:
    """How many people (each once, however many of the sessions they signed up for) and
    placed families would be told of a change to those sessions; and how many people on them
    have no Telegram (nobody tells them but the coordinator)."""
    counts = (
        await session.execute(
            select(Person.telegram_id.is_(None), func.count(distinct(Booking.person_id)))
            .join(Person, Person.id == Booking.person_id)
            .where(Booking.session_id.in_(session_ids), Booking.status.in_(statuses))
            .group_by(Person.telegram_id.is_(None))
        )
    ).tuples()
    by_reach = {bool(offline): count for offline, count in counts}
    families = await referrals.families_at(session, session_ids)
    return Told(
        volunteers=by_reach.get(False, 0),
        families=families.families,
        children=families.children,
        offline=by_reach.get(True, 0),
        schools=families.schools if schools else 0,  # (a bulk cancel's preview names them)
    )


async def sessions_to_come(
    db: Database, *, actor_telegram_id: int, location_id: int, now: datetime
) -> tuple[int, Told]:
    """A location's sessions still to come, and who would be told if they were cancelled
    (before archiving it)."""
    async with db.read() as session:
        await require_location(session, actor_telegram_id, location_id)
        ids = list((await session.scalars(_to_come(location_id, now))).all())
        return len(ids), await _to_tell(session, ids, CANCELLED_TELLS)


async def archive_location(
    db: Database, *, actor_telegram_id: int, location_id: int, now: datetime
) -> Told:
    """Archive a location, cancelling its sessions still to come first: one bulk cancel, in
    which everyone signed up and every placed family's school is told, as for one session."""
    async with db.transaction() as session:
        actor = await require_location(session, actor_telegram_id, location_id)
        location = await session.get(Location, location_id)
        if location is None:
            raise NotFound("no such location")
        if location.archived_at is not None:
            raise AlreadyDone  # a second tap: its sessions were cancelled, and told, then
        ahead = (
            await session.scalars(
                select(LunchSession)
                .where(LunchSession.id.in_(_to_come(location_id, now)))
                .order_by(LunchSession.starts_at)
            )
        ).all()
        told = await cancel_many(session, ahead, actor, now)
        location.archived_at = now
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="location.archived",
            subject=("location", location_id),
            cancelled=len(ahead),
        )
        return told


async def cancel_many(
    session: AsyncSession, lunches: Sequence[LunchSession], actor: Person, now: datetime
) -> Told:
    """Cancel these sessions (scheduled, still to come) in the caller's transaction, and tell
    everyone once: each person signed up for any of them gets one notice naming all their
    sessions, not one per session; each placed family's school contacts one notice naming all
    their families (referrals.many_sessions_cancelled). People without Telegram are counted,
    not told."""
    signed_up = await _cancel_all(session, lunches, actor, now)
    await outbox.queue_rows(
        session,
        [
            outbox.row(
                chat_id=outbox.chat_of(person),
                person_id=person.id,
                kind="sessions_cancelled",
                payload={"session_ids": session_ids},
                # A session is cancelled once: its id makes the notice unique.
                dedupe_key=f"sessions_cancelled:{session_ids[0]}:{person.id}",
                due_at=now,
                now=now,
            )
            for person, session_ids in signed_up.values()
            if person.telegram_id is not None  # (nothing is sent to someone without Telegram)
        ],
    )
    families = await referrals.many_sessions_cancelled(
        session, [lunch.id for lunch in lunches], now
    )
    reached = sum(1 for person, _ in signed_up.values() if person.telegram_id is not None)
    return Told(
        volunteers=reached,
        families=families.families,
        children=families.children,
        offline=len(signed_up) - reached,
        schools=families.schools,
    )


def _to_come(location_id: int, now: datetime) -> Select[tuple[int]]:
    return select(LunchSession.id).where(
        LunchSession.location_id == location_id,
        LunchSession.status == SessionStatus.SCHEDULED,
        LunchSession.starts_at > now,
    )


async def reschedule(
    db: Database,
    *,
    actor_telegram_id: int,
    session_id: int,
    start: time,
    end: time,
    tz: ZoneInfo,
    now: datetime,
) -> tuple[SessionView, Told]:
    """Move a session's times on its day; everyone booked or offered is told, and so are the
    schools of the families placed at it."""
    async with db.transaction() as session:
        lunch = await _session(session, session_id)
        actor = await require_location(session, actor_telegram_id, lunch.location_id)
        _require_ahead(lunch, now)
        day = lunch.starts_at.astimezone(tz).date()
        starts = datetime.combine(day, start, tzinfo=tz).astimezone(UTC)
        ends = datetime.combine(day, end, tzinfo=tz).astimezone(UTC)
        if ends <= starts:
            raise ValueError("a session ends after it starts")
        if starts <= now:
            raise Closed("a session cannot move into the past")
        told, families = 0, referrals.FamiliesTold()
        if (starts, ends) != (lunch.starts_at, lunch.ends_at):
            await _check_move(session, lunch, starts, ends)
            lunch.starts_at, lunch.ends_at = starts, ends
            for booking, person in await _live(session, lunch.id, HOLDING):
                booking.confirmed_at = None  # confirmed for the old time, not the new
                await _notify(
                    session,
                    person,
                    "session_changed",
                    {"session_id": lunch.id, "job_id": booking.job_id},
                    f"session_changed:{lunch.id}:{person.id}:{starts:%Y%m%d%H%M}-{ends:%H%M}",
                    now=now,
                )
                if person.telegram_id is not None:  # (without Telegram: the coordinator tells)
                    told += 1
            await session.flush()
            families = await referrals.session_moved(session, lunch, now)
            audit.record(
                session,
                at=now,
                actor_id=actor.id,
                action="session.rescheduled",
                subject=("session", lunch.id),
                told=told,
                families=families.families,
            )
        await session.flush()
        return (await _views(session, [lunch]))[0], Told(
            volunteers=told, families=families.families, children=families.children
        )


async def sessions_on(
    db: Database, *, actor_telegram_id: int, location_id: int, day: date, tz: ZoneInfo
) -> list[SiteSession]:
    """A location's sessions on a local day, with who is booked for each job."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    async with db.read() as session:
        await require_location(session, actor_telegram_id, location_id)
        rows = (
            await session.scalars(
                select(LunchSession)
                .where(
                    LunchSession.location_id == location_id,
                    LunchSession.starts_at >= start,
                    LunchSession.starts_at < end,
                )
                .order_by(LunchSession.starts_at)
            )
        ).all()
        result = []
        for view in await _views(session, rows):
            people = await _live(session, view.session_id, ON_THE_DAY)
            jobs = {job.job_id: job.job for job in view.jobs}
            helpers = sorted(
                (
                    Helper(
                        booking_id=b.id,
                        name=p.display_name,
                        job=jobs.get(b.job_id, "?"),
                        status=b.status,
                        confirmed=b.confirmed_at is not None,
                        offline=p.telegram_id is None,
                    )
                    for b, p in people
                ),
                key=lambda h: (h.job, h.name.lower()),
            )
            result.append(SiteSession(session=view, helpers=helpers))
        return result


async def mark_attendance(
    db: Database,
    *,
    actor_telegram_id: int,
    booking_id: int,
    attended: bool | None,
    now: datetime,
) -> tuple[int, BookingStatus]:
    """Mark a booked volunteer as there or not (None: back to not marked); a later mark
    corrects an earlier one (audited). Open from ATTENDANCE_OPENS_BEFORE the start, for those
    who come early to cook. Returns the session id and the new status."""
    async with db.transaction() as session:
        booking = await _locked(session, booking_id)
        if booking is None or booking.status not in ON_THE_DAY:
            raise NotFound("no such booking on the day")
        lunch = await _session(session, booking.session_id)
        actor = await require_location(session, actor_telegram_id, lunch.location_id)
        if lunch.status is SessionStatus.CANCELLED or not attendance_open(lunch.starts_at, now):
            raise Closed("attendance is not open")
        new = (
            BookingStatus.BOOKED
            if attended is None
            else BookingStatus.ATTENDED
            if attended
            else BookingStatus.NO_SHOW
        )
        if booking.status is not new:
            audit.record(
                session,
                at=now,
                actor_id=actor.id,
                action="attendance.marked",
                subject=("booking", booking.id),
                was=booking.status.value,
                now=new.value,
            )
            _set_status(booking, new, now)
        return lunch.id, new


async def record_counts(
    db: Database,
    *,
    actor_telegram_id: int,
    session_id: int,
    meals: int,
    children: int,
    now: datetime,
) -> SessionView:
    """Meals served and children fed at a session: the evidence base. Corrections audited."""
    if not (0 <= meals <= MAX_COUNT and 0 <= children <= MAX_COUNT):
        raise ValueError("counts out of range")
    async with db.transaction() as session:
        lunch = await _session(session, session_id)
        actor = await require_location(session, actor_telegram_id, lunch.location_id)
        _require_begun(lunch, now)
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="session.counts",
            subject=("session", lunch.id),
            meals=meals,
            children=children,
            was_meals=lunch.meals_served,
            was_children=lunch.children_attended,
            was_not_run=lunch.status is SessionStatus.NOT_RUN,
        )
        lunch.meals_served, lunch.children_attended = meals, children
        if lunch.status is SessionStatus.NOT_RUN:  # it did run after all: counts say so
            lunch.status, lunch.not_run_reason = SessionStatus.SCHEDULED, None
        await session.flush()
        return (await _views(session, [lunch]))[0]


@dataclass(frozen=True, kw_only=True)
class Coverage:
    """The sessions ahead in a coordinator's scope with places still free, and how many
    sessions there are ahead at all (none planned is not the same as all filled)."""

    gaps: list[SessionView]
    sessions: int


async def coverage(
    db: Database,
    *,
    actor_telegram_id: int,
    now: datetime,
    days: int = 7,
    within: timedelta | None = None,
) -> list[SessionView]:
    """Sessions starting `within` (default: the next `days` days) with places still free, in
    the coordinator's scope."""
    return (
        await coverage_ahead(
            db, actor_telegram_id=actor_telegram_id, now=now, days=days, within=within
        )
    ).gaps


async def coverage_ahead(
    db: Database,
    *,
    actor_telegram_id: int,
    now: datetime,
    days: int = 7,
    within: timedelta | None = None,
) -> Coverage:
    """The gaps of the sessions starting `within` (default: the next `days` days) in the
    coordinator's scope, with the number of those sessions."""
    horizon = within if within is not None else timedelta(days=days)
    async with db.read() as session:
        actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
        scope = await coordinator_scope(session, actor.id)
        ahead = (
            select(LunchSession)
            .join(Location)
            .where(
                LunchSession.starts_at > now,
                LunchSession.starts_at <= now + horizon,
                LunchSession.status == SessionStatus.SCHEDULED,
                Location.archived_at.is_(None),
            )
        )
        if scope is not None:
            ahead = ahead.where(LunchSession.location_id.in_(scope))
        total = await session.scalar(select(func.count()).select_from(ahead.subquery())) or 0
        query = ahead.where(
            LunchSession.id.in_(
                select(SessionJob.session_id).where(SessionJob.taken < SessionJob.places)
            )
        ).order_by(LunchSession.starts_at, Location.name)
        gaps = await _views(session, (await session.scalars(query)).all())
        return Coverage(gaps=gaps, sessions=total)


class CoverAudience(enum.StrEnum):
    """Whom a cover request asks, nearest first: each is wider than the one before."""

    HOME = "home"  # volunteers who call the location home
    RECENT = "recent"  # ...and those who have booked there in the last four weeks, or ahead
    ALL = "all"  # every volunteer who may take the job


async def request_cover(
    db: Database,
    *,
    actor_telegram_id: int,
    job_id: int,
    now: datetime,
    audience: CoverAudience = CoverAudience.HOME,
) -> int:
    """Ask the audience's volunteers to take a free place; returns how many were asked.
    Asking again, or asking a wider audience, does not message the same people twice."""
    async with db.transaction() as session:
        job, lunch, actor = await _cover_job(session, actor_telegram_id, job_id)
        if lunch.status is not SessionStatus.SCHEDULED or lunch.starts_at <= now:
            return 0
        volunteers = (
            await session.scalars(
                _cover_audience(job, lunch, audience, now, actor).order_by(Person.id)
            )
        ).all()
        for person in volunteers:
            await _notify(
                session,
                person,
                "cover_needed",
                {"job_id": job.id},
                f"cover:{job.id}:{person.id}",
                now=now,
            )
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="cover.requested",
            subject=("session", lunch.id),
            job=job.job,
            audience=audience.value,
            asked=len(volunteers),
        )
        return len(volunteers)


async def cover_audiences(
    db: Database, *, actor_telegram_id: int, job_id: int, now: datetime
) -> dict[CoverAudience, int]:
    """How many volunteers each audience would ask for this job (when the nearest finds
    nobody, the coordinator is offered the next)."""
    async with db.read() as session:
        job, lunch, actor = await _cover_job(session, actor_telegram_id, job_id)
        counts = {}
        for audience in CoverAudience:
            found = _cover_audience(job, lunch, audience, now, actor).subquery()
            counts[audience] = await session.scalar(select(func.count()).select_from(found)) or 0
        return counts


async def _cover_job(
    session: AsyncSession, actor_telegram_id: int, job_id: int
) -> tuple[SessionJob, LunchSession, Person]:
    job = await session.get(SessionJob, job_id)
    if job is None:
        raise NotFound("no such job")
    lunch = await _session(session, job.session_id)
    actor = await require_location(session, actor_telegram_id, lunch.location_id)
    return job, lunch, actor


def _cover_audience(
    job: SessionJob, lunch: LunchSession, audience: CoverAudience, now: datetime, asker: Person
) -> Select[tuple[Person]]:
    """The active volunteers of the audience who could take the job: not on this session
    already, not the coordinator asking, and (for a job that needs one) with a safeguarding
    check cleared that day."""
    already = select(Booking.person_id).where(
        Booking.session_id == lunch.id, Booking.status.in_(LIVE_BOOKING)
    )
    query = (
        select(Person)
        .join(RoleGrant, and_(RoleGrant.person_id == Person.id, RoleGrant.role == Role.VOLUNTEER))
        .where(
            Person.active.is_(True),
            Person.id.not_in(already),
            Person.id != asker.id,
            *_cleared_on(lunch.starts_at.date()) if job.needs_check else (),
        )
    )
    if audience is CoverAudience.ALL:
        return query
    if audience is CoverAudience.HOME:
        home = exists().where(
            HomeLocation.person_id == Person.id, HomeLocation.location_id == lunch.location_id
        )
        return query.where(home)
    return query.where(people_of([lunch.location_id], now))


async def withdraw(
    session: AsyncSession, person_id: int, now: datetime, offer_window: OfferWindow | timedelta
) -> int:
    """Cancel all of a person's places and queue spots still to come, passing places on,
    inside the caller's transaction (a person being erased). Returns how many."""
    rows = (
        await session.scalars(
            select(Booking)
            .join(LunchSession, Booking.session_id == LunchSession.id)
            .where(
                Booking.person_id == person_id,
                LunchSession.starts_at > now,
                Booking.status.in_(
                    [BookingStatus.BOOKED, BookingStatus.OFFERED, BookingStatus.WAITLISTED]
                ),
            )
            .with_for_update(of=Booking)
        )
    ).all()
    for booking in rows:
        held = booking.status in HOLDING
        _set_status(booking, BookingStatus.CANCELLED, now)
        if held:
            await _release(session, booking.job_id, now, offer_window)
    return len(rows)


async def release_place(
    session: AsyncSession, job_id: int, now: datetime, offer_window: OfferWindow | timedelta
) -> None:
    """A held place came free, inside the caller's transaction (a job given more places, in
    storage.session_jobs): offered to the first on the waitlist, or given back."""
    await _release(session, job_id, now, offer_window)


# --- inside the transactions ------------------------------------------------------------------


async def _release(
    session: AsyncSession, job_id: int, now: datetime, offer_window: OfferWindow | timedelta
) -> None:
    """A held place came free: offer it to the first on the waitlist, or give it back."""
    job = await session.get(SessionJob, job_id)
    lunch = await session.get(LunchSession, job.session_id) if job else None
    if job is None or lunch is None:
        return
    nxt = None
    if lunch.status is SessionStatus.SCHEDULED and lunch.starts_at > now:
        waiting = (
            await session.scalars(
                select(Booking)
                .where(Booking.job_id == job_id, Booking.status == BookingStatus.WAITLISTED)
                .order_by(Booking.created_at, Booking.id)
                # Two places freed at once go to the first two waiting, not both to the first.
                .with_for_update(skip_locked=True)
            )
        ).all()
        # Someone booked elsewhere at that time could not take it: it goes to the next.
        for candidate in waiting:
            holder = await session.get(Person, candidate.person_id)
            # Not to someone the bot cannot reach (they blocked it) or who is busy then.
            if (
                holder is not None
                and holder.active
                and not await _overlapping(session, candidate.person_id, lunch)
            ):
                nxt = candidate
                break
    if nxt is None:
        await session.execute(
            update(SessionJob)
            .where(SessionJob.id == job_id, SessionJob.taken > 0)
            .values(taken=SessionJob.taken - 1)
        )
        return
    _set_status(nxt, BookingStatus.OFFERED, now)
    # In waking hours, and never past the session's start (see OfferWindow).
    window = (
        offer_window if isinstance(offer_window, OfferWindow) else OfferWindow(length=offer_window)
    )
    nxt.offer_expires_at = window.deadline(now, lunch.starts_at)
    person = await session.get(Person, nxt.person_id)
    if person is not None:
        await _notify(session, person, "offer", {"booking_id": nxt.id}, f"offer:{nxt.id}", now=now)


async def _check_move(
    session: AsyncSession, lunch: LunchSession, starts: datetime, ends: datetime
) -> None:
    """Refuse a move onto another session's start at the same place, or one that would give
    someone booked two overlapping sessions (naming them, so the coordinator can sort it)."""
    same_place = await session.scalar(
        select(LunchSession.id).where(
            LunchSession.location_id == lunch.location_id,
            LunchSession.starts_at == starts,
            LunchSession.id != lunch.id,
        )
    )
    if same_place is not None:
        raise Clash([])
    booked = select(Booking.person_id).where(
        Booking.session_id == lunch.id, Booking.status.in_(HOLDING)
    )
    names = (
        await session.scalars(
            select(Person.display_name)
            .join(Booking, Booking.person_id == Person.id)
            .join(LunchSession, Booking.session_id == LunchSession.id)
            .where(
                Booking.person_id.in_(booked),
                Booking.status.in_(HOLDING),
                LunchSession.id != lunch.id,
                LunchSession.status == SessionStatus.SCHEDULED,
                LunchSession.starts_at < ends,
                LunchSession.ends_at > starts,
            )
            .order_by(Person.display_name)
            .distinct()
        )
    ).all()
    if names:
        raise Clash(list(names))


async def _notify(
    session: AsyncSession,
    person: Person,
    kind: str,
    payload: dict[str, int],
    key: str,
    now: datetime,
) -> None:
    """Queue a notice for one person, due now, once per `key`."""
    await outbox.queue(
        session, person=person, kind=kind, payload=payload, dedupe_key=key, due_at=now, now=now
    )


async def _alert_leads(
    session: AsyncSession, lunch: LunchSession, kind: str, booking: Booking, now: datetime
) -> None:
    """Tell the coordinators who run the session's location (queued, like every notice)."""
    for lead in (await coordinators_for(session, [lunch.location_id]))[lunch.location_id]:
        await _notify(
            session,
            lead,
            kind,
            {"booking_id": booking.id},
            f"{kind}:{booking.id}:{lead.id}",
            now=now,
        )


def attendance_open(starts_at: datetime, now: datetime) -> bool:
    """Whether a session's attendance can be marked yet: from ATTENDANCE_OPENS_BEFORE."""
    return starts_at - ATTENDANCE_OPENS_BEFORE <= now


def _require_begun(lunch: LunchSession, now: datetime) -> None:
    """Attendance and counts are for a session that has taken place."""
    if lunch.status is SessionStatus.CANCELLED or lunch.starts_at > now:
        raise Closed("the session has not taken place")


def _require_ahead(lunch: LunchSession, now: datetime) -> None:
    """Times and cancellation can change only before the session starts."""
    if lunch.starts_at <= now:
        raise Closed("the session has started")


async def _expire(session: AsyncSession, booking: Booking, now: datetime) -> None:
    """An offer ran out: the volunteer leaves the waitlist, and is told so."""
    _set_status(booking, BookingStatus.EXPIRED, now)
    person = await session.get(Person, booking.person_id)
    if person is not None:
        await _notify(
            session,
            person,
            "offer_expired",
            {"booking_id": booking.id},
            f"offer_expired:{booking.id}",
            now=now,
        )


def _set_status(booking: Booking, status: BookingStatus, now: datetime) -> None:
    booking.status = status
    booking.updated_at = now
    if status is not BookingStatus.OFFERED:
        booking.offer_expires_at = None


def _offer_over(booking: Booking, lunch: LunchSession, now: datetime) -> bool:
    expires = booking.offer_expires_at
    return (
        (expires is not None and expires <= now)
        or lunch.starts_at <= now
        or (lunch.status is not SessionStatus.SCHEDULED)
    )


def _cleared_on(day: date) -> tuple[ColumnElement[bool], ...]:
    return (
        Person.check_status == CheckStatus.CLEARED,
        Person.check_expires_on.is_(None) | (Person.check_expires_on >= day),
    )


def _cleared(person: Person, starts_at: datetime) -> bool:
    if person.check_status is not CheckStatus.CLEARED:
        return False
    return person.check_expires_on is None or person.check_expires_on >= starts_at.date()


async def _lock(session: AsyncSession, person: Person) -> None:
    """Serialise one person's bookings, so two taps cannot book overlapping sessions.
    (PostgreSQL locks the row; SQLite already has one writer at a time.)"""
    # FOR NO KEY UPDATE: rows that only refer to the person (a notice to them, an audit row)
    # can still be written by others meanwhile; a plain FOR UPDATE would block them, and two
    # such transactions could deadlock.
    await session.execute(
        select(Person.id).where(Person.id == person.id).with_for_update(key_share=True)
    )


async def _overlapping(session: AsyncSession, person_id: int, lunch: LunchSession) -> bool:
    clash = await session.scalar(
        select(Booking.id)
        .join(LunchSession, Booking.session_id == LunchSession.id)
        .where(
            Booking.person_id == person_id,
            Booking.status.in_(HOLDING),
            LunchSession.id != lunch.id,
            LunchSession.status == SessionStatus.SCHEDULED,
            LunchSession.starts_at < lunch.ends_at,
            LunchSession.ends_at > lunch.starts_at,
        )
        .limit(1)
    )
    return clash is not None


async def _locked(session: AsyncSession, booking_id: int) -> Booking | None:
    """The booking, locked until the transaction ends, so that two changes to one booking
    (a double tap, an answer racing the expiry job) happen one after the other, the second
    seeing what the first did. PostgreSQL locks the row; SQLite has one writer at a time."""
    query = select(Booking).where(Booking.id == booking_id).with_for_update(key_share=True)
    return (await session.scalars(query.execution_options(populate_existing=True))).one_or_none()


async def _live(
    session: AsyncSession, session_id: int, statuses: Sequence[BookingStatus]
) -> list[tuple[Booking, Person]]:
    rows = (
        (
            await session.execute(
                select(Booking, Person)
                .join(Person, Booking.person_id == Person.id)
                .where(Booking.session_id == session_id, Booking.status.in_(statuses))
                .order_by(Booking.created_at, Booking.id)
                .with_for_update(of=Booking)
            )
        )
        .tuples()
        .all()
    )
    return list(rows)


async def _session(session: AsyncSession, session_id: int) -> LunchSession:
    lunch = await session.get(LunchSession, session_id)
    if lunch is None:
        raise NotFound("no such session")
    return lunch


async def _views(session: AsyncSession, rows: Sequence[LunchSession]) -> list[SessionView]:
    if not rows:
        return []
    ids = [row.id for row in rows]
    names = dict(
        (
            await session.execute(
                select(Location.id, Location.name).where(
                    Location.id.in_({row.location_id for row in rows})
                )
            )
        )
        .tuples()
        .all()
    )
    jobs = (
        await session.scalars(
            select(SessionJob).where(SessionJob.session_id.in_(ids)).order_by(SessionJob.id)
        )
    ).all()
    waiting = dict(
        (
            await session.execute(
                select(Booking.job_id, func.count())
                .where(Booking.session_id.in_(ids), Booking.status == BookingStatus.WAITLISTED)
                .group_by(Booking.job_id)
            )
        )
        .tuples()
        .all()
    )
    by_session: dict[int, list[JobView]] = {}
    for job in jobs:
        by_session.setdefault(job.session_id, []).append(
            JobView(
                job_id=job.id,
                job=job.job,
                places=job.places,
                taken=job.taken,
                needs_check=job.needs_check,
                waiting=waiting.get(job.id, 0),
            )
        )
    return [
        _as_view(row, names.get(row.location_id, "?"), by_session.get(row.id, [])) for row in rows
    ]


async def _view(session: AsyncSession, lunch: LunchSession, location_name: str) -> SessionView:
    """One session's view in one statement: its jobs, each with the length of its waitlist,
    read afresh (a booking in this transaction may just have changed them)."""
    jobs = (await session.execute(_SESSION_JOBS, {"session_id": lunch.id})).tuples()
    return _as_view(
        lunch,
        location_name,
        [
            JobView(
                job_id=job_id,
                job=job,
                places=places,
                taken=taken,
                needs_check=needs_check,
                waiting=waiting_count,
            )
            for job_id, job, places, taken, needs_check, waiting_count in jobs
        ],
    )


def _as_view(row: LunchSession, location_name: str, jobs: Sequence[JobView]) -> SessionView:
    return SessionView(
        session_id=row.id,
        location_id=row.location_id,
        location_name=location_name,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        cancelled=row.status is SessionStatus.CANCELLED,
        jobs=tuple(jobs),
        meals_served=row.meals_served,
        children_attended=row.children_attended,
        not_run_reason=row.not_run_reason if row.status is SessionStatus.NOT_RUN else None,
    )


def _on_the_card(booking: Booking, lunch: LunchSession, now: datetime) -> bool:
    """A place the volunteer still holds at a session still to come (as /mysessions lists)."""
    return (
        booking.status in ON_THE_CARD
        and lunch.status is SessionStatus.SCHEDULED
        and lunch.ends_at > now
    )


async def _booking_view(session: AsyncSession, booking: Booking) -> BookingView:
    lunch = await _session(session, booking.session_id)
    view = (await _views(session, [lunch]))[0]
    volunteer = await session.scalar(
        select(Person.display_name).where(Person.id == booking.person_id)
    )
    return await _place(session, booking, view, volunteer or "")


async def _place(
    session: AsyncSession, booking: Booking, view: SessionView, volunteer: str
) -> BookingView:
    """A booking as its volunteer sees it, at the session `view` shows."""
    job = view.job(booking.job_id)
    position = None
    if booking.status is BookingStatus.WAITLISTED:
        position = await session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(
                Booking.job_id == booking.job_id,
                Booking.status == BookingStatus.WAITLISTED,
                (Booking.created_at < booking.created_at)
                | ((Booking.created_at == booking.created_at) & (Booking.id <= booking.id)),
            )
        )
    return BookingView(
        booking_id=booking.id,
        status=booking.status,
        job_id=booking.job_id,
        job=job.job if job else "?",
        session=view,
        position=position,
        offer_expires_at=booking.offer_expires_at,
        confirmed_at=booking.confirmed_at,
        volunteer=volunteer,
    )


# --- the rules a booking keeps, for the rota's other modules -----------------------------------
# (storage.rota_for: a coordinator putting people on the rota, taking them off and moving them,
# under the same rules as a volunteer's own booking.)

places_that_matter = _places_that_matter
cleared = _cleared
release = _release
set_status = _set_status
session_view_in = _view
