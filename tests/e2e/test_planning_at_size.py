"""A programme of 60 locations plans its holiday as Rachel would on her phone: one plan for every
site (the same days, times and jobs), with the review naming the sites where it cannot go as
planned, then one CSV file the council prepared for the new sites, sent in chat, reviewed, and
imported with its new locations. Every count the bot says is checked against the database."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import func, select

from bot.harness import Clock, Rehearsal
from bot.sandbox import SimUser
from handlers import choose_texts, texts
from storage import audit, locations, rota
from storage.db import Database
from storage.models import Location, LunchSession, SessionJob
from storage.rota import JobSpec, SessionPlan
from tests.conftest import RACHEL
from tests.e2e.test_joining import register
from tests.e2e.test_long_screens import long_location_name, no_refusals, within_limits

SITES = 54  # in the bot before the holiday; the council's file adds six more
COUNCIL_SITES = [f"Council site {letter}" for letter in "ABCDEF"]
SERVER = (JobSpec(job="server", places=3),)


def site(n: int) -> str:
    return f"Site {n:02d}"


async def count(db: Database, model: type[object], *where: object) -> int:
    async with db.read() as session:
        query = select(func.count()).select_from(model)
        for condition in where:
            query = query.where(condition)  # type: ignore[arg-type]
        return int(await session.scalar(query) or 0)


async def one_lunch(bot: Rehearsal, clock: Clock, name: str, day: date, start: time) -> None:
    found = await locations.find(bot.services.db, search=name, offset=0, limit=1)
    await rota.create_sessions(
        bot.services.db,
        actor_telegram_id=RACHEL,
        plan=SessionPlan(
            location_id=found.shown[0].location_id,
            first_day=day,
            last_day=day,
            weekdays=frozenset({day.weekday()}),
            start=start,
            end=time(start.hour + 2, start.minute),
            jobs=SERVER,
        ),
        tz=bot.services.settings.timezone,
        now=clock(),
    )


async def programme(bot: Rehearsal, clock: Clock) -> SimUser:
    """Rachel and 54 sites. Site 00 already has the first Monday's lunch at 11:30; Site 01 runs
    the first Wednesday at 12:00, which the summer's 11:30 would overlap."""
    await register(bot, RACHEL, "Rachel")
    for n in range(SITES):
        await locations.create(bot.services.db, actor_telegram_id=RACHEL, name=site(n), now=clock())
    await one_lunch(bot, clock, site(0), date(2026, 7, 27), time(11, 30))
    await one_lunch(bot, clock, site(1), date(2026, 7, 29), time(12, 0))
    return bot.user(RACHEL, "Rachel")


def council_file() -> bytes:
    """The six new sites, Monday to Friday for the last four weeks, 12:00-14:00; and a line for
    Site 00's first Monday, already in the bot."""
    weekdays = [
        date(2026, 8, day)
        for day in range(3, 29)
        if date(2026, 8, day).weekday() < 5  # 3 to 28 August: 20 weekdays
    ]
    lines = ["location,date,start,end,cook,server"]
    lines += [
        f"{name},{day:%d/%m/%Y},12:00,14:00,1,2" for name in COUNCIL_SITES for day in weekdays
    ]
    lines.append(f"{site(0)},2026-07-27,11:30,13:30,2,3")
    return ("\r\n".join(lines) + "\r\n").encode()


