"""Running the sessions: a site lead's day, coverage, and changing or cancelling a session.

Locations, sessions and bookings are set up through storage (their screens are tested
elsewhere); the site day, coverage and session management are driven through the bot."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.harness import Rehearsal
from handlers.siteday import parse_count, parse_times
from storage import audit, locations, rota
from storage.models import BookingStatus
from storage.rota import JobSpec, SessionPlan
from tests.conftest import RACHEL
from tests.e2e.test_joining import register
from tests.support import Clock, promote_to_coordinator

PRIYA, SAM, ANN, ZOE, BEN = 3101, 3102, 3103, 3104, 3105
MONDAY, TUESDAY, WEDNESDAY = date(2026, 7, 27), date(2026, 7, 28), date(2026, 7, 29)
JOBS = (
    JobSpec(job="cook", places=2),
    JobSpec(job="server", places=3),
    JobSpec(job="driver", places=1),
)
# 13:45 in London (BST) on Tuesday 28 July: lunch is over, time to fill in the day.
AFTER_LUNCH = datetime(2026, 7, 28, 12, 45, tzinfo=UTC)


async def _programme(bot: Rehearsal, clock: Clock) -> tuple[int, int]:
    """Rachel, and Monday-Thursday sessions in the week of 27 July at St Mark's and Riverside."""
    await register(bot, RACHEL, "Rachel")
    db = bot.services.db
    made = []
    for name in ("St Mark's", "Riverside"):
        location = await locations.create(db, actor_telegram_id=RACHEL, name=name, now=clock())
        plan = SessionPlan(
            location_id=location.location_id,
            first_day=MONDAY,
            last_day=date(2026, 7, 31),
            weekdays=frozenset({0, 1, 2, 3}),
            start=time(11, 30),
            end=time(13, 30),
            jobs=JOBS,
        )
        await rota.create_sessions(
            db, actor_telegram_id=RACHEL, plan=plan, tz=bot.services.settings.timezone, now=clock()
        )
        made.append(location.location_id)
    return made[0], made[1]


async def _session(bot: Rehearsal, location_id: int, day: date) -> rota.SessionView:
    on_the_day = await rota.sessions_on(
        bot.services.db,
        actor_telegram_id=RACHEL,
        location_id=location_id,
        day=day,
        tz=bot.services.settings.timezone,
    )
    return on_the_day[0].session


async def _book(bot: Rehearsal, clock: Clock, who: int, view: rota.SessionView, job: str) -> int:
    job_id = next(j.job_id for j in view.jobs if j.job == job)
    outcome = await rota.book(
        bot.services.db, telegram_id=who, job_id=job_id, now=clock(), waitlist=False
    )
    assert outcome.booking is not None, outcome
    return outcome.booking.booking_id


async def _site_lead(bot: Rehearsal, clock: Clock, telegram_id: int, location_id: int) -> None:
    """Rachel invites Priya as a coordinator and scopes her to one location: a site lead."""
    await register(bot, telegram_id, "Priya")
    await promote_to_coordinator(
        bot.services.db, clock(), telegram_id, by=RACHEL, scope=frozenset({location_id})
    )


