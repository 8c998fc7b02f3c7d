"""A session's jobs and places, changed after it was planned: a job added, a job's places
changed, a job removed. Only a session still to come, and not cancelled, changes; each change
is audited.

Places are the database's to keep (`taken <= places`, and a place is taken only by a
conditional UPDATE): the job's row is locked first, so a booking racing the change waits for
it and then sees the new number. More places go to the waitlist first: each new place is
offered to the first waiting, as a freed place is. Fewer places than are held is refused,
naming who would lose their place (the last to book, an open offer counting as a place); or,
confirmed, those last booked move to the waitlist, where they stand first (their booking keeps
its time, and they booked before anyone waiting did), and each is told once, through the
outbox. A job with anyone on it (booked, offered or waiting) is not removed: its people would
have nowhere to go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, outbox
from storage.db import Database
from storage.errors import Closed, NotFound
from storage.models import (
    Booking,
    BookingStatus,
    LunchSession,
    Person,
    SessionJob,
    SessionStatus,
)
from storage.roles import require_location
from storage.rota import HOLDING, MAX_PLACES_PER_JOB, JobSpec, release_place
from storage.schedule import OfferWindow

MAX_JOBS = 8  # a session card shows one button per job
ON_THE_JOB = (BookingStatus.BOOKED, BookingStatus.OFFERED, BookingStatus.WAITLISTED)


@dataclass(frozen=True, kw_only=True)
class Holder:
    """Someone on a job: booked, offered a place, or waiting."""

    booking_id: int
    name: str
    status: BookingStatus


class WouldLoseTheirPlace(Exception):
    """Fewer places than are held: `losing` (the last to book first) would lose theirs."""

    def __init__(self, losing: list[Holder], held: int) -> None:
        super().__init__(f"{len(losing)} of {held} would lose their place")
        self.losing = losing
        self.held = held


class JobInUse(Exception):
    """A job with people on it cannot be removed: `people` would lose their place or queue."""

    def __init__(self, people: list[Holder]) -> None:
        super().__init__(f"{len(people)} people on the job")
        self.people = people


class JobTaken(Exception):
    """The session already has a job of that name."""


class TooManyJobs(Exception):
    """The session has MAX_JOBS jobs already."""


class LastJob(Exception):
    """A session needs at least one job."""


@dataclass(frozen=True, kw_only=True)
class PlacesChanged:
    session_id: int
    job: str
    before: int
    after: int
    offered: int = 0  # new places offered to the first waiting
    moved: list[str] | None = None  # the names moved to the waitlist, last booked first


async def holders(db: Database, *, actor_telegram_id: int, job_id: int) -> list[Holder]:
    """Who is on a job, those holding a place first (in the order they booked), then those
    waiting (in their order)."""
    async with db.read() as session:
        job = await _job(session, job_id)
        lunch = await _lunch(session, job.session_id)
        await require_location(session, actor_telegram_id, lunch.location_id)
        return await _holders(session, job_id, ON_THE_JOB)


async def set_places(
    db: Database,
    *,
    actor_telegram_id: int,
    job_id: int,
    places: int,
    move_to_waitlist: bool,
    now: datetime,
    offer_window: OfferWindow | timedelta,
) -> PlacesChanged:
    """Change a job's places. Fewer than are held raises WouldLoseTheirPlace, unless
    `move_to_waitlist`: then the last booked move to the top of the waitlist, and are told."""
    if not 1 <= places <= MAX_PLACES_PER_JOB:
        raise ValueError(f"a job has 1 to {MAX_PLACES_PER_JOB} places")
    async with db.transaction() as session:
        job = await _job(session, job_id, lock=True)
        lunch = await _lunch(session, job.session_id)
        actor = await require_location(session, actor_telegram_id, lunch.location_id)
        _require_open(lunch, now)
        before, held = job.places, job.taken
        moved: list[Holder] = []
        offered = 0
        if places < held:
            losing = list(reversed(await _holders(session, job_id, HOLDING)))[: held - places]
            if not move_to_waitlist:
                raise WouldLoseTheirPlace(losing, held)
            moved = await _to_waitlist(session, job, losing, now)
            job.taken = held - len(moved)
            job.places = places
        elif places > before:
            # Each new place is held, then released: offered to the first waiting, as a place
            # freed by a cancellation is, or given back.
            job.places = places
            job.taken = held + (places - before)
            await session.flush()
            for _ in range(places - before):
                await release_place(session, job.id, now, offer_window)
            taken = await session.scalar(select(SessionJob.taken).where(SessionJob.id == job_id))
            offered = (taken or 0) - held
        else:
            job.places = places
        await session.flush()
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="session.places_changed",
            subject=("session", lunch.id),
            job=job.job,
            before=before,
            after=places,
            moved=len(moved),
            offered=offered,
        )
        return PlacesChanged(
            session_id=lunch.id,
            job=job.job,
            before=before,
            after=places,
            offered=offered,
            moved=[holder.name for holder in moved],
        )


async def add_job(
    db: Database, *, actor_telegram_id: int, session_id: int, job: JobSpec, now: datetime
) -> None:
    """Add a job to a session (a driver after all); raises JobTaken, TooManyJobs."""
    async with db.transaction() as session:
        lunch = await _lunch(session, session_id)
        actor = await require_location(session, actor_telegram_id, lunch.location_id)
        _require_open(lunch, now)
        names = list(
            (
                await session.scalars(
                    select(SessionJob.job).where(SessionJob.session_id == session_id)
                )
            ).all()
        )
        if job.job in names:
            raise JobTaken(job.job)
        if len(names) >= MAX_JOBS:
            raise TooManyJobs
        session.add(
            SessionJob(
                session_id=session_id,
                job=job.job,
                places=job.places,
                taken=0,
                needs_check=job.needs_check,
            )
        )
        await session.flush()
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="session.job_added",
            subject=("session", session_id),
            job=job.job,
            places=job.places,
        )


async def remove_job(db: Database, *, actor_telegram_id: int, job_id: int, now: datetime) -> str:
    """Remove a job nobody is on; raises JobInUse (naming them), LastJob. Returns its name."""
    async with db.transaction() as session:
        job = await _job(session, job_id, lock=True)
        lunch = await _lunch(session, job.session_id)
        actor = await require_location(session, actor_telegram_id, lunch.location_id)
        _require_open(lunch, now)
        on_it = await _holders(session, job_id, ON_THE_JOB)
        if on_it:
            raise JobInUse(on_it)
        others = await session.scalar(
            select(func.count()).where(SessionJob.session_id == lunch.id, SessionJob.id != job_id)
        )
        if not others:
            raise LastJob
        name = job.job
        # Its past bookings (cancelled, declined...) go with it: nobody holds anything there.
        await session.execute(delete(Booking).where(Booking.job_id == job_id))
        await session.execute(delete(SessionJob).where(SessionJob.id == job_id))
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="session.job_removed",
            subject=("session", lunch.id),
            job=name,
        )
        return name


# --- inside the transactions ------------------------------------------------------------------


async def _to_waitlist(
    session: AsyncSession, job: SessionJob, losing: list[Holder], now: datetime
) -> list[Holder]:
    """Move these holders to the waitlist, telling each once (by the outbox)."""
    moved: list[Holder] = []
    for holder in losing:
        booking = await session.get(Booking, holder.booking_id, with_for_update=True)
        if booking is None or booking.status not in HOLDING:
            continue
        was = booking.status
        booking.status = BookingStatus.WAITLISTED
        booking.offer_expires_at = None
        booking.confirmed_at = None
        booking.updated_at = now
        person = await session.get(Person, booking.person_id)
        if person is not None:
            await outbox.queue(
                session,
                person=person,
                kind="moved_to_waitlist",
                payload={"booking_id": booking.id, "was": was.value},
                # Once for this change (a booking moved again later is told again).
                dedupe_key=f"moved_to_waitlist:{booking.id}:{job.places}:{now.isoformat()}",
                due_at=now,
                now=now,
            )
        moved.append(holder)
    return moved


async def _holders(
    session: AsyncSession, job_id: int, statuses: tuple[BookingStatus, ...]
) -> list[Holder]:
    """Those on the job in these states: holding a place first, each group in booking order."""
    rows = (
        await session.execute(
            select(Booking.id, Person.display_name, Booking.status)
            .join(Person, Person.id == Booking.person_id)
            .where(Booking.job_id == job_id, Booking.status.in_(statuses))
            .order_by(Booking.created_at, Booking.id)
        )
    ).tuples()
    found = [Holder(booking_id=b, name=n, status=s) for b, n, s in rows]
    return [h for h in found if h.status in HOLDING] + [h for h in found if h.status not in HOLDING]


async def _job(session: AsyncSession, job_id: int, *, lock: bool = False) -> SessionJob:
    query = select(SessionJob).where(SessionJob.id == job_id)
    if lock:  # a booking racing the change waits for it, then sees the new places
        query = query.with_for_update()
    job = (await session.scalars(query.execution_options(populate_existing=True))).one_or_none()
    if job is None:
        raise NotFound("no such job")
    return job


async def _lunch(session: AsyncSession, session_id: int) -> LunchSession:
    lunch = await session.get(LunchSession, session_id)
    if lunch is None:
        raise NotFound("no such session")
    return lunch


def _require_open(lunch: LunchSession, now: datetime) -> None:
    """Jobs and places change only before the session starts, and not once it is cancelled."""
    if lunch.status is not SessionStatus.SCHEDULED or lunch.starts_at <= now:
        raise Closed("the session has started or was cancelled")