async def test_a_coordinator_of_60_locations_plans_the_holiday_in_one_plan_and_one_csv_upload(
    bot: Rehearsal, clock: Clock
) -> None:
    rachel = await programme(bot, clock)
    db = bot.services.db

    # One plan for every site: Monday to Thursday, 27 July to 28 August, 11:30-13:30.
    await rachel.send("/newsessions")
    where = rachel.last
    assert where.labels()[0] == "✅ All 54 locations"
    assert "Showing 1-8 of 54." in where.text
    await rachel.tap("✅ All 54 locations")
    assert "Sessions at all 54 locations. Which dates?" in rachel.last.text
    await rachel.send("27/07/2026 - 28/08/2026")
    await rachel.tap("✓ Fri")
    await rachel.tap(texts.CONTINUE)
    await rachel.send("11:30-13:30")
    await rachel.tap("Use these")
    review = rachel.last
    assert review.text.startswith(
        "Ready to create 1,078 sessions at 54 locations (20 sessions at each):\n"
        "• every Mon, Tue, Wed, Thu, from Mon 27 Jul to Fri 28 Aug 2026\n"
        "• 11:30-13:30\n"
        "• cook x2 (needs a check), server x3, driver x1\n"
    )
    assert (
        "Left out:\n"
        "• 1 session already there at that time, left as they are: Site 00 (1)\n"
        "• 1 session at the same time as another lunch there: Site 01 (1)\n"
    ) in review.text
    assert await count(db, LunchSession) == 2  # the review wrote nothing
    assert review.labels() == ["✅ Create them", "✖ Cancel"]

    await rachel.tap("✅ Create them")
    made = rachel.last.text
    assert made.startswith(
        "✅ Created 1,078 sessions at 54 locations. Volunteers can book them now with /sessions."
    )
    assert await count(db, LunchSession) == 2 + 1_078
    assert await count(db, SessionJob) == 2 + 1_078 * 3
    per_site = await count(db, LunchSession, LunchSession.location_id == (await _id(db, site(30))))
    assert per_site == 20
    entry = (await audit.recent(db, action="sessions.created"))[0]
    assert (entry.details["created"], entry.details["locations"]) == (1_078, 54)
    no_refusals(bot)
    # A second tap creates nothing twice, and says the same (Telegram refuses the edit to the
    # same words, "message is not modified", which the bot expects).
    await rachel.tap_data("wc", message_id=review.message_id)
    assert rachel.last.text == made
    assert await count(db, LunchSession) == 1_080

    # The council's file for the six new sites, sent in chat.
    await rachel.send_document(council_file(), "council-sites.csv")
    looked = rachel.last
    assert looked.text == (
        "📄 council-sites.csv: 121 sessions at 7 locations, Mon 27 Jul – Fri 28 Aug 2026.\n"
        "• 120 sessions to add\n"
        "• 1 session already in the bot, left as they are\n"
        "• 6 locations not in the bot yet: Council site A, Council site B, Council site C, "
        "Council site D, Council site E, Council site F. Tap ➕ to add them with the import "
        "(then give them their addresses in /locations), or correct the names and send the "
        "file again.\n\n"
        "Nothing is written until you tap a button below."
    )
    assert looked.labels() == ["➕ Also create the 6 new locations", "✖ Cancel"]
    assert await count(db, Location) == SITES
    await rachel.tap("➕ Also create the 6 new locations")
    assert rachel.last.text == (
        "✅ 📄 council-sites.csv imported: 120 sessions added at 7 locations (1 session already "
        "in the bot, left as they are). Volunteers can book them now with /sessions.\n\n"
        "New locations: Council site A, Council site B, Council site C, Council site D, "
        "Council site E, Council site F. Give them their addresses and how many children they "
        "can feed in /locations."
    )
    assert await count(db, Location) == 60
    assert await count(db, LunchSession) == 1_080 + 120
    council_a = await _id(db, "Council site A")
    assert await count(db, LunchSession, LunchSession.location_id == council_a) == 20
    imported = (await audit.recent(db, action="sessions.imported"))[0]
    assert imported.details["created"] == 120 and imported.actor_id is not None

    # All 60 are in /locations, and the next plan offers them all.
    await rachel.send("/locations")
    assert "Showing 1-8 of 60." in rachel.last.text
    await rachel.send("/newsessions")
    assert rachel.last.labels()[0] == "✅ All 60 locations"
    await rachel.send("/cancel")
    within_limits(rachel)
    refused = [(c.method, c.error_code) for c in bot.sandbox.calls if not c.ok]
    assert refused == [("editMessageText", 400)]


async def _id(db: Database, name: str) -> int:
    found = await locations.find(db, search=name, offset=0, limit=1)
    return found.shown[0].location_id


