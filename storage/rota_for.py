"""Coordinators acting for people on the rota: putting a volunteer on a job (someone who phoned
in), or a person without Telegram recorded by name only; taking them off; moving them to
another job or session. The rules are a volunteer's own booking's: a place is taken only while
the job has one free (the database's conditional UPDATE), a job that needs a safeguarding check
needs it cleared, nobody holds two overlapping sessions, and a place given up passes down the
waitlist. A full job takes a volunteer on Telegram onto its waitlist, when the coordinator asks;
someone without Telegram could never answer an offer, so for them a full job is full.

Each change is audited, and the volunteer, if on Telegram, is told (outbox); a person without
Telegram is told nothing by the bot (storage.outbox queues nothing for them).

Why a person row without a Telegram id, rather than a booking holding a name: every rule of
the rota (one place per session, no overlaps, attendance, the shifts and hours that count in
the figures, a volunteer's milestones, erasure) is about people, and all of it then holds for
them unchanged; the same name on two sessions is one person; and nothing is ever queued for
them, since a notice needs a chat to go to.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, outbox, rota
from storage.choosing import Page, named, paged
from storage.db import Database, rowcount
from storage.errors import Closed, NotFound
from storage.locations import people_of
from storage.models import (
    LIVE_BOOKING,
    Booking,
    BookingStatus,
    Location,
    LunchSession,
    Person,
    Role,
    RoleGrant,
    SessionJob,
    SessionStatus,
)
from storage.people import clean_name
from storage.roles import coordinator_scope, require_location, require_role
from storage.rota import HOLDING, SessionView
from storage.schedule import OfferWindow
from storage.text import folded

# Who a session's screen lists: everyone holding a place or waiting for one.
ON_THE_ROTA = (BookingStatus.BOOKED, BookingStatus.OFFERED, BookingStatus.WAITLISTED)
# The notices a volunteer on Telegram gets (handlers/notices.py renders them).
ADDED, REMOVED, MOVED = "rota_added", "rota_removed", "rota_moved"


class Result(enum.StrEnum):
    BOOKED = "booked"
    WAITLISTED = "waitlisted"
    ALREADY = "already"  # on this session already (move them instead)
    FULL = "full"
    CLOSED = "closed"  # cancelled, started, or its location archived
    OVERLAP = "overlap"  # on another session at the same time
    NEEDS_CHECK = "needs_check"
    NAME_TAKEN = "name_taken"  # someone without Telegram of that name is on record already
    SAME = "same"  # a move to the place they already hold
    TAKEN_OFF = "taken_off"


@dataclass(frozen=True, kw_only=True)
class Member:
    """Someone on a session's rota, as its coordinator sees them."""

    booking_id: int
    person_id: int
    name: str
    job_id: int
    job: str
    status: BookingStatus
    offline: bool  # without Telegram
    confirmed: bool


@dataclass(frozen=True, kw_only=True)
class Team:
    session: SessionView
    members: list[Member]  # by job (as the session lists them), then booked before waiting


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """A volunteer a coordinator may put on a session."""

    person_id: int
    name: str
    offline: bool


@dataclass(frozen=True, kw_only=True)
class Outcome:
    result: Result
    session: SessionView  # as the change left it
    member: Member | None = None  # their place now, if they hold one here
    name: str = ""  # whom it was about
    offline: bool = False  # ...who has no Telegram


@dataclass(frozen=True, kw_only=True)
class SessionChoice:
    """A session to come a person could be moved to."""

    session_id: int
    starts_at: datetime
    ends_at: datetime
    free: int  # places free, all jobs together


# --- reading ---------------------------------------------------------------------------------


async def team(db: Database, *, actor_telegram_id: int, session_id: int) -> Team:
    """A session's rota: who holds each job's places, and who waits for one."""
    async with db.read() as session:
        lunch = await _managed(session, actor_telegram_id, session_id)
        view = await _view(session, lunch)
        return Team(session=view, members=await _members(session, view))


async def member(db: Database, *, actor_telegram_id: int, booking_id: int) -> Outcome:
    """One person's place on a session the coordinator runs (NotFound for one no longer on
    its rota: taken off, or moved, since the button was made)."""
    async with db.read() as session:
        booking = await session.get(Booking, booking_id)
        if booking is None:
            raise NotFound("no such booking")
        lunch = await _managed(session, actor_telegram_id, booking.session_id)
        view = await _view(session, lunch)
        found = next((m for m in await _members(session, view) if m.booking_id == booking_id), None)
        if found is None:
            raise NotFound("no longer on the rota")
        return Outcome(result=Result.ALREADY, session=view, member=found)


