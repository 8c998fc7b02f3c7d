"""The rota as files, through the bot: Rachel exports a week's rota as CSV (every location, some
of them, typed dates, the rest of the holiday); Priya, a site lead, prints her session's
sign-in sheet; volunteers, other sites' leads and forged buttons get nothing.

Locations, sessions, bookings and placed families are set up through storage (their screens are
tested elsewhere); /export and the sign-in sheet are driven through the bot, and the files that
come back are read as a spreadsheet and a PDF reader would."""

from __future__ import annotations

import csv
import io
import logging
import re
from datetime import UTC, date, datetime, time

import pytest
from pypdf import PdfReader

from bot.harness import Rehearsal
from bot.sandbox import SimUser
from handlers import callbacks
from handlers.choose import Pick
from handlers.exports import ROTA_LIST, ExportAll
from handlers.exports_sheet import SignInSheet
from storage import audit, locations, people, referrals, rota
from storage.exports import ROTA_HEADER
from storage.referrals import ReferralForm
from storage.rota import JobSpec, SessionPlan
from tests.conftest import RACHEL
from tests.e2e.test_joining import register
from tests.e2e.test_long_screens import within_limits
from tests.e2e.test_triage import ALLERGY, contact
from tests.support import Clock, promote_to_coordinator

PRIYA, HASSAN, SAM, ANN, ZOE, OKAFOR = 3301, 3302, 3303, 3304, 3305, 3306
PRIYAS_PHONE = "07700 900123"
MONDAY, TUESDAY, THURSDAY = date(2026, 7, 27), date(2026, 7, 28), date(2026, 7, 30)
JOBS = (
    JobSpec(job="cook", places=2),
    JobSpec(job="server", places=3),
    JobSpec(job="driver", places=1),
)
FRIDAY_BEFORE = datetime(2026, 7, 24, 9, 0, tzinfo=UTC)  # the Friday before the holiday
TUESDAY_MORNING = datetime(2026, 7, 28, 8, 0, tzinfo=UTC)  # 09:00 in London
BOM = b"\xef\xbb\xbf"


async def _lunches(
    bot: Rehearsal, clock: Clock, location_id: int, first: date, last: date, jobs=JOBS
) -> None:
    """Monday to Thursday lunches, 11:30-13:30, from `first` to `last`."""
    plan = SessionPlan(
        location_id=location_id,
        first_day=first,
        last_day=last,
        weekdays=frozenset({0, 1, 2, 3}),
        start=time(11, 30),
        end=time(13, 30),
        jobs=jobs,
    )
    await rota.create_sessions(
        bot.services.db,
        actor_telegram_id=RACHEL,
        plan=plan,
        tz=bot.services.settings.timezone,
        now=clock(),
    )


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


async def _programme(bot: Rehearsal, clock: Clock) -> tuple[int, int]:
    """St Mark's and Riverside, lunches Monday to Thursday in the week of 27 July (cook x2,
    server x3, driver x1); Priya leads St Mark's (phone given), Hassan leads Riverside. Sam
    (confirmed) and Ann are on St Mark's Tuesday; Zoë, whose name starts like a formula, cooks
    at Riverside on Wednesday."""
    for who, name in ((RACHEL, "Rachel"), (SAM, "Sam"), (ANN, "Ann"), (ZOE, "@Zoë")):
        await register(bot, who, name)
    db = bot.services.db
    made = []
    for name in ("St Mark's", "Riverside"):
        location = await locations.create(db, actor_telegram_id=RACHEL, name=name, now=clock())
        await _lunches(bot, clock, location.location_id, MONDAY, THURSDAY)
        made.append(location.location_id)
    st_marks, riverside = made
    for who, name, where in ((PRIYA, "Priya", st_marks), (HASSAN, "Hassan", riverside)):
        await register(bot, who, name)
        await promote_to_coordinator(db, clock(), who, by=RACHEL, scope=frozenset({where}))
    await people.set_phone(db, telegram_id=PRIYA, phone=PRIYAS_PHONE, now=clock())
    tuesday = await _session(bot, st_marks, TUESDAY)
    sams = await _book(bot, clock, SAM, tuesday, "server")
    await rota.confirm(db, telegram_id=SAM, booking_id=sams, now=clock())
    await _book(bot, clock, ANN, tuesday, "cook")
    await _book(bot, clock, ZOE, await _session(bot, riverside, date(2026, 7, 29)), "cook")
    return st_marks, riverside


