"""Reminders and alerts as volunteers and coordinators receive them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.harness import Clock, Rehearsal
from storage import locations, outbox, rota
from storage.models import NoticeStatus
from storage.rota import JobSpec, SessionPlan
from tests.conftest import RACHEL
from tests.e2e.test_joining import register

LONDON = ZoneInfo("Europe/London")
SAM, JO = 3001, 3002


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)  # type: ignore[misc]


async def lunch_on(bot: Rehearsal, day: date, start: time = time(11, 30)) -> rota.SessionView:
    """St Mark's, one driver and two servers, on `day`."""
    db, now = bot.services.db, bot.services.now()
    run = await locations.managed_by(db, actor_telegram_id=RACHEL)
    location = (
        run[0]
        if run
        else await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=now)
    )
    plan = SessionPlan(
        location_id=location.location_id,
        first_day=day,
        last_day=day,
        weekdays=frozenset({day.weekday()}),
        start=start,
        end=time(start.hour + 2, start.minute),
        jobs=(JobSpec(job="driver", places=1), JobSpec(job="server", places=2)),
    )
    await rota.create_sessions(db, actor_telegram_id=RACHEL, plan=plan, tz=LONDON, now=now)
    sessions = (await rota.upcoming(db, telegram_id=RACHEL, now=now, offset=0, limit=50)).sessions
    return next(s for s in sessions if s.starts_at.astimezone(LONDON).date() == day)


async def book(
    bot: Rehearsal, telegram_id: int, view: rota.SessionView, job: str, *, waitlist: bool = False
) -> None:
    job_id = next(j.job_id for j in view.jobs if j.job == job)
    outcome = await rota.book(
        bot.services.db,
        telegram_id=telegram_id,
        job_id=job_id,
        now=bot.services.now(),
        waitlist=waitlist,
    )
    assert outcome.result in (rota.BookResult.BOOKED, rota.BookResult.WAITLISTED)