async def candidates(
    db: Database,
    *,
    actor_telegram_id: int,
    session_id: int,
    search: str,
    offset: int,
    limit: int,
    now: datetime,
) -> Page[Candidate]:
    """The volunteers who could be put on the session (not on it already), by name, whose
    name holds `search`: everyone with the volunteer role, people without Telegram too; for a
    site lead, the people of their own locations."""
    async with db.read() as session:
        lunch = await _managed(session, actor_telegram_id, session_id)
        actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
        scope = await coordinator_scope(session, actor.id)
        on_it = select(Booking.person_id).where(
            Booking.session_id == lunch.id, Booking.status.in_(LIVE_BOOKING)
        )
        query = select(Person).where(
            _volunteer(), named(Person.name_key, search), Person.id.not_in(on_it)
        )
        if scope is not None:
            query = query.where(people_of(scope, now))
        order = (func.lower(Person.display_name), Person.id)
        rows, matching, offset = await paged(
            session, query, order=order, offset=offset, limit=limit
        )
        return Page(
            shown=[
                Candidate(person_id=p.id, name=p.display_name, offline=p.telegram_id is None)
                for p in rows
            ],
            matching=matching,
            offset=offset,
        )


async def sessions_for(
    db: Database,
    *,
    actor_telegram_id: int,
    location_id: int,
    now: datetime,
    offset: int,
    limit: int,
) -> Page[SessionChoice]:
    """A location's sessions still to come (one the coordinator runs), soonest first, with the
    places free in each: where someone could be moved to."""
    async with db.read() as session:
        await require_location(session, actor_telegram_id, location_id)
        free = (
            select(func.coalesce(func.sum(SessionJob.places - SessionJob.taken), 0))
            .where(SessionJob.session_id == LunchSession.id)
            .correlate(LunchSession)
            .scalar_subquery()
        )
        query = (
            select(LunchSession.id, LunchSession.starts_at, LunchSession.ends_at, free)
            .join(Location, Location.id == LunchSession.location_id)
            .where(
                LunchSession.location_id == location_id,
                LunchSession.status == SessionStatus.SCHEDULED,
                LunchSession.starts_at > now,
                Location.archived_at.is_(None),
            )
        )
        matching = int(
            await session.scalar(select(func.count()).select_from(query.subquery())) or 0
        )
        rows = (
            await session.execute(
                query.order_by(LunchSession.starts_at).offset(max(0, offset)).limit(limit)
            )
        ).all()
        return Page(
            shown=[
                SessionChoice(session_id=i, starts_at=starts, ends_at=ends, free=int(places))
                for i, starts, ends, places in rows
            ],
            matching=matching,
            offset=max(0, offset),
        )


# --- changing ----------------------------------------------------------------------------------


async def put_on(
    db: Database,
    *,
    actor_telegram_id: int,
    job_id: int,
    person_id: int,
    now: datetime,
    waitlist: bool = False,
) -> Outcome:
    """Put a volunteer on a job: a free place, or (`waitlist`, for someone on Telegram) a
    place in its queue when it is full."""
    async with db.transaction() as session:
        job, lunch, actor = await _job(session, actor_telegram_id, job_id)
        person = await _person(session, actor, person_id, now)
        return await _put_on(session, actor, person, job, lunch, now, waitlist=waitlist)


async def put_on_by_name(
    db: Database, *, actor_telegram_id: int, job_id: int, name: str, now: datetime
) -> Outcome:
    """Record a person without Telegram by name (they agreed to it with the coordinator) and
    put them on a job, in one transaction: if they cannot have the place, nobody is recorded.
    A name already recorded for someone without Telegram is refused (NAME_TAKEN): they are
    chosen from the list instead, or given a name that tells them apart."""
    cleaned = clean_name(name)
    recorded = cleaned if isinstance(cleaned, str) else None
    if recorded is None:
        raise ValueError("not a name")
    try:
        async with db.transaction() as session:
            return await _put_on_by_name(session, actor_telegram_id, job_id, recorded, now)
    except _NotPlaced as refused:  # rolled back: nobody recorded for a place they can't have
        return refused.outcome


