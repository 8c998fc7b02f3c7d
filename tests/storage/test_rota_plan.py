"""A holiday planned at many locations at once, against real SQLite and PostgreSQL: what each
location makes of the plan (sessions already there, cancelled, overlapping, archived), one
transaction for all of it, true counts, and a site lead's own locations only."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from storage import audit, locations, people, rota, rota_plan
from storage.db import Database
from storage.errors import OutOfScope
from storage.models import LunchSession, SessionJob
from storage.rota import JobSpec, SessionPlan
from storage.rota_plan import Plan
from tests.support import Clock, promote_to_coordinator

LONDON = ZoneInfo("Europe/London")
RACHEL, PRIYA = 1001, 1002
JOBS = (JobSpec(job="cook", places=2, needs_check=True), JobSpec(job="server", places=3))


async def _programme(db: Database, clock: Clock, count: int) -> list[int]:
    await people.register(
        db, telegram_id=RACHEL, name="Rachel", now=clock(), coordinator_ids=frozenset({RACHEL})
    )
    made = [
        await locations.create(db, actor_telegram_id=RACHEL, name=f"Club {n:02d}", now=clock())
        for n in range(count)
    ]
    return [location.location_id for location in made]


def _summer(ids: list[int], *, start: time = time(11, 30), end: time = time(13, 30)) -> Plan:
    """Monday to Thursday, 27 July to 7 August: 8 lunches at each location."""
    return Plan(
        location_ids=tuple(ids),
        first_day=date(2026, 7, 27),
        last_day=date(2026, 8, 7),
        weekdays=frozenset({0, 1, 2, 3}),
        start=start,
        end=end,
        jobs=JOBS,
    )


async def _count(db: Database, model: type[object]) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_one_plan_makes_the_same_sessions_everywhere_and_says_what_each_location_did(
    db: Database, clock: Clock
) -> None:
    ids = await _programme(db, clock, 6)
    a, b, c, d, e, f = ids
    # Club 00 already has the summer's first Monday and Tuesday at 11:30; its Tuesday is
    # cancelled. Club 01 runs 12:00-14:00 on the Wednesday: the plan's 11:30 overlaps it.
    # Club 02 already has a lunch at 14:00 on the Thursday: no overlap, no exception.
    for location_id, day, starts, ends in (
        (a, date(2026, 7, 27), time(11, 30), time(13, 30)),
        (a, date(2026, 7, 28), time(11, 30), time(13, 30)),
        (b, date(2026, 7, 29), time(12, 0), time(14, 0)),
        (c, date(2026, 7, 30), time(14, 0), time(15, 0)),
    ):
        await rota.create_sessions(
            db,
            actor_telegram_id=RACHEL,
            plan=SessionPlan(
                location_id=location_id,
                first_day=day,
                last_day=day,
                weekdays=frozenset({day.weekday()}),
                start=starts,
                end=ends,
                jobs=JOBS[1:],
            ),
            tz=LONDON,
            now=clock(),
        )
    page = await rota.upcoming(db, telegram_id=RACHEL, now=clock(), offset=0, limit=10)
    tuesday = next(s for s in page.sessions if s.location_id == a and s.starts_at.day == 28)
    await rota.cancel_session(
        db, actor_telegram_id=RACHEL, session_id=tuesday.session_id, now=clock()
    )
    # Club 03 is archived after being chosen.
    await locations.set_archived(
        db, actor_telegram_id=RACHEL, location_id=d, archived=True, now=clock()
    )
    before = await _count(db, LunchSession)

    plan = _summer(ids)
    review = await rota_plan.review(db, actor_telegram_id=RACHEL, plan=plan, tz=LONDON, now=clock())
    assert review.per_location == 8
    assert [
        (p.name, p.new, p.existing, p.cancelled, p.clashing, p.archived) for p in review.locations
    ] == [
        ("Club 00", 6, 1, 1, 0, False),
        ("Club 01", 7, 0, 0, 1, False),
        ("Club 02", 8, 0, 0, 0, False),
        ("Club 03", 0, 0, 0, 0, True),
        ("Club 04", 8, 0, 0, 0, False),
        ("Club 05", 8, 0, 0, 0, False),
    ]
    assert (review.new, review.existing, review.cancelled, review.clashing) == (37, 1, 1, 1)
    assert [p.name for p in review.exceptions] == ["Club 00", "Club 01", "Club 03"]
    assert await _count(db, LunchSession) == before  # a review writes nothing

    made = await rota_plan.create(db, actor_telegram_id=RACHEL, plan=plan, tz=LONDON, now=clock())
    assert made == review
    assert await _count(db, LunchSession) == before + 37
    async with db.read() as session:
        jobs = await session.scalar(
            select(func.count())
            .select_from(SessionJob)
            .join(LunchSession)
            .where(LunchSession.location_id.in_([e, f]))
        )
    assert jobs == 2 * 8 * len(JOBS)
    entry = (await audit.recent(db, action="sessions.created"))[0]
    assert entry.details["created"] == 37 and entry.details["locations"] == 6
    assert entry.details["archived"] == 1

    # The same plan again makes nothing, and says so truly.
    again = await rota_plan.create(db, actor_telegram_id=RACHEL, plan=plan, tz=LONDON, now=clock())
    assert (again.new, again.existing, again.cancelled, again.clashing) == (0, 38, 1, 1)
    assert await _count(db, LunchSession) == before + 37


async def test_sessions_begun_are_left_out_and_a_clock_change_keeps_local_times(
    db: Database, clock: Clock
) -> None:
    ids = await _programme(db, clock, 2)
    clock.now = clock.now.replace(month=7, day=28, hour=10, minute=45)  # Tue, 11:45 BST
    plan = _summer(ids)
    review = await rota_plan.review(db, actor_telegram_id=RACHEL, plan=plan, tz=LONDON, now=clock())
    assert review.per_location == 6  # Monday and Tuesday have begun
    autumn = Plan(
        location_ids=tuple(ids),
        first_day=date(2026, 10, 23),
        last_day=date(2026, 10, 26),
        weekdays=frozenset({4, 0}),
        start=time(11, 30),
        end=time(13, 30),
        jobs=JOBS,
    )
    await rota_plan.create(db, actor_telegram_id=RACHEL, plan=autumn, tz=LONDON, now=clock())
    async with db.read() as session:
        starts = (await session.scalars(select(LunchSession.starts_at))).all()
    assert sorted({s.astimezone(LONDON).time() for s in starts}) == [time(11, 30)]
    assert sorted({s.hour for s in starts}) == [10, 11]  # BST, then GMT


async def test_a_site_lead_plans_only_at_her_own_locations(db: Database, clock: Clock) -> None:
    ids = await _programme(db, clock, 3)
    await people.register(
        db, telegram_id=PRIYA, name="Priya", now=clock(), coordinator_ids=frozenset()
    )
    await promote_to_coordinator(db, clock(), PRIYA, by=RACHEL, scope=frozenset(ids[:2]))
    mine = await rota_plan.create(
        db, actor_telegram_id=PRIYA, plan=_summer(ids[:2]), tz=LONDON, now=clock()
    )
    assert mine.new == 16
    with pytest.raises(OutOfScope):
        await rota_plan.review(
            db, actor_telegram_id=PRIYA, plan=_summer(ids), tz=LONDON, now=clock()
        )
    with pytest.raises(OutOfScope):
        await rota_plan.create(
            db, actor_telegram_id=PRIYA, plan=_summer(ids[1:]), tz=LONDON, now=clock()
        )
    assert await _count(db, LunchSession) == 16  # refused whole: nothing at her own either


async def test_too_big_or_empty_plans_are_refused(db: Database, clock: Clock) -> None:
    ids = await _programme(db, clock, 1)
    sundays = replace(_summer(ids), weekdays=frozenset({6}), last_day=date(2026, 8, 1))
    with pytest.raises(ValueError, match="a plan makes"):
        await rota_plan.create(db, actor_telegram_id=RACHEL, plan=sundays, tz=LONDON, now=clock())
    huge = replace(_summer(ids), location_ids=tuple(range(1, 2_000)), weekdays=frozenset(range(7)))
    with pytest.raises(ValueError, match="a plan makes"):
        await rota_plan.create(db, actor_telegram_id=RACHEL, plan=huge, tz=LONDON, now=clock())


async def test_two_taps_at_once_make_each_session_once(db: Database, clock: Clock) -> None:
    ids = await _programme(db, clock, 20)
    plan = _summer(ids)
    first, second = await asyncio.gather(
        rota_plan.create(db, actor_telegram_id=RACHEL, plan=plan, tz=LONDON, now=clock()),
        rota_plan.create(db, actor_telegram_id=RACHEL, plan=plan, tz=LONDON, now=clock()),
    )
    assert sorted([first.new, second.new]) == [0, 160]
    assert first.new + first.existing == second.new + second.existing == 160
    assert await _count(db, LunchSession) == 160
    assert await _count(db, SessionJob) == 160 * len(JOBS)


def test_a_location_with_nothing_to_say_is_not_an_exception() -> None:
    place = rota_plan.AtLocation(location_id=1, name="Club", new=8)
    assert place.usual
    assert not rota_plan.AtLocation(location_id=1, name="Club", new=7, clashing=1).usual
