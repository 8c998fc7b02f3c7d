"""The site day's rules for the figures, against real SQLite and PostgreSQL: counts that need
confirming, sessions that did not run, lunches that were never planned, and early marks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from storage import audit, locations, people, rota, siteday
from storage.db import Database
from storage.errors import Clash, Closed, OutOfScope
from storage.locations import Field
from storage.models import BookingStatus
from storage.siteday import (
    CannotMarkNotRun,
    CannotRecordUnplanned,
    CountDoubt,
    Doubtful,
    NotRunRefused,
    UnplannedRefused,
    doubts_about,
)
from tests.storage.test_rota import LONDON, RACHEL, _week
from tests.support import Clock, promote_to_coordinator

PRIYA, SAM = 1002, 3001
AFTER_LUNCH = datetime(2026, 7, 28, 12, 45, tzinfo=UTC)  # Tuesday 13:45 in London
SATURDAY = datetime(2026, 8, 1, 13, 0, tzinfo=UTC)  # 14:00 in London


def test_the_thresholds_question_typos_and_let_busy_days_through() -> None:
    assert doubts_about(5000, 3, 40) == (
        CountDoubt.MEALS_PER_CHILD,
        CountDoubt.MEALS_OVER_CAPACITY,
    )
    assert doubts_about(38, 31, 40) == ()
    assert doubts_about(60, 45, 40) == ()  # a busy day, over capacity but not by far
    assert doubts_about(95, 90, 40) == (CountDoubt.CHILDREN_OVER_CAPACITY,)
    assert doubts_about(101, 80, 40) == (CountDoubt.MEALS_OVER_CAPACITY,)
    assert doubts_about(95, 90, 0) == ()  # no capacity set: only the meals a child
    assert doubts_about(20, 0, 0) == ()  # volunteers' lunches, no child came
    assert doubts_about(21, 0, 0) == (CountDoubt.MEALS_PER_CHILD,)


async def _capacity(db: Database, clock: Clock, location_id: int, children: int) -> None:
    await locations.update_field(
        db,
        actor_telegram_id=RACHEL,
        location_id=location_id,
        field=Field.CAPACITY,
        value=children,
        now=clock(),
    )


async def test_counts_far_from_the_site_are_saved_only_when_sure(
    db: Database, clock: Clock
) -> None:
    tuesday = await _week(db, clock)
    await _capacity(db, clock, tuesday.location_id, 40)
    clock.now = AFTER_LUNCH
    with pytest.raises(Doubtful) as doubted:
        await siteday.record_counts(
            db,
            actor_telegram_id=RACHEL,
            session_id=tuesday.session_id,
            meals=5000,
            children=3,
            now=clock(),
            sure=False,
        )
    assert doubted.value.doubts.capacity == 40
    unchanged = await rota.session_view(db, tuesday.session_id)
    assert unchanged is not None and unchanged.meals_served is None
    saved = await siteday.record_counts(
        db,
        actor_telegram_id=RACHEL,
        session_id=tuesday.session_id,
        meals=5000,
        children=3,
        now=clock(),
        sure=True,
    )
    assert (saved.meals_served, saved.children_attended) == (5000, 3)


async def test_a_session_that_did_not_run(db: Database, clock: Clock) -> None:
    tuesday = await _week(db, clock)
    clock.now = datetime(2026, 7, 28, 9, 0, tzinfo=UTC)  # before lunch
    with pytest.raises(CannotMarkNotRun) as early:
        await siteday.mark_not_run(
            db,
            actor_telegram_id=RACHEL,
            session_id=tuesday.session_id,
            reason="Closed",
            typed=False,
            now=clock(),
        )
    assert early.value.why is NotRunRefused.NOT_BEGUN
    clock.now = AFTER_LUNCH
    await rota.record_counts(
        db,
        actor_telegram_id=RACHEL,
        session_id=tuesday.session_id,
        meals=3,
        children=0,
        now=clock(),
    )
    with pytest.raises(CannotMarkNotRun) as counted:
        await siteday.mark_not_run(
            db,
            actor_telegram_id=RACHEL,
            session_id=tuesday.session_id,
            reason="Closed",
            typed=False,
            now=clock(),
        )
    assert counted.value.why is NotRunRefused.COUNTED
    await rota.record_counts(
        db,
        actor_telegram_id=RACHEL,
        session_id=tuesday.session_id,
        meals=0,
        children=0,
        now=clock(),
    )
    with pytest.raises(ValueError, match="reason"):
        await siteday.mark_not_run(
            db,
            actor_telegram_id=RACHEL,
            session_id=tuesday.session_id,
            reason=" \x07 ",
            typed=True,
            now=clock(),
        )
    view = await siteday.mark_not_run(
        db,
        actor_telegram_id=RACHEL,
        session_id=tuesday.session_id,
        reason="The hall\nwas flooded",
        typed=True,
        now=clock(),
    )
    assert view.not_run_reason == "The hall was flooded"
    assert (view.meals_served, view.children_attended) == (None, None)
    again = await siteday.mark_not_run(  # a double tap: one audit row
        db,
        actor_telegram_id=RACHEL,
        session_id=tuesday.session_id,
        reason="The hall was flooded",
        typed=True,
        now=clock(),
    )
    assert again == view
    assert len(await audit.recent(db, action="session.not_run")) == 1
    # Counts after all: it ran.
    ran = await rota.record_counts(
        db,
        actor_telegram_id=RACHEL,
        session_id=tuesday.session_id,
        meals=12,
        children=10,
        now=clock(),
    )
    assert ran.not_run_reason is None and ran.meals_served == 12


async def test_an_unplanned_lunch_today_or_last_week_only(db: Database, clock: Clock) -> None:
    tuesday = await _week(db, clock)
    other = await locations.create(db, actor_telegram_id=RACHEL, name="Riverside", now=clock())
    await people.register(
        db, telegram_id=PRIYA, name="Priya", now=clock(), coordinator_ids=frozenset()
    )
    await promote_to_coordinator(
        db, clock(), PRIYA, by=RACHEL, scope=frozenset({tuesday.location_id})
    )
    clock.now = SATURDAY

    async def record(day: date, start: time, end: time, *, who: int = PRIYA) -> rota.SessionView:
        return await siteday.record_unplanned(
            db,
            actor_telegram_id=who,
            location_id=tuesday.location_id if who == PRIYA else other.location_id,
            day=day,
            start=start,
            end=end,
            meals=25,
            children=21,
            tz=LONDON,
            now=clock(),
            sure=False,
        )

    saturday = date(2026, 8, 1)
    made = await record(saturday, time(12), time(13, 30))
    assert made.jobs == () and made.meals_served == 25
    assert made.starts_at == datetime(2026, 8, 1, 11, 0, tzinfo=UTC)
    for day, start, end, why in (
        (date(2026, 7, 24), time(12), time(13), UnplannedRefused.TOO_OLD),
        (saturday, time(15), time(16), UnplannedRefused.NOT_YET),
        (date(2026, 8, 2), time(12), time(13), UnplannedRefused.NOT_YET),
        (saturday, time(13), time(12), UnplannedRefused.BACKWARDS),
    ):
        with pytest.raises(CannotRecordUnplanned) as refused:
            await record(day, start, end)
        assert refused.value.why is why
    with pytest.raises(Clash):  # overlaps the one just recorded
        await record(saturday, time(13), time(14))
    with pytest.raises(Clash):  # overlaps Tuesday's planned session
        await record(date(2026, 7, 28), time(12), time(13))
    with pytest.raises(OutOfScope):
        await siteday.record_unplanned(
            db,
            actor_telegram_id=PRIYA,
            location_id=other.location_id,
            day=saturday,
            start=time(12),
            end=time(13),
            meals=1,
            children=1,
            tz=LONDON,
            now=clock(),
            sure=True,
        )
    week_ago = await record(date(2026, 7, 25), time(12), time(13))
    assert week_ago.meals_served == 25
    recorded = await audit.recent(db, action="session.unplanned")
    assert [r.details["day"] for r in recorded] == ["2026-07-25", "2026-08-01"]


async def test_attendance_opens_two_hours_before_and_can_be_cleared(
    db: Database, clock: Clock
) -> None:
    tuesday = await _week(db, clock)
    await people.register(
        db, telegram_id=SAM, name="Sam", now=clock(), coordinator_ids=frozenset({RACHEL})
    )
    booked = await rota.book(
        db, telegram_id=SAM, job_id=tuesday.jobs[1].job_id, now=clock(), waitlist=False
    )
    assert booked.booking is not None
    booking_id = booked.booking.booking_id

    async def mark(attended: bool | None) -> BookingStatus:
        _, status = await rota.mark_attendance(
            db, actor_telegram_id=RACHEL, booking_id=booking_id, attended=attended, now=clock()
        )
        return status

    clock.now = datetime(2026, 7, 28, 8, 29, tzinfo=UTC)  # 09:29: too early
    with pytest.raises(Closed):
        await mark(True)
    clock.now = datetime(2026, 7, 28, 8, 30, tzinfo=UTC)  # 09:30, two hours before 11:30
    assert await mark(True) is BookingStatus.ATTENDED
    assert await mark(None) is BookingStatus.BOOKED
    assert await mark(None) is BookingStatus.BOOKED  # again: nothing more recorded
    marks = await audit.recent(db, action="attendance.marked")
    assert [m.details["now"] for m in reversed(marks)] == ["attended", "booked"]
