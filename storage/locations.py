"""Locations (lunch club venues), site leads' scopes and volunteers' home locations."""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.choosing import Page, named, paged
from storage.db import Database
from storage.errors import NotFound
from storage.models import (
    ADDRESS_MAX,
    LOCATION_NAME_MAX,
    NOTES_MAX,
    Booking,
    BookingStatus,
    CoordinatorScope,
    HomeLocation,
    Location,
    LunchSession,
    Person,
    PlacementDay,
    Referral,
    ReferralStatus,
    Role,
    SessionStatus,
)
from storage.roles import (
    coordinator_scope,
    registered,
    require_location,
    require_programme,
    require_role,
)
from storage.text import one_line, whole_number

MAX_DAILY_CHILDREN = 10_000

# A location's people: those who call it home, and those with a booking there (live, or
# attended) at a session from this long ago on, or ahead. One rule for a broadcast to one
# location's volunteers, for whom a site lead may see, and for a cover request that reaches
# beyond the home volunteers.
RECENT_BOOKINGS = timedelta(days=28)
BOOKED_THERE = (
    BookingStatus.BOOKED,
    BookingStatus.WAITLISTED,
    BookingStatus.OFFERED,
    BookingStatus.ATTENDED,
)


def people_of(location_ids: Collection[int], now: datetime) -> ColumnElement[bool]:
    """A condition on Person: one of the locations' people (see RECENT_BOOKINGS)."""
    home = exists().where(
        HomeLocation.person_id == Person.id, HomeLocation.location_id.in_(location_ids)
    )
    booked = (
        select(Booking.id)
        .join(LunchSession, LunchSession.id == Booking.session_id)
        .where(
            Booking.person_id == Person.id,
            Booking.status.in_(BOOKED_THERE),
            LunchSession.location_id.in_(location_ids),
            LunchSession.starts_at >= now - RECENT_BOOKINGS,
        )
        .exists()
    )
    return or_(home, booked)


# How every list of locations is ordered: by name whatever its case, then as added.
BY_NAME = (func.lower(Location.name), Location.id)


class Field(enum.StrEnum):
    """The parts of a location a coordinator can edit."""

    NAME = "name"
    ADDRESS = "address"
    NOTES = "notes"
    CAPACITY = "capacity"


FIELD_LIMITS = {Field.NAME: LOCATION_NAME_MAX, Field.ADDRESS: ADDRESS_MAX, Field.NOTES: NOTES_MAX}


@dataclass(frozen=True, kw_only=True)
class LocationInfo:
    location_id: int
    name: str
    address: str
    notes: str
    daily_child_capacity: int
    archived: bool


class NameTaken(Exception):
    """Another location already has this name."""


class StillPlanned(Exception):
    """A location with sessions still to come, or families placed there, cannot be archived
    (nobody would be told)."""

    def __init__(self, sessions: int, families: int = 0) -> None:
        super().__init__(f"{sessions} sessions to come, {families} families placed")
        self.sessions = sessions
        self.families = families


def clean_field(field: Field, typed: str) -> str | int | None:
    """The value as it will be stored, or None if it is not acceptable."""
    if field is Field.CAPACITY:
        return whole_number(typed, MAX_DAILY_CHILDREN)
    value = one_line(typed)
    if field is not Field.NAME and value == "-":
        return ""  # "-" clears an optional field
    if (field is Field.NAME and not value) or len(value) > FIELD_LIMITS[field]:
        return None
    return value


async def create(db: Database, *, actor_telegram_id: int, name: str, now: datetime) -> LocationInfo:
    async with db.transaction() as session:
        # A site lead runs their own locations; adding venues is the programme's call.
        actor = await require_programme(session, actor_telegram_id)
        await _check_name_free(session, name, None)
        location = Location(name=name, created_at=now)
        session.add(location)
        await session.flush()
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="location.created",
            subject=("location", location.id),
        )
        return _info(location)