async def test_some_locations_ticked_and_one_archived_before_the_review(
    bot: Rehearsal, clock: Clock
) -> None:
    rachel = await programme(bot, clock)
    db = bot.services.db
    await rachel.send("/newsessions")
    await rachel.send("site 1")  # Site 01, Site 10 ... Site 19
    await rachel.tap(site(12))
    await rachel.tap(site(15))
    assert choose_texts.label(site(12), choose_texts.PICKED) in rachel.last.labels()
    assert "Chosen: Site 12, Site 15" in rachel.last.text
    await rachel.tap(choose_texts.CLEAR_SEARCH)
    await rachel.tap(site(3))
    await rachel.tap(site(3))  # ticked, then not
    await rachel.tap(site(4))
    await rachel.tap("Continue ▶ (3 chosen)")
    assert "Sessions at 3 locations (Site 04, Site 12, Site 15). Which dates?" in rachel.last.text
    # Site 15 is archived while Rachel plans.
    await locations.set_archived(
        db,
        actor_telegram_id=RACHEL,
        location_id=await _id(db, site(15)),
        archived=True,
        now=clock(),
    )
    await rachel.send("03/08/2026")  # one Monday
    await rachel.tap(texts.CONTINUE)
    await rachel.send("12:00-14:00")
    await rachel.send("cook 1, server 4")
    assert rachel.last.text.startswith(
        "Ready to create 2 sessions at 2 of the 3 locations (1 session at each):\n"
        "• Mon 3 Aug 2026\n"
    )
    assert "• 1 location archived since it was chosen, where nothing is made: Site 15" in (
        rachel.last.text
    )
    await rachel.tap("✅ Create them")
    assert rachel.last.text.startswith("✅ Created 2 sessions at 2 locations.")
    assert await count(db, LunchSession) == 4


async def test_a_file_with_problems_names_every_one_by_line_and_writes_nothing(
    bot: Rehearsal, clock: Clock
) -> None:
    rachel = await programme(bot, clock)
    db = bot.services.db
    lines = ["location,date,start,end,cook,server"]
    lines += [f"Nowhere {n},2026-08-03,12:00,14:00,1,2" for n in range(10)]  # new: fine
    lines += [f"{site(n)},2026-08-03,12:00,11:00,1,2" for n in range(20)]  # ends before it starts
    await rachel.send_document("\n".join(lines).encode(), "rota.csv")
    problems = rachel.messages[-2]
    assert problems.text.startswith("📄 rota.csv can't be imported as it is: 20 problems.")
    assert "• line 12: the session must end after it starts" in problems.text
    assert "…and 8 more: every one is in the file below." in problems.text
    listed = rachel.last
    assert listed.filename == "rota-problems.txt" and listed.document is not None
    assert len(listed.document.decode().splitlines()) == 20
    assert await count(db, LunchSession) == 2 and await count(db, Location) == SITES

    # A workbook, by its name or by its bytes, and Excel's Windows-1252: how to save as CSV.
    await rachel.send_document(b"PK\x03\x04 a zip", "rota.xlsx")
    assert "is a spreadsheet workbook, not a CSV file" in rachel.last.text
    assert "CSV UTF-8 (Comma delimited) (*.csv)" in rachel.last.text
    await rachel.send_document(b"PK\x03\x04 a zip", "rota.csv")
    assert "this is a spreadsheet workbook (Excel or LibreOffice)" in rachel.last.text
    await rachel.send_document("location,date\nSt Mark’s,x\n".encode("cp1252"), "rota.csv")
    assert "line 2: this file is not UTF-8" in rachel.last.text
    await rachel.send_document(b"location,date,start,end,cook\n", "empty.csv")
    assert rachel.last.text.startswith("📄 empty.csv holds no session")
    within_limits(rachel)

    # A volunteer's file is not an import.
    await register(bot, 3001, "Sam")
    sam = bot.user(3001, "Sam")
    await sam.send_document(council_file(), "council-sites.csv")
    assert sam.last.text == texts.unreadable()
    assert await count(db, LunchSession) == 2