async def _put_on_by_name(
    session: AsyncSession, actor_telegram_id: int, job_id: int, name: str, now: datetime
) -> Outcome:
    job, lunch, actor = await _job(session, actor_telegram_id, job_id)
    taken = await session.scalar(
        select(Person.id).where(Person.telegram_id.is_(None), Person.name_key == folded(name))
    )
    if taken is not None:
        return Outcome(
            result=Result.NAME_TAKEN, session=await _view(session, lunch), name=name, offline=True
        )
    person = await _record(session, actor, name, now)
    outcome = await _put_on(session, actor, person, job, lunch, now, waitlist=False)
    if outcome.result is not Result.BOOKED:
        raise _NotPlaced(outcome)
    return outcome


class _NotPlaced(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.result.value)
        self.outcome = outcome


async def _record(session: AsyncSession, actor: Person, name: str, now: datetime) -> Person:
    """A person without Telegram, a volunteer, recorded by the coordinator (audited)."""
    person = Person(
        telegram_id=None,
        display_name=name,
        active=False,  # nothing is ever sent to them
        privacy_accepted_at=now,  # told, and agreed, on the coordinator's word
        created_at=now,
    )
    session.add(person)
    await session.flush()
    session.add(
        RoleGrant(person_id=person.id, role=Role.VOLUNTEER, granted_at=now, granted_by=actor.id)
    )
    audit.record(
        session,
        at=now,
        actor_id=actor.id,
        action="person.recorded",
        subject=("person", person.id),
        telegram=False,
    )
    return person


async def take_off(
    db: Database,
    *,
    actor_telegram_id: int,
    booking_id: int,
    now: datetime,
    offer_window: OfferWindow | timedelta,
) -> Outcome:
    """Take someone off a session still to come: a place they held passes down the waitlist
    as if they had cancelled it; they are told (if on Telegram)."""
    async with db.transaction() as session:
        booking, lunch, actor = await _booking(session, actor_telegram_id, booking_id, now)
        person = await session.get(Person, booking.person_id)
        if person is None:
            raise NotFound("no such person")
        was = booking.status
        before = _member(booking, person, await _view(session, lunch))
        rota.set_status(booking, BookingStatus.CANCELLED, now)
        if was in HOLDING:
            await rota.release(session, booking.job_id, now, offer_window)
        await _tell(session, booking.person_id, REMOVED, {"booking_id": booking.id}, actor, now)
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="rota.taken_off",
            subject=("booking", booking.id),
            session_id=lunch.id,
            person_id=booking.person_id,
            was=was.value,
        )
        return Outcome(result=Result.TAKEN_OFF, session=await _view(session, lunch), member=before)


async def move(
    db: Database,
    *,
    actor_telegram_id: int,
    booking_id: int,
    to_job_id: int,
    now: datetime,
    offer_window: OfferWindow | timedelta,
) -> Outcome:
    """Move someone to another job, at the same session or another (one the coordinator
    runs): into a free place only. The place they leave passes down its waitlist; they are
    told once, of both (if on Telegram). Nothing changes unless the new place is theirs."""
    async with db.transaction() as session:
        booking, lunch, actor = await _booking(session, actor_telegram_id, booking_id, now)
        job, target, _ = await _job(session, actor_telegram_id, to_job_id)
        person = await session.get(Person, booking.person_id)
        if person is None:
            raise NotFound("no such person")
        await _lock(session, person)

        async def outcome(result: Result) -> Outcome:
            return Outcome(
                result=result,
                session=await _view(session, target),
                name=person.display_name,
                offline=person.telegram_id is None,
            )

        if job.id == booking.job_id and booking.status in HOLDING:
            return await outcome(Result.SAME)
        refused = await _refusal(session, person, job, target, now, leaving=lunch.id)
        if refused is not None:
            return await outcome(refused)
        taken = await session.execute(
            update(SessionJob)
            .where(SessionJob.id == job.id, SessionJob.taken < SessionJob.places)
            .values(taken=SessionJob.taken + 1)
        )
        if rowcount(taken) != 1:
            return await outcome(Result.FULL)
        was = booking.status
        rota.set_status(booking, BookingStatus.CANCELLED, now)
        await session.flush()  # (one live place a session: the old one goes first)
        if was in HOLDING:
            await rota.release(session, booking.job_id, now, offer_window)
        moved = Booking(
            session_id=target.id,
            job_id=job.id,
            person_id=person.id,
            status=BookingStatus.BOOKED,
            created_at=now,
            updated_at=now,
            # Said they're coming that day (or to the coordinator, without Telegram).
            confirmed_at=_confirmed(person, now, booking if target.id == lunch.id else None),
        )
        session.add(moved)
        await session.flush()
        payload = {"from_booking_id": booking.id, "booking_id": moved.id}
        await _tell(session, person.id, MOVED, payload, actor, now)
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="rota.moved",
            subject=("booking", moved.id),
            from_booking=booking.id,
            from_session=lunch.id,
            session_id=target.id,
            job=job.job,
            person_id=person.id,
        )
        view = await _view(session, target)
        return Outcome(
            result=Result.BOOKED,
            session=view,
            member=_member(moved, person, view),
            name=person.display_name,
            offline=person.telegram_id is None,
        )