async def update_field(
    db: Database,
    *,
    actor_telegram_id: int,
    location_id: int,
    field: Field,
    value: str | int,
    now: datetime,
) -> LocationInfo:
    async with db.transaction() as session:
        actor = await require_location(session, actor_telegram_id, location_id)
        location = await _location(session, location_id)
        if field is Field.NAME:
            await _check_name_free(session, str(value), location_id)
            location.name = str(value)
        elif field is Field.ADDRESS:
            location.address = str(value)
        elif field is Field.NOTES:
            location.notes = str(value)
        else:
            location.daily_child_capacity = int(value)
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="location.edited",
            subject=("location", location_id),
            field=field.value,
        )
        return _info(location)


async def set_archived(
    db: Database, *, actor_telegram_id: int, location_id: int, archived: bool, now: datetime
) -> LocationInfo:
    """Archived locations keep their history but take no new sessions or volunteers."""
    async with db.transaction() as session:
        actor = await require_location(session, actor_telegram_id, location_id)
        location = await _location(session, location_id)
        if archived:
            to_come = await session.scalar(
                select(func.count()).where(
                    LunchSession.location_id == location_id,
                    LunchSession.status == SessionStatus.SCHEDULED,
                    LunchSession.starts_at > now,
                )
            )
            # Families placed at a lunch there still to come (a placement names sessions).
            families = await session.scalar(
                select(func.count(func.distinct(PlacementDay.referral_id)))
                .join(Referral, PlacementDay.referral_id == Referral.id)
                .join(LunchSession, PlacementDay.session_id == LunchSession.id)
                .where(
                    Referral.status == ReferralStatus.PLACED,
                    LunchSession.location_id == location_id,
                    LunchSession.status == SessionStatus.SCHEDULED,
                    LunchSession.starts_at > now,
                )
            )
            if to_come or families:
                raise StillPlanned(to_come or 0, families or 0)
        location.archived_at = now if archived else None
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="location.archived" if archived else "location.restored",
            subject=("location", location_id),
        )
        return _info(location)


async def managed(db: Database, *, actor_telegram_id: int, location_id: int) -> LocationInfo:
    """A location the coordinator may run (a site lead only their own), or OutOfScope."""
    async with db.read() as session:
        await require_location(session, actor_telegram_id, location_id)
        return _info(await _location(session, location_id))


async def get(db: Database, location_id: int) -> LocationInfo | None:
    async with db.read() as session:
        location = await session.get(Location, location_id)
        return _info(location) if location else None


async def listed(db: Database, *, include_archived: bool = False) -> list[LocationInfo]:
    query = select(Location).order_by(func.lower(Location.name))
    if not include_archived:
        query = query.where(Location.archived_at.is_(None))
    async with db.read() as session:
        return [_info(row) for row in (await session.scalars(query)).all()]


async def managed_by(db: Database, *, actor_telegram_id: int) -> list[LocationInfo]:
    """The open locations a coordinator may run: all of them, or a site lead's own."""
    async with db.read() as session:
        actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
        scope = await coordinator_scope(session, actor.id)
        query = (
            select(Location)
            .where(Location.archived_at.is_(None))
            .order_by(func.lower(Location.name))
        )
        if scope is not None:
            query = query.where(Location.id.in_(scope))
        return [_info(row) for row in (await session.scalars(query)).all()]


async def home_ids_of(session: AsyncSession, person_id: int) -> frozenset[int]:
    rows = (
        await session.scalars(
            select(HomeLocation.location_id).where(HomeLocation.person_id == person_id)
        )
    ).all()
    return frozenset(rows)


async def home_ids(db: Database, *, telegram_id: int) -> frozenset[int]:
    async with db.read() as session:
        person = await registered(session, telegram_id)
        return await home_ids_of(session, person.id)


