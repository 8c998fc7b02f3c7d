"""The people directory (/people): everyone a coordinator may see, found by name and narrowed
by one filter (a role; volunteers whose safeguarding check is missing or runs out within 30
days; people who blocked the bot; volunteers not seen this holiday) and by one location's
people, a page at a time, with how many each filter holds.

The same selection is the audience of "Message these people" (storage.broadcasts), built by
the same function, so the number on the button is the number sent to. A site lead sees, and
may write to, only the people of their own locations (locations.people_of)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, false, func, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from storage import locations
from storage.choosing import Page, named, paged
from storage.db import Database
from storage.models import (
    Booking,
    CheckStatus,
    Location,
    LunchSession,
    Person,
    Role,
    RoleGrant,
    SessionStatus,
)
from storage.people import Profile, profiles
from storage.roles import coordinator_scope, require_role

# A check that runs out this soon needs renewing now (it takes weeks).
CHECK_SOON = timedelta(days=30)
# A holiday is a run of lunch days with no gap this long: a longer one (term time) ends it.
HOLIDAY_BREAK = timedelta(days=14)
HOLIDAY_LOOKBACK = timedelta(days=366)
# Someone "seen" this holiday holds, or came to, a place at one of its sessions.
SEEN = locations.BOOKED_THERE


class Show(enum.StrEnum):
    """Which people a coordinator lists (the values ride on buttons: short)."""

    EVERYONE = "all"
    VOLUNTEERS = "vol"
    SCHOOL_CONTACTS = "sch"
    COORDINATORS = "crd"
    CHECK_MISSING = "chk"  # volunteers without a cleared, current check
    CHECK_EXPIRING = "exp"  # volunteers whose cleared check runs out within CHECK_SOON
    BLOCKED = "off"  # Telegram said they blocked the bot: nothing is sent to them
    NOT_SEEN = "uns"  # volunteers with no place this holiday, booked or taken


@dataclass(frozen=True, kw_only=True)
class Selection:
    """Whom a coordinator picked out in /people."""

    show: Show = Show.EVERYONE
    location_id: int | None = None
    search: str = ""

    def to_data(self) -> dict[str, Any]:
        return {"show": self.show.value, "location_id": self.location_id, "search": self.search}

    @classmethod
    def from_data(cls, data: object) -> Selection:
        """A selection kept in a draft (anything unreadable in it is left out)."""
        if not isinstance(data, dict):
            return cls()
        try:
            show = Show(data.get("show", Show.EVERYONE.value))
        except ValueError:
            show = Show.EVERYONE
        location_id = data.get("location_id")
        search = data.get("search")
        return cls(
            show=show,
            location_id=location_id if isinstance(location_id, int) and location_id > 0 else None,
            search=search if isinstance(search, str) else "",
        )


@dataclass(frozen=True, kw_only=True)
class Holiday:
    """This holiday, as "not seen this holiday" counts it: bookings at sessions from `since`."""

    since: datetime
    first_lunch: date | None  # its first lunch day; None while none has run yet


@dataclass(frozen=True, kw_only=True)
class Found:
    page: Page[Profile]
    scoped: bool  # a site lead's: only the people of their own locations
    location_name: str | None  # the location chosen, if any (and still there)
    holiday: Holiday | None  # when NOT_SEEN is shown
    reachable: int  # of all those found, the people a message would reach (not the viewer)


async def find(
    db: Database,
    *,
    actor_telegram_id: int,
    chosen: Selection,
    offset: int,
    limit: int,
    now: datetime,
) -> Found:
    """A page of the people selected, by name, with how many a message to them would reach."""
    async with db.read() as session:
        actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
        scope = await coordinator_scope(session, actor.id)
        holiday = await this_holiday(session, now) if chosen.show is Show.NOT_SEEN else None
        where = await selection(session, actor.id, chosen, now, scope=scope, holiday=holiday)
        order = (func.lower(Person.display_name), Person.id)
        rows, matching, offset = await paged(
            session, select(Person).where(where), order=order, offset=offset, limit=limit
        )
        reachable = await session.scalar(
            select(func.count()).where(where, _reachable(), Person.id != actor.id)
        )
        return Found(
            page=Page(shown=await profiles(session, rows), matching=matching, offset=offset),
            scoped=scope is not None,
            location_name=await _location_name(session, chosen.location_id),
            holiday=holiday,
            reachable=int(reachable or 0),
        )


async def counts(
    db: Database, *, actor_telegram_id: int, chosen: Selection, now: datetime
) -> tuple[dict[Show, int], Holiday]:
    """How many people each filter would list, with the location and the search chosen kept,
    counted in one query; and this holiday (what NOT_SEEN counts from)."""
    async with db.read() as session:
        actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
        scope = await coordinator_scope(session, actor.id)
        holiday = await this_holiday(session, now)
        base = await selection(
            session, actor.id, _with(chosen, Show.EVERYONE), now, scope=scope, holiday=holiday
        )
        shows = list(Show)
        figures = (
            await session.execute(
                select(
                    *(func.count(case((_shows(show, now, holiday), 1))) for show in shows)
                ).where(base)
            )
        ).one()
        return dict(zip(shows, (int(n) for n in figures), strict=True)), holiday


async def selection(
    session: AsyncSession,
    actor_id: int,
    chosen: Selection,
    now: datetime,
    *,
    scope: frozenset[int] | None,
    holiday: Holiday | None = None,
) -> ColumnElement[bool]:
    """A condition on Person: the people `chosen` picks out of those the coordinator sees."""
    # On Telegram, or without it (put on a rota by name): not erased (a negative id).
    on_record = or_(Person.telegram_id > 0, Person.telegram_id.is_(None))
    conditions = [on_record, named(Person.name_key, chosen.search)]
    if scope is not None:  # a site lead: the people of their own locations only
        conditions.append(locations.people_of(scope, now))
    if chosen.location_id is not None:
        conditions.append(locations.people_of([chosen.location_id], now))
    if chosen.show is Show.NOT_SEEN and holiday is None:
        holiday = await this_holiday(session, now)
    conditions.append(_shows(chosen.show, now, holiday))
    return and_(*conditions)


async def this_holiday(session: AsyncSession, now: datetime) -> Holiday:
    """The holiday now: of the days with a lunch (not cancelled) up to today, from the earliest
    reached without a gap of HOLIDAY_BREAK. When no lunch ran in the last HOLIDAY_BREAK, the
    holiday to come has not begun: it counts from now."""
    day = func.date(LunchSession.starts_at)
    found = (
        await session.scalars(
            select(day)
            .where(
                LunchSession.starts_at <= now,
                LunchSession.starts_at > now - HOLIDAY_LOOKBACK,
                LunchSession.status != SessionStatus.CANCELLED,
            )
            .distinct()
        )
    ).all()
    # SQLite gives the day as text, PostgreSQL as a date: the first ten characters are both.
    days = sorted({date.fromisoformat(str(value)[:10]) for value in found}, reverse=True)
    first: date | None = None
    latest = now.date()
    for lunch_day in days:
        if latest - lunch_day > HOLIDAY_BREAK:
            break
        first = latest = lunch_day
    if first is None:
        return Holiday(since=now, first_lunch=None)
    return Holiday(since=datetime.combine(first, time(0), tzinfo=now.tzinfo), first_lunch=first)


def _shows(show: Show, now: datetime, holiday: Holiday | None) -> ColumnElement[bool]:
    today = now.date()  # as people.record_check dates a check
    match show:
        case Show.EVERYONE:
            return true()
        case Show.VOLUNTEERS:
            return _holds(Role.VOLUNTEER)
        case Show.SCHOOL_CONTACTS:
            return _holds(Role.SCHOOL_CONTACT)
        case Show.COORDINATORS:
            return _holds(Role.COORDINATOR)
        case Show.CHECK_MISSING:
            current = and_(
                Person.check_status == CheckStatus.CLEARED,
                or_(Person.check_expires_on.is_(None), Person.check_expires_on >= today),
            )
            return and_(_holds(Role.VOLUNTEER), not_(current))
        case Show.CHECK_EXPIRING:
            return and_(
                _holds(Role.VOLUNTEER),
                Person.check_status == CheckStatus.CLEARED,
                Person.check_expires_on >= today,
                Person.check_expires_on <= today + CHECK_SOON,
            )
        case Show.BLOCKED:  # (someone without Telegram has no chat to block)
            return and_(Person.active.is_(False), Person.telegram_id.is_not(None))
        case Show.NOT_SEEN:
            if holiday is None:
                return false()
            # Those seen, found once (not a lookup for each person): a year of bookings
            # would otherwise be searched 10,000 times.
            seen = (
                select(Booking.person_id)
                .join(LunchSession, LunchSession.id == Booking.session_id)
                .where(Booking.status.in_(SEEN), LunchSession.starts_at >= holiday.since)
            )
            return and_(_holds(Role.VOLUNTEER), Person.id.not_in(seen))


def _holds(role: Role) -> ColumnElement[bool]:
    return exists().where(RoleGrant.person_id == Person.id, RoleGrant.role == role)


def _reachable() -> ColumnElement[bool]:
    """People a message can reach: not known to have blocked the bot (as broadcasts send)."""
    return Person.active.is_(True)


def _with(chosen: Selection, show: Show) -> Selection:
    return Selection(show=show, location_id=chosen.location_id, search=chosen.search)


async def _location_name(session: AsyncSession, location_id: int | None) -> str | None:
    if location_id is None:
        return None
    name: str | None = await session.scalar(select(Location.name).where(Location.id == location_id))
    return name
