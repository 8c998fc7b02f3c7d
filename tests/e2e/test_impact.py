"""The impact report through the bot: Rachel picks a period and gets a summary, the CSV and a
chart; a site lead sees only her own location; volunteers and forged buttons get nothing.

The summer's sessions are set up and filled in through storage (their screens are tested
elsewhere); /impact is driven through the bot."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, time
from pathlib import Path

from bot.harness import Rehearsal
from handlers import callbacks
from handlers.impact import ImpactRun, Preset, parse_period, preset_period
from storage import audit, impact, locations, rota
from storage.rota import JobSpec, SessionPlan
from tests.conftest import RACHEL
from tests.e2e.test_joining import register
from tests.support import Clock, promote_to_coordinator

PRIYA, SAM, ANN = 3201, 3202, 3203
SEPTEMBER = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n"
TOTAL_COLUMNS = (
    "Sessions run",
    "Sessions without counts",
    "Meals served",
    "Children fed (attendances)",
    "Volunteer shifts",
    "Volunteer hours",
)


async def _summer(bot: Rehearsal, clock: Clock) -> dict[str, int]:
    """St Mark's: Mon 27, Tue 28 and Thu 30 July, 11:30-13:30; Riverside: Wed 29 and Fri 31
    July, 12:00-13:00. Filled in after the summer: St Mark's 40 + 25 meals, 30 + 20 children on
    Tuesday and Thursday, Sam and Ann came on Tuesday (2 shifts of 2 hours), Ann on Monday (a
    shift of 2 hours, but nobody counted the meals); Riverside 30 meals, 28 children on
    Wednesday, Ann came (1 hour), and nothing at all recorded on Friday.

    So St Mark's ran 3 sessions (1 without counts), Riverside 1 (and 1 without counts, Friday's,
    which is not counted as run); 4 shifts, 7 hours."""
    for who, name in ((RACHEL, "Rachel"), (SAM, "Sam"), (ANN, "Ann"), (PRIYA, "Priya")):
        await register(bot, who, name)
    db, tz = bot.services.db, bot.services.settings.timezone
    made: dict[str, int] = {}
    days = {
        "St Mark's": (frozenset({0, 1, 3}), time(11, 30), time(13, 30)),
        "Riverside": (frozenset({2, 4}), time(12, 0), time(13, 0)),
    }
    for name, (weekdays, start, end) in days.items():
        location = await locations.create(db, actor_telegram_id=RACHEL, name=name, now=clock())
        made[name] = location.location_id
        plan = SessionPlan(
            location_id=location.location_id,
            first_day=date(2026, 7, 27),
            last_day=date(2026, 7, 31),
            weekdays=weekdays,
            start=start,
            end=end,
            jobs=(JobSpec(job="server", places=3),),
        )
        await rota.create_sessions(db, actor_telegram_id=RACHEL, plan=plan, tz=tz, now=clock())

    async def session_on(name: str, day: date) -> rota.SessionView:
        found = await rota.sessions_on(
            db, actor_telegram_id=RACHEL, location_id=made[name], day=day, tz=tz
        )
        return found[0].session

    monday = await session_on("St Mark's", date(2026, 7, 27))
    tuesday = await session_on("St Mark's", date(2026, 7, 28))
    thursday = await session_on("St Mark's", date(2026, 7, 30))
    wednesday = await session_on("Riverside", date(2026, 7, 29))
    shifts = [(ANN, monday), (SAM, tuesday), (ANN, tuesday), (ANN, wednesday)]
    booked = []
    for who, view in shifts:
        outcome = await rota.book(
            db, telegram_id=who, job_id=view.jobs[0].job_id, now=clock(), waitlist=False
        )
        assert outcome.booking is not None
        booked.append(outcome.booking.booking_id)
    clock.now = SEPTEMBER
    for booking_id in booked:
        await rota.mark_attendance(
            db, actor_telegram_id=RACHEL, booking_id=booking_id, attended=True, now=clock()
        )
    for view, meals, children in ((tuesday, 40, 30), (thursday, 25, 20), (wednesday, 30, 28)):
        await rota.record_counts(
            db,
            actor_telegram_id=RACHEL,
            session_id=view.session_id,
            meals=meals,
            children=children,
            now=clock(),
        )
    return made


async def _site_lead(bot: Rehearsal, clock: Clock, location_id: int) -> None:
    db = bot.services.db
    await promote_to_coordinator(db, clock(), PRIYA, by=RACHEL, scope=frozenset({location_id}))


def _csv(data: bytes | None) -> list[dict[str, str]]:
    assert data is not None
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


async def test_rachel_runs_the_summer_report_for_the_funder(bot: Rehearsal, clock: Clock) -> None:
    await _summer(bot, clock)
    rachel = bot.user(RACHEL, "Rachel")

    await rachel.send("/impact")
    assert "Which period?" in rachel.last.text
    assert rachel.last.labels() == [
        "Last 7 days",
        "Last 4 weeks",
        "Since 1 January",
        "Choose dates…",
        "✖ Cancel",
    ]
    await rachel.tap("Choose dates…")
    assert "Type the first and the last day of the period" in rachel.last.text

    await rachel.send("the summer holidays")
    assert "I couldn't read those dates" in rachel.last.text
    await rachel.send("28/08/2026 - 27/07/2026")
    assert "the last day is before the first" in rachel.last.text
    await rachel.send("01/01/2020 - 28/08/2026")
    assert "a report covers at most 3 years" in rachel.last.text
    await rachel.send("27/07/2026 - 28/08/2026")
    assert "Impact report, 27 Jul – 28 Aug 2026: for every location, or one" in rachel.last.text
    assert rachel.last.labels() == ["All locations", "Riverside", "St Mark's", "✖ Cancel"]

    before = len(rachel.messages)
    await rachel.tap("All locations")
    summary, document, chart = rachel.messages[before - 1 :]
    assert summary.text.startswith("📊 Impact, 27 Jul – 28 Aug 2026\nAll locations")
    assert "Meals served: 95" in summary.text
    assert "Children fed (attendances): 78" in summary.text
    assert "Sessions run: 4\n⚠️ Sessions without counts: 2 (record them with /today" in (
        summary.text
    )
    assert "Volunteer shifts: 4\n⏱ Volunteer hours: 7.0" in summary.text
    assert "Referrals received: 0" in summary.text
    assert (
        "• St Mark's: 65 meals served, 50 children fed, 3 sessions run, 3 volunteer shifts, "
        "1 without counts"
    ) in summary.text
    assert (
        "• Riverside: 30 meals served, 28 children fed, 1 session run, 1 volunteer shift, "
        "1 without counts"
    ) in summary.text
    assert summary.labels() == ["ℹ️ What the figures count"]

    assert document.filename == "impact-2026-07-27-to-2026-08-28.csv"
    rows = _csv(document.document)
    assert [row["Location"] for row in rows] == ["Riverside", "St Mark's", "Total"]
    assert [rows[-1][column] for column in TOTAL_COLUMNS] == ["4", "2", "95", "78", "4", "7.0"]
    assert [rows[1][column] for column in TOTAL_COLUMNS] == ["3", "1", "65", "50", "3", "6.0"]
    assert [rows[0][column] for column in TOTAL_COLUMNS] == ["1", "1", "30", "28", "1", "1.0"]
    assert chart.photo is not None and chart.photo.startswith(PNG)
    assert "Meals served per day by location, 27 Jul – 28 Aug 2026" in chart.text

    # Then St Mark's alone, for its own funder.
    await rachel.send("/impact")
    await rachel.tap("Choose dates…")
    await rachel.send("2026-07-27 to 2026-08-28")
    await rachel.tap("St Mark's")
    assert "📊 Impact, 27 Jul – 28 Aug 2026\nSt Mark's" in rachel.messages[-3].text
    assert rachel.last.photo is not None
    assert rachel.messages[-2].filename == "impact-St-Mark-s-2026-07-27-to-2026-08-28.csv"
    alone = _csv(rachel.messages[-2].document)
    assert [row["Location"] for row in alone] == ["St Mark's", "Total"]
    assert alone[-1]["Meals served"] == "65"

    reports = await audit.recent(bot.services.db, action="impact.reported")
    assert [(r.details["start"], r.details["end"]) for r in reports] == [
        ("2026-07-27", "2026-08-28"),
        ("2026-07-27", "2026-08-28"),
    ]
    assert reports[0].subject_type == "location" and reports[1].subject_id is None


async def test_a_site_lead_gets_her_own_location_and_nobody_else_gets_anything(
    bot: Rehearsal, clock: Clock
) -> None:
    made = await _summer(bot, clock)
    await _site_lead(bot, clock, made["Riverside"])
    priya, sam = bot.user(PRIYA, "Priya"), bot.user(SAM, "Sam")

    # Priya leads one location: no question which, straight to its figures.
    await priya.send("/impact")
    await priya.tap("Choose dates…")
    await priya.send("27/07/2026-28/08/2026")
    summary = priya.messages[-3].text
    assert "All the locations you lead" in summary
    assert "Meals served: 30" in summary and "St Mark's" not in summary
    assert "Sessions run: 1" in summary
    assert "Sessions without counts: 1 (record them with /today" in summary
    rows = _csv(priya.messages[-2].document)
    assert [row["Location"] for row in rows] == ["Riverside", "Total"]
    assert rows[-1]["Meals served"] == "30"

    # A forged button for St Mark's is refused, and the refusal audited.
    await priya.send("/impact")
    forged = callbacks.encode(ImpactRun(20260727, 20260828, made["St Mark's"]))
    await priya.tap_data(forged)
    assert "outside the locations you lead" in priya.last.text
    refused = await audit.recent(bot.services.db, action="access.refused")
    assert refused[0].details["reason"] == "OutOfScope"
    # So is a period no button could offer.
    await priya.tap_data(callbacks.encode(ImpactRun(20260828, 20260727, 0)))
    assert "That button is out of date" in priya.last.text
    await priya.tap_data(callbacks.encode(ImpactRun(20261399, 20261400, 0)))
    assert "That button is out of date" in priya.last.text

    await sam.send("/impact")
    assert "Sorry, that is only for coordinators" in sam.last.text
    await sam.tap_data(callbacks.encode(ImpactRun(20260727, 20260828, 0)))
    assert "Sorry, that is only for coordinators" in sam.last.text
    assert len(await audit.recent(bot.services.db, action="impact.reported")) == 1


async def test_the_presets_end_today(bot: Rehearsal, clock: Clock) -> None:
    await _summer(bot, clock)
    clock.now = datetime(2026, 7, 30, 14, 0, tzinfo=UTC)  # Thursday afternoon
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/impact")
    await rachel.tap("Last 7 days")
    assert "Impact report, 24 Jul – 30 Jul 2026" in rachel.last.text
    await rachel.tap("All locations")
    # Thursday's session began at 11:30 (10:30 UTC): four sessions have been run, Monday's
    # without counts; Riverside's Friday has not begun, so it is no gap yet.
    summary = rachel.messages[-3].text
    assert "Sessions run: 4" in summary
    assert "Sessions without counts: 1 (record them with /today" in summary

    today = date(2026, 7, 30)
    assert preset_period(Preset.FOUR_WEEKS, today) == (date(2026, 7, 3), today)
    assert preset_period(Preset.YEAR, today) == (date(2026, 1, 1), today)
    assert parse_period("27/07/2026 – 28/08/2026") == (date(2026, 7, 27), date(2026, 8, 28))
    assert parse_period(" 27/07/2026 ") == (date(2026, 7, 27), date(2026, 7, 27))
    assert parse_period("31/02/2026 - 28/08/2026") is None
    assert parse_period("1 - 2 - 3") is None


async def test_the_csv_and_the_summary_agree_figure_by_figure_with_one_meaning_each(
    bot: Rehearsal, clock: Clock
) -> None:
    """A funder reads the summary, opens the CSV and the README: every figure has one name and
    one meaning, and the same value in the chat as in the file."""
    await _summer(bot, clock)
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/impact")
    await rachel.tap("Choose dates…")
    await rachel.send("27/07/2026 - 28/08/2026")
    before = len(rachel.messages)
    await rachel.tap("All locations")
    summary, document, _ = rachel.messages[before - 1 :]
    total = _csv(document.document)[-1]
    for definition in impact.DEFINITIONS:
        found = re.search(rf"{re.escape(definition.name)}: ([\d,.]+)", summary.text)
        assert found is not None, definition.name
        assert found.group(1).replace(",", "") == total[definition.name], definition.name

    await rachel.tap("ℹ️ What the figures count")
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    readme = " ".join(readme.split())  # the README wraps its lines
    for definition in impact.DEFINITIONS:
        assert f"{definition.name}: {definition.meaning}" in rachel.last.text
        assert f"**{definition.name}**: {definition.meaning}" in readme, definition.name