async def toggle_home(db: Database, *, telegram_id: int, location_id: int) -> frozenset[int]:
    """Add or remove one home location; returns the new set."""
    async with db.transaction() as session:
        person = await registered(session, telegram_id)
        existing = await session.get(HomeLocation, (person.id, location_id))
        if existing is not None:
            await session.delete(existing)
        else:
            location = await session.get(Location, location_id)
            if location is None or location.archived_at is not None:
                raise NotFound("no such open location")
            session.add(HomeLocation(person_id=person.id, location_id=location_id))
        await session.flush()
        return await home_ids_of(session, person.id)


async def find(
    db: Database,
    *,
    search: str,
    offset: int,
    limit: int,
    actor_telegram_id: int | None = None,
    archived: bool = False,
) -> Page[LocationInfo]:
    """Locations by name, `limit` from `offset`, whose name contains `search` (any case or
    accents): the open ones, and the archived ones too with `archived` (a past period may
    concern them). With `actor_telegram_id`, only those that coordinator may run (a site lead:
    their own). However many there are, the database pages them."""
    async with db.read() as session:
        query = select(Location).where(named(Location.name_key, search))
        if actor_telegram_id is not None:
            actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
            scope = await coordinator_scope(session, actor.id)
            if scope is not None:
                query = query.where(Location.id.in_(scope))
        if not archived:
            query = query.where(Location.archived_at.is_(None))
        rows, matching, offset = await paged(
            session, query, order=BY_NAME, offset=offset, limit=limit
        )
        return Page(shown=[_info(row) for row in rows], matching=matching, offset=offset)


async def some(db: Database, location_ids: Collection[int]) -> list[LocationInfo]:
    """These locations (archived ones too), by name: what a form chose, say."""
    if not location_ids:
        return []
    async with db.read() as session:
        rows = await session.scalars(
            select(Location).where(Location.id.in_(location_ids)).order_by(*BY_NAME)
        )
        return [_info(row) for row in rows.all()]


async def homes_of(db: Database, *, telegram_id: int) -> list[LocationInfo]:
    """The open locations the person calls home, by name."""
    async with db.read() as session:
        person = await registered(session, telegram_id)
        homes = (
            await session.scalars(
                select(Location)
                .join(HomeLocation, HomeLocation.location_id == Location.id)
                .where(HomeLocation.person_id == person.id, Location.archived_at.is_(None))
                .order_by(*BY_NAME)
            )
        ).all()
        return [_info(row) for row in homes]


async def scope_of(db: Database, *, person_id: int) -> frozenset[int]:
    """The locations a coordinator leads; empty for a coordinator of the whole programme."""
    async with db.read() as session:
        return await coordinator_scope(session, person_id) or frozenset()


async def set_scope(
    db: Database,
    *,
    actor_telegram_id: int,
    person_id: int,
    location_ids: frozenset[int],
    now: datetime,
) -> None:
    """Make a coordinator a site lead of these locations (an empty set: the whole programme)."""
    async with db.transaction() as session:
        actor = await require_programme(session, actor_telegram_id)
        await session.execute(
            delete(CoordinatorScope).where(CoordinatorScope.person_id == person_id)
        )
        for location_id in sorted(location_ids):
            session.add(CoordinatorScope(person_id=person_id, location_id=location_id))
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="scope.set",
            subject=("person", person_id),
            locations=sorted(location_ids),
        )


async def _location(session: AsyncSession, location_id: int) -> Location:
    location = await session.get(Location, location_id)
    if location is None:
        raise NotFound("no such location")
    return location


async def _check_name_free(session: AsyncSession, name: str, location_id: int | None) -> None:
    query = select(Location.id).where(func.lower(Location.name) == name.lower())
    if location_id is not None:
        query = query.where(Location.id != location_id)
    if await session.scalar(query) is not None:
        raise NameTaken(name)


def _info(location: Location) -> LocationInfo:
    return LocationInfo(
        location_id=location.id,
        name=location.name,
        address=location.address,
        notes=location.notes,
        daily_child_capacity=location.daily_child_capacity,
        archived=location.archived_at is not None,
    )