async def test_priya_marks_attendance_corrects_it_and_records_meals(
    bot: Rehearsal, clock: Clock
) -> None:
    st_marks, _ = await _programme(bot, clock)
    await _site_lead(bot, clock, PRIYA, st_marks)
    for who, name in ((SAM, "Sam"), (ANN, "Ann")):
        await register(bot, who, name)
    tuesday = await _session(bot, st_marks, TUESDAY)
    await _book(bot, clock, SAM, tuesday, "server")
    await _book(bot, clock, ANN, tuesday, "cook")
    clock.now = AFTER_LUNCH
    priya = bot.user(PRIYA, "Priya")

    # Priya runs one location, so /today opens its day straight away.
    await priya.send("/today")
    day = priya.last.text
    assert "St Mark's, today, Tue 28 Jul" in day
    assert "11:30-13:30" in day
    assert "Ann: not marked yet" in day and "Sam: not marked yet" in day
    assert "driver (0 of 1)\n  nobody booked" in day
    assert "Meals and children: not recorded yet." in day

    await priya.tap("✅ Sam")
    await priya.tap("✅ Ann")
    assert "✅ Ann: came" in priya.last.text
    await priya.tap("❌ Ann")  # she had to leave before lunch: corrected
    assert "❌ Ann: no-show" in priya.last.text
    assert "✅ Sam: came" in priya.last.text
    marks = await audit.recent(bot.services.db, action="attendance.marked")
    assert [(m.details["was"], m.details["now"]) for m in reversed(marks)] == [
        ("booked", "attended"),
        ("booked", "attended"),
        ("attended", "no_show"),
    ]

    await priya.tap("🍽 Record meals and children")
    assert "How many meals were served at St Mark's, Tue 28 Jul, 11:30-13:30?" in priya.last.text
    await priya.send("lots")
    assert "as a whole number from 0 to 10,000" in priya.last.text
    await priya.send("38")
    assert "And how many children came?" in priya.last.text
    await priya.send("-3")
    assert "the number of children who came as a whole number" in priya.last.text
    await priya.send("10001")
    assert "as a whole number from 0 to 10,000" in priya.last.text
    await priya.send("31")

    saved = priya.last.text
    assert saved.startswith("✅ Saved: 38 meals served and 31 children.")
    assert "St Mark's, today" in saved and "Meals served: 38. Children: 31." in saved
    after = await rota.session_view(bot.services.db, tuesday.session_id)
    assert after is not None and (after.meals_served, after.children_attended) == (38, 31)
    await priya.send("thanks")  # the form is finished: plain text is not a count any more
    assert "I work with commands and buttons" in priya.last.text


async def test_a_late_correction_the_next_day(bot: Rehearsal, clock: Clock) -> None:
    st_marks, _ = await _programme(bot, clock)
    await _site_lead(bot, clock, PRIYA, st_marks)
    await register(bot, SAM, "Sam")
    tuesday = await _session(bot, st_marks, TUESDAY)
    await _book(bot, clock, SAM, tuesday, "driver")
    clock.now = AFTER_LUNCH + timedelta(days=1)
    priya = bot.user(PRIYA, "Priya")

    await priya.send("/today")
    assert "St Mark's, today" in priya.last.text
    await priya.tap("◀ Tue 28 Jul")
    day = priya.last.text
    assert "St Mark's, Tue 28 Jul (today is Wed 29 Jul)" in day
    await priya.tap("❌ Sam")
    assert "❌ Sam: no-show" in priya.last.text
    await priya.tap("🍽 Record meals and children")
    await priya.send("40")
    await priya.send("1,000")
    assert "Saved: 40 meals served and 1000 children." in priya.last.text
    await priya.tap("🍽 Record meals and children")
    await priya.send("40")
    await priya.send("33")  # a typo fixed: the later count wins, both are audited
    assert "Meals served: 40. Children: 33." in priya.last.text
    counted = await audit.recent(bot.services.db, action="session.counts")
    assert [(c.details["was_children"], c.details["children"]) for c in counted] == [
        (1000, 33),
        (None, 1000),
    ]
    await priya.tap("Today")
    assert "St Mark's, today" in priya.last.text


