"""Importing a holiday's sessions from CSV: all or nothing, errors by line, repeatable."""

from __future__ import annotations

import codecs
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage import audit, locations, people, rota
from storage.db import Database
from storage.rota_import import (
    BEGUN,
    TOO_FAR,
    Unreadable,
    decode,
    example,
    import_sessions,
    review,
)
from tests.support import Clock, promote_to_coordinator

LONDON = ZoneInfo("Europe/London")
RACHEL, PRIYA = 1001, 1002


async def _locations(db: Database, clock: Clock) -> None:
    await people.register(
        db, telegram_id=RACHEL, name="Rachel", now=clock(), coordinator_ids=frozenset({RACHEL})
    )
    for name in ("St Mark's church hall", "Riverside community centre"):
        await locations.create(db, actor_telegram_id=RACHEL, name=name, now=clock())


async def _import(
    db: Database, clock: Clock, text: str, *, create_locations: bool = False
) -> tuple[int, int, list[str]]:
    result = await import_sessions(
        db,
        text,
        tz=LONDON,
        jobs_needing_check=frozenset({"cook"}),
        now=clock(),
        create_locations=create_locations,
    )
    return result.created, result.existing, result.errors


async def test_the_sample_file_imports_once(db: Database, clock: Clock) -> None:
    await _locations(db, clock)
    sample = example(clock().date())
    assert await _import(db, clock, sample) == (8, 0, [])
    assert await _import(db, clock, sample) == (0, 8, [])
    page = await rota.upcoming(db, telegram_id=RACHEL, now=clock(), offset=0, limit=20)
    riverside = [s for s in page.sessions if s.location_name.startswith("Riverside")]
    assert [(j.job, j.places, j.needs_check) for j in riverside[0].jobs] == [
        ("cook", 2, True),
        ("server", 2, False),
    ]  # an empty driver cell: no driver needed
    assert riverside[0].starts_at.astimezone(LONDON).strftime("%H:%M") == "12:00"


async def test_any_wrong_line_writes_nothing_and_every_problem_is_named(
    db: Database, clock: Clock
) -> None:
    await _locations(db, clock)
    text = (
        "location,date,start,end,cook,server\n"
        "St Mark's church hall,2026-07-27,11:30,13:30,2,3\n"
        "St Marks,2026-07-28,11:30,13:30,2,3\n"
        "St Mark's church hall,31/02/2026,11:30,13:30,2,3\n"
        "St Mark's church hall,2026-07-29,13:30,11:30,2,lots\n"
        "St Mark's church hall,2026-07-27,11:30,13:30,2,3\n"
        "St Mark's church hall,2026-07-30,11:30\n"
    )
    created, _, errors = await _import(db, clock, text)
    assert created == 0
    assert errors == [
        "line 3: no location called “St Marks” (check the spelling, add it in the bot with "
        "/locations, or import with --create-locations to add it)",
        "line 4: date '31/02/2026' is not YYYY-MM-DD or DD/MM/YYYY",
        "line 5: the session must end after it starts; server: 'lots' is not a number from 0 to 50",
        "line 6: the same session as line 2",
        "line 7: expected 6 cells, found 3",
    ]
    page = await rota.upcoming(db, telegram_id=RACHEL, now=clock(), offset=0, limit=20)
    assert page.total == 0


async def test_a_bad_header_is_explained(db: Database, clock: Clock) -> None:
    _, _, errors = await _import(db, clock, "where,when\nx,y\n")
    assert errors == [
        "line 1: the columns must be location, date, start, end, then one column "
        "per job (for example cook, server, driver)"
    ]
    _, _, empty = await _import(db, clock, "")
    assert empty == ["line 1: the file is empty; the first line names the columns"]


async def test_past_dates_clock_changes_and_spreadsheet_habits(db: Database, clock: Clock) -> None:
    await _locations(db, clock)
    text = (
        "location,date,start,end,cook,server,,\n"  # empty columns at the end, as Excel leaves
        "St Mark's church hall,2020-07-27,11:30,13:30,2,3,,\n"
        "St Mark's church hall,2027-03-28,01:30,02:30,2,3\n"
        '"St Mark\'s\nchurch hall",2026-07-29,11:30,13:30,2,3\n'
        "St Mark's church hall,2026-07-30,11:30,13:30,x,3\n"
        "St Mark's church hall,2062-07-27,11:30,13:30,2,3\n"  # a slip of the year
    )
    _, _, errors = await _import(db, clock, text)
    assert errors == [
        f"line 2: {BEGUN}",
        "line 3: those times fall in the hour the clocks change; please choose others",
        "line 6: cook: 'x' is not a number from 0 to 50",
        f"line 7: {TOO_FAR}",
    ]
    assert "/today" in BEGUN and "Record an unplanned lunch" in BEGUN


