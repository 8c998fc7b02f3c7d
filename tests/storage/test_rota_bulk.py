"""Bulk cancels and coordinators acting for people, against real SQLite and PostgreSQL: what a
preview counts is what the cancel does, two cancels at once tell nobody twice, the last place
goes to one of many coordinators at once, nobody without Telegram is ever queued a message,
and migration 0014 keeps them when it is undone."""

from __future__ import annotations

import asyncio
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from storage import locations, migrate, people, rota, rota_bulk, rota_for
from storage.db import Database
from storage.models import Booking, BookingStatus, Notice, Person
from storage.rota import JobSpec, SessionPlan
from storage.rota_bulk import Scope
from tests.support import Clock

LONDON = ZoneInfo("Europe/London")
RACHEL = 1001
THURSDAY = date(2026, 7, 30)
OFFER = timedelta(hours=2)


async def _register(db: Database, clock: Clock, *ids: int) -> None:
    for telegram_id in ids:
        await people.register(
            db,
            telegram_id=telegram_id,
            name=f"Person {telegram_id}",
            now=clock(),
            coordinator_ids=frozenset({RACHEL}),
        )


async def _sites(db: Database, clock: Clock, count: int) -> list[rota.SessionView]:
    """`count` locations with a Thursday lunch (server x2; even ones in the morning)."""
    await _register(db, clock, RACHEL)
    views = []
    for n in range(count):
        location = await locations.create(
            db, actor_telegram_id=RACHEL, name=f"Site {n}", now=clock()
        )
        starts, ends = (time(9), time(10, 30)) if n % 2 == 0 else (time(11, 30), time(13, 30))
        plan = SessionPlan(
            location_id=location.location_id,
            first_day=THURSDAY,
            last_day=THURSDAY,
            weekdays=frozenset({THURSDAY.weekday()}),
            start=starts,
            end=ends,
            jobs=(JobSpec(job="server", places=2),),
        )
        await rota.create_sessions(db, actor_telegram_id=RACHEL, plan=plan, tz=LONDON, now=clock())
        (site,) = await rota.sessions_on(
            db, actor_telegram_id=RACHEL, location_id=location.location_id, day=THURSDAY, tz=LONDON
        )
        views.append(site.session)
    return views


async def _notices(db: Database, kind: str) -> dict[int | None, int]:
    async with db.read() as session:
        rows = (
            await session.execute(
                select(Notice.person_id, func.count())
                .where(Notice.kind == kind)
                .group_by(Notice.person_id)
            )
        ).tuples()
        return dict(rows.all())


async def test_the_preview_counts_what_the_cancel_does_and_two_at_once_tell_nobody_twice(
    db: Database, clock: Clock
) -> None:
    sites = await _sites(db, clock, 6)
    volunteers = list(range(3001, 3009))
    await _register(db, clock, *volunteers)
    for n, who in enumerate(volunteers):  # two a site at sites 0-3
        await rota.book(
            db, telegram_id=who, job_id=sites[n % 4].jobs[0].job_id, now=clock(), waitlist=False
        )
    for who, site in ((3005, 5), (3006, 4), (3007, 5)):  # a morning's and a lunch's: twice
        await rota.book(
            db, telegram_id=who, job_id=sites[site].jobs[0].job_id, now=clock(), waitlist=False
        )
    offline = await rota_for.put_on_by_name(
        db, actor_telegram_id=RACHEL, job_id=sites[4].jobs[0].job_id, name="Olive", now=clock()
    )
    assert offline.result is rota_for.Result.BOOKED
    scope = Scope(day=THURSDAY)
    preview = await rota_bulk.preview(
        db, actor_telegram_id=RACHEL, scope=scope, now=clock(), tz=LONDON
    )
    async with db.read() as session:
        signed_up = await session.scalar(
            select(func.count(func.distinct(Booking.person_id)))
            .join(Person, Person.id == Booking.person_id)
            .where(Booking.status == BookingStatus.BOOKED, Person.telegram_id.is_not(None))
        )
    assert (preview.sessions, preview.locations) == (6, 6)
    assert (preview.told.volunteers, preview.told.offline) == (signed_up, 1)
    assert preview.offline == ["Olive (Site 4)"]

    # The same cancel twice at once (a double tap on two instances): one does it all.
    first, second = await asyncio.gather(
        rota_bulk.cancel(db, actor_telegram_id=RACHEL, scope=scope, now=clock(), tz=LONDON),
        rota_bulk.cancel(db, actor_telegram_id=RACHEL, scope=scope, now=clock(), tz=LONDON),
    )
    done, nothing = (first, second) if first.sessions else (second, first)
    assert (done.sessions, nothing.sessions) == (6, 0)
    assert done.told == preview.told
    told = await _notices(db, "sessions_cancelled")
    assert len(told) == signed_up and set(told.values()) == {1}  # each person exactly once
    assert None not in told
    async with db.read() as session:
        to_offline = await session.scalar(
            select(func.count())
            .select_from(Notice)
            .join(Person, Person.id == Notice.person_id)
            .where(Person.telegram_id.is_(None))
        )
    assert to_offline == 0