def _rows(user: SimUser) -> list[list[str]]:
    """The CSV the person was sent last, as a spreadsheet reads it (header first)."""
    document = next(m for m in reversed(user.bot_messages) if m.document is not None)
    assert document.document is not None
    assert document.document.startswith(BOM)  # Excel reads "Zoë" right
    return list(csv.reader(io.StringIO(document.document.decode("utf-8-sig"))))


def _documents(user: SimUser) -> int:
    return sum(1 for m in user.bot_messages if m.document is not None)


def _pdf_text(user: SimUser) -> tuple[str, int]:
    """The text of the PDF the person was sent last, and its number of pages."""
    document = next(m for m in reversed(user.bot_messages) if m.document is not None)
    assert document.document is not None and document.document.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(document.document))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


async def test_rachel_exports_next_weeks_rota_and_every_place_is_a_row(
    bot: Rehearsal, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    await _programme(bot, clock)
    clock.now = FRIDAY_BEFORE
    rachel = bot.user(RACHEL, "Rachel")
    caplog.set_level(logging.DEBUG)

    await rachel.send("/export")
    assert "Export the rota" in rachel.last.text
    await rachel.tap("Next week (27 Jul – 2 Aug 2026)")
    assert "Which locations?" in rachel.last.text
    await rachel.tap("📄 All locations (2)")
    assert rachel.messages[-2].text == (
        "📄 The rota for 27 Jul – 2 Aug 2026: 8 sessions at 2 locations, 48 places: 3 filled, "
        "45 open. The file is below: one row a place."
    )
    assert rachel.last.filename == "rota-2026-07-27-to-2026-08-02.csv"
    assert "keep it safe" in (rachel.last.text or "")
    header, *rows = _rows(rachel)
    assert tuple(header) == ROTA_HEADER
    assert len(rows) == 48
    assert [
        "2026-07-28",
        "Tue",
        "11:30",
        "13:30",
        "St Mark's",
        "server",
        "Sam",
        "booked",
        "yes",
        "Priya",
        PRIYAS_PHONE,
    ] in rows
    assert (next(r for r in rows if r[6] == "Ann")[:9]) == [
        "2026-07-28",
        "Tue",
        "11:30",
        "13:30",
        "St Mark's",
        "cook",
        "Ann",
        "booked",
        "no",
    ]
    # A name that a spreadsheet would run as a formula is written as text.
    zoe = next(r for r in rows if "Zoë" in r[6])
    assert zoe[6] == "'@Zoë" and zoe[4] == "Riverside" and zoe[9:] == ["Hassan", ""]
    assert sum(r[6] == "(open)" for r in rows) == 45
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)  # by day, as a rota is read
    # The counts on screen are the file's.
    assert sum(r[7] != "open" for r in rows) == 3

    exported = await audit.recent(bot.services.db, action="rota.exported")
    assert exported[0].details == {
        "first": "2026-07-27",
        "last": "2026-08-02",
        "locations": "all",
        "sessions": 8,
        "rows": 48,
    }
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("Sam", "Zoë", "Priya", PRIYAS_PHONE, "07700"):
        assert secret not in logged
    # The form is over: a button tapped again changes nothing and says so.
    await rachel.tap_data(callbacks.encode(ExportAll()))
    assert "This form (the export) is closed" in rachel.last.text
    assert _documents(rachel) == 1


