"""Coverage: the places still to fill at the sessions ahead, grouped by location, over a horizon
the coordinator chooses (7, 14 or 28 days, or the rest of the holiday, as /export reckons it).

The database adds it up (a few grouped statements, whatever the horizon: a holiday of 8,000
sessions is not loaded row by row), and only one location's sessions are read as sessions, a
page at a time. A coordinator of the whole programme sees every open location; a site lead
their own. A place offered to the first on the waitlist is held, not free: as the rota counts it.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, select

from storage import exports
from storage.choosing import Page, clamp
from storage.db import Database
from storage.models import Location, LunchSession, Role, SessionJob, SessionStatus
from storage.programme_day import JobGap, day_span
from storage.roles import coordinator_scope, require_location, require_role
from storage.rota import SessionView, session_views
from storage.text import folded


class Horizon(enum.StrEnum):
    """How far ahead /coverage looks (on a button: short codes)."""

    WEEK = "7"
    FORTNIGHT = "14"
    FOUR_WEEKS = "28"
    HOLIDAY = "h"  # the rest of the holiday: until its next break of more than two weeks

    @property
    def days(self) -> int | None:
        return None if self is Horizon.HOLIDAY else int(self.value)


@dataclass(frozen=True, kw_only=True)
class Span:
    """A horizon made concrete: the sessions starting after `now` and before `until`."""

    horizon: Horizon
    until: datetime
    last_day: date  # the last day it takes in, in programme time


@dataclass(frozen=True, kw_only=True)
class LocationGaps:
    location_id: int
    name: str
    sessions: int  # sessions with a place to fill
    free: int  # places to fill there
    empty: int  # sessions that need people and have nobody booked
    first: datetime  # the soonest of those sessions
    jobs: tuple[JobGap, ...]  # places to fill by job, most first


@dataclass(frozen=True, kw_only=True)
class Coverage:
    span: Span
    planned: int  # sessions ahead in the span, filled or not
    locations: tuple[LocationGaps, ...]  # with places to fill, worst gaps first

    @property
    def short(self) -> int:
        return sum(place.sessions for place in self.locations)

    @property
    def free(self) -> int:
        return sum(place.free for place in self.locations)

    @property
    def empty(self) -> int:
        return sum(place.empty for place in self.locations)


async def span(
    db: Database,
    *,
    actor_telegram_id: int,
    horizon: Horizon,
    now: datetime,
    tz: ZoneInfo,
) -> Span | None:
    """Where the horizon ends; None for the rest of the holiday when nothing is planned."""
    days = horizon.days
    if days is not None:
        until = now + timedelta(days=days)
        return Span(horizon=horizon, until=until, last_day=until.astimezone(tz).date())
    today = now.astimezone(tz).date()
    left = await exports.holiday_left(db, actor_telegram_id=actor_telegram_id, today=today, tz=tz)
    if left is None:
        return None
    _, end = day_span(left[1], tz)
    return Span(horizon=horizon, until=end, last_day=left[1])


async def coverage(
    db: Database, *, actor_telegram_id: int, within: Span, now: datetime
) -> Coverage:
    """The places to fill in the span, by location, worst gaps first (most places to fill,
    then most sessions with nobody, then the soonest)."""
    async with db.read() as session:
        actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
        scope = await coordinator_scope(session, actor.id)
        ahead = _ahead(now, within.until, scope)
        planned = int(await session.scalar(select(func.count()).select_from(ahead.subquery())) or 0)
        per_session = (
            select(
                SessionJob.session_id.label("session_id"),
                func.sum(SessionJob.places - SessionJob.taken).label("free"),
                func.sum(SessionJob.taken).label("taken"),
            )
            .where(SessionJob.session_id.in_(ahead.scalar_subquery()))
            .group_by(SessionJob.session_id)
            .subquery()
        )
        places = (
            await session.execute(
                select(
                    LunchSession.location_id,
                    Location.name,
                    func.count(),
                    func.sum(per_session.c.free),
                    func.sum(case((per_session.c.taken == 0, 1), else_=0)),
                    func.min(LunchSession.starts_at),
                )
                .join(per_session, per_session.c.session_id == LunchSession.id)
                .join(Location, Location.id == LunchSession.location_id)
                .where(per_session.c.free > 0)
                .group_by(LunchSession.location_id, Location.name)
            )
        ).tuples()
        jobs: defaultdict[int, list[JobGap]] = defaultdict(list)
        for location_id, job, free in (
            await session.execute(
                select(
                    LunchSession.location_id,
                    SessionJob.job,
                    func.sum(SessionJob.places - SessionJob.taken),
                )
                .join(LunchSession, LunchSession.id == SessionJob.session_id)
                .where(
                    SessionJob.session_id.in_(ahead.scalar_subquery()),
                    SessionJob.taken < SessionJob.places,
                )
                .group_by(LunchSession.location_id, SessionJob.job)
            )
        ).tuples():
            jobs[location_id].append(JobGap(job=job, free=int(free)))
        found = [
            LocationGaps(
                location_id=location_id,
                name=name,
                sessions=int(count),
                free=int(free),
                empty=int(empty),
                first=first,
                jobs=tuple(sorted(jobs[location_id], key=lambda gap: (-gap.free, gap.job))),
            )
            for location_id, name, count, free, empty, first in places
        ]
    found.sort(key=lambda g: (-g.free, -g.empty, g.first, folded(g.name), g.location_id))
    return Coverage(span=within, planned=planned, locations=tuple(found))


def page(found: Coverage, *, search: str, offset: int, limit: int) -> Page[LocationGaps]:
    needle = folded(search)
    matching = [place for place in found.locations if needle in folded(place.name)]
    offset = clamp(offset, len(matching), limit)
    return Page(shown=matching[offset : offset + limit], matching=len(matching), offset=offset)


async def gaps_at(
    db: Database,
    *,
    actor_telegram_id: int,
    location_id: int,
    within: Span,
    now: datetime,
    offset: int,
    limit: int,
) -> Page[SessionView]:
    """One location's sessions with places to fill in the span, soonest first, a page of them.
    Raises OutOfScope for a site lead's other locations."""
    async with db.read() as session:
        await require_location(session, actor_telegram_id, location_id)
        short = (
            _ahead(now, within.until, frozenset({location_id}))
            .where(
                LunchSession.id.in_(
                    select(SessionJob.session_id).where(SessionJob.taken < SessionJob.places)
                )
            )
            .order_by(LunchSession.starts_at, LunchSession.id)
        )
        matching = int(
            await session.scalar(select(func.count()).select_from(short.subquery())) or 0
        )
        offset = clamp(offset, matching, limit)
        ids = list((await session.scalars(short.offset(offset).limit(limit))).all())
    return Page(shown=await session_views(db, ids), matching=matching, offset=offset)


def _ahead(now: datetime, until: datetime, scope: frozenset[int] | None) -> Select[Any]:
    """The ids of the sessions still to come in the span, at open locations in scope."""
    query = (
        select(LunchSession.id)
        .join(Location, Location.id == LunchSession.location_id)
        .where(
            LunchSession.starts_at > now,
            LunchSession.starts_at <= until,
            LunchSession.status == SessionStatus.SCHEDULED,
            Location.archived_at.is_(None),
        )
    )
    return query if scope is None else query.where(LunchSession.location_id.in_(scope))
