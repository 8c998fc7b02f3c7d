"""What the bot says must be true: the morning list, coverage and a plan's result say what is
actually so; a broken invite link is named as such; offers respect the quiet hours; giving up a
place asks first wherever it starts; and a cover request always finds someone to ask."""

from __future__ import annotations

from datetime import date, time

from bot.harness import Clock, Rehearsal
from storage import people, rota
from storage.models import BookingStatus, Role
from tests.conftest import RACHEL
from tests.e2e.test_joining import OKAFOR, invite_link, register
from tests.e2e.test_reminders import book, local, lunch_on

SAM, JO, ADE = 3001, 3002, 3003


# --- item 8: the morning list, coverage and a plan say what is so --------------------------------


async def test_the_morning_list_does_not_say_everyone_confirmed_when_nobody_is_booked(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    await lunch_on(bot, date(2026, 7, 28))
    clock.now = local(2026, 7, 28, 8, 0)
    await bot.deliver()

    rachel = bot.user(RACHEL, "Rachel")
    morning = next(m for m in rachel.bot_messages if m.text.startswith("☀️"))
    assert "St Mark's, Tue 28 Jul, 11:30-13:30: 0 booked" in morning.text
    assert "confirmed" not in morning.text
    assert "Nobody is booked yet: ask for cover in /coverage." in morning.text
    assert "Still to fill: driver x1, server x2" in morning.text


async def test_the_morning_list_says_everyone_booked_confirmed_and_what_is_still_open(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    tuesday = await lunch_on(bot, date(2026, 7, 28))
    await book(bot, SAM, tuesday, "driver")
    clock.now = local(2026, 7, 27, 11, 30)
    await bot.deliver()
    await bot.user(SAM, "Sam").tap("👍 I'm coming")
    clock.now = local(2026, 7, 28, 8, 0)
    await bot.deliver()

    rachel = bot.user(RACHEL, "Rachel")
    morning = next(m for m in rachel.bot_messages if m.text.startswith("☀️"))
    assert "Everyone booked has confirmed. 👍" in morning.text
    assert "Still to fill: server x2" in morning.text


async def test_coverage_with_no_sessions_ahead_says_none_are_planned(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/coverage")
    assert rachel.last.text == (
        "There are no sessions planned in the next 7 days, so there is nothing to fill. "
        "Plan some with /newsessions."
    )
    assert "filled" not in rachel.last.text

    # A session ahead with every place taken is "filled", and says how many were checked.
    await register(bot, SAM, "Sam")
    await register(bot, JO, "Jo")
    await register(bot, ADE, "Ade")
    tuesday = await lunch_on(bot, date(2026, 7, 28))
    for volunteer, job in ((SAM, "driver"), (JO, "server"), (ADE, "server")):
        await book(bot, volunteer, tuesday, job)
    clock.now = local(2026, 7, 25, 9, 0)
    await rachel.send("/coverage")
    assert rachel.last.text == "🎉 The one session in the next 7 days has every place filled."


# --- item 11: "I can't make it" asks first, as /mysessions does ----------------------------------


async def test_i_cant_make_it_in_a_reminder_asks_before_giving_the_place_up(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    await register(bot, JO, "Jo")
    tuesday = await lunch_on(bot, date(2026, 7, 28))
    await book(bot, SAM, tuesday, "driver")
    await book(bot, JO, tuesday, "driver", waitlist=True)
    sam, jo = bot.user(SAM, "Sam"), bot.user(JO, "Jo")
    clock.now = local(2026, 7, 27, 11, 30)
    await bot.deliver()
    reminder = sam.last
    assert reminder.text.startswith("⏰ Tomorrow 11:30-13:30")

    # A slip of the thumb: the same question /mysessions asks, and nothing has changed yet.
    await sam.tap("I can't make it", message=reminder)
    assert sam.last.text == (
        "Cancel your driver place at St Mark's, Tue 28 Jul, 11:30-13:30? It will be offered "
        "to the next volunteer on the waitlist."
    )
    assert sam.last.labels() == ["Yes, cancel", "No, keep it"]
    await bot.deliver()
    assert not any(m.text.startswith("🎁") for m in jo.bot_messages)

    await sam.tap("No, keep it")
    assert "Tue 28 Jul" in sam.last.text and "driver" in sam.last.text
    booked = await rota.my_bookings(bot.services.db, telegram_id=SAM, now=clock())
    assert [b.status for b in booked] == [BookingStatus.BOOKED]

    # Meaning it this time: the place passes on only after "Yes, cancel".
    await sam.tap("Cancel: Tue 28 Jul driver")
    await sam.tap("Yes, cancel")
    assert "Cancelled. Thank you for letting us know" in sam.last.text
    assert jo.last.text.startswith("🎁 Good news: a driver place came free at St Mark's")


# --- item 9: a link cut short is named, and joining as a volunteer stays open --------------------


async def test_a_school_contact_whose_link_was_cut_short_is_told_and_can_still_join(
    bot: Rehearsal,
) -> None:
    await register(bot, RACHEL, "Rachel")
    link = await invite_link(bot, "A school contact", "➕ A new school", school="Hillside Primary")
    okafor = bot.user(OKAFOR, "Daniel", last_name="Okafor")

    # The email client cut the link after 20 characters.
    await okafor.send(f"/start {link[:20]}")
    assert okafor.last.text.startswith("⚠️ This invite link isn't valid.")
    assert "ask the coordinator who sent it for a new one" in okafor.last.text
    assert "privacy notice" in okafor.last.text
    assert okafor.last.labels() == ["✅ I agree, join as a volunteer", "No thanks"]
    assert await people.profile(bot.services.db, OKAFOR) is None

    # He joins as a volunteer for now, knowing that is all he is...
    await okafor.tap("✅ I agree, join as a volunteer")
    assert "roles: volunteer." in okafor.last.text
    # ...and the whole link, opened later, gives him his school role.
    await okafor.send(f"/start {link}")
    assert "You are now the school contact for Hillside Primary" in okafor.last.text
    profile = await people.profile(bot.services.db, OKAFOR)
    assert profile is not None and Role.SCHOOL_CONTACT in profile.roles


async def test_an_ordinary_start_payload_is_still_an_ordinary_start(bot: Rehearsal) -> None:
    stranger = bot.user(4001, "Alex")
    await stranger.send("/start stmarks_poster")
    assert stranger.last.text.startswith("👋 Welcome")
    assert stranger.last.labels() == ["✅ I agree", "No thanks"]


# --- item 10: offers respect the quiet hours -----------------------------------------------------


async def _cancel_in_mysessions(bot: Rehearsal, telegram_id: int, name: str, label: str) -> None:
    volunteer = bot.user(telegram_id, name)
    await volunteer.send("/mysessions")
    await volunteer.tap(label)
    await volunteer.tap("Yes, cancel")


async def test_a_place_freed_late_at_night_is_offered_in_the_morning_with_a_waking_window(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    await register(bot, JO, "Jo")
    tuesday = await lunch_on(bot, date(2026, 7, 28))
    await book(bot, SAM, tuesday, "driver")
    await book(bot, JO, tuesday, "driver", waitlist=True)
    jo = bot.user(JO, "Jo")

    clock.now = local(2026, 7, 27, 22, 30)  # Sam cancels at half past ten at night
    await _cancel_in_mysessions(bot, SAM, "Sam", "Cancel: Tue 28 Jul driver")
    await bot.deliver()
    assert not any(m.text.startswith("🎁") for m in jo.bot_messages)  # Jo is asleep

    clock.now = local(2026, 7, 28, 0, 31)  # the old window (until 00:30) has passed
    await bot.deliver()
    clock.now = local(2026, 7, 28, 7, 59)
    await bot.deliver()
    assert not any(m.text.startswith("🎁") for m in jo.bot_messages)
    assert not any("has passed to the next volunteer" in m.text for m in jo.bot_messages)

    clock.now = local(2026, 7, 28, 8, 0)  # the quiet hours end: the offer comes, and runs 2 h
    await bot.deliver()
    assert jo.last.text.startswith("🎁 Good news: a driver place came free at St Mark's")
    assert "The offer is open until Tue 28 Jul at 10:00." in jo.last.text
    clock.now = local(2026, 7, 28, 9, 15)
    await jo.tap("✅ Yes, book me")
    assert jo.last.text.startswith("✅ It's yours")


async def test_an_offer_that_would_run_into_the_night_runs_from_the_morning(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    await register(bot, JO, "Jo")
    tuesday = await lunch_on(bot, date(2026, 7, 28))
    await book(bot, SAM, tuesday, "driver")
    await book(bot, JO, tuesday, "driver", waitlist=True)
    jo = bot.user(JO, "Jo")

    clock.now = local(2026, 7, 26, 20, 0)  # Sunday evening: 2 h would end at 22:00, in the night
    await _cancel_in_mysessions(bot, SAM, "Sam", "Cancel: Tue 28 Jul driver")
    await bot.deliver()
    assert jo.last.text.startswith("🎁 Good news")  # told now, while awake...
    assert "The offer is open until Mon 27 Jul at 10:00." in jo.last.text  # ...decides awake

    clock.now = local(2026, 7, 27, 9, 59)
    await bot.deliver()
    assert jo.last.text.startswith("🎁 Good news")
    clock.now = local(2026, 7, 27, 10, 1)  # no answer by then: it passes on, as before
    await bot.deliver()
    assert "has passed to the next volunteer" in jo.last.text


async def test_a_place_freed_in_the_night_before_an_early_session_is_offered_until_it_starts(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    await register(bot, JO, "Jo")
    early = await lunch_on(bot, date(2026, 7, 28), start=time(9, 0))
    await book(bot, SAM, early, "driver")
    await book(bot, JO, early, "driver", waitlist=True)
    jo = bot.user(JO, "Jo")

    clock.now = local(2026, 7, 27, 23, 0)
    await _cancel_in_mysessions(bot, SAM, "Sam", "Cancel: Tue 28 Jul driver")
    await bot.deliver()
    assert not any(m.text.startswith("🎁") for m in jo.bot_messages)
    clock.now = local(2026, 7, 28, 8, 0)
    await bot.deliver()
    assert "The offer is open until Tue 28 Jul at 09:00." in jo.last.text