async def test_a_reviewed_file_is_imported_once_and_only_while_its_review_is_open(
    bot: Rehearsal, clock: Clock
) -> None:
    rachel = await programme(bot, clock)
    db = bot.services.db
    plain = f"location,date,start,end,server\n{site(7)},2026-08-04,11:30,13:30,3\n".encode()
    await rachel.send_document(plain, "one.csv")
    first = rachel.last
    assert first.labels() == ["✅ Import 1 session", "✖ Cancel"]
    await rachel.send("/cancel")
    assert rachel.last.text == "Cancelled: importing the file. Nothing was changed."
    await rachel.tap("✅ Import 1 session", message=first)
    assert first.text == texts.form_closed("upload")
    assert await count(db, LunchSession) == 2

    await rachel.send_document(plain, "one.csv")
    again = rachel.last
    await rachel.tap_data("iu:1", message_id=again.message_id)  # no new location to create
    assert again.text == texts.stale_button()
    await rachel.send_document(plain, "one.csv")
    newest = rachel.last
    await rachel.tap("✅ Import 1 session", message=newest)
    assert newest.text.startswith("✅ 📄 one.csv imported: 1 session added at 1 location.")
    await rachel.tap_data("iu:0", message_id=newest.message_id)  # a double tap
    assert newest.text.startswith("✅ 📄 one.csv imported: 1 session added at 1 location.")
    assert await count(db, LunchSession) == 3
    # The same file once more: nothing new, nothing to tap.
    await rachel.send_document(plain, "one.csv")
    assert rachel.last.text == (
        "📄 one.csv: its one session is already in the bot, so there is nothing to import."
    )
    assert rachel.last.labels() == []


async def test_the_longest_names_and_every_kind_of_exception_fit_one_message(
    bot: Rehearsal, clock: Clock
) -> None:
    """Twelve locations of 100-character names, each with a session already there, one
    cancelled there and another lunch at the same time; two archived once ticked; eight jobs
    of 32-character names: the review and the answer stay inside Telegram's limits."""
    await register(bot, RACHEL, "Rachel")
    db = bot.services.db
    names = [long_location_name(n) for n in range(12)]
    for name in names:
        await locations.create(db, actor_telegram_id=RACHEL, name=name, now=clock())
        await one_lunch(bot, clock, name, date(2026, 7, 27), time(11, 30))
        await one_lunch(bot, clock, name, date(2026, 7, 28), time(11, 30))
        await one_lunch(bot, clock, name, date(2026, 7, 29), time(12, 0))
        day = await rota.sessions_on(
            db,
            actor_telegram_id=RACHEL,
            location_id=await _id(db, name),
            day=date(2026, 7, 28),
            tz=bot.services.settings.timezone,
        )
        await rota.cancel_session(
            db, actor_telegram_id=RACHEL, session_id=day[0].session.session_id, now=clock()
        )
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/newsessions")
    where = rachel.last
    for page in ("first", "second"):  # every name on each page, ticked
        for label in [label for label in where.labels() if label.startswith("St Mark's")]:
            await rachel.tap(label, message=where)
        if page == "first":
            await rachel.tap("Next ▶", message=where)
    await rachel.tap("Continue ▶ (12 chosen)", message=where)
    assert "Sessions at 12 locations (" in rachel.last.text and "and 4 more)" in rachel.last.text
    for name in names[10:]:  # its sessions to come cancelled, then archived
        await rota.archive_location(
            db, actor_telegram_id=RACHEL, location_id=await _id(db, name), now=clock()
        )
    await rachel.send("27/07/2026 - 31/07/2026")
    await rachel.tap(texts.CONTINUE)
    await rachel.send("11:30-13:30")
    jobs = ", ".join(f"{'abcdefgh'[n] * 29}job {n + 1}" for n in range(8))
    await rachel.send(jobs)
    review = rachel.last
    assert review.text.startswith("Ready to create 20 sessions at 10 of the 12 locations")
    for kind in (
        "10 sessions already there at that time",
        "10 sessions cancelled at that time",
        "10 sessions at the same time as another lunch there",
        "2 locations archived since they were chosen",
    ):
        assert kind in review.text
    await rachel.tap("✅ Create them")
    assert rachel.last.text.startswith("✅ Created 20 sessions at 10 locations.")
    within_limits(rachel)