async def test_rachel_chooses_a_location_by_typing_part_of_its_name(
    bot: Rehearsal, clock: Clock
) -> None:
    await _programme(bot, clock)
    clock.now = FRIDAY_BEFORE
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/export")
    await rachel.tap("Next week (27 Jul – 2 Aug 2026)")
    await rachel.send("river")
    assert "🔎 Matching “river”: 1-1 of 1." in rachel.last.text
    await rachel.tap("Riverside")
    assert "Chosen: Riverside" in rachel.last.text
    assert "✓ Riverside" in rachel.last.labels()
    await rachel.tap("✖ Clear search")
    assert "St Mark's" in rachel.last.labels()
    await rachel.tap("Continue ▶ (1 chosen)")
    assert "4 sessions at 1 location, 24 places: 1 filled, 23 open" in rachel.messages[-2].text
    _, *rows = _rows(rachel)
    assert {r[4] for r in rows} == {"Riverside"} and len(rows) == 24


async def test_typed_dates_and_the_rest_of_the_holiday(bot: Rehearsal, clock: Clock) -> None:
    _, riverside = await _programme(bot, clock)
    # Riverside runs a second week, and a day at October half-term: another holiday.
    await _lunches(bot, clock, riverside, date(2026, 8, 3), date(2026, 8, 6))
    await _lunches(bot, clock, riverside, date(2026, 10, 26), date(2026, 10, 26))
    clock.now = FRIDAY_BEFORE
    rachel = bot.user(RACHEL, "Rachel")

    await rachel.send("/export")
    await rachel.tap("Choose dates…")
    await rachel.send("28/07/2026 - 27/07/2026")
    assert "the last day is before the first" in rachel.last.text
    await rachel.send("27/07/2026 - 27/07/2027")
    assert "at most a year" in rachel.last.text
    await rachel.send("27/07/2026 - 28/07/2026")
    assert "The rota for <b>27 Jul – 28 Jul 2026</b>" in (rachel.last.html or "")
    await rachel.tap("📄 All locations (2)")
    _, *rows = _rows(rachel)
    assert len(rows) == 4 * 6 and {r[1] for r in rows} == {"Mon", "Tue"}

    await rachel.send("/export")
    await rachel.tap("The rest of the holiday")
    assert "The rota for <b>24 Jul – 6 Aug 2026</b>" in (rachel.last.html or "")
    await rachel.tap("📄 All locations (2)")
    _, *rows = _rows(rachel)
    assert len(rows) == 12 * 6
    assert max(r[0] for r in rows) == "2026-08-06"  # half-term is another holiday


async def test_a_site_lead_exports_her_own_location_without_choosing(
    bot: Rehearsal, clock: Clock
) -> None:
    st_marks, _ = await _programme(bot, clock)
    clock.now = FRIDAY_BEFORE
    priya = bot.user(PRIYA, "Priya")
    await priya.send("/export")
    await priya.tap("Next week (27 Jul – 2 Aug 2026)")
    _, *rows = _rows(priya)
    assert {r[4] for r in rows} == {"St Mark's"} and len(rows) == 24
    exported = await audit.recent(bot.services.db, action="rota.exported")
    assert exported[0].details["locations"] == [st_marks]


async def _families(bot: Rehearsal, clock: Clock, location_id: int, count: int) -> list[str]:
    """`count` families from Hillside placed at the location's Tuesday and Thursday lunches;
    every third has needs or allergies recorded. Returns their references."""
    await contact(bot, OKAFOR, "Hillside Primary")
    db, cipher = bot.services.db, bot.services.cipher
    assert cipher is not None
    made = []
    for n in range(count):
        reference = f"HS-{n:03d}"
        sent = await referrals.submit(
            db,
            cipher,
            telegram_id=OKAFOR,
            now=clock(),
            daily_limit=count,
            form=ReferralForm(
                reference=reference,
                children=1 + n % 3,
                age_bands=tuple(f"Year {1 + k}" for k in range(1 + n % 3)),
                needs=ALLERGY if n % 3 == 0 else None,
                note=None,
                preferred_location_ids=(location_id,),
                first_day=TUESDAY,
                last_day=THURSDAY,
                weekdays=(1, 3),
                consent=True,
            ),
        )
        await referrals.place(
            db,
            telegram_id=RACHEL,
            referral_id=sent.referral_id,
            version=0,
            location_id=location_id,
            first_day=TUESDAY,
            last_day=THURSDAY,
            weekdays=(1, 3),
            tz=bot.services.settings.timezone,
            now=clock(),
        )
        made.append(reference)
    return made


