"""Reminder times, quiet hours and the planner, against real SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage import locations, outbox, people, rota, schedule
from storage.db import Database
from storage.models import NoticeStatus
from storage.rota import JobSpec, SessionPlan
from storage.schedule import Policy, reminder_due
from tests.support import Clock

LONDON = ZoneInfo("Europe/London")
POLICY = Policy(tz=LONDON)
RACHEL, SAM = 1001, 3001


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)  # type: ignore[misc]


def test_a_day_before_keeps_the_time_of_day_across_both_clock_changes() -> None:
    # Sunday 29 March 2026: the clocks go forward. A Sunday 09:00 lunch, reminded on Saturday.
    assert reminder_due(local(2026, 3, 29, 9, 0), 24, POLICY) == local(2026, 3, 28, 9, 0)
    # Monday after: the Sunday reminder is at 09:00 BST, 08:00 UTC.
    assert reminder_due(local(2026, 3, 30, 9, 0), 24, POLICY) == datetime(
        2026, 3, 29, 8, 0, tzinfo=UTC
    )
    # Sunday 25 October 2026: the clocks go back.
    assert reminder_due(local(2026, 10, 25, 11, 30), 24, POLICY) == local(2026, 10, 24, 11, 30)
    # Hours are hours: two hours before 11:30 on the change day is 09:30.
    assert reminder_due(local(2026, 10, 25, 11, 30), 2, POLICY) == local(2026, 10, 25, 9, 30)


def test_quiet_hours_defer_what_can_wait_and_bring_forward_what_cannot() -> None:
    # A 10:00 lunch: the 2-hour reminder (08:00) is outside quiet hours.
    assert reminder_due(local(2026, 7, 28, 10, 0), 2, POLICY) == local(2026, 7, 28, 8, 0)
    # A 09:30 lunch: 07:30 is quiet; 08:00 is still before the lunch: it waits till then.
    assert reminder_due(local(2026, 7, 28, 9, 30), 2, POLICY) == local(2026, 7, 28, 8, 0)
    # A 07:30 breakfast club: waiting till 08:00 is too late; it comes the evening before.
    assert reminder_due(local(2026, 7, 28, 7, 30), 2, POLICY) == local(2026, 7, 27, 20, 59)
    # A 22:30 session, reminded a day before at 22:30: deferred to the next morning.
    assert reminder_due(local(2026, 7, 28, 22, 30), 24, POLICY) == local(2026, 7, 28, 8, 0)
    none = Policy(tz=LONDON, quiet_start=time(0), quiet_end=time(0))
    assert reminder_due(local(2026, 7, 28, 7, 30), 2, none) == local(2026, 7, 28, 5, 30)


async def _booked_sam(db: Database, clock: Clock) -> rota.SessionView:
    for telegram_id, name in ((RACHEL, "Rachel"), (SAM, "Sam")):
        await people.register(
            db, telegram_id=telegram_id, name=name, now=clock(), coordinator_ids=frozenset({RACHEL})
        )
    location = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=clock())
    plan = SessionPlan(
        location_id=location.location_id,
        first_day=date(2026, 7, 28),
        last_day=date(2026, 7, 28),
        weekdays=frozenset({1}),
        start=time(11, 30),
        end=time(13, 30),
        jobs=(JobSpec(job="server", places=2),),
    )
    await rota.create_sessions(db, actor_telegram_id=RACHEL, plan=plan, tz=LONDON, now=clock())
    view = (await rota.upcoming(db, telegram_id=SAM, now=clock(), offset=0, limit=1)).sessions[0]
    await rota.book(db, telegram_id=SAM, job_id=view.jobs[0].job_id, now=clock(), waitlist=False)
    return view


async def test_the_planner_queues_each_reminder_and_alert_once(db: Database, clock: Clock) -> None:
    await _booked_sam(db, clock)
    policy = Policy(tz=LONDON, morning_at=time(23, 0))  # no morning list in this test

    async def kinds(at: datetime) -> list[tuple[str, int]]:
        assert await schedule.plan(db, now=at, policy=policy) >= 0
        due = await outbox.claim_due(db, now=at + timedelta(hours=2), limit=10, by="test")
        for notice in due:
            await outbox.finish(db, notice.notice_id, NoticeStatus.SENT, now=at)
        return sorted((n.kind, n.chat_id) for n in due)

    # Two days ahead: the gap is reported (one summary for Rachel); no reminder is near yet.
    assert await kinds(local(2026, 7, 26, 12, 0)) == [("unfilled", RACHEL)]
    assert await schedule.plan(db, now=local(2026, 7, 26, 12, 1), policy=policy) == 0
    # An hour before the day-before reminder, it becomes a row, once.
    assert await kinds(local(2026, 7, 27, 10, 30)) == [("reminder", SAM), ("unfilled", RACHEL)]
    assert await schedule.plan(db, now=local(2026, 7, 27, 10, 31), policy=policy) == 0
    assert await kinds(local(2026, 7, 28, 8, 30)) == [("reminder", SAM), ("unfilled", RACHEL)]
    # On the day, from the morning list's time, the coordinators' list joins in.
    morning = Policy(tz=LONDON, morning_at=time(8, 0))
    assert await schedule.plan(db, now=local(2026, 7, 28, 8, 31), policy=morning) == 1


async def test_a_booking_made_after_its_reminder_time_gets_no_late_nag(
    db: Database, clock: Clock
) -> None:
    clock.now = local(2026, 7, 28, 10, 0)  # booked 90 minutes before: no 2 h or 24 h reminder
    await _booked_sam(db, clock)
    await schedule.plan(db, now=clock(), policy=Policy(tz=LONDON, morning_at=time(23, 0)))
    counts = await outbox.counts(db)
    assert counts == {NoticeStatus.PENDING: 1}  # the unfilled alert to Rachel only
    due = await outbox.claim_due(db, now=clock() + timedelta(hours=1), limit=10, by="test")
    assert [n.kind for n in due] == ["unfilled"]


def test_an_offer_window_counts_waking_hours_and_ends_by_the_start() -> None:
    window = schedule.OfferWindow(length=timedelta(hours=2), quiet=POLICY)
    lunch = local(2026, 7, 28, 11, 30)
    # In the afternoon: two hours, as always.
    assert window.deadline(local(2026, 7, 27, 15, 0), lunch) == local(2026, 7, 27, 17, 0)
    # Ending exactly as the quiet hours begin is still awake.
    assert window.deadline(local(2026, 7, 27, 19, 0), lunch) == local(2026, 7, 27, 21, 0)
    # It would run into the night: the whole window runs from the morning instead.
    assert window.deadline(local(2026, 7, 27, 20, 0), lunch) == local(2026, 7, 28, 10, 0)
    # Made in the night, before or after midnight: from the morning.
    assert window.deadline(local(2026, 7, 27, 22, 30), lunch) == local(2026, 7, 28, 10, 0)
    assert window.deadline(local(2026, 7, 28, 3, 0), lunch) == local(2026, 7, 28, 10, 0)
    # Never past the start, even if the waking window is then short (or none).
    assert window.deadline(local(2026, 7, 28, 3, 0), local(2026, 7, 28, 9, 0)) == local(
        2026, 7, 28, 9, 0
    )
    assert window.deadline(local(2026, 7, 28, 3, 0), local(2026, 7, 28, 7, 0)) == local(
        2026, 7, 28, 7, 0
    )
    # The night the clocks go back is an hour longer; the morning is still 08:00 local.
    assert window.deadline(local(2026, 10, 24, 23, 0), local(2026, 10, 26, 11, 30)) == local(
        2026, 10, 25, 10, 0
    )
    # No quiet hours configured, or none given: plain hours.
    none = Policy(tz=LONDON, quiet_start=time(0), quiet_end=time(0))
    plain = schedule.OfferWindow(length=timedelta(hours=2), quiet=none)
    assert plain.deadline(local(2026, 7, 27, 22, 30), lunch) == local(2026, 7, 28, 0, 30)
    bare = schedule.OfferWindow(length=timedelta(hours=2))
    assert bare.deadline(local(2026, 7, 27, 22, 30), lunch) == local(2026, 7, 28, 0, 30)
