"""The site day as a coordinator or site lead reads it: a location's sessions on one local day,
and single sessions opened by id from a button. Every read here is checked against the reader's
scope first, because the id came from callback data, which a client can forge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage import locations, rota
from storage.db import Database
from storage.errors import NotFound
from storage.locations import LocationInfo
from storage.models import LunchSession, SessionJob
from storage.roles import require_location
from storage.rota import JobView, SessionView, SiteSession


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
