"""The figures a site lead records on the day, which go to funders: counts that look wrong are
questioned, a session that did not happen is said so (and counts nowhere), a lunch that was
never planned can still be recorded, and the day's register has no dead ends.

Locations, sessions and bookings are set up through storage (their screens are tested
elsewhere); the site day and /impact are driven through the bot."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.harness import Rehearsal
from handlers import callbacks
from handlers.siteday import (
    AskNotRun,
    AskUnplanned,
    ClearMark,
    OpenSessionAdmin,
    SaveCountsAnyway,
)
from storage import audit, locations, rota
from storage.locations import Field
from tests.conftest import RACHEL
from tests.e2e.test_joining import register
from tests.e2e.test_site_day import (
    AFTER_LUNCH,
    ANN,
    PRIYA,
    SAM,
    TUESDAY,
    WEDNESDAY,
    _book,
    _programme,
    _session,
    _site_lead,
)
from tests.support import Clock

# 10:30 in London on Tuesday 28 July: an hour before lunch, when the cooks arrive.
COOKS_ARRIVE = datetime(2026, 7, 28, 9, 30, tzinfo=UTC)
MID_LUNCH = datetime(2026, 7, 28, 11, 15, tzinfo=UTC)  # 12:15 in London: lunch runs to 13:30


async def _capacity(bot: Rehearsal, clock: Clock, location_id: int, children: int) -> None:
    await locations.update_field(
        bot.services.db,
        actor_telegram_id=RACHEL,
        location_id=location_id,
        field=Field.CAPACITY,
        value=children,
        now=clock(),
    )


async def _impact_last_week(bot: Rehearsal, who: int, name: str) -> str:
    """The summary of the last 7 days, as a coordinator asks for it."""
    person = bot.user(who, name)
    await person.send("/impact")
    await person.tap("Last 7 days")
    if "for every location, or one" in person.last.text:
        await person.tap("All locations")
    summary = next(m for m in reversed(person.bot_messages) if "📊 Impact" in m.text)
    return summary.text


async def test_5000_meals_for_3_children_asks_are_you_sure_even_after_a_restart(
    bot: Rehearsal, clock: Clock
) -> None:
    st_marks, _ = await _programme(bot, clock)
    await _capacity(bot, clock, st_marks, 40)
    await _site_lead(bot, clock, PRIYA, st_marks)
    tuesday = await _session(bot, st_marks, TUESDAY)
    clock.now = AFTER_LUNCH
    priya = bot.user(PRIYA, "Priya")

    await priya.send("/today")
    await priya.tap("🍽 Record meals and children")
    await priya.send("5000")
    await priya.send("3")
    sure = priya.last
    assert sure.text.startswith("🤔 Are you sure? 5,000 meals served and 3 children came.")
    assert "more than 3 meals a child" in sure.text
    assert "feeds about 40 children a day: 5,000 meals is far more" in sure.text
    assert sure.labels() == ["✅ Save anyway (5,000 and 3)", "✏️ Change", "✖ Cancel"]
    saved = await rota.session_view(bot.services.db, tuesday.session_id)
    assert saved is not None and saved.meals_served is None  # nothing saved yet

    # The bot restarts while she looks for her tally sheet: the question is still there.
    await bot.restart()
    await priya.send("50")  # typing instead of tapping asks again, changes nothing
    assert priya.last.text == sure.text  # the figures and the reasons, kept in the draft
    await priya.tap("✏️ Change")
    assert "Then how many meals were served?" in priya.last.text
    await priya.send("38")
    await priya.send("31")
    assert priya.last.text.startswith("✅ Saved: 38 meals served and 31 children.")
    saved = await rota.session_view(bot.services.db, tuesday.session_id)
    assert saved is not None and (saved.meals_served, saved.children_attended) == (38, 31)

    # A real bumper day can still be saved, once she says so; the old question is dead.
    await priya.tap("🍽 Record meals and children")
    await priya.send("95")
    await priya.send("90")
    assert "feeds about 40 children a day: 90 children is far more" in priya.last.text
    await priya.tap("✅ Save anyway (95 and 90)")
    assert priya.last.text.startswith("✅ Saved: 95 meals served and 90 children.")
    counts = await audit.recent(bot.services.db, action="session.counts")
    assert (counts[0].details["meals"], counts[0].details["children"]) == (95, 90)
    await priya.tap_data(callbacks.encode(SaveCountsAnyway()))
    assert "already saved or cancelled" in priya.last.text

    # /cancel at the question ends it; its buttons then change nothing.
    await priya.send("/today")
    await priya.tap("🍽 Record meals and children")
    await priya.send("500")
    await priya.send("5")
    question = priya.last
    await priya.send("/cancel")
    assert priya.last.text == "Cancelled: the day's counts. Nothing was changed."
    await priya.tap("✅ Save anyway (500 and 5)", message=question)
    assert "already saved or cancelled" in question.text and question.buttons == []
    saved = await rota.session_view(bot.services.db, tuesday.session_id)
    assert saved is not None and (saved.meals_served, saved.children_attended) == (95, 90)


async def test_a_session_that_did_not_run_counts_nowhere_and_stops_the_nag(
    bot: Rehearsal, clock: Clock
) -> None:
    st_marks, _ = await _programme(bot, clock)
    await _site_lead(bot, clock, PRIYA, st_marks)
    await register(bot, SAM, "Sam")
    tuesday = await _session(bot, st_marks, TUESDAY)
    await _book(bot, clock, SAM, tuesday, "server")
    clock.now = AFTER_LUNCH
    priya = bot.user(PRIYA, "Priya")

    # Sam did not come, and nor did any child: a no-show alone is not a session run. (Monday's
    # session has no counts either: it stays a gap throughout.)
    await priya.send("/today")
    await priya.tap("❌ Sam")
    summary = await _impact_last_week(bot, PRIYA, "Priya")
    assert "Sessions run: 0" in summary
    assert "Sessions without counts: 2 (record them with /today, or mark them" in summary

    # The hall was flooded. She says so instead of typing 0 meals.
    await priya.send("/today")
    await priya.tap("🚫 Did not run")
    assert "did not run? Then it counts in no figure" in priya.last.text
    assert priya.last.labels()[:5] == [
        "The venue was closed",
        "Not enough volunteers",
        "No children came",
        "Severe weather",
        "✏️ Another reason (type it)",
    ]
    await priya.tap("✏️ Another reason (type it)")
    await priya.send("The hall was <flooded>")
    day = priya.last.text
    assert day.startswith("🚫 Recorded: this session did not run (The hall was <flooded>).")
    assert "🚫 Did not run: The hall was <flooded>" in day
    assert "🚫 Did not run" not in priya.last.labels()
    marked = await audit.recent(bot.services.db, action="session.not_run")
    assert marked[0].details["reason"] == "typed"  # her words stay out of the audit log
    summary = await _impact_last_week(bot, PRIYA, "Priya")
    assert "Sessions run: 0" in summary and "Sessions without counts: 1 (" in summary

    # Wednesday's did not run either: from its card (as an alert's button opens it), with a
    # reason from the list this time.
    clock.now = AFTER_LUNCH + timedelta(days=1)
    wednesday = await _session(bot, st_marks, WEDNESDAY)
    await priya.send("/today")
    await priya.tap_data(callbacks.encode(OpenSessionAdmin(wednesday.session_id)))
    assert "This session has started" in priya.last.text
    assert priya.last.labels()[:2] == ["🍽 Record meals and children", "🚫 Did not run"]
    await priya.tap("🚫 Did not run")
    await priya.tap("Severe weather")
    assert "🚫 Did not run: Severe weather" in priya.last.text
    # ...but it turns out the lunch went ahead in the church next door: it did run.
    await priya.tap("🍽 It did run: record meals and children")
    await priya.send("20")
    await priya.send("18")
    assert "Meals served: 20. Children: 18." in priya.last.text
    summary = await _impact_last_week(bot, PRIYA, "Priya")
    assert "Sessions run: 1" in summary and "Meals served: 20" in summary
    assert "Sessions without counts: 1 (" in summary

    # A session still to come is cancelled, not "did not run": storage refuses it, even to
    # a forged button that opens the question for it.
    thursday = await _session(bot, st_marks, date(2026, 7, 30))
    await priya.send("/today")
    await priya.tap_data(callbacks.encode(AskNotRun(thursday.session_id)))
    await priya.tap("The venue was closed")
    assert "hasn't started yet: cancel it instead" in priya.last.text


async def test_a_lunch_nobody_planned_is_recorded_with_its_counts(
    bot: Rehearsal, clock: Clock
) -> None:
    st_marks, riverside = await _programme(bot, clock)
    await _site_lead(bot, clock, PRIYA, st_marks)
    # Saturday 1 August, 14:00 in London: a lunch ran at St Mark's that was never on the rota.
    clock.now = datetime(2026, 8, 1, 13, 0, tzinfo=UTC)
    priya = bot.user(PRIYA, "Priya")

    await priya.send("/today")
    assert "No lunch session here on Sat 1 Aug." in priya.last.text
    day = priya.last
    await priya.tap("➕ Record an unplanned lunch")
    assert "When did it run?" in priya.last.text
    await priya.send("15:00-16:00")
    assert "hasn't started yet: plan it with /newsessions" in priya.last.text
    await priya.send("12:00-13:30")
    assert "How many meals were served?" in priya.last.text
    await priya.send("25")
    await priya.send("21")
    saved = priya.last.text
    assert saved.startswith("✅ Recorded the unplanned lunch: 25 meals served and 21 children.")
    assert "12:00-13:30" in saved and "Meals served: 25. Children: 21." in saved
    assert day.labels() == ["✖ Cancel"]  # the old day became the question
    recorded = await audit.recent(bot.services.db, action="session.unplanned")
    assert recorded[0].details["meals"] == 25
    summary = await _impact_last_week(bot, PRIYA, "Priya")
    assert "Meals served: 25" in summary and "Sessions run: 1" in summary

    # The same lunch again is refused: it is on the record now.
    await priya.send("/today")
    await priya.tap("➕ Record an unplanned lunch")
    await priya.send("12:30-13:00")
    await priya.send("25")
    await priya.send("21")
    assert "There is already a session at this location at that time" in priya.last.text

    # Last week's Monday, and no further back; never at another site lead's location.
    await priya.tap_data(callbacks.encode(AskUnplanned(st_marks, 20260720)))
    assert "today or the last 7 days only" in priya.last.text
    await priya.tap_data(callbacks.encode(AskUnplanned(riverside, 20260731)))
    assert "outside the locations you lead" in priya.last.text
    assert len(await audit.recent(bot.services.db, action="session.unplanned")) == 1


async def test_the_register_opens_early_goes_back_to_not_marked_and_leaves_no_live_buttons(
    bot: Rehearsal, clock: Clock
) -> None:
    st_marks, _ = await _programme(bot, clock)
    await _site_lead(bot, clock, PRIYA, st_marks)
    for who, name in ((SAM, "Sam"), (ANN, "Ann")):
        await register(bot, who, name)
    tuesday = await _session(bot, st_marks, TUESDAY)
    await _book(bot, clock, SAM, tuesday, "cook")
    await _book(bot, clock, ANN, tuesday, "server")
    priya = bot.user(PRIYA, "Priya")

    # Sam comes at 10:30 to start cooking: Priya marks him then, an hour before lunch.
    clock.now = COOKS_ARRIVE
    await priya.send("/today")
    await priya.tap("✅ Sam")
    assert "✅ Sam: came" in priya.last.text and "Not started yet." in priya.last.text
    # Ann was marked by mistake: Unmark puts her back to not marked.
    await priya.tap("❌ Ann")
    assert "❌ Ann: no-show" in priya.last.text
    assert "↩️ Unmark Ann" in priya.last.labels() and "❌ Ann" not in priya.last.labels()
    await priya.tap("↩️ Unmark Ann")
    assert "▫️ Ann: not marked yet" in priya.last.text
    ann = await _booking_of(bot, ANN)
    await priya.tap_data(callbacks.encode(ClearMark(ann, 0)))  # a double tap: no change
    assert "▫️ Ann: not marked yet" in priya.last.text
    marks = await audit.recent(bot.services.db, action="attendance.marked")
    assert [m.details["now"] for m in reversed(marks)][:3] == ["attended", "no_show", "booked"]
    await bot.deliver()  # Sam is thanked for his first session once lunch is over, not yet
    sam = bot.user(SAM, "Sam")
    assert not [m for m in sam.bot_messages if "your first lunch session" in m.text]
    clock.now = MID_LUNCH  # still not: the children are still eating
    await bot.deliver()
    assert not [m for m in sam.bot_messages if "your first lunch session" in m.text]

    # After lunch, the day she tapped "Record" on becomes the question: no live buttons left.
    clock.now = AFTER_LUNCH
    await priya.send("/today")
    day = priya.last
    await priya.tap("🍽 Record meals and children")
    await priya.send("38")
    await priya.send("31")
    assert day.labels() == ["✖ Cancel"]  # the day's own buttons are gone
    assert "How many meals were served" in day.text
    await bot.deliver()
    assert [m for m in sam.bot_messages if "your first lunch session" in m.text]
    live = [
        m
        for m in priya.bot_messages
        if m.message_id >= day.message_id and m.labels() not in ([], ["✖ Cancel"])
    ]
    assert live == [priya.last]
    # The question's own Cancel, once the counts are saved, closes nothing and goes away.
    await priya.tap("✖ Cancel", message=day)
    assert "is closed: it was cancelled or finished, so nothing was changed" in day.text
    assert day.buttons == []


async def _booking_of(bot: Rehearsal, who: int) -> int:
    (booking,) = await rota.my_bookings(bot.services.db, telegram_id=who, now=COOKS_ARRIVE)
    return booking.booking_id