async def test_the_last_place_goes_to_one_of_many_coordinators_putting_people_on_at_once(
    db: Database, clock: Clock
) -> None:
    (site,) = await _sites(db, clock, 1)
    volunteers = list(range(3001, 3011))
    await _register(db, clock, *volunteers)
    await rota.book(db, telegram_id=3001, job_id=site.jobs[0].job_id, now=clock(), waitlist=False)
    ids = {}
    async with db.read() as session:
        for who in volunteers:
            ids[who] = await session.scalar(select(Person.id).where(Person.telegram_id == who))
    outcomes = await asyncio.gather(
        *(
            rota_for.put_on(
                db,
                actor_telegram_id=RACHEL,
                job_id=site.jobs[0].job_id,
                person_id=int(ids[who]),  # type: ignore[arg-type]
                now=clock(),
            )
            for who in volunteers[1:]
        )
    )
    results = sorted(outcome.result.value for outcome in outcomes)
    assert results == ["booked"] + ["full"] * 8
    view = await rota.session_view(db, site.session_id)
    assert view is not None and view.jobs[0].taken == view.jobs[0].places == 2


async def test_moving_and_taking_off_someone_without_telegram_queues_nothing_for_them(
    db: Database, clock: Clock
) -> None:
    sites = await _sites(db, clock, 3)
    await _register(db, clock, 3001)
    await rota.book(
        db, telegram_id=3001, job_id=sites[1].jobs[0].job_id, now=clock(), waitlist=False
    )
    put = await rota_for.put_on_by_name(
        db, actor_telegram_id=RACHEL, job_id=sites[0].jobs[0].job_id, name="Olive", now=clock()
    )
    assert put.member is not None and put.member.offline and put.member.confirmed
    moved = await rota_for.move(
        db,
        actor_telegram_id=RACHEL,
        booking_id=put.member.booking_id,
        to_job_id=sites[2].jobs[0].job_id,
        now=clock(),
        offer_window=OFFER,
    )
    assert moved.result is rota_for.Result.BOOKED and moved.member is not None
    off = await rota_for.take_off(
        db,
        actor_telegram_id=RACHEL,
        booking_id=moved.member.booking_id,
        now=clock(),
        offer_window=OFFER,
    )
    assert off.result is rota_for.Result.TAKEN_OFF
    async with db.read() as session:
        queued = (
            (
                await session.execute(
                    select(Person.telegram_id, func.count())
                    .join(Notice, Notice.person_id == Person.id)
                    .group_by(Person.telegram_id)
                )
            )
            .tuples()
            .all()
        )
    assert all(telegram_id is not None for telegram_id, _ in queued)
    # A name that is not one is refused before anything is recorded.
    with pytest.raises(ValueError, match="not a name"):
        await rota_for.put_on_by_name(
            db, actor_telegram_id=RACHEL, job_id=sites[0].jobs[0].job_id, name="  ", now=clock()
        )


async def test_undoing_0014_keeps_people_without_telegram_as_nobodys(database_url: str) -> None:
    await migrate.upgrade(database_url, "0014")
    database = Database(database_url)
    try:
        async with database.transaction() as session:
            await session.execute(
                text(
                    "INSERT INTO people (id, telegram_id, display_name, active, "
                    "privacy_accepted_at, created_at, check_status, name_key) VALUES "
                    "(7, NULL, 'Olive', false, '2026-07-01 09:00:00', '2026-07-01 09:00:00', "
                    "'none', 'olive')"
                )
            )
    finally:
        await database.dispose()
    await migrate.downgrade(database_url, "0013")
    database = Database(database_url)
    try:
        async with database.read() as session:
            kept = await session.scalar(text("SELECT telegram_id FROM people WHERE id = 7"))
    finally:
        await database.dispose()
    assert kept == -7
