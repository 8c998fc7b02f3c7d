"""The volunteer rota as people use it: a coordinator plans a week at two locations, volunteers
book, the waitlist moves on through an accepted offer."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.harness import Clock, Rehearsal
from bot.sandbox import SimUser
from storage import audit, people, rota
from tests.conftest import RACHEL
from tests.e2e.test_joining import register

COOKS = {3001: "Sam", 3002: "Priya", 3003: "Tom", 3004: "Ade"}


async def add_location(rachel: SimUser, name: str, address: str) -> None:
    await rachel.send("/locations")
    await rachel.tap("➕ Add a location")
    await rachel.send(name)
    assert f"Added {name}" in rachel.last.text
    await rachel.tap("✏️ Address")
    await rachel.send(address)
    assert f"Address: {address}" in rachel.last.text


async def choose_where(rachel: SimUser, location: str) -> None:
    """/newsessions, at one location: ticked in the list (with one location, there is no list)."""
    await rachel.send("/newsessions")
    if "Which dates?" not in rachel.last.text:
        await rachel.tap(location)
        await rachel.tap("Continue ▶ (1 chosen)")
    assert f"Sessions at {location}. Which dates?" in rachel.last.text


async def plan_week(rachel: SimUser, location: str, jobs: str | None = None) -> None:
    await choose_where(rachel, location)
    await rachel.send("27/07/2026 - 31/07/2026")
    assert "On which days?" in rachel.last.text
    await rachel.tap("✓ Fri")  # Monday to Thursday only
    await rachel.tap("Continue ▶")
    await rachel.send("11:30-13:30")
    assert "Usually: cook x2 (needs a check), server x3, driver x1" in rachel.last.text
    if jobs is None:
        await rachel.tap("Use these")
    else:
        await rachel.send(jobs)
    assert "Ready to create 4 sessions" in rachel.last.text
    await rachel.tap("✅ Create them")
    assert f"Created 4 sessions at {location}" in rachel.last.text


async def clear_check(rachel: SimUser, name: str) -> None:
    await rachel.send("/people")
    await rachel.tap(name)
    await rachel.tap("🛡 Safeguarding check")
    await rachel.tap("Cleared")
    await rachel.send("31/08/2027")
    assert "Recorded: safeguarding check cleared until 31 Aug 2027" in rachel.last.text


async def open_first_session(volunteer: SimUser, location: str) -> None:
    await volunteer.send("/sessions")
    assert "Upcoming lunch sessions" in volunteer.last.text
    await volunteer.tap(f"Tue 28 Jul 11:30 · {location}")


async def test_a_week_is_planned_booked_and_a_place_passes_down_the_waitlist(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    rachel = bot.user(RACHEL, "Rachel")
    await add_location(rachel, "St Mark's church hall", "12 Church Lane")
    await add_location(rachel, "Riverside community centre", "1 Quay Street")
    await plan_week(rachel, "St Mark's church hall", "cook 3, server 3, driver 1")
    await plan_week(rachel, "Riverside community centre")
    # The same plan again makes nothing twice: the review says so, and offers no Create.
    await choose_where(rachel, "Riverside community centre")
    await rachel.send("27/07/2026 - 31/07/2026")
    await rachel.tap("✓ Fri")
    await rachel.tap("Continue ▶")
    await rachel.send("11:30-13:30")
    await rachel.tap("Use these")
    assert rachel.last.text == (
        "Nothing new: the plan's 4 sessions at Riverside community centre already exist, so "
        "there is nothing to create. See them with /sessions, or send /newsessions to plan "
        "others."
    )
    assert rachel.last.labels() == []

    for telegram_id, name in COOKS.items():
        await register(bot, telegram_id, name)
        await clear_check(rachel, name)
    sam, priya, tom, ade = (bot.user(i, n) for i, n in COOKS.items())

    for volunteer in (sam, priya, tom):
        await open_first_session(volunteer, "St Mark's church hall")
        await volunteer.tap(
            next(label for label in volunteer.last.labels() if label.startswith("Book cook"))
        )
        assert "Booked: you're a cook at St Mark's church hall, Tue 28 Jul, 11:30-13:30" in (
            volunteer.last.text
        )

    await open_first_session(ade, "St Mark's church hall")
    assert "cook: full (3 of 3)" in ade.last.text
    await ade.tap("Join cook waitlist")
    assert "You're on the cook waitlist" in ade.last.text
    assert "number 1" in ade.last.text

    # Tom can't come after all: the place is offered to Ade, who takes it.
    await tom.send("/mysessions")
    await tom.tap("Cancel: Tue 28 Jul cook")
    assert "Cancel your cook place" in tom.last.text
    await tom.tap("Yes, cancel")
    assert "Cancelled. Thank you for letting us know" in tom.last.text
    offer = ade.last
    assert "Good news: a cook place came free at St Mark's church hall" in offer.text
    assert "The offer is open until Wed 1 Jul at 12:00" in offer.text  # now + 2 h, in BST
    await ade.tap("✅ Yes, book me")
    assert "It's yours: you're booked as cook" in ade.last.text

    view = await rota.upcoming(
        bot.services.db, telegram_id=RACHEL, now=bot.services.now(), offset=0, limit=20
    )
    tuesday = next(
        s
        for s in view.sessions
        if s.location_name == "St Mark's church hall" and s.starts_at.day == 28
    )
    assert [(j.job, j.taken, j.waiting) for j in tuesday.jobs] == [
        ("cook", 3, 0),
        ("server", 0, 0),
        ("driver", 0, 0),
    ]

    await ade.send("/mysessions")
    assert "✅ cook at St Mark's church hall, Tue 28 Jul, 11:30-13:30" in ade.last.text
    await ade.tap("📅 Add to my calendar")
    calendar = ade.last
    assert calendar.filename == "lunch-sessions.ics"
    assert calendar.document is not None
    assert b"DTSTART:20260728T103000Z" in calendar.document
    assert b"SUMMARY:Cook at St Mark's church hall" in calendar.document

    # Tuesday, 13:45: Rachel runs the day at St Mark's.
    clock.now = datetime(2026, 7, 28, 12, 45, tzinfo=UTC)
    await rachel.send("/today")
    await rachel.tap("St Mark's church hall")
    await rachel.tap("✅ Sam")
    await rachel.tap("✅ Priya")
    await rachel.tap("❌ Ade")
    await rachel.tap("✅ Ade")  # a correction
    await rachel.tap("🍽 Record meals and children")
    await rachel.send("38")
    await rachel.send("31")
    assert "Saved: 38 meals served and 31 children" in rachel.last.text
    day = (
        await rota.sessions_on(
            bot.services.db,
            actor_telegram_id=RACHEL,
            location_id=tuesday.location_id,
            day=date(2026, 7, 28),
            tz=bot.services.settings.timezone,
        )
    )[0]
    assert {(h.name, h.status.value) for h in day.helpers} == {
        ("Sam", "attended"),
        ("Priya", "attended"),
        ("Ade", "attended"),
    }
    assert (day.session.meals_served, day.session.children_attended) == (38, 31)


async def test_a_cook_place_needs_a_cleared_check(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    rachel = bot.user(RACHEL, "Rachel")
    await add_location(rachel, "St Mark's church hall", "12 Church Lane")
    await plan_week(rachel, "St Mark's church hall")
    await register(bot, 3001, "Sam")
    sam = bot.user(3001, "Sam")
    await open_first_session(sam, "St Mark's church hall")
    await sam.tap("Book cook (2 free)")
    assert "needs a cleared safeguarding check" in sam.last.text
    await sam.tap("Book server (3 free)")
    assert "Booked: you're a server" in sam.last.text


async def test_volunteers_choose_home_locations_and_see_only_theirs(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    rachel = bot.user(RACHEL, "Rachel")
    await add_location(rachel, "St Mark's church hall", "12 Church Lane")
    await add_location(rachel, "Riverside community centre", "1 Quay Street")
    await plan_week(rachel, "St Mark's church hall")
    await plan_week(rachel, "Riverside community centre")
    await register(bot, 3001, "Sam")
    sam = bot.user(3001, "Sam")
    await sam.send("/sessions")
    assert "at all locations (1-5 of 8)" in sam.last.text

    await sam.send("/profile")
    await sam.tap("Riverside community centre")
    assert "Home locations: Riverside community centre" in sam.last.text
    await sam.tap("📞 Add phone")
    await sam.send("not a number")
    assert "doesn't look like a phone number" in sam.last.text
    await sam.send("07700 900123")
    assert "coordinators can reach you on 07700 900123" in sam.last.text
    await sam.send("/sessions")
    assert "at your locations (1-4 of 4)" in sam.last.text
    assert "St Mark's" not in sam.last.text


async def test_forged_buttons_touch_nobody_elses_booking(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    rachel = bot.user(RACHEL, "Rachel")
    await add_location(rachel, "St Mark's church hall", "12 Church Lane")
    await plan_week(rachel, "St Mark's church hall")
    await register(bot, 3001, "Sam")
    await register(bot, 3002, "Eve")
    sam, eve = bot.user(3001, "Sam"), bot.user(3002, "Eve")
    await open_first_session(sam, "St Mark's church hall")
    await sam.tap("Book server (3 free)")
    booking = (await rota.my_bookings(bot.services.db, telegram_id=3001, now=bot.services.now()))[0]

    await eve.tap_data(f"cc:{booking.booking_id}")
    assert eve.last.text.startswith(
        "Sorry, that isn't yours to see or change, so nothing was changed."
    )
    await eve.tap_data(f"oa:{booking.booking_id}:1")
    assert eve.last.text.startswith("Sorry, that isn't yours")
    await eve.tap_data("bj:999999:0")
    assert "no longer taking bookings" in eve.last.text
    await eve.tap_data(f"so:{2**31}")
    assert eve.callback_answers[-1].text == (
        "That button is out of date. Send /start for a fresh menu."
    )

    still = await rota.my_bookings(bot.services.db, telegram_id=3001, now=bot.services.now())
    assert [(b.booking_id, b.status.value) for b in still] == [(booking.booking_id, "booked")]
    assert await audit.recent(bot.services.db, action="booking.cancelled") == []
    profile = await people.profile(bot.services.db, 3002)
    assert profile is not None
