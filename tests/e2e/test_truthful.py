"""What the bot says must be true: the morning list, coverage and a plan's result say what is
actually so; a broken invite link is named as such; offers respect the quiet hours; giving up a
place asks first wherever it starts; and a cover request always finds someone to ask."""

from __future__ import annotations

import csv
import io
from datetime import date, time

from bot.harness import Clock, Rehearsal
from handlers import texts
from storage import locations, people, rota
from storage.impact import REFERRAL_STATUS_WORDS
from storage.models import BookingStatus, ReferralStatus, Role
from tests.conftest import RACHEL
from tests.e2e.test_joining import OKAFOR, invite_link, register
from tests.e2e.test_referral_form import hillside
from tests.e2e.test_reminders import book, local, lunch_on
from tests.e2e.test_rota import choose_where
from tests.e2e.test_triage import referred

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


# --- item 18: home locations at registration, and cover that always finds someone ----------------


async def test_a_new_volunteer_is_offered_home_locations_and_can_skip(bot: Rehearsal) -> None:
    db, now = bot.services.db, bot.services.now()
    await register(bot, RACHEL, "Rachel")
    for name in ("St Mark's", "Riverside"):
        await locations.create(db, actor_telegram_id=RACHEL, name=name, now=now)

    sam = bot.user(SAM, "Sam")
    await register(bot, SAM, "Sam")
    assert any("Thank you, you're registered" in m.text for m in sam.bot_messages)
    picker = sam.last
    assert picker.text.startswith("🏠 Which lunch locations are near you?")
    assert "Chosen: none yet" in picker.text
    assert picker.labels() == ["Riverside", "St Mark's", "Skip for now"]

    await sam.tap("St Mark's")
    assert "Chosen: St Mark's" in sam.last.text
    assert sam.last.labels() == ["Riverside", "✓ St Mark's", "✅ Done"]
    await sam.tap("✅ Done")
    assert sam.last.text.startswith("🏠 Saved. Your home locations: St Mark's.")
    assert await locations.home_ids(db, telegram_id=SAM) == {
        next(loc.location_id for loc in await locations.listed(db) if loc.name == "St Mark's")
    }

    jo = bot.user(JO, "Jo")
    await register(bot, JO, "Jo")
    await jo.tap("Skip for now")
    assert jo.last.text.startswith("No home locations for now: /sessions shows every location")
    assert await locations.home_ids(db, telegram_id=JO) == frozenset()


async def test_with_many_locations_the_choice_is_paged_and_searchable(bot: Rehearsal) -> None:
    db, now = bot.services.db, bot.services.now()
    await register(bot, RACHEL, "Rachel")
    for number in range(1, 31):
        await locations.create(db, actor_telegram_id=RACHEL, name=f"Site {number:02}", now=now)

    sam = bot.user(SAM, "Sam")
    await register(bot, SAM, "Sam")
    assert "Showing 1-8 of 30." in sam.last.text
    assert sam.last.labels()[:2] == ["Site 01", "Site 02"]
    assert sam.last.labels()[8:] == ["Next ▶", "Skip for now"]
    await sam.tap("Next ▶")
    assert "Showing 9-16 of 30" in sam.last.text
    await sam.tap("Site 09")
    assert "Chosen: Site 09" in sam.last.text
    assert "Showing 9-16 of 30" in sam.last.text  # the same page, ticked

    await sam.send("27")  # typed while the list is on screen: a search of it
    assert "🔎 Matching “27”: 1-1 of 1." in sam.last.text
    assert sam.last.labels() == ["Site 27", "✖ Clear search", "✅ Done"]
    await sam.tap("Site 27")
    await sam.send("no such place")
    assert "Nothing matches “no such place”." in sam.last.text
    await sam.tap("✖ Clear search")
    assert "Showing 1-8 of 30." in sam.last.text
    await sam.tap("✅ Done")
    assert sam.last.text.startswith("🏠 Saved. Your home locations: Site 09, Site 27.")
    await sam.send("hello")  # the list is no longer on screen: this is just a message
    assert sam.last.text == texts.free_text()

    # /profile uses the same chooser: one button per location would not fit at 500 locations.
    await sam.send("/profile")
    assert "Home locations: Site 09, Site 27" in sam.last.text
    assert sam.last.labels() == ["🏠 Choose home locations", "📞 Add phone"]
    await sam.tap("🏠 Choose home locations")
    assert "Chosen: Site 09, Site 27" in sam.last.text
    assert "Showing 1-8 of 30." in sam.last.text


