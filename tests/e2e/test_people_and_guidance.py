"""Coordinators manage people; everyone gets a kind answer to anything unexpected."""

from __future__ import annotations

import logging
from datetime import date, time

import pytest
from sqlalchemy import text

from bot import privacy
from bot.config import Config
from bot.harness import Rehearsal
from storage import audit, locations, outbox, people, rota
from storage.models import NoticeStatus, Role
from tests.conftest import RACHEL
from tests.e2e import test_site_day as site_day
from tests.e2e.test_joining import register
from tests.support import Clock

SAM, PRIYA = 3001, 3002


async def test_a_coordinator_removes_a_role_after_confirming(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    rachel = bot.user(RACHEL, "Rachel")

    await rachel.send("/people")
    assert "Showing: everyone (2)." in rachel.last.text
    assert "Sam: volunteer" in rachel.last.text
    await rachel.tap("Sam")
    assert "Roles: volunteer" in rachel.last.text
    await rachel.tap("Remove volunteer role")
    assert "Remove the volunteer role from Sam?" in rachel.last.text
    await rachel.tap("Yes, remove")

    assert "Removed the volunteer role from Sam." in rachel.last.text
    assert "Roles: no role yet" in rachel.last.text
    sam = await people.profile(bot.services.db, SAM)
    assert sam is not None and sam.roles == set()
    removed = await audit.recent(bot.services.db, action="role.removed")
    assert [r.details["role"] for r in removed] == ["volunteer"]


async def test_the_config_coordinator_role_cannot_be_removed_in_the_bot(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/people")
    await rachel.tap("Rachel")
    assert "set in the config file" in rachel.last.text
    assert "Remove coordinator role" not in rachel.last.labels()


async def test_a_long_people_list_pages(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    for n in range(12):
        await register(bot, 6000 + n, f"Helper{n:02d}")
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/people")
    assert "Showing 1-8 of 13." in rachel.last.text
    await rachel.tap("Next ▶")
    assert "Showing 9-13 of 13." in rachel.last.text
    assert "◀ Previous" in rachel.last.labels()


async def test_a_volunteer_cannot_use_coordinator_commands_or_forged_buttons(
    bot: Rehearsal,
) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    sam = bot.user(SAM, "Sam")
    rachel_profile = await people.profile(bot.services.db, RACHEL)
    assert rachel_profile is not None

    await sam.send("/people")
    assert "only for coordinators" in sam.last.text
    await sam.send("/invite coordinator")
    assert "only for coordinators" in sam.last.text
    # A button Sam never saw, forged with valid-looking data: remove Rachel's volunteer role.
    await sam.tap_data(f"rc:{rachel_profile.person_id}:volunteer")
    assert "only for coordinators" in sam.last.text

    after = await people.profile(bot.services.db, RACHEL)
    assert after is not None and Role.VOLUNTEER in after.roles
    assert await audit.recent(bot.services.db, action="role.removed") == []
    assert await audit.recent(bot.services.db, action="invite.created") == []


async def test_nonsense_gets_a_helpful_answer(bot: Rehearsal) -> None:
    await register(bot, SAM, "Sam")
    sam = bot.user(SAM, "Sam")

    await sam.send("/frobnicate now")
    assert sam.last.text == "Sorry, I don't know /frobnicate. Send /help to see what I can do."
    await sam.send("hello?")
    assert "I work with commands and buttons" in sam.last.text
    await sam.tap_data("zz:garbage")
    assert (
        sam.callback_answers[-1].text == "That button is out of date. Send /start for a fresh menu."
    )
    await sam.tap_data("pp:notanumber")
    assert "out of date" in (sam.callback_answers[-1].text or "")

    await sam.send("/help")
    assert "/whoami" in sam.last.text and "/invite" not in sam.last.text


async def test_a_newcomer_is_asked_to_start_first(bot: Rehearsal) -> None:
    stranger = bot.user(4001, "Alex")
    await stranger.send("/name Alex")
    assert "Please send /start and accept the privacy notice first." in stranger.last.text
    await stranger.send("/help")
    assert "Send /start to join the programme first." in stranger.last.text


async def test_renaming_checks_the_name_and_a_restart_keeps_the_question(
    bot: Rehearsal,
) -> None:
    await register(bot, SAM, "Sam")
    sam = bot.user(SAM, "Sam")
    await sam.send("/name")
    assert "Send me the name you'd like coordinators to see" in sam.last.text
    await sam.send("x" * 65)
    assert "please keep it to 64 characters" in sam.last.text
    await sam.send("Sam <Lee> & co")
    assert sam.last.text == "Done: coordinators now see you as Sam <Lee> & co."
    await sam.send("/cancel")
    assert sam.last.text == "There is nothing to cancel."


async def test_commands_in_a_group_point_to_a_private_chat(bot: Rehearsal) -> None:
    await register(bot, SAM, "Sam")
    group = bot.group(-100500, "St Mark's volunteers")
    sam = bot.user(SAM, "Sam")
    await group.send(sam, f"/whoami@{bot.sandbox.bot_username}")
    assert "Let's talk in private" in group.last.text
    await group.send(sam, "lovely lunch today")
    assert len(group.bot_messages) == 1


async def test_an_internal_error_is_logged_once_and_the_person_told_kindly(
    bot: Rehearsal, caplog: pytest.LogCaptureFixture
) -> None:
    await register(bot, SAM, "Sam")
    sam = bot.user(SAM, "Sam")
    async with bot.services.db.transaction() as session:
        await session.execute(text("DROP TABLE home_locations"))

    with caplog.at_level(logging.INFO):
        await sam.send("/profile")

    assert sam.last.text.startswith("Sorry, something went wrong on our side.")
    assert "Traceback" not in sam.last.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "message update" in errors[0].getMessage()
    assert "/profile" not in errors[0].getMessage()


async def test_a_coordinator_is_made_site_lead_of_one_location(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    rachel = bot.user(RACHEL, "Rachel")
    for name in ("St Mark's", "Riverside"):
        await rachel.send("/locations")
        await rachel.tap("➕ Add a location")
        await rachel.send(name)
    await rachel.send("/invite coordinator")
    token = rachel.last.text.split("start=")[1].split()[0]
    priya = bot.user(PRIYA, "Priya")
    await priya.send(f"/start {token}")
    await priya.tap("✅ I agree")

    await rachel.send("/people")
    await rachel.tap("Priya")
    await rachel.tap("📍 Site lead of…")
    assert "coordinates the whole programme" in rachel.last.text
    await rachel.tap("St Mark's")
    assert "is a site lead of St Mark's: they run only those locations" in rachel.last.text
    assert "✓ St Mark's" in rachel.last.labels()

    await priya.send("/locations")
    assert "St Mark's" in priya.last.labels()
    assert "Riverside" not in priya.last.labels()
    # Adding venues is the programme's call: no button, and a forged one asks nothing.
    assert "➕ Add a location" not in priya.last.labels()
    await priya.tap_data("ln")
    assert priya.last.text.startswith("Sorry, that is outside the locations you lead")


async def test_erasing_a_volunteer_keeps_nothing_that_identifies_them(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    sam = bot.user(SAM, "Sam")
    await sam.send("/profile")
    await sam.tap("📞 Add phone")
    await sam.send("07700 900123")
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/people")
    await rachel.tap("Sam")
    await rachel.tap("🗑 Erase their data")
    assert "This cannot be undone" in rachel.last.text
    await rachel.tap("Yes, erase")
    assert "Done: their data is erased." in rachel.last.text

    assert await people.profile(bot.services.db, SAM) is None
    await rachel.send("/people")
    assert "Sam" not in rachel.last.text
    assert "Showing: everyone (1)." in rachel.last.text
    await sam.send("/whoami")
    assert "You are not registered yet" in sam.last.text


async def test_someone_who_blocked_the_bot_is_marked_and_comes_back_by_writing(
    bot: Rehearsal,
) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    db, now = bot.services.db, bot.services.now()
    location = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=now)
    await locations.toggle_home(db, telegram_id=SAM, location_id=location.location_id)
    plan = rota.SessionPlan(
        location_id=location.location_id,
        first_day=date(2026, 7, 28),
        last_day=date(2026, 7, 28),
        weekdays=frozenset({1}),
        start=time(11, 30),
        end=time(13, 30),
        jobs=(rota.JobSpec(job="driver", places=1),),
    )
    await rota.create_sessions(
        db, actor_telegram_id=RACHEL, plan=plan, tz=bot.services.settings.timezone, now=now
    )
    session = (await rota.coverage(db, actor_telegram_id=RACHEL, now=now, days=60))[0]

    bot.sandbox.block(SAM)
    await rota.request_cover(db, actor_telegram_id=RACHEL, job_id=session.jobs[0].job_id, now=now)
    await bot.deliver()
    assert (await outbox.counts(db)).get(NoticeStatus.BLOCKED) == 1
    profile = await people.profile(db, SAM)
    assert profile is not None
    assert not profile.active
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/people")
    assert "Sam: volunteer (blocked the bot)" in rachel.last.text

    sam = bot.user(SAM, "Sam")
    await sam.send("/whoami")  # writing to the bot again unblocks it, as in Telegram
    back = await people.profile(db, SAM)
    assert back is not None
    assert back.active
    assert "Roles: volunteer" in sam.last.text


async def test_buttons_tapped_in_a_group_or_with_huge_ids_change_nothing(
    bot: Rehearsal,
) -> None:
    await register(bot, RACHEL, "Rachel")
    group = bot.group(-100777, "Volunteers chat")
    eve = bot.user(4002, "Eve")
    await group.send(eve, f"/start@{bot.sandbox.bot_username}")
    # Eve forges the privacy answer on the bot's message in the group.
    await group.tap_data(eve, "pv:1:")
    assert await people.profile(bot.services.db, 4002) is None
    assert eve.callback_answers[-1].text == (
        "That button is out of date. Send /start for a fresh menu."
    )
    rachel = bot.user(RACHEL, "Rachel")
    await group.tap_data(rachel, "pp:0")
    assert "People" not in group.last.text

    for forged in ("pc:2147483648", "rc:99999999999:volunteer", "pp:999999"):
        await rachel.tap_data(forged)
    assert "Showing: everyone (1)." in rachel.last.text  # pp:999999 shows the last page
    assert all(a.text is None or "out of date" in a.text for a in rachel.callback_answers)


async def test_a_file_or_a_photo_nobody_asked_for_gets_an_answer(bot: Rehearsal) -> None:
    await register(bot, SAM, "Sam")
    sam = bot.user(SAM, "Sam")
    await sam.send_document(b"%PDF-1.4 a menu", "menu.pdf")
    assert "only read words and photos" in sam.last.text
    await sam.send_photo(caption="our lunch")
    assert "I work with commands and buttons" in sam.last.text
    await sam.send("/win")
    await sam.send_document(b"\x89PNG not really", "curry.png", caption="Curry day!")
    assert "Send it again as a photo" in sam.last.text


async def test_a_site_lead_sees_only_their_locations_people_and_no_programme_buttons(
    bot: Rehearsal, clock: Clock, config: Config
) -> None:
    """Priya leads St Mark's. Sam calls St Mark's home, Ann booked at St Mark's, Zoe booked
    only at Riverside and gave her phone. Priya sees Sam and Ann, not Zoe, and no button for
    what only the whole programme may do; the privacy report says exactly this."""
    st_marks, riverside = await site_day._programme(bot, clock)
    await site_day._site_lead(bot, clock, site_day.PRIYA, st_marks)
    for who, name in ((site_day.SAM, "Sam"), (site_day.ANN, "Ann"), (site_day.ZOE, "Zoe")):
        await register(bot, who, name)
    db = bot.services.db
    await locations.toggle_home(db, telegram_id=site_day.SAM, location_id=st_marks)
    tuesday = site_day.TUESDAY
    await site_day._book(
        bot, clock, site_day.ANN, await site_day._session(bot, st_marks, tuesday), "cook"
    )
    await site_day._book(
        bot, clock, site_day.ZOE, await site_day._session(bot, riverside, tuesday), "cook"
    )
    zoe = bot.user(site_day.ZOE, "Zoe")
    await zoe.send("/profile")
    await zoe.tap("📞 Add phone")
    await zoe.send("07700 900456")
    zoe_id = (await people.profile(db, site_day.ZOE)).person_id  # type: ignore[union-attr]
    sam_id = (await people.profile(db, site_day.SAM)).person_id  # type: ignore[union-attr]

    report = await privacy.report(config)
    assert "site leads: only the people who call one of their locations home" in report
    assert "or hold or held a booking there (sessions from 4 weeks ago on)" in report

    priya = bot.user(site_day.PRIYA, "Priya")
    await priya.send("/people")
    assert "People of your locations</b>" in priya.last.html
    assert "Showing: everyone (2)." in priya.last.text
    assert priya.last.labels() == ["Ann", "Sam", "🔎 Filters", "✉️ Message these 2 people"]
    await priya.tap("Sam")
    assert "Roles: volunteer" in priya.last.text
    assert priya.last.labels() == ["« All people"]
    # Zoe, booked only at Riverside, cannot be opened, even with a forged button.
    await priya.tap_data(f"pc:{zoe_id}")
    assert "outside the locations you lead" in priya.last.text
    assert "07700" not in priya.last.text
    # Nor can the screens of erasure, checks, roles or scope be reached for anyone.
    for forged in (f"ea:{sam_id}", f"ck:{sam_id}", f"rr:{sam_id}:volunteer", f"sc:{sam_id}"):
        await priya.tap_data(forged)
        assert "outside the locations you lead" in priya.last.text, forged
        assert "Yes, erase" not in priya.last.labels()
    await priya.send("/invite")
    assert "outside the locations you lead" in priya.last.text
    assert priya.last.labels() == []
    await priya.send("/locations")
    assert "➕ Add a location" not in priya.last.labels()

    # Rachel, for the whole programme, sees everyone and every button.
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/people")
    assert {"Ann", "Priya", "Rachel", "Sam", "Zoe"} <= set(rachel.last.labels())
    await rachel.tap("Zoe")
    assert "07700 900456" in rachel.last.text
    assert "🗑 Erase their data" in rachel.last.labels()

    # Late August: Ann's session (28 July) was more than 4 weeks ago, so she is out of view.
    clock.advance(days=60)
    await priya.send("/people")
    assert priya.last.labels() == ["Sam", "🔎 Filters", "✉️ Message this 1 person"]
