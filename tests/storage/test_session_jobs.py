"""A session's jobs and places changed after it was planned, against real SQLite and PostgreSQL:
more places go to the waitlist first, fewer than are held is refused naming who would lose their
place or (confirmed) moves the last booked to the top of the waitlist and tells them once; a job
with people on it stays; every change audited; nothing once the session has begun."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import audit, locations, rota, session_jobs
from storage.db import Database
from storage.errors import Closed, OutOfScope
from storage.models import BookingStatus, Notice
from storage.rota import BookResult, JobSpec
from storage.session_jobs import JobInUse, JobTaken, LastJob, TooManyJobs, WouldLoseTheirPlace
from tests.storage.test_rota import PRIYA, RACHEL, VOLUNTEERS, _job, _people, _week
from tests.support import Clock, promote_to_coordinator

OFFER = timedelta(hours=2)


async def _book(db: Database, clock: Clock, job_id: int, *who: int) -> None:
    for volunteer in who:
        clock.advance(seconds=1)  # one after another: the order they booked in
        await rota.book(db, telegram_id=volunteer, job_id=job_id, now=clock(), waitlist=True)


async def _notices(db: Database, kind: str) -> list[Notice]:
    async with db.read() as session:
        return list((await session.scalars(select(Notice).where(Notice.kind == kind))).all())


async def _places(
    db: Database, clock: Clock, job_id: int, places: int, *, move: bool = False
) -> session_jobs.PlacesChanged:
    return await session_jobs.set_places(
        db,
        actor_telegram_id=RACHEL,
        job_id=job_id,
        places=places,
        move_to_waitlist=move,
        now=clock(),
        offer_window=OFFER,
    )


async def test_fewer_places_than_booked_names_who_would_lose_theirs_or_moves_them(
    db: Database, clock: Clock
) -> None:
    tuesday = await _week(db, clock)
    server = _job(tuesday, "server")  # 3 places
    a, b, c, d = VOLUNTEERS[:4]
    await _people(db, clock, a, b, c, d)
    await _book(db, clock, server, a, b, c, d)  # a, b, c booked; d waiting

    with pytest.raises(WouldLoseTheirPlace) as refused:
        await _places(db, clock, server, 1)
    assert [h.name for h in refused.value.losing] == [f"Person {c}", f"Person {b}"]
    assert refused.value.held == 3
    view = await rota.session_view(db, tuesday.session_id)
    assert view is not None and view.job(server) == replace(tuesday.job(server), taken=3, waiting=1)

    changed = await _places(db, clock, server, 1, move=True)
    assert (changed.before, changed.after, changed.moved) == (3, 1, [f"Person {c}", f"Person {b}"])
    view = await rota.session_view(db, tuesday.session_id)
    assert view is not None
    job = view.job(server)
    assert job is not None and (job.places, job.taken, job.waiting) == (1, 1, 3)
    # b and c stand first on the waitlist (they booked before d joined it), in booking order.
    mine = {who: (await rota.my_bookings(db, telegram_id=who, now=clock()))[0] for who in (b, c, d)}
    assert [mine[who].position for who in (b, c, d)] == [1, 2, 3]
    assert {mine[who].status for who in (b, c)} == {BookingStatus.WAITLISTED}
    told = await _notices(db, "moved_to_waitlist")
    assert sorted(n.payload["booking_id"] for n in told) == sorted(
        mine[who].booking_id for who in (b, c)
    )
    # A second tap changes nothing and tells nobody again.
    again = await _places(db, clock, server, 1, move=True)
    assert again.moved == []
    assert len(await _notices(db, "moved_to_waitlist")) == 2
    entry = (await audit.recent(db, action="session.places_changed"))[0]
    assert (entry.details["before"], entry.details["after"], entry.details["moved"]) == (1, 1, 0)


async def test_more_places_go_to_the_waitlist_first(db: Database, clock: Clock) -> None:
    tuesday = await _week(db, clock)
    driver = _job(tuesday, "driver")  # 1 place
    a, b, c = VOLUNTEERS[:3]
    await _people(db, clock, a, b, c)
    await _book(db, clock, driver, a, b)  # a booked, b waiting
    changed = await _places(db, clock, driver, 3)
    assert (changed.before, changed.after, changed.offered) == (1, 3, 1)
    offers = await _notices(db, "offer")
    assert len(offers) == 1
    mine = (await rota.my_bookings(db, telegram_id=b, now=clock()))[0]
    assert mine.status is BookingStatus.OFFERED
    view = await rota.session_view(db, tuesday.session_id)
    job = view.job(driver) if view else None
    assert job is not None and (job.places, job.taken, job.waiting) == (3, 2, 0)
    booked = await rota.book(db, telegram_id=c, job_id=driver, now=clock(), waitlist=False)
    assert booked.result is BookResult.BOOKED  # the third place was free


async def test_a_booking_racing_a_cut_never_overfills(db: Database, clock: Clock) -> None:
    tuesday = await _week(db, clock)
    server = _job(tuesday, "server")
    racers = list(VOLUNTEERS[:10])
    await _people(db, clock, *racers)
    await _book(db, clock, server, racers[0])
    outcomes = await asyncio.gather(
        _places(db, clock, server, 1, move=True),
        *(
            rota.book(db, telegram_id=who, job_id=server, now=clock(), waitlist=False)
            for who in racers[1:]
        ),
    )
    view = await rota.session_view(db, tuesday.session_id)
    job = view.job(server) if view else None
    assert job is not None and job.places == 1 and job.taken <= 1
    assert outcomes[0].after == 1


async def test_jobs_are_added_and_removed_but_not_one_with_people_on_it(
    db: Database, clock: Clock
) -> None:
    tuesday = await _week(db, clock)
    a = VOLUNTEERS[0]
    await _people(db, clock, a)
    await session_jobs.add_job(
        db,
        actor_telegram_id=RACHEL,
        session_id=tuesday.session_id,
        job=JobSpec(job="washer", places=2),
        now=clock(),
    )
    with pytest.raises(JobTaken):
        await session_jobs.add_job(
            db,
            actor_telegram_id=RACHEL,
            session_id=tuesday.session_id,
            job=JobSpec(job="cook", places=1),
            now=clock(),
        )
    view = await rota.session_view(db, tuesday.session_id)
    assert view is not None and [j.job for j in view.jobs] == ["cook", "server", "driver", "washer"]
    for n in range(4):
        await session_jobs.add_job(
            db,
            actor_telegram_id=RACHEL,
            session_id=tuesday.session_id,
            job=JobSpec(job=f"helper {n}", places=1),
            now=clock(),
        )
    with pytest.raises(TooManyJobs):
        await session_jobs.add_job(
            db,
            actor_telegram_id=RACHEL,
            session_id=tuesday.session_id,
            job=JobSpec(job="one more", places=1),
            now=clock(),
        )

    server = _job(tuesday, "server")
    await _book(db, clock, server, a)
    with pytest.raises(JobInUse) as in_use:
        await session_jobs.remove_job(db, actor_telegram_id=RACHEL, job_id=server, now=clock())
    assert [h.name for h in in_use.value.people] == [f"Person {a}"]
    washer = _job(view, "washer")
    assert (
        await session_jobs.remove_job(db, actor_telegram_id=RACHEL, job_id=washer, now=clock())
        == "washer"
    )
    assert [e.details["job"] for e in await audit.recent(db, action="session.job_removed")] == [
        "washer"
    ]
    assert len(await audit.recent(db, action="session.job_added")) == 5

    # Down to one job: it stays.
    view = await rota.session_view(db, tuesday.session_id)
    assert view is not None
    await rota.cancel(
        db,
        telegram_id=a,
        booking_id=(await rota.my_bookings(db, telegram_id=a, now=clock()))[0].booking_id,
        now=clock(),
        offer_window=OFFER,
    )
    for job in view.jobs[1:]:
        await session_jobs.remove_job(db, actor_telegram_id=RACHEL, job_id=job.job_id, now=clock())
    with pytest.raises(LastJob):
        await session_jobs.remove_job(
            db, actor_telegram_id=RACHEL, job_id=view.jobs[0].job_id, now=clock()
        )


async def test_only_sessions_to_come_change_and_only_by_their_coordinators(
    db: Database, clock: Clock
) -> None:
    tuesday = await _week(db, clock)
    server = _job(tuesday, "server")
    await _people(db, clock, PRIYA)
    riverside = await locations.create(db, actor_telegram_id=RACHEL, name="Riverside", now=clock())
    await promote_to_coordinator(
        db, clock(), PRIYA, by=RACHEL, scope=frozenset({riverside.location_id})
    )
    with pytest.raises(OutOfScope):
        await session_jobs.set_places(
            db,
            actor_telegram_id=PRIYA,
            job_id=server,
            places=5,
            move_to_waitlist=False,
            now=clock(),
            offer_window=OFFER,
        )
    with pytest.raises(ValueError, match="1 to 50"):
        await _places(db, clock, server, 0)
    clock.now = tuesday.starts_at
    with pytest.raises(Closed):
        await _places(db, clock, server, 5)
    with pytest.raises(Closed):
        await session_jobs.remove_job(db, actor_telegram_id=RACHEL, job_id=server, now=clock())