async def test_the_sample_is_for_the_coming_week_and_can_add_its_locations(
    db: Database, clock: Clock
) -> None:
    """Rachel follows the README before adding any location in the bot."""
    await people.register(
        db, telegram_id=RACHEL, name="Rachel", now=clock(), coordinator_ids=frozenset({RACHEL})
    )
    sample = example(clock().date())
    created, _, errors = await _import(db, clock, sample)
    assert created == 0
    assert len(errors) == 8
    assert "import with --create-locations to add it" in errors[0]
    result = await import_sessions(
        db,
        sample,
        tz=LONDON,
        jobs_needing_check=frozenset(),
        now=clock(),
        create_locations=True,
    )
    assert (result.created, result.errors) == (8, [])
    assert result.new_locations == ["St Mark's church hall", "Riverside community centre"]
    assert len(await audit.recent(db, action="location.created")) == 2
    page = await rota.upcoming(db, telegram_id=RACHEL, now=clock(), offset=0, limit=20)
    first = page.sessions[0].starts_at.astimezone(LONDON)
    assert first.weekday() == 0 and 0 < (first.date() - clock().date()).days <= 7


EXCEL_SEMICOLONS = (
    codecs.BOM_UTF8
    + "location;date;start;end;cook;server\r\n"
    "St Mark’s church hall;27.07.2026;11:30;13:30;2;3\r\n".encode()
)
EXCEL_UNICODE_TEXT = (
    "location\tdate\tstart\tend\tcook\tserver\r\n"
    "St Mark’s church hall\t27/07/2026\t11:30\t13:30\t2\t3\r\n"
).encode("utf-16")  # with its byte-order mark, as Excel saves "Unicode Text"
EXCEL_WINDOWS_1252 = (
    "location,date,start,end,cook,server\r\nSt Mark’s church hall,27/07/2026,11:30,13:30,2,3\r\n"
).encode("cp1252")


@pytest.mark.parametrize("data", [EXCEL_SEMICOLONS, EXCEL_UNICODE_TEXT])
async def test_excels_other_ways_of_saving_are_read(
    db: Database, clock: Clock, data: bytes
) -> None:
    await _locations(db, clock)
    await locations.create(db, actor_telegram_id=RACHEL, name="St Mark’s church hall", now=clock())
    assert await _import(db, clock, decode(data)) == (1, 0, [])


def test_windows_1252_is_refused_with_how_to_save_it() -> None:
    assert b"\x92" in EXCEL_WINDOWS_1252  # the curly apostrophe, as Windows-1252 writes it
    with pytest.raises(Unreadable) as refused:
        decode(EXCEL_WINDOWS_1252)
    assert str(refused.value).startswith("line 2: this file is not UTF-8")
    assert "CSV UTF-8 (Comma delimited) (*.csv)" in str(refused.value)
    assert decode(b"location,date\r\n") == "location,date\r\n"  # plain ASCII is fine either way


# --- a file sent to the bot in chat: reviewed first, by a coordinator -------------------------


def _summer_file(names: list[str], days: int) -> str:
    """Weekday lunches from Monday 27 July at each location, `days` of them."""
    lines = ["location,date,start,end,cook,server"]
    monday = date(2026, 7, 27)
    lunch_days = [monday + timedelta(days=n) for n in range(days * 2) if n % 7 < 5][:days]
    lines += [f"{name},{day:%d/%m/%Y},11:30,13:30,2,3" for name in names for day in lunch_days]
    return "\n".join(lines) + "\n"