async def test_rachel_asks_for_cover_and_a_home_volunteer_books_through_the_notice(
    bot: Rehearsal, clock: Clock
) -> None:
    st_marks, riverside = await _programme(bot, clock)
    for who, name in ((ZOE, "Zoe"), (BEN, "Ben")):
        await register(bot, who, name)
    await locations.toggle_home(bot.services.db, telegram_id=ZOE, location_id=st_marks)
    await locations.toggle_home(bot.services.db, telegram_id=BEN, location_id=riverside)
    clock.now = datetime(2026, 7, 27, 9, 0, tzinfo=UTC)  # Monday morning: the week ahead
    rachel, zoe, ben = bot.user(RACHEL, "Rachel"), bot.user(ZOE, "Zoe"), bot.user(BEN, "Ben")

    await rachel.send("/coverage")
    assert rachel.last.text.startswith(
        "Places to fill in the next 7 days\n48 places at 8 of 8 sessions, at 2 locations; "
        "8 sessions with nobody booked."
    )
    assert (
        "• St Mark's: 24 places at 4 sessions, 4 with nobody (server x12, cook x8, driver x4); "
        "the first Mon 27 Jul 11:30"
    ) in rachel.last.text
    await rachel.tap("St Mark's")
    assert "St Mark's: sessions to fill in the next 7 days (1-4 of 4)" in rachel.last.text
    assert "• Tue 28 Jul, 11:30-13:30: cook 2 free, server 3 free, driver 1 free" in (
        rachel.last.text
    )
    await rachel.tap("Tue 28 Jul 11:30 · St Mark's")
    assert "St Mark's, Tue 28 Jul, 11:30-13:30" in rachel.last.text
    await rachel.tap("Cover needed: driver")
    assert "I've asked 1 volunteer with St Mark's as a home location to take the driver place" in (
        rachel.last.text
    )
    await rachel.tap("Cover needed: driver")  # a second ask messages nobody twice
    await bot.settle()

    offers = [m for m in zoe.bot_messages if "Can you help?" in m.text]
    assert len(offers) == 1
    assert offers[0].text == (
        "🙋 Can you help? St Mark's, Tue 28 Jul, 11:30-13:30 still has a place for a driver."
    )
    assert not any("Can you help?" in m.text for m in ben.bot_messages)
    await zoe.tap("Book driver")
    assert "Booked: you're a driver at St Mark's, Tue 28 Jul, 11:30-13:30" in zoe.last.text

    await rachel.send("/coverage")
    assert "• St Mark's: 23 places at 4 sessions" in rachel.last.text
    await rachel.tap("St Mark's")
    assert "• Tue 28 Jul, 11:30-13:30: cook 2 free, server 3 free\n" in rachel.last.text
    # Nobody calls Riverside home except Ben; on Monday at St Mark's, nobody at all.
    await rachel.tap("Mon 27 Jul 11:30 · St Mark's")
    await rachel.tap("Cover needed: driver")
    assert "I've asked 1 volunteer" in rachel.last.text  # Zoe again, for another day
    await rachel.tap("« Coverage")
    await rachel.tap("Riverside")
    await rachel.tap("Wed 29 Jul 11:30 · Riverside")
    await locations.toggle_home(bot.services.db, telegram_id=BEN, location_id=riverside)
    await rachel.tap("Cover needed: cook")
    assert rachel.last.text == (
        "Nobody has Riverside as a home location (or they are all on this session already), "
        "so nobody was asked for the cook place yet.\n\nAsk instead:\n"
        "• every volunteer who can take the place: 2"
    )
    assert rachel.last.labels() == [
        "Ask everyone who can (2)",
        "« Back to the session",
        "✖ Cancel",
    ]


async def test_changing_times_and_cancelling_tell_the_booked_volunteer(
    bot: Rehearsal, clock: Clock
) -> None:
    st_marks, _ = await _programme(bot, clock)
    await register(bot, SAM, "Sam")
    wednesday = await _session(bot, st_marks, WEDNESDAY)
    await _book(bot, clock, SAM, wednesday, "server")
    clock.now = datetime(2026, 7, 29, 8, 0, tzinfo=UTC)  # 09:00 on the day
    rachel, sam = bot.user(RACHEL, "Rachel"), bot.user(SAM, "Sam")

    # Rachel runs two locations, so /today shows the day at both first, worst gaps first.
    await rachel.send("/today")
    assert rachel.last.labels()[:2] == ["Riverside", "St Mark's"]
    await rachel.tap("St Mark's")
    assert "Sam: not marked yet" in rachel.last.text and "Not started yet." in rachel.last.text
    assert (
        "✅ Sam" not in rachel.last.labels()
    )  # two and a half hours before lunch: too early to mark
    await rachel.tap("⚙️ Change or cancel session")
    await rachel.tap("Change times")
    assert "Send the new start and end times as HH:MM-HH:MM" in rachel.last.text
    for typo in ("noon", "14:00-12:00", "25:00-26:00"):
        await rachel.send(typo)
        assert "I couldn't read those times" in rachel.last.text
    await rachel.send("12:00 - 14:00")
    assert rachel.last.text.startswith(
        "✅ The session is now Wed 29 Jul, 12:00-14:00. I'm telling the 1 volunteer who signed up"
    )
    await bot.settle()
    assert sam.last.text.startswith(
        "🕑 A change: the lunch session at St Mark's is now Wed 29 Jul, 12:00-14:00. "
        "You are still down as server."
    )

    await rachel.tap("Cancel session")
    assert rachel.last.text == (
        "Cancel the lunch session at St Mark's, Wed 29 Jul, 12:00-14:00? 1 volunteer will be told."
    )
    confirm = rachel.last
    await rachel.tap("Yes, cancel the session", message=confirm)
    assert rachel.last.text.startswith(
        "Cancelled. I'm telling the 1 volunteer who signed up for it."
    )
    assert "This session is cancelled." in rachel.last.text
    await rachel.tap_data(f"dy:{wednesday.session_id}", message_id=confirm.message_id)
    assert rachel.last.text.startswith("This session was already cancelled")
    await bot.settle()

    cancelled = [m for m in sam.bot_messages if "is cancelled" in m.text]
    assert [m.text for m in cancelled] == [
        "Sorry: the lunch session at St Mark's, Wed 29 Jul, 12:00-14:00 is cancelled. You "
        "don't need to do anything; thank you for offering your time."
    ]
    assert await rota.my_bookings(bot.services.db, telegram_id=SAM, now=clock()) == []