async def test_cover_with_nobody_at_home_offers_recent_volunteers_then_everyone(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    tuesday = await lunch_on(bot, date(2026, 7, 28))
    wednesday = await lunch_on(bot, date(2026, 7, 29))
    for who, name in ((SAM, "Sam"), (JO, "Jo"), (ADE, "Ade")):
        await register(bot, who, name)
    await book(bot, JO, wednesday, "driver")  # Jo helps at St Mark's, but calls nowhere home
    await book(bot, ADE, tuesday, "server")  # Ade is on Tuesday already
    sam, jo, ade = bot.user(SAM, "Sam"), bot.user(JO, "Jo"), bot.user(ADE, "Ade")
    rachel = bot.user(RACHEL, "Rachel")
    clock.now = local(2026, 7, 27, 9, 0)

    await rachel.send("/coverage")
    await rachel.tap("St Mark's")
    await rachel.tap("Tue 28 Jul 11:30 · St Mark's")
    await rachel.tap("Cover needed: driver")
    assert rachel.last.text == (
        "Nobody has St Mark's as a home location (or they are all on this session already), "
        "so nobody was asked for the driver place yet.\n\nAsk instead:\n"
        "• volunteers who have booked at St Mark's in the last four weeks or ahead: 1\n"
        "• every volunteer who can take the place: 2"
    )
    assert rachel.last.labels() == [
        "Ask recent volunteers here (1)",
        "Ask everyone who can (2)",
        "« Back to the session",
        "✖ Cancel",
    ]

    await rachel.tap("Ask recent volunteers here (1)")
    assert "🙋 I've asked 1 volunteer who call St Mark's home or have booked there" in (
        rachel.last.text
    )
    await bot.settle()
    assert jo.last.text.startswith("🙋 Can you help? St Mark's, Tue 28 Jul")

    await rachel.tap("Cover needed: driver")
    await rachel.tap("Ask everyone who can (2)")
    assert "🙋 I've asked 2 volunteers in the programme to take the driver place" in (
        rachel.last.text
    )
    await bot.settle()
    assert sam.last.text.startswith("🙋 Can you help? St Mark's, Tue 28 Jul")
    assert len([m for m in jo.bot_messages if "Can you help?" in m.text]) == 1  # not twice
    assert not any("Can you help?" in m.text for m in ade.bot_messages)  # on it already
    await sam.tap("Book driver")
    assert "Booked: you're a driver at St Mark's, Tue 28 Jul" in sam.last.text


# --- review item 3: a prompt names the button that is on its screen ------------------------------


def _then_tap(prompt: str) -> str:
    """The button a prompt says to tap next: what follows its 'then '."""
    return prompt.split("then ", 1)[1].split(".", maxsplit=1)[0]


async def test_every_choosing_step_names_the_button_it_shows(bot: Rehearsal, clock: Clock) -> None:
    """Mr Okafor chooses places and days on the referral form, and Rachel weekdays for new
    sessions: each prompt says 'then …' with the label of the button below it."""
    okafor = await hillside(bot, clock)
    await okafor.send("/refer")
    await okafor.send("HS-014")
    await okafor.tap("2")
    await okafor.tap("Year 2")
    await okafor.tap("Year 5")
    await okafor.send("nut allergy")
    await okafor.tap("St Mark's")
    assert "Which lunch clubs would suit the family?" in okafor.last.text
    assert _then_tap(okafor.last.text) in okafor.last.labels()
    await okafor.tap(_then_tap(okafor.last.text))
    await okafor.send("28/07/2026 - 27/08/2026")
    assert "On which days can the children come?" in okafor.last.text
    assert _then_tap(okafor.last.text) in okafor.last.labels()

    rachel = bot.user(RACHEL, "Rachel")
    await choose_where(rachel, "St Mark's")
    await rachel.send("27/07/2026 - 31/07/2026")
    assert "On which days?" in rachel.last.text
    assert _then_tap(rachel.last.text) in rachel.last.labels()


# --- review item 9: one name for each figure and status, wherever it is shown -----------------


async def test_the_referral_csv_says_a_status_in_the_words_of_the_reports(bot: Rehearsal) -> None:
    """Rachel exports HS-014 before deciding it: the status column says 'waiting for a
    decision', as the impact report does, not the code 'submitted'."""
    await referred(bot)
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/referrals")
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    await rachel.tap("📄 School's CSV")
    data = rachel.last.document
    assert data is not None
    (row,) = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    assert row["status"] == REFERRAL_STATUS_WORDS[ReferralStatus.SUBMITTED]
    assert row["status"] == "waiting for a decision"


# --- review item 14, then issue 12: the morning list is one message, and never cut short ------


async def test_a_crowded_morning_list_is_a_summary_with_the_whole_list_as_a_file(
    bot: Rehearsal, clock: Clock
) -> None:
    """Six locations, each with 22 volunteers (long names) booked and none confirmed yet: too
    much for one message, so the morning list is one message with a summary for its caption
    and every session in the file, whose names and counts are the database's."""
    await register(bot, RACHEL, "Rachel")
    db, now = bot.services.db, bot.services.now()
    tuesday, volunteers = date(2026, 7, 28), 22
    for site in range(6):
        location = await locations.create(
            db, actor_telegram_id=RACHEL, name=f"Community hall number {site}", now=now
        )
        plan = rota.SessionPlan(
            location_id=location.location_id,
            first_day=tuesday,
            last_day=tuesday,
            weekdays=frozenset({tuesday.weekday()}),
            start=time(11, 30),
            end=time(13, 30),
            jobs=(rota.JobSpec(job="server", places=volunteers + site),),
        )
        await rota.create_sessions(
            db, actor_telegram_id=RACHEL, plan=plan, tz=bot.services.settings.timezone, now=now
        )
        (day,) = await rota.sessions_on(
            db,
            actor_telegram_id=RACHEL,
            location_id=location.location_id,
            day=tuesday,
            tz=bot.services.settings.timezone,
        )
        for n in range(volunteers):
            telegram_id = 50_000 + site * 100 + n
            name = f"Volunteer {site}-{n:02d} " + "W" * 50  # 64 characters, the most allowed
            await people.register(
                db, telegram_id=telegram_id, name=name, now=now, coordinator_ids=frozenset()
            )
            await book(bot, telegram_id, day.session, "server")
    clock.now = local(2026, 7, 28, 8, 0)
    await bot.deliver()

    rachel = bot.user(RACHEL, "Rachel")
    (morning,) = [m for m in rachel.bot_messages if m.text.startswith("☀️")]
    assert len(morning.text) <= 1024  # a caption
    assert "more" not in morning.text
    assert morning.text.startswith("☀️ Good morning! Today, Tue 28 Jul: 6 lunches at 6 locations")
    assert "👥 Booked: 132 of 147 places, 0 confirmed." in morning.text
    assert "⚠️ To fill: 15 places at 5 lunches." in morning.text
    # The worst gaps first: hall 5 is 5 short, hall 1 one; hall 0 is full.
    gaps = [line for line in morning.text.splitlines() if line.startswith("• ")]
    assert gaps == [
        f"• Community hall number {site} 11:30: 22 of {22 + site} booked, {site} to fill"
        for site in (5, 4, 3, 2, 1)
    ]
    assert morning.filename == "morning-2026-07-28.csv"
    assert morning.document is not None
    rows = list(csv.DictReader(io.StringIO(morning.document.decode("utf-8-sig"))))
    assert sorted(row["Location"] for row in rows) == [
        f"Community hall number {site}" for site in range(6)
    ]
    for row in rows:
        site = int(row["Location"][-1])
        assert (row["Places"], row["Booked"], row["Confirmed"], row["To fill"]) == (
            str(22 + site),
            "22",
            "0",
            str(site),
        )
        waiting = row["Not confirmed yet"].split("; ")
        assert len(waiting) == volunteers  # every name, none cut off
        assert waiting[0].startswith(f"Volunteer {site}-00 WWW")
        assert waiting[0].endswith("(server)")