async def test_priya_prints_the_sign_in_sheet_of_her_session(bot: Rehearsal, clock: Clock) -> None:
    st_marks, _ = await _programme(bot, clock)
    references = await _families(bot, clock, st_marks, 2)
    clock.now = TUESDAY_MORNING
    priya = bot.user(PRIYA, "Priya")

    await priya.send("/today")
    assert "St Mark's, today, Tue 28 Jul" in priya.last.text
    await priya.tap("🖨 Sign-in sheet")
    sheet = priya.last
    assert sheet.filename == "sign-in-St-Mark-s-2026-07-28-1130.pdf"
    assert sheet.text == (
        "🖨 Sign-in sheet: St Mark's, Tue 28 Jul, 11:30-13:30: 2 volunteers, 4 open places, 2 "
        "families (3 children). It names volunteers and families' references: shred it after "
        "the session. Making it is recorded."
    )
    text, pages = _pdf_text(priya)
    assert pages == 1
    assert "Sign-in sheet: St Mark's" in text
    assert "Tuesday 28 July 2026, 11:30 to 13:30" in text
    assert "Site lead: Priya" in text
    assert "Sam" in text and "Ann" in text
    assert all(reference in text for reference in references)
    assert "YES" in text  # HS-000 has an allergy recorded...
    assert "peanut" not in text and "EpiPen" not in text  # ...which is never printed
    made = await audit.recent(bot.services.db, action="signin_sheet.exported")
    assert made[0].subject_id is not None and made[0].details["volunteers"] == 2
    assert len(made[0].details["referrals"]) == 2


async def test_a_sheet_can_be_chosen_in_export(bot: Rehearsal, clock: Clock) -> None:
    await _programme(bot, clock)
    clock.now = FRIDAY_BEFORE
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/export")
    await rachel.tap("🖨 A session's sign-in sheet")
    assert "at which location?" in rachel.last.text
    await rachel.tap("Riverside")
    assert "Sign-in sheet for <b>Riverside</b>: which session?" in (rachel.last.html or "")
    assert "Mon 27 Jul, 11:30-13:30" in rachel.last.labels()
    await rachel.tap("Wed 29 Jul, 11:30-13:30")
    assert rachel.last.filename == "sign-in-Riverside-2026-07-29-1130.pdf"
    text, _ = _pdf_text(rachel)
    assert "@Zoë" in text and "Site lead: Hassan" in text
    # The list stays: another day's sheet is a tap away.
    await rachel.tap("Thu 30 Jul, 11:30-13:30", message=rachel.bot_messages[-2])
    assert rachel.last.filename == "sign-in-Riverside-2026-07-30-1130.pdf"


async def test_others_are_refused_kindly_and_forged_buttons_change_nothing(
    bot: Rehearsal, clock: Clock
) -> None:
    st_marks, riverside = await _programme(bot, clock)
    clock.now = TUESDAY_MORNING
    riversides = await _session(bot, riverside, TUESDAY)
    st_marks_tuesday = await _session(bot, st_marks, TUESDAY)

    sam = bot.user(SAM, "Sam")
    await sam.send("/export")
    assert sam.last.text.startswith("Sorry, that is only for coordinators")
    await sam.tap_data(callbacks.encode(SignInSheet(st_marks_tuesday.session_id)))
    assert sam.last.text.startswith("Sorry, that is only for coordinators")
    assert _documents(sam) == 0

    # Priya leads St Mark's: Riverside's sheet (its families, its volunteers) is not hers.
    priya = bot.user(PRIYA, "Priya")
    await priya.tap_data(callbacks.encode(SignInSheet(riversides.session_id)))
    assert priya.last.text.startswith("Sorry, that is outside the locations you lead")
    await priya.send("/export")
    await priya.tap("🖨 A session's sign-in sheet")
    await priya.tap_data(callbacks.encode(Pick(ROTA_LIST, riverside, 0)))
    assert _documents(priya) == 0
    refused = await audit.recent(bot.services.db, action="access.refused")
    assert len(refused) >= 3

    # Forged data: an unknown session, a made-up location, data that is not an action.
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.tap_data(callbacks.encode(SignInSheet(999_999)))
    assert rachel.last.text.startswith("Sorry, I can't find that any more")
    await rachel.send("/export")
    await rachel.tap("Next week (3 Aug – 9 Aug 2026)")
    await rachel.tap_data(callbacks.encode(Pick(ROTA_LIST, 999_999, 0)))
    assert rachel.last.text.startswith("Sorry, I can't find that any more")
    await rachel.tap_data("xk:abc")
    assert (
        rachel.callback_answers[-1].text
        == "That button is out of date. Send /start for a fresh menu."
    )
    assert _documents(rachel) == 0
    assert await audit.recent(bot.services.db, action="signin_sheet.exported") == []
    assert await audit.recent(bot.services.db, action="rota.exported") == []