async def test_forged_buttons_get_a_kind_refusal_and_change_nothing(
    bot: Rehearsal, clock: Clock
) -> None:
    st_marks, riverside = await _programme(bot, clock)
    await _site_lead(bot, clock, PRIYA, st_marks)
    await register(bot, BEN, "Ben")
    await locations.toggle_home(bot.services.db, telegram_id=BEN, location_id=riverside)
    elsewhere = await _session(bot, riverside, TUESDAY)
    booking = await _book(bot, clock, BEN, elsewhere, "cook")
    driver = next(j.job_id for j in elsewhere.jobs if j.job == "driver")
    clock.now = AFTER_LUNCH
    priya, ben = bot.user(PRIYA, "Priya"), bot.user(BEN, "Ben")
    await priya.send("/today")

    refusal = "Sorry, that is outside the locations you lead"
    for forged in (
        f"dm:{booking}:1",  # mark Ben, at Riverside, as attended
        f"dl:{riverside}:20260728",  # open Riverside's day
        f"dn:{elsewhere.session_id}",  # record Riverside's meals
        f"gr:{driver}",  # ask Riverside's volunteers for cover
        f"dy:{elsewhere.session_id}",  # cancel Riverside's session
    ):
        await priya.tap_data(forged)
        assert priya.last.text.startswith(refusal), forged
    for missing in ("ds:999999", "dm:999999:0", "dl:1:20261399"):
        await priya.tap_data(missing)
        assert priya.last.text.startswith("Sorry, I can't find that any more"), missing

    db = bot.services.db
    still = await rota.booking_view(db, booking)
    assert still is not None and still.status is BookingStatus.BOOKED
    session = await rota.session_view(db, elsewhere.session_id)
    assert session is not None and not session.cancelled
    assert await audit.recent(db, action="attendance.marked") == []
    assert await audit.recent(db, action="cover.requested") == []
    await bot.settle()
    assert not any("Can you help?" in m.text for m in ben.bot_messages)
    await priya.send("12")  # no meals question was opened by the forged button
    assert "I work with commands and buttons" in priya.last.text

    await ben.send("/today")
    assert "only for coordinators" in ben.last.text
    await ben.send("/coverage")
    assert "only for coordinators" in ben.last.text


@pytest.mark.parametrize(
    ("typed", "count"),
    [
        ("38", 38),
        (" 0 ", 0),
        ("1,000", 1000),
        ("10000", 10_000),
        ("10001", None),
        ("-3", None),
        ("3.5", None),
        ("1,00", None),
        ("38,", None),
        ("thirty", None),
        ("٣٨", None),
        ("", None),
    ],
)
def test_counts_are_whole_numbers_up_to_ten_thousand(typed: str, count: int | None) -> None:
    assert parse_count(typed) == count


@pytest.mark.parametrize(
    ("typed", "times"),
    [
        ("12:00-14:00", (time(12), time(14))),
        ("9.30 – 11.45", (time(9, 30), time(11, 45))),
        ("12:00 to 14:00", (time(12), time(14))),
        ("14:00-12:00", None),
        ("12:00-12:00", None),
        ("24:00-25:00", None),
        ("12:60-13:00", None),
        ("noon", None),
    ],
)
def test_new_times_are_a_start_and_a_later_end(typed: str, times: tuple[time, time] | None) -> None:
    assert parse_times(typed) == times
