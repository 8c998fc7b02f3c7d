"""Milestones and digests are planned once each, against real SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage import celebrations, locations, people, rota
from storage.celebrations import CelebrationPolicy
from storage.db import Database
from storage.models import Milestone, Notice
from storage.rota import JobSpec, SessionPlan
from tests.support import Clock

LONDON = ZoneInfo("Europe/London")
RACHEL, SAM = 1001, 3001
GROUP = -100500
POLICY = CelebrationPolicy(
    chats=(GROUP,), meals=(50, 100, 150), children=(500,), shifts=(2,), personal=(1, 2)
)


def test_the_digest_due_is_the_latest_friday_at_four_in_programme_time() -> None:
    policy = CelebrationPolicy()  # Friday 16:00
    friday = datetime(2026, 7, 31, 15, 0, tzinfo=UTC)  # 16:00 in London (summer time)
    due = celebrations.digest_due(friday, policy, LONDON)
    assert (due.start, due.end, due.sent_at) == (date(2026, 7, 25), date(2026, 7, 31), friday)
    assert due.since == datetime(2026, 7, 24, 15, 0, tzinfo=UTC)  # the previous digest's
    coming = celebrations.digest_next(friday, policy, LONDON)  # due now: the next is a week on
    assert (coming.since, coming.end) == (friday, date(2026, 8, 7))
    just_before = celebrations.digest_due(datetime(2026, 7, 31, 14, 59, tzinfo=UTC), policy, LONDON)
    assert just_before.end == date(2026, 7, 24)
    sunday = celebrations.digest_due(datetime(2026, 8, 2, 9, 0, tzinfo=UTC), policy, LONDON)
    assert sunday.end == date(2026, 7, 31)
    winter = celebrations.digest_due(datetime(2026, 12, 4, 16, 0, tzinfo=UTC), policy, LONDON)
    assert winter.sent_at == datetime(2026, 12, 4, 16, 0, tzinfo=UTC)  # GMT: 16:00 is 16:00 UTC
    # The week the clocks go back: the previous digest was at 15:00 UTC, this one at 16:00.
    autumn = celebrations.digest_due(datetime(2026, 10, 30, 16, 0, tzinfo=UTC), policy, LONDON)
    assert autumn.since == datetime(2026, 10, 23, 15, 0, tzinfo=UTC)


async def _notices(db: Database) -> list[tuple[str, int, dict[str, object]]]:
    async with db.read() as session:
        rows = (await session.scalars(select(Notice).order_by(Notice.id))).all()
        return [(row.kind, row.chat_id, dict(row.payload)) for row in rows]


def _booking_id(outcome: rota.BookOutcome) -> int:
    assert outcome.booking is not None
    return outcome.booking.booking_id


async def _plan(db: Database, clock: Clock) -> int:
    return await celebrations.plan(db, now=clock(), policy=POLICY, tz=LONDON)


async def _meals(db: Database, clock: Clock, session_id: int, meals: int) -> None:
    """Rachel records `meals` served (to 40 children) at a session."""
    await rota.record_counts(
        db, actor_telegram_id=RACHEL, session_id=session_id, meals=meals, children=40, now=clock()
    )


async def _attended(db: Database, clock: Clock, outcome: rota.BookOutcome) -> None:
    """Rachel marks the volunteer of a booking as having come."""
    await rota.mark_attendance(
        db, actor_telegram_id=RACHEL, booking_id=_booking_id(outcome), attended=True, now=clock()
    )


async def test_a_milestone_is_celebrated_once_and_only_the_highest_of_several(
    db: Database, clock: Clock
) -> None:
    for telegram_id in (RACHEL, SAM):
        await people.register(
            db,
            telegram_id=telegram_id,
            name="Sam" if telegram_id == SAM else "Rachel",
            now=clock(),
            coordinator_ids=frozenset({RACHEL}),
        )
    where = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=clock())
    await rota.create_sessions(
        db,
        actor_telegram_id=RACHEL,
        plan=SessionPlan(
            location_id=where.location_id,
            first_day=date(2026, 7, 27),
            last_day=date(2026, 7, 28),
            weekdays=frozenset({0, 1}),
            start=time(11, 30),
            end=time(13, 30),
            jobs=(JobSpec(job="server", places=3),),
        ),
        tz=LONDON,
        now=clock(),
    )
    page = await rota.upcoming(db, telegram_id=RACHEL, now=clock(), offset=0, limit=10)
    monday, tuesday = page.sessions
    bookings = [
        await rota.book(
            db, telegram_id=SAM, job_id=view.jobs[0].job_id, now=clock(), waitlist=False
        )
        for view in (monday, tuesday)
    ]
    assert await _plan(db, clock) == 0  # nothing served yet

    clock.now = datetime(2026, 7, 27, 13, 0, tzinfo=UTC)
    await _meals(db, clock, monday.session_id, 60)
    await _attended(db, clock, bookings[0])
    assert await _plan(db, clock) == 2
    assert await _plan(db, clock) == 0  # planned again: nothing twice
    sam = await people.profile(db, SAM)
    assert sam is not None
    assert await _notices(db) == [
        ("milestone", GROUP, {"what": "meals", "value": 50}),
        ("milestone_personal", SAM, {"sessions": 1}),
    ]

    # Tuesday passes 100 and 150 at once: one celebration, of 150; both are recorded.
    clock.now = datetime(2026, 7, 28, 13, 0, tzinfo=UTC)
    await _meals(db, clock, tuesday.session_id, 100)
    await _attended(db, clock, bookings[1])
    assert await _plan(db, clock) == 3
    assert (await _notices(db))[2:] == [
        ("milestone", GROUP, {"what": "meals", "value": 150}),
        ("milestone", GROUP, {"what": "shifts", "value": 2}),
        ("milestone_personal", SAM, {"sessions": 2}),
    ]
    async with db.read() as session:
        keys = set((await session.scalars(select(Milestone.key))).all())
    assert {"meals:50", "meals:100", "meals:150", "shifts:2"} <= keys

    # A correction down and up again celebrates nothing a second time.
    await _meals(db, clock, tuesday.session_id, 10)
    assert await _plan(db, clock) == 0
    await _meals(db, clock, tuesday.session_id, 100)
    assert await _plan(db, clock) == 0


async def test_the_digest_is_planned_once_a_week_for_the_chats_and_the_coordinators(
    db: Database, clock: Clock
) -> None:
    await people.register(
        db, telegram_id=RACHEL, name="Rachel", now=clock(), coordinator_ids=frozenset({RACHEL})
    )
    clock.now = datetime(2026, 7, 31, 14, 59, tzinfo=UTC)
    assert await _plan(db, clock) == 0  # a minute early (and last week's is long past)
    clock.advance(minutes=1)
    assert await _plan(db, clock) == 2
    clock.advance(hours=3)
    assert await _plan(db, clock) == 0
    digest = {
        "start": "2026-07-25",
        "end": "2026-07-31",
        "since": "2026-07-24T15:00:00+00:00",
        "until": "2026-07-31T15:00:00+00:00",
    }
    assert await _notices(db) == [("digest", GROUP, digest), ("digest", RACHEL, digest)]
    # Down all Friday evening: Saturday morning still sends it; Sunday is too late.
    clock.now = datetime(2026, 8, 8, 9, 0, tzinfo=UTC)
    assert await _plan(db, clock) == 2
    clock.now = datetime(2026, 8, 16, 9, 0, tzinfo=UTC)
    assert await _plan(db, clock) == 0


async def test_shifts_and_a_volunteers_sessions_count_only_once_lunch_is_over(
    db: Database, clock: Clock
) -> None:
    """Attendance can be marked before lunch begins (the cooks come early): the shift is not
    worked yet, so neither the programme's shifts nor Sam's own sessions count it until the
    session has ended."""
    for telegram_id, name in ((RACHEL, "Rachel"), (SAM, "Sam")):
        await people.register(
            db, telegram_id=telegram_id, name=name, now=clock(), coordinator_ids=frozenset({RACHEL})
        )
    where = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=clock())
    await rota.create_sessions(
        db,
        actor_telegram_id=RACHEL,
        plan=SessionPlan(
            location_id=where.location_id,
            first_day=date(2026, 7, 27),
            last_day=date(2026, 7, 28),
            weekdays=frozenset({0, 1}),
            start=time(11, 30),
            end=time(13, 30),
            jobs=(JobSpec(job="cook", places=3),),
        ),
        tz=LONDON,
        now=clock(),
    )
    page = await rota.upcoming(db, telegram_id=RACHEL, now=clock(), offset=0, limit=10)
    bookings = [
        await rota.book(
            db, telegram_id=SAM, job_id=view.jobs[0].job_id, now=clock(), waitlist=False
        )
        for view in page.sessions
    ]
    clock.now = datetime(2026, 7, 27, 9, 30, tzinfo=UTC)  # Monday 10:30 in London: cooks arrive
    await _attended(db, clock, bookings[0])
    assert await _plan(db, clock) == 0
    clock.now = datetime(2026, 7, 27, 12, 0, tzinfo=UTC)  # 13:00: lunch is still going
    assert await _plan(db, clock) == 0
    clock.now = datetime(2026, 7, 27, 12, 30, tzinfo=UTC)  # 13:30: lunch is over
    assert await _plan(db, clock) == 1
    assert await _notices(db) == [("milestone_personal", SAM, {"sessions": 1})]

    clock.now = datetime(2026, 7, 28, 11, 0, tzinfo=UTC)  # Tuesday, mid-lunch
    await _attended(db, clock, bookings[1])
    assert await _plan(db, clock) == 0  # neither 2 shifts nor Sam's second session yet
    clock.now = datetime(2026, 7, 28, 12, 30, tzinfo=UTC)
    assert await _plan(db, clock) == 2
    assert (await _notices(db))[1:] == [
        ("milestone", GROUP, {"what": "shifts", "value": 2}),
        ("milestone_personal", SAM, {"sessions": 2}),
    ]