async def test_a_review_says_what_an_import_would_do_and_writes_nothing(
    db: Database, clock: Clock
) -> None:
    await _locations(db, clock)
    await _import(db, clock, _summer_file(["St Mark's church hall"], 2))  # Mon and Tue, already
    text = _summer_file(["St Mark's church hall", "Riverside community centre", "Hope Hall"], 5)
    seen = await review(
        db,
        text,
        tz=LONDON,
        jobs_needing_check=frozenset({"cook"}),
        now=clock(),
        actor_telegram_id=RACHEL,
    )
    assert (seen.sessions, seen.new, seen.existing, seen.locations) == (15, 13, 2, 3)
    assert (seen.first, seen.last) == (date(2026, 7, 27), date(2026, 7, 31))
    assert (seen.errors, seen.new_locations) == ([], ["Hope Hall"])
    page = await rota.upcoming(db, telegram_id=RACHEL, now=clock(), offset=0, limit=50)
    assert page.total == 2  # nothing written

    done = await import_sessions(
        db,
        text,
        tz=LONDON,
        jobs_needing_check=frozenset({"cook"}),
        now=clock(),
        create_locations=True,
        actor_telegram_id=RACHEL,
    )
    assert (done.created, done.existing, done.new_locations, done.locations) == (
        13,
        2,
        ["Hope Hall"],
        3,
    )
    imported = await audit.recent(db, action="sessions.imported")
    assert imported[0].actor_id is not None and imported[0].details["created"] == 13


async def test_a_site_lead_imports_only_at_her_own_locations_and_adds_none(
    db: Database, clock: Clock
) -> None:
    await _locations(db, clock)
    st_marks = (await locations.find(db, search="st mark", offset=0, limit=1)).shown[0]
    await people.register(
        db, telegram_id=PRIYA, name="Priya", now=clock(), coordinator_ids=frozenset()
    )
    await promote_to_coordinator(
        db, clock(), PRIYA, by=RACHEL, scope=frozenset({st_marks.location_id})
    )
    text = _summer_file(["St Mark's church hall", "Riverside community centre", "Hope Hall"], 1)
    seen = await review(
        db, text, tz=LONDON, jobs_needing_check=frozenset(), now=clock(), actor_telegram_id=PRIYA
    )
    assert seen.new_locations == []
    assert [error.split(":")[0] for error in seen.errors] == ["line 3", "line 4"]
    assert "is not one of your locations" in seen.errors[0]
    refused = await import_sessions(
        db,
        text,
        tz=LONDON,
        jobs_needing_check=frozenset(),
        now=clock(),
        create_locations=True,
        actor_telegram_id=PRIYA,
    )
    assert refused.created == 0 and len(refused.errors) == 2
    mine = await import_sessions(
        db,
        _summer_file(["St Mark's church hall"], 3),
        tz=LONDON,
        jobs_needing_check=frozenset(),
        now=clock(),
        actor_telegram_id=PRIYA,
    )
    assert (mine.created, mine.errors) == (3, [])


async def test_8000_sessions_at_200_locations_review_and_import_in_one_go(
    db: Database, clock: Clock
) -> None:
    await people.register(
        db, telegram_id=RACHEL, name="Rachel", now=clock(), coordinator_ids=frozenset({RACHEL})
    )
    names = [f"Lunch club {n:03d}" for n in range(200)]
    text = _summer_file(names, 40)
    seen = await review(
        db, text, tz=LONDON, jobs_needing_check=frozenset(), now=clock(), actor_telegram_id=RACHEL
    )
    assert (seen.sessions, seen.new, seen.errors, len(seen.new_locations)) == (8000, 8000, [], 200)
    done = await import_sessions(
        db,
        text,
        tz=LONDON,
        jobs_needing_check=frozenset(),
        now=clock(),
        create_locations=True,
        actor_telegram_id=RACHEL,
    )
    assert (done.created, done.existing, len(done.new_locations)) == (8000, 0, 200)
    page = await rota.upcoming(db, telegram_id=RACHEL, now=clock(), offset=0, limit=1)
    assert page.total == 8000


@pytest.mark.parametrize(
    "data", [b"PK\x03\x04\x14\x00\x06\x00rest of a zip", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1xls"]
)
def test_a_workbook_is_refused_with_how_to_save_it_as_csv(data: bytes) -> None:
    with pytest.raises(Unreadable) as refused:
        decode(data)
    assert str(refused.value).startswith("this is a spreadsheet workbook")
    assert "CSV UTF-8 (Comma delimited) (*.csv)" in str(refused.value)