# --- inside ----------------------------------------------------------------------------------


async def _put_on(
    session: AsyncSession,
    actor: Person,
    person: Person,
    job: SessionJob,
    lunch: LunchSession,
    now: datetime,
    *,
    waitlist: bool,
) -> Outcome:
    await _lock(session, person)

    async def outcome(result: Result, booking: Booking | None = None) -> Outcome:
        view = await _view(session, lunch)
        held = _member(booking, person, view) if booking is not None else None
        return Outcome(
            result=result,
            session=view,
            member=held,
            name=person.display_name,
            offline=person.telegram_id is None,
        )

    already = await session.scalar(
        select(Booking.id).where(
            Booking.session_id == lunch.id,
            Booking.person_id == person.id,
            Booking.status.in_(LIVE_BOOKING),
        )
    )
    if already is not None:
        return await outcome(Result.ALREADY)
    refused = await _refusal(session, person, job, lunch, now)
    if refused is not None:
        return await outcome(refused)
    taken = await session.execute(
        update(SessionJob)
        .where(SessionJob.id == job.id, SessionJob.taken < SessionJob.places)
        .values(taken=SessionJob.taken + 1)
    )
    if rowcount(taken) == 1:
        status = BookingStatus.BOOKED
    elif waitlist and person.telegram_id is not None:
        status = BookingStatus.WAITLISTED
    else:
        return await outcome(Result.FULL)
    booking = Booking(
        session_id=lunch.id,
        job_id=job.id,
        person_id=person.id,
        status=status,
        created_at=now,
        updated_at=now,
        confirmed_at=_confirmed(person, now, None) if status is BookingStatus.BOOKED else None,
    )
    session.add(booking)
    await session.flush()
    await _tell(session, person.id, ADDED, {"booking_id": booking.id}, actor, now)
    audit.record(
        session,
        at=now,
        actor_id=actor.id,
        action="rota.put_on",
        subject=("booking", booking.id),
        session_id=lunch.id,
        job=job.job,
        person_id=person.id,
        status=status.value,
        telegram=person.telegram_id is not None,
    )
    result = Result.BOOKED if status is BookingStatus.BOOKED else Result.WAITLISTED
    return await outcome(result, booking)


async def _refusal(
    session: AsyncSession,
    person: Person,
    job: SessionJob,
    lunch: LunchSession,
    now: datetime,
    *,
    leaving: int | None = None,
) -> Result | None:
    """Why the person may not take a place in the job (the session closed, no cleared check,
    another session at the same time, besides `leaving`), or None."""
    location = await session.get(Location, lunch.location_id)
    if (
        lunch.status is not SessionStatus.SCHEDULED
        or lunch.starts_at <= now
        or location is None
        or location.archived_at is not None
    ):
        return Result.CLOSED
    if job.needs_check and not rota.cleared(person, lunch.starts_at):
        return Result.NEEDS_CHECK
    clash = [
        booking
        for booking in await rota.places_that_matter(session, person.id, lunch)
        if booking.session_id not in (lunch.id, leaving)
    ]
    if clash:
        return Result.OVERLAP
    return None


def _confirmed(person: Person, now: datetime, kept: Booking | None) -> datetime | None:
    """When the new place counts as confirmed: someone without Telegram said so to the
    coordinator (and no reminder can ask them); a move within a session keeps the answer."""
    if person.telegram_id is None:
        return now
    return kept.confirmed_at if kept is not None else None


async def _tell(
    session: AsyncSession,
    person_id: int,
    kind: str,
    payload: dict[str, int],
    actor: Person,
    now: datetime,
) -> None:
    """The volunteer hears of the change (nothing is queued for someone without Telegram)."""
    person = await session.get(Person, person_id)
    if person is None:
        return
    key = f"{kind}:{payload['booking_id']}"
    await outbox.queue(
        session,
        person=person,
        kind=kind,
        payload=payload | {"by": actor.id},
        dedupe_key=key,
        due_at=now,
        now=now,
    )