async def test_a_session_of_60_volunteers_and_40_families_makes_a_sheet_of_several_pages(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    db = bot.services.db
    location = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=clock())
    big = (JobSpec(job="server", places=50), JobSpec(job="cook", places=12))
    await _lunches(bot, clock, location.location_id, TUESDAY, TUESDAY, jobs=big)
    tuesday = await _session(bot, location.location_id, TUESDAY)
    names = [f"Helper {n:02d} " + ("Zoë", "Siobhán", "Дмитрий")[n % 3] for n in range(60)]
    for n, name in enumerate(names):
        who = 6000 + n
        await people.register(
            db, telegram_id=who, name=name, now=clock(), coordinator_ids=frozenset()
        )
        await _book(bot, clock, who, tuesday, "server" if n < 50 else "cook")
    references = await _families(bot, clock, location.location_id, 40)
    clock.now = TUESDAY_MORNING
    rachel = bot.user(RACHEL, "Rachel")

    await rachel.send("/today")
    await rachel.tap("🖨 Sign-in sheet")
    assert "60 volunteers, 2 open places, 40 families (79 children)" in rachel.last.text
    text, pages = _pdf_text(rachel)
    assert pages >= 3
    assert all(name in text for name in names)
    assert all(reference in text for reference in references)
    flagged = re.findall(r"(HS-\d{3}) Hillside Primary \d Year[^\n]* YES", text)
    assert flagged == references[::3]  # every third family: HS-000, HS-003 ... HS-039
    assert "Page 1 of" in text


async def test_with_500_locations_the_choice_is_paged_and_searchable(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    db = bot.services.db
    for n in range(500):
        await locations.create(db, actor_telegram_id=RACHEL, name=f"Site {n:03d}", now=clock())
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/export")
    await rachel.tap("This week (29 Jun – 5 Jul 2026)")
    assert "Showing 1-8 of 500." in rachel.last.text
    await rachel.tap("Next ▶")
    await rachel.tap("Site 009")
    assert "Chosen: Site 009" in rachel.last.text
    await rachel.send("site 42")
    assert "🔎 Matching “site 42”: 1-8 of 10." in rachel.last.text
    await rachel.send("Site 420")
    assert "🔎 Matching “Site 420”: 1-1 of 1." in rachel.last.text
    await rachel.tap("Site 420")
    await rachel.tap("Continue ▶ (2 chosen)")
    assert "No lunch sessions run at those locations" in rachel.last.text
    await rachel.send("/export")
    await rachel.tap("🖨 A session's sign-in sheet")
    await rachel.send("499")
    await rachel.tap("Site 499")
    assert "No sessions are planned at <b>Site 499</b>" in (rachel.last.html or "")
    within_limits(rachel)


async def test_the_choice_survives_a_restart(bot: Rehearsal, clock: Clock) -> None:
    await _programme(bot, clock)
    clock.now = FRIDAY_BEFORE
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/export")
    await rachel.tap("Next week (27 Jul – 2 Aug 2026)")
    await rachel.tap("St Mark's")
    await bot.restart()
    await rachel.send("river")  # still the form's search, after the restart
    await rachel.tap("Riverside")
    assert "Chosen: Riverside, St Mark's" in rachel.last.text
    await rachel.tap("Continue ▶ (2 chosen)")
    _, *rows = _rows(rachel)
    assert len(rows) == 48