async def test_i_cant_make_it_passes_the_place_on_and_tells_the_coordinator(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    await register(bot, JO, "Jo")
    tuesday = await lunch_on(bot, date(2026, 7, 28))
    await book(bot, SAM, tuesday, "driver")
    await book(bot, JO, tuesday, "driver", waitlist=True)
    sam, jo, rachel = bot.user(SAM, "Sam"), bot.user(JO, "Jo"), bot.user(RACHEL, "Rachel")

    clock.now = local(2026, 7, 27, 11, 29)
    await bot.deliver()
    assert sam.bot_messages[-1].text.startswith("Thank you, you're registered")
    clock.now = local(2026, 7, 27, 11, 30)
    await bot.deliver()
    reminder = sam.last
    assert reminder.text == ("⏰ Tomorrow 11:30-13:30: you're driver at St Mark's. Still coming?")
    assert reminder.labels() == ["👍 I'm coming", "I can't make it"]

    clock.now = local(2026, 7, 28, 9, 30)  # two hours before, Sam hasn't answered
    await bot.deliver()
    assert sam.last.text.startswith("⏰ Today 11:30-13:30")
    await sam.tap("I can't make it")
    assert sam.last.text.startswith("Cancel your driver place at St Mark's")
    await sam.tap("Yes, cancel")
    assert "Cancelled. Thank you for letting us know" in sam.last.text
    assert jo.last.text.startswith("🎁 Good news: a driver place came free at St Mark's")
    alert = rachel.last.text
    assert alert.startswith("⚠️ Late drop-out: Sam can't make it as driver at St Mark's")
    assert "The place has gone to the first on the waitlist" in alert

    await jo.tap("✅ Yes, book me")
    assert rachel.last.text == (
        "✅ Gap filled: Jo took the driver place at St Mark's, Tue 28 Jul, 11:30-13:30."
    )
    # An old reminder's button changes nothing now.
    await sam.tap("👍 I'm coming", message=reminder)
    answered = next(m for m in sam.bot_messages if m.message_id == reminder.message_id)
    assert answered.text == "That place is no longer booked for you, so there is nothing to answer."


async def test_im_coming_confirms_and_stops_further_reminders(bot: Rehearsal, clock: Clock) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    tuesday = await lunch_on(bot, date(2026, 7, 28))
    await book(bot, SAM, tuesday, "server")
    sam = bot.user(SAM, "Sam")
    clock.now = local(2026, 7, 27, 11, 30)
    await bot.deliver()
    await sam.tap("👍 I'm coming")
    assert sam.last.text == "👍 Thank you! See you at St Mark's, Tue 28 Jul at 11:30."

    clock.now = local(2026, 7, 28, 9, 30)
    await bot.deliver()
    assert sam.last.text.startswith("👍 Thank you!")  # no second reminder
    rachel = bot.user(RACHEL, "Rachel")
    morning = next(m for m in rachel.bot_messages if m.text.startswith("☀️"))
    assert "St Mark's, Tue 28 Jul, 11:30-13:30: 1 booked" in morning.text
    assert "Everyone booked has confirmed." in morning.text
    unfilled = next(m for m in rachel.bot_messages if m.text.startswith("📋"))
    assert "• St Mark's, Tue 28 Jul, 11:30-13:30: driver x1" in unfilled.text
    assert unfilled.labels() == [
        "Cover: driver · Tue 28 Jul 11:30 · St Mark's",
        "Cover: server · Tue 28 Jul 11:30 · St Mark's",
    ]


async def test_no_reminder_for_a_cancelled_booking_or_after_the_start(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    await register(bot, JO, "Jo")
    tuesday = await lunch_on(bot, date(2026, 7, 28))
    await book(bot, SAM, tuesday, "server")
    await book(bot, JO, tuesday, "server")
    clock.now = local(2026, 7, 26, 12, 0)
    await bot.deliver()  # the reminders are planned now
    booking = (await rota.my_bookings(bot.services.db, telegram_id=SAM, now=clock()))[0]
    await rota.cancel(
        bot.services.db,
        telegram_id=SAM,
        booking_id=booking.booking_id,
        now=clock(),
        offer_window=bot.services.settings.offer_window,
    )
    # The bot is down from Monday morning until after Tuesday's lunch has begun.
    clock.now = local(2026, 7, 28, 12, 0)
    await bot.deliver()
    sam, jo = bot.user(SAM, "Sam"), bot.user(JO, "Jo")
    assert not any(m.text.startswith("⏰") for m in sam.bot_messages + jo.bot_messages)
    counts = await outbox.counts(bot.services.db)
    assert counts.get(NoticeStatus.PENDING, 0) == 0
    assert NoticeStatus.SENDING not in counts


async def test_a_reminder_due_at_nine_on_a_clock_change_sunday_comes_at_nine(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    clock.now = local(2026, 3, 20, 12, 0)
    monday = await lunch_on(bot, date(2026, 3, 30), start=time(9, 0))
    await book(bot, SAM, monday, "server")
    sam = bot.user(SAM, "Sam")

    clock.now = local(2026, 3, 29, 8, 59)  # Sunday: at 01:00 the clocks went forward to BST
    await bot.deliver()
    assert not sam.last.text.startswith("⏰")
    clock.now = local(2026, 3, 29, 9, 0)
    assert clock.now == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    await bot.deliver()
    assert sam.last.text == "⏰ Tomorrow 09:00-11:00: you're server at St Mark's. Still coming?"


async def test_an_unanswered_offer_passes_on_and_its_holder_is_told(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    for telegram_id, name in ((SAM, "Sam"), (JO, "Jo"), (3003, "Ade")):
        await register(bot, telegram_id, name)
    tuesday = await lunch_on(bot, date(2026, 7, 28))
    await book(bot, SAM, tuesday, "driver")
    await book(bot, JO, tuesday, "driver", waitlist=True)
    clock.advance(seconds=1)
    await book(bot, 3003, tuesday, "driver", waitlist=True)
    sam, jo, ade = bot.user(SAM, "Sam"), bot.user(JO, "Jo"), bot.user(3003, "Ade")
    await sam.send("/mysessions")
    await sam.tap("Cancel: Tue 28 Jul driver")
    await sam.tap("Yes, cancel")
    offer = jo.last
    assert offer.text.startswith("🎁 Good news")

    clock.advance(hours=2, minutes=1)  # Jo never answers
    await bot.deliver()
    assert jo.last.text.startswith(
        "The driver place at St Mark's, Tue 28 Jul, 11:30-13:30 "
        "that was held for you has passed to the next volunteer"
    )
    assert ade.last.text.startswith("🎁 Good news")
    await jo.tap("✅ Yes, book me", message=offer)  # too late
    answered = next(m for m in jo.bot_messages if m.message_id == offer.message_id)
    assert answered.text == "This offer is no longer open."


async def test_a_location_with_sessions_to_come_is_not_archived_without_asking(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    await lunch_on(bot, date(2026, 7, 28))
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/locations")
    await rachel.tap("St Mark's")
    await rachel.tap("🗄 Archive")
    assert rachel.last.text.startswith(
        "Archive St Mark's? It still has 1 session to come: archiving cancels it."
    )
    assert rachel.last.labels() == ["🗄 Cancel 1 session and archive", "« Back", "✖ Cancel"]
    assert not (await locations.listed(bot.services.db))[0].archived
    await rachel.tap("« Back")
    assert not (await locations.listed(bot.services.db))[0].archived


async def test_a_reminder_that_fell_due_while_the_bot_was_down_goes_out_once_on_return(
    config: Config, clock: Clock
) -> None:
    async with Rehearsal(config, clock=clock) as bot:
        await register(bot, RACHEL, "Rachel")
        await register(bot, SAM, "Sam")
        tuesday = await lunch_on(bot, date(2026, 7, 28))
        await book(bot, SAM, tuesday, "server")
        clock.now = local(2026, 7, 27, 9, 0)
        await bot.deliver()  # planned, not yet due
        # Down from 09:00 to 11:45 on Monday; the day-before reminder was due at 11:30.
        clock.now = local(2026, 7, 27, 11, 45)
        await bot.restart()
        await bot.deliver()
        await bot.deliver()
        sam = bot.user(SAM, "Sam")
        reminders = [m for m in sam.bot_messages if m.text.startswith("⏰")]
        assert [m.text for m in reminders] == [
            "⏰ Tomorrow 11:30-13:30: you're server at St Mark's. Still coming?"
        ]


async def test_after_a_long_outage_only_the_closer_reminder_goes_out(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    tuesday = await lunch_on(bot, date(2026, 7, 28))
    await book(bot, SAM, tuesday, "server")
    clock.now = local(2026, 7, 27, 11, 0)
    await bot.deliver()  # the day-before reminder is planned, due at 11:30
    clock.now = local(2026, 7, 28, 10, 0)  # down from Monday 11:00 to Tuesday 10:00
    await bot.restart()
    await bot.deliver()
    sam = bot.user(SAM, "Sam")
    reminders = [m.text for m in sam.bot_messages if m.text.startswith("⏰")]
    assert reminders == ["⏰ Today 11:30-13:30: you're server at St Mark's. Still coming?"]


async def test_a_reminder_due_in_the_quiet_hours_waits_until_they_end(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    tuesday = await lunch_on(bot, date(2026, 7, 28))
    await book(bot, SAM, tuesday, "server")
    clock.now = local(2026, 7, 27, 11, 0)
    await bot.deliver()
    clock.now = local(2026, 7, 27, 23, 30)  # the bot was down at 11:30; back late at night
    await bot.restart()
    await bot.deliver()
    sam = bot.user(SAM, "Sam")
    assert not any(m.text.startswith("⏰") for m in sam.bot_messages)
    clock.now = local(2026, 7, 28, 8, 0)
    await bot.deliver()
    assert sam.last.text.startswith("⏰ Today 11:30-13:30")


async def test_an_offer_to_someone_who_blocked_the_bot_goes_to_the_next_at_once(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    for telegram_id, name in ((SAM, "Sam"), (JO, "Jo"), (3003, "Ade")):
        await register(bot, telegram_id, name)
    tuesday = await lunch_on(bot, date(2026, 7, 28))
    await book(bot, SAM, tuesday, "driver")
    await book(bot, JO, tuesday, "driver", waitlist=True)
    clock.advance(seconds=1)
    await book(bot, 3003, tuesday, "driver", waitlist=True)
    bot.sandbox.block(JO)
    sam, ade = bot.user(SAM, "Sam"), bot.user(3003, "Ade")
    await sam.send("/mysessions")
    await sam.tap("Cancel: Tue 28 Jul driver")
    await sam.tap("Yes, cancel")
    await bot.deliver()
    assert ade.last.text.startswith("🎁 Good news: a driver place came free")