async def _managed(session: AsyncSession, actor_telegram_id: int, session_id: int) -> LunchSession:
    lunch = await session.get(LunchSession, session_id)
    if lunch is None:
        raise NotFound("no such session")
    await require_location(session, actor_telegram_id, lunch.location_id)
    return lunch


async def _job(
    session: AsyncSession, actor_telegram_id: int, job_id: int
) -> tuple[SessionJob, LunchSession, Person]:
    job = await session.get(SessionJob, job_id)
    if job is None:
        raise NotFound("no such job")
    lunch = await session.get(LunchSession, job.session_id)
    if lunch is None:
        raise NotFound("no such session")
    actor = await require_location(session, actor_telegram_id, lunch.location_id)
    return job, lunch, actor


async def _booking(
    session: AsyncSession, actor_telegram_id: int, booking_id: int, now: datetime
) -> tuple[Booking, LunchSession, Person]:
    """A place on the rota of a session still to come that the coordinator runs, locked (two
    coordinators taking the same person off: one after the other, the second finding it gone)."""
    booking = (
        await session.scalars(
            select(Booking)
            .where(Booking.id == booking_id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    ).one_or_none()
    if booking is None:
        raise NotFound("no such booking")
    lunch = await session.get(LunchSession, booking.session_id)
    if lunch is None:
        raise NotFound("no such session")
    actor = await require_location(session, actor_telegram_id, lunch.location_id)
    if booking.status not in ON_THE_ROTA:
        raise NotFound("no longer on the rota")
    if lunch.status is not SessionStatus.SCHEDULED or lunch.starts_at <= now:
        raise Closed("the session has started or is cancelled")
    return booking, lunch, actor


async def _person(session: AsyncSession, actor: Person, person_id: int, now: datetime) -> Person:
    """A volunteer the coordinator may put on the rota (a site lead: one of their locations'
    people); NotFound for anyone else, erased people among them."""
    query = select(Person).where(Person.id == person_id, _volunteer())
    scope = await coordinator_scope(session, actor.id)
    if scope is not None:
        query = query.where(people_of(scope, now))
    person = (await session.scalars(query)).one_or_none()
    if person is None:
        raise NotFound("no such volunteer")
    return person


def _volunteer() -> ColumnElement[bool]:
    """A condition on Person: holds the volunteer role, and is not erased."""
    return and_(
        exists().where(RoleGrant.person_id == Person.id, RoleGrant.role == Role.VOLUNTEER),
        or_(Person.telegram_id.is_(None), Person.telegram_id > 0),
    )


async def _lock(session: AsyncSession, person: Person) -> None:
    """One person's places change one at a time (see storage.rota's booking)."""
    await session.execute(
        select(Person.id).where(Person.id == person.id).with_for_update(key_share=True)
    )


async def _view(session: AsyncSession, lunch: LunchSession) -> SessionView:
    name = await session.scalar(select(Location.name).where(Location.id == lunch.location_id))
    return await rota.session_view_in(session, lunch, name or "?")


async def _members(session: AsyncSession, view: SessionView) -> list[Member]:
    rows = (
        (
            await session.execute(
                select(Booking, Person)
                .join(Person, Person.id == Booking.person_id)
                .where(Booking.session_id == view.session_id, Booking.status.in_(ON_THE_ROTA))
            )
        )
        .tuples()
        .all()
    )
    order = {job.job_id: n for n, job in enumerate(view.jobs)}
    rank = {status: n for n, status in enumerate(ON_THE_ROTA)}
    members = [_member(booking, person, view) for booking, person in rows]
    return sorted(
        members,
        key=lambda m: (order.get(m.job_id, len(order)), rank[m.status], m.name.lower()),
    )


def _member(booking: Booking, person: Person, view: SessionView) -> Member:
    job = view.job(booking.job_id)
    return Member(
        booking_id=booking.id,
        person_id=person.id,
        name=person.display_name,
        job_id=booking.job_id,
        job=job.job if job else "?",
        status=booking.status,
        offline=person.telegram_id is None,
        confirmed=booking.confirmed_at is not None,
    )


async def name_of(db: Database, person_id: int) -> str | None:
    """Whom a volunteer's notice names as having changed their place (None: gone)."""
    async with db.read() as session:
        name = await session.scalar(select(Person.display_name).where(Person.id == person_id))
        return str(name) if name is not None else None
