"""The impact report against real SQLite and PostgreSQL: every figure equals the raw records,
checked against totals worked out by hand for a small summer with every awkward case in it."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from storage import audit, impact, locations, people, referrals, rota, siteday
from storage.crypto import Cipher, new_key
from storage.db import Database
from storage.errors import NotFound, OutOfScope, PermissionDenied
from storage.impact import Figures, PeriodProblem, period_problem
from storage.models import (
    Booking,
    BookingStatus,
    FamilyAttendance,
    LunchSession,
    Referral,
    ReferralStatus,
    Role,
)
from storage.referrals import Decision, ReferralForm
from storage.rota import JobSpec, SessionPlan, SessionView
from tests.support import Clock, promote_to_coordinator, register_by_invite

LONDON = ZoneInfo("Europe/London")
RACHEL, PRIYA, OKAFOR, SAM, ANN, BEN = 1001, 1002, 2001, 3001, 3002, 3003
CIPHER = Cipher([new_key()])
FIRST, LAST = date(2026, 7, 27), date(2026, 8, 28)  # Rachel's period: the summer holiday
SEPTEMBER = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)  # when she runs the report
SERVER = (JobSpec(job="server", places=5),)
NOBODY = dict.fromkeys(ReferralStatus, 0)


@dataclass(frozen=True)
class Summer:
    st_marks: int
    riverside: int
    ashford: int


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


async def _session(
    db: Database, clock: Clock, location_id: int, day: date, start: time, end: time
) -> SessionView:
    """One session on a day (programme time), made through the planner."""
    plan = SessionPlan(
        location_id=location_id,
        first_day=day,
        last_day=day,
        weekdays=frozenset({day.weekday()}),
        start=start,
        end=end,
        jobs=SERVER,
    )
    made = await rota.create_sessions(
        db, actor_telegram_id=RACHEL, plan=plan, tz=LONDON, now=clock()
    )
    assert made.created == 1
    on_the_day = await rota.sessions_on(
        db, actor_telegram_id=RACHEL, location_id=location_id, day=day, tz=LONDON
    )
    return next(
        s.session for s in on_the_day if s.session.starts_at.astimezone(LONDON).time() == start
    )


async def _book(db: Database, clock: Clock, who: int, view: SessionView) -> int:
    booked = await rota.book(
        db, telegram_id=who, job_id=view.jobs[0].job_id, now=clock(), waitlist=False
    )
    assert booked.booking is not None, booked
    return booked.booking.booking_id


async def _people(db: Database, clock: Clock) -> None:
    for telegram_id, name in ((RACHEL, "Rachel"), (SAM, "Sam"), (ANN, "Ann"), (BEN, "Ben")):
        await people.register(
            db, telegram_id=telegram_id, name=name, now=clock(), coordinator_ids=frozenset({RACHEL})
        )
    await register_by_invite(
        db,
        clock(),
        telegram_id=OKAFOR,
        name="Mr Okafor",
        role=Role.SCHOOL_CONTACT,
        by=RACHEL,
        school_name="Hillside Primary",
    )


async def _site_lead(db: Database, clock: Clock, location_id: int) -> None:
    """Priya joins as a coordinator and leads Riverside only."""
    await people.register(
        db, telegram_id=PRIYA, name="Priya", now=clock(), coordinator_ids=frozenset()
    )
    await promote_to_coordinator(db, clock(), PRIYA, by=RACHEL, scope=frozenset({location_id}))


async def _refer(db: Database, clock: Clock, at: datetime, reference: str) -> int:
    clock.now = at
    form = ReferralForm(
        reference=reference,
        children=1,
        age_bands=("Year 3",),
        needs=None,
        note=None,
        preferred_location_ids=(),
        first_day=date(2026, 7, 20),
        last_day=date(2026, 8, 28),
        weekdays=(1, 3),
        consent=True,
    )
    sent = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form, now=clock(), daily_limit=20
    )
    return sent.referral_id


async def _place(
    db: Database, clock: Clock, referral_id: int, location_id: int, first: date, last: date
) -> None:
    """A placement of the summer (Tuesdays and Thursdays), written as the records it left: the
    report is made in September, when placing needs lunches still to come."""
    async with db.transaction() as session:
        await session.execute(
            update(Referral)
            .where(Referral.id == referral_id)
            .values(
                status=ReferralStatus.PLACED,
                location_id=location_id,
                placed_from=first,
                placed_to=last,
                placed_weekdays=[1, 3],
                version=Referral.version + 1,
                decided_at=clock(),
            )
        )


async def _came(db: Database, clock: Clock, referral_id: int, day: date, came: bool = True) -> None:
    """A family marked on the register that day (as the register's tap records it)."""
    async with db.transaction() as session:
        session.add(
            FamilyAttendance(referral_id=referral_id, day=day, attended=came, recorded_at=clock())
        )


async def _summer(db: Database, clock: Clock) -> Summer:
    """The records of the summer, with the lines of the hand count beside them.

    St Mark's, in the period: 4 sessions run (with counts), 2 without counts (one with only a
    no-show marked, which did not run, and one with a booking never marked), one that did not
    run (with a reason: in no figure), one recorded as 0 meals and 0 children with nobody
    marked as came (neither run nor without counts), 75 meals, 57 children,
    4 shifts (450 minutes), 1 family, 1 referral received (placed). Riverside: 2 sessions run
    (1 with counts, 1 with only attendance marked), 2 without counts (that one, and one where
    nothing was recorded), 30 meals, 28 children, 3 shifts (180 minutes), 1 family, 1 referral
    received (placed). Ashford: nothing in the period. Beyond the locations: 1 family whose
    referral lost its location, and 4 referrals received that are not placed (2 submitted,
    1 waitlisted, 1 declined)."""
    await _people(db, clock)
    made = [
        (await locations.create(db, actor_telegram_id=RACHEL, name=name, now=clock())).location_id
        for name in ("St Mark's", "Riverside", "Ashford")
    ]
    st_marks, riverside, ashford = made
    await _site_lead(db, clock, riverside)

    # St Mark's. Times are London's (BST, UTC+1).
    first_day_early = await _session(  # Mon 27 Jul 00:15 BST = Sun 26 Jul 23:15 UTC: in
        db, clock, st_marks, date(2026, 7, 27), time(0, 15), time(1, 0)
    )
    tuesday = await _session(db, clock, st_marks, date(2026, 7, 28), time(11, 30), time(13, 30))
    thursday = await _session(db, clock, st_marks, date(2026, 7, 30), time(11, 30), time(14, 0))
    last_day_early = await _session(  # Fri 28 Aug 00:30 BST = Thu 27 Aug 23:30 UTC: in
        db, clock, st_marks, date(2026, 8, 28), time(0, 30), time(1, 30)
    )
    day_after = await _session(  # Sat 29 Aug 00:30 BST = Fri 28 Aug 23:30 UTC: out
        db, clock, st_marks, date(2026, 8, 29), time(0, 30), time(2, 0)
    )
    week_before = await _session(db, clock, st_marks, date(2026, 7, 20), time(11, 30), time(13, 30))
    # Only a no-show marked, no counts: it did not run, and it lacks its counts.
    no_show_only = await _session(db, clock, st_marks, date(2026, 8, 3), time(11, 30), time(13, 30))
    # Marked as did not run (its volunteer a no-show): in no figure, and no counts asked for.
    not_run = await _session(db, clock, st_marks, date(2026, 8, 6), time(11, 30), time(13, 30))
    # Counted as 0 meals and 0 children, nobody marked as came: nothing happened.
    zeros = await _session(db, clock, st_marks, date(2026, 8, 7), time(11, 30), time(13, 30))
    # Booked, but neither attendance nor counts recorded: no evidence it ran.
    unmarked = await _session(db, clock, st_marks, date(2026, 8, 4), time(11, 30), time(13, 30))
    # Riverside.
    wednesday = await _session(db, clock, riverside, date(2026, 7, 29), time(12, 0), time(13, 0))
    cancelled = await _session(db, clock, riverside, date(2026, 8, 5), time(12, 0), time(13, 0))
    # Attendance marked, no counts: it ran, without counts.
    uncounted = await _session(db, clock, riverside, date(2026, 8, 26), time(12, 0), time(13, 0))
    # Nothing recorded at all: not run, without counts.
    await _session(db, clock, riverside, date(2026, 8, 28), time(12, 0), time(13, 0))
    # Ashford: a cancelled session in the period, one with counts after it.
    ashford_cancelled = await _session(
        db, clock, ashford, date(2026, 8, 10), time(12, 0), time(13, 0)
    )
    ashford_later = await _session(db, clock, ashford, date(2026, 9, 1), time(12, 0), time(13, 0))

    shifts = {
        (tuesday, SAM): True,
        (tuesday, ANN): True,
        (tuesday, BEN): False,  # a no-show is not a shift
        (thursday, SAM): True,
        (no_show_only, SAM): False,  # a no-show alone does not show the session ran
        (not_run, ANN): False,
        (last_day_early, ANN): True,
        (day_after, SAM): True,  # out of the period
        (week_before, SAM): True,  # out of the period
        (wednesday, BEN): True,
        (wednesday, ANN): True,
        (uncounted, BEN): True,
        (ashford_later, ANN): True,  # out of the period
    }
    bookings = {key: await _book(db, clock, key[1], key[0]) for key in shifts}
    cancelled_booking = await _book(db, clock, SAM, cancelled)
    await _book(db, clock, ANN, unmarked)  # never marked: not evidence
    await rota.cancel_session(
        db, actor_telegram_id=RACHEL, session_id=cancelled.session_id, now=clock()
    )
    await rota.cancel_session(
        db, actor_telegram_id=RACHEL, session_id=ashford_cancelled.session_id, now=clock()
    )

    # Referrals, received at awkward times.
    before = SEPTEMBER.replace(month=7, day=1)
    came_before = await _refer(db, clock, before, "HS-001")  # placed at St Mark's, came
    outside = await _refer(db, clock, before, "HS-002")  # came only before the period
    moved = await _refer(db, clock, before, "HS-003")  # came, then waitlisted: no location
    await _refer(db, clock, utc(date(2026, 7, 26), 23, 30), "HS-004")  # 27 Jul 00:30 BST: in
    no_show = await _refer(db, clock, utc(date(2026, 7, 27), 8), "HS-005")  # placed, never came
    riverside_family = await _refer(db, clock, utc(date(2026, 7, 28), 8), "HS-006")
    waitlisted = await _refer(db, clock, utc(date(2026, 7, 29), 8), "HS-007")
    declined = await _refer(db, clock, utc(date(2026, 7, 30), 8), "HS-008")
    await _refer(db, clock, utc(date(2026, 7, 31), 8), "HS-009")  # still waiting: in
    await _refer(db, clock, utc(date(2026, 8, 28), 23, 30), "HS-010")  # 29 Aug 00:30 BST: out

    clock.now = SEPTEMBER
    for (session_view, _), came in shifts.items():
        await rota.mark_attendance(
            db,
            actor_telegram_id=RACHEL,
            booking_id=bookings[session_view, _],
            attended=came,
            now=clock(),
        )
    counts = {
        first_day_early: (3, 2),
        tuesday: (40, 30),
        thursday: (25, 20),
        last_day_early: (7, 5),
        day_after: (100, 100),  # out
        week_before: (60, 45),  # out
        wednesday: (30, 28),
        ashford_later: (80, 70),  # out
        zeros: (0, 0),
    }
    for view, (meals, children) in counts.items():
        await rota.record_counts(
            db,
            actor_telegram_id=RACHEL,
            session_id=view.session_id,
            meals=meals,
            children=children,
            now=clock(),
        )
    await siteday.mark_not_run(
        db,
        actor_telegram_id=RACHEL,
        session_id=not_run.session_id,
        reason="The hall was flooded",
        typed=True,
        now=clock(),
    )
    # Counts and a shift on a cancelled session (an old import, a hand edit): never counted.
    async with db.transaction() as session:
        await session.execute(
            update(LunchSession)
            .where(LunchSession.id == cancelled.session_id)
            .values(meals_served=90, children_attended=80)
        )
        await session.execute(
            update(Booking)
            .where(Booking.id == cancelled_booking)
            .values(status=BookingStatus.ATTENDED)
        )

    await _place(db, clock, came_before, st_marks, date(2026, 7, 28), date(2026, 8, 27))
    await _came(db, clock, came_before, date(2026, 7, 28))
    await _came(db, clock, came_before, date(2026, 7, 30))
    await _place(db, clock, outside, riverside, date(2026, 7, 21), date(2026, 7, 23))
    await _came(db, clock, outside, date(2026, 7, 21))
    await _place(db, clock, moved, riverside, date(2026, 7, 28), date(2026, 8, 27))
    await _came(db, clock, moved, date(2026, 7, 30))
    moved_on = await referrals.waitlist(
        db, telegram_id=RACHEL, referral_id=moved, version=1, now=clock()
    )
    assert moved_on.decision is Decision.DONE
    await _place(db, clock, no_show, st_marks, date(2026, 7, 28), date(2026, 8, 27))
    await _came(db, clock, no_show, date(2026, 7, 28), came=False)
    await _place(db, clock, riverside_family, riverside, date(2026, 7, 28), date(2026, 8, 27))
    await _came(db, clock, riverside_family, date(2026, 8, 4))
    await _came(db, clock, riverside_family, date(2026, 8, 6))
    await referrals.waitlist(db, telegram_id=RACHEL, referral_id=waitlisted, version=0, now=clock())
    await referrals.decline(
        db,
        CIPHER,
        telegram_id=RACHEL,
        referral_id=declined,
        version=0,
        reason="lives out of the area",
        now=clock(),
    )
    # Details purged after the retention period: the counts stay.
    assert await referrals.purge_expired(db, now=clock(), retention=timedelta(days=1)) >= 2
    return Summer(st_marks=st_marks, riverside=riverside, ashford=ashford)


ST_MARKS = Figures(
    sessions=4,
    unrecorded=2,
    meals_served=75,
    children_fed=57,
    unique_families=1,
    volunteer_shifts=4,
    volunteer_minutes=450,
    referrals=NOBODY | {ReferralStatus.PLACED: 1},
)
RIVERSIDE = Figures(
    sessions=2,
    unrecorded=2,
    meals_served=30,
    children_fed=28,
    unique_families=1,
    volunteer_shifts=3,
    volunteer_minutes=180,
    referrals=NOBODY | {ReferralStatus.PLACED: 1},
)
TOTAL = Figures(
    sessions=6,
    unrecorded=4,
    meals_served=105,
    children_fed=85,
    unique_families=3,
    volunteer_shifts=7,
    volunteer_minutes=630,
    referrals={
        ReferralStatus.SUBMITTED: 2,
        ReferralStatus.WAITLISTED: 1,
        ReferralStatus.PLACED: 2,
        ReferralStatus.DECLINED: 1,
    },
)


async def test_rachels_summer_report_equals_the_hand_count(db: Database, clock: Clock) -> None:
    summer = await _summer(db, clock)
    report = await impact.report(db, start=FIRST, end=LAST, tz=LONDON, now=SEPTEMBER)

    assert [(row.name, row.location_id) for row in report.locations] == [
        ("Riverside", summer.riverside),
        ("St Mark's", summer.st_marks),
    ]
    assert report.locations[1].figures == ST_MARKS
    assert report.locations[0].figures == RIVERSIDE
    assert report.total == TOTAL
    assert (ST_MARKS.volunteer_hours, RIVERSIDE.volunteer_hours, TOTAL.volunteer_hours) == (
        7.5,
        3.0,
        10.5,
    )
    assert report.days[0] == FIRST and report.days[-1] == LAST and len(report.days) == 33
    by_day = {
        name: {report.days[n]: meals for n, meals in enumerate(values) if meals}
        for name, values in report.meals_by_day.items()
    }
    assert list(report.meals_by_day) == ["Riverside", "St Mark's"]
    assert by_day == {
        "Riverside": {date(2026, 7, 29): 30},
        "St Mark's": {
            date(2026, 7, 27): 3,  # 23:15 UTC the day before
            date(2026, 7, 28): 40,
            date(2026, 7, 30): 25,
            date(2026, 8, 28): 7,  # 23:30 UTC the day before
        },
    }
    assert all(len(values) == 33 for values in report.meals_by_day.values())

    # Before Riverside's last session has begun, it is not a gap to fill in either.
    morning = await impact.report(
        db, start=FIRST, end=LAST, tz=LONDON, now=utc(date(2026, 8, 28), 10)
    )
    assert [row.figures.sessions for row in morning.locations] == [2, 4]
    assert [row.figures.unrecorded for row in morning.locations] == [1, 2]
    assert (morning.total.sessions, morning.total.unrecorded) == (6, 3)

    # One location: everything restricted to it, its referrals only.
    alone = await impact.report(
        db, start=FIRST, end=LAST, tz=LONDON, now=SEPTEMBER, location_id=summer.riverside
    )
    assert [row.name for row in alone.locations] == ["Riverside"]
    assert alone.total == RIVERSIDE


async def test_the_csv_has_a_row_per_location_and_a_total_that_explains_itself(
    db: Database, clock: Clock
) -> None:
    await _summer(db, clock)
    report = await impact.report(db, start=FIRST, end=LAST, tz=LONDON, now=SEPTEMBER)
    rows = list(csv.DictReader(io.StringIO(impact.to_csv(report))))
    header = impact.csv_header()

    assert [row["Location"] for row in rows] == ["Riverside", "St Mark's", "Total"]
    total = rows[-1]
    assert total["First day"] == "2026-07-27" and total["Last day"] == "2026-08-28"
    assert total["Sessions run"] == "6"
    assert total["Sessions without counts"] == "4"
    assert total["Meals served"] == "105"
    assert total["Children fed (attendances)"] == "85"
    assert total["Referred families who came"] == "3"
    assert total["Volunteer shifts"] == "7"
    assert total["Volunteer hours"] == "10.5"
    assert total["Referrals received, now waiting for a decision"] == "2"
    assert total["Referrals received, now on the waiting list"] == "1"
    assert total["Referrals received, now placed"] == "2"
    assert total["Referrals received, now not placed"] == "1"
    assert total["Referrals received"] == "6"
    assert "4 referrals received are not placed at any location" in total["Note"]
    assert "1 family came but their referral has no location now" in total["Note"]
    st_marks = rows[1]
    assert st_marks["Meals served"] == "75" and st_marks["Volunteer hours"] == "7.5"
    assert st_marks["Referrals received"] == "1" and st_marks["Note"] == ""
    assert header[3:11] == [d.name for d in impact.DEFINITIONS]
    assert [row["Sessions run"] for row in rows] == ["2", "4", "6"]
    assert [row["Sessions without counts"] for row in rows] == ["2", "2", "4"]
    for column in (
        "Sessions run",
        "Sessions without counts",
        "Meals served",
        "Children fed (attendances)",
        "Volunteer shifts",
    ):
        assert int(total[column]) == sum(int(row[column]) for row in rows[:-1])


async def test_a_site_lead_sees_only_their_locations_and_every_report_is_audited(
    db: Database, clock: Clock
) -> None:
    summer = await _summer(db, clock)

    own = await impact.report_for(
        db, actor_telegram_id=PRIYA, start=FIRST, end=LAST, tz=LONDON, now=SEPTEMBER
    )
    assert [row.name for row in own.locations] == ["Riverside"]
    assert own.total == RIVERSIDE  # no referral or family from beyond her locations
    places = await impact.places_for(db, actor_telegram_id=PRIYA)
    assert [p.name for p in places.locations] == ["Riverside"] and not places.whole_programme
    with pytest.raises(OutOfScope):
        await impact.report_for(
            db,
            actor_telegram_id=PRIYA,
            start=FIRST,
            end=LAST,
            tz=LONDON,
            now=SEPTEMBER,
            location_id=summer.st_marks,
        )
    with pytest.raises(PermissionDenied):
        await impact.report_for(
            db, actor_telegram_id=SAM, start=FIRST, end=LAST, tz=LONDON, now=SEPTEMBER
        )

    everything = await impact.report_for(
        db, actor_telegram_id=RACHEL, start=FIRST, end=LAST, tz=LONDON, now=SEPTEMBER
    )
    assert everything.total == TOTAL
    quiet = await impact.report_for(
        db,
        actor_telegram_id=RACHEL,
        start=FIRST,
        end=LAST,
        tz=LONDON,
        now=SEPTEMBER,
        location_id=summer.ashford,
    )
    assert [row.name for row in quiet.locations] == ["Ashford"]  # asked for: shown, all zero
    assert quiet.total == Figures(
        sessions=0,
        unrecorded=0,  # its cancelled session is no gap to fill
        meals_served=0,
        children_fed=0,
        unique_families=0,
        volunteer_shifts=0,
        volunteer_minutes=0,
        referrals=NOBODY,
    )
    with pytest.raises(NotFound):
        await impact.report_for(
            db,
            actor_telegram_id=RACHEL,
            start=FIRST,
            end=LAST,
            tz=LONDON,
            now=SEPTEMBER,
            location_id=999_999,
        )
    places = await impact.places_for(db, actor_telegram_id=RACHEL)
    assert [p.name for p in places.locations] == ["Ashford", "Riverside", "St Mark's"]
    assert await impact.location_named(db, " st mark's ") == summer.st_marks
    assert await impact.location_named(db, "Nowhere") is None

    reported = await audit.recent(db, action="impact.reported")
    assert [(r.details["start"], r.details["end"], r.subject_id) for r in reported] == [
        ("2026-07-27", "2026-08-28", summer.ashford),
        ("2026-07-27", "2026-08-28", None),
        ("2026-07-27", "2026-08-28", None),
    ]
    assert reported[-1].details["site_lead"] is True


async def test_days_follow_the_programme_clock_across_the_autumn_change(
    db: Database, clock: Clock
) -> None:
    """British Summer Time ends at 01:00 UTC on Sunday 25 October 2026."""
    await _people(db, clock)
    place = await locations.create(db, actor_telegram_id=RACHEL, name="Night Cafe", now=clock())
    sessions = {
        date(2026, 10, 24): time(0, 30),  # Fri 23 Oct 23:30 UTC
        date(2026, 10, 25): time(0, 30),  # still BST: Sat 24 Oct 23:30 UTC
        date(2026, 10, 26): time(0, 30),  # GMT: 00:30 UTC
        date(2026, 10, 27): time(23, 30),  # GMT: 23:30 UTC the same day
    }
    for n, (day, start) in enumerate(sessions.items(), start=1):
        view = await _session(db, clock, place.location_id, day, start, time(start.hour, 59))
        clock.now = datetime(2026, 11, 2, tzinfo=UTC)
        await rota.record_counts(
            db,
            actor_telegram_id=RACHEL,
            session_id=view.session_id,
            meals=n,
            children=n,
            now=clock(),
        )
        clock.now = datetime(2026, 7, 1, 9, tzinfo=UTC)
    report = await impact.report(
        db,
        start=date(2026, 10, 24),
        end=date(2026, 10, 27),
        tz=LONDON,
        now=datetime(2026, 11, 2, tzinfo=UTC),
    )
    assert report.meals_by_day == {"Night Cafe": [1, 2, 3, 4]}
    assert report.total.meals_served == 10


def test_a_period_must_run_forwards_be_at_most_three_years_and_have_begun() -> None:
    today = date(2026, 9, 7)
    assert period_problem(FIRST, LAST, today=today) is None
    assert period_problem(LAST, FIRST, today=today) is PeriodProblem.BACKWARDS
    assert period_problem(date(2023, 7, 27), date(2026, 7, 26), today=today) is None
    assert period_problem(date(2023, 7, 27), date(2026, 7, 27), today=today) is (
        PeriodProblem.TOO_LONG
    )
    assert period_problem(date(2026, 9, 8), date(2026, 9, 9), today=today) is (
        PeriodProblem.NOT_STARTED
    )


async def test_a_long_period_is_charted_by_week(db: Database, clock: Clock) -> None:
    await _people(db, clock)
    place = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=clock())
    view = await _session(
        db, clock, place.location_id, date(2026, 7, 28), time(11, 30), time(13, 0)
    )
    clock.now = SEPTEMBER
    await rota.record_counts(
        db, actor_telegram_id=RACHEL, session_id=view.session_id, meals=12, children=9, now=clock()
    )
    report = await impact.report(
        db, start=date(2026, 1, 1), end=date(2026, 9, 6), tz=LONDON, now=SEPTEMBER
    )
    unit, bars, series = impact.meals_series(report)
    assert unit == "week" and bars[0] == date(2026, 1, 1) and len(bars) == 36
    # 28 July is day 208 of the year (from 0): in the 30th week from 1 January.
    assert series == {"St Mark's": [12 if n == 29 else 0 for n in range(36)]}
    with pytest.raises(ValueError, match="backwards"):
        await impact.report(db, start=LAST, end=FIRST, tz=LONDON, now=SEPTEMBER)
