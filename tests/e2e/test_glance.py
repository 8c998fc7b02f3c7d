"""The programme at a glance, at the programme's size: /today's day at every location, the week
as a picture and a spreadsheet, /coverage by location over a chosen horizon, and the morning
list, for coordinators of 60 and of 200 locations. Every count the bot shows is checked against
the database; no screen passes Telegram's limits (the sandbox refuses what Telegram refuses);
a volunteer is refused kindly, and forged buttons change nothing.

The programme is inserted in bulk (as an import would), then driven through the bot."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, insert, select, update

from bot.harness import Clock, Rehearsal
from bot.sandbox import SimUser
from bot.sandbox.media import image_size
from storage import audit
from storage.models import (
    Booking,
    BookingStatus,
    Location,
    LunchSession,
    Person,
    Role,
    RoleGrant,
    SessionJob,
    SessionStatus,
)
from tests.conftest import RACHEL
from tests.e2e.test_choosing import label, location_name
from tests.e2e.test_long_screens import labels_unique, no_refusals, register, within_limits
from tests.support import promote_to_coordinator

MONDAY, TUESDAY = date(2026, 7, 27), date(2026, 7, 28)
WEEK = [MONDAY + timedelta(days=n) for n in range(5)]
# Tuesday 09:00 in London: the day ahead. 13:45: lunch is over, counts to record.
TUESDAY_MORNING = datetime(2026, 7, 28, 8, 0, tzinfo=UTC)
TUESDAY_AFTER_LUNCH = datetime(2026, 7, 28, 12, 45, tzinfo=UTC)
JOBS = (("cook", 2), ("server", 3), ("driver", 1))  # a lunch's six places, slot by slot
PLACES = sum(places for _, places in JOBS)
FIRST_ID = 100_000  # ids of the bulk rows: above any the database hands out in a test
FIRST_VOLUNTEER = 900_000
BEN, PRIYA = 3105, 3101
CAPTION_MAX = 1024
PHOTO_SIDE_MAX = 2560  # Telegram scales a photo down past this


@dataclass(frozen=True)
class Programme:
    location_ids: list[int]  # location n's id, n from 0


def booked_on(n: int, day: date) -> int:
    """How many of location n's six places are booked on `day`: every count from 0 to 6."""
    return (n + day.day) % (PLACES + 1)


def confirmed_on(n: int, day: date) -> int:
    return booked_on(n, day) // 2


def cancelled_on(n: int, day: date) -> bool:
    return day == TUESDAY and n % 13 == 5


async def seed(
    bot: Rehearsal,
    clock: Clock,
    places: int,
    *,
    days: list[date] = WEEK,
    booked: Callable[[int, date], int] = booked_on,
) -> Programme:
    """Rachel, `places` locations (their names 100 characters long) with a lunch each weekday
    11:30-13:30 and its six places, and a volunteer for each place of each location, who books
    it on the days `booked` says (the first `confirmed_on` of them said they're coming)."""
    await register(bot, clock, RACHEL, "Rachel")
    db, now, tz = bot.services.db, clock(), bot.services.settings.timezone
    ids = [FIRST_ID + n for n in range(places)]
    sessions: list[dict[str, object]] = []
    jobs: list[dict[str, object]] = []
    bookings: list[dict[str, object]] = []
    for n, location_id in enumerate(ids):
        for day in days:
            session_id = FIRST_ID + len(sessions)
            starts = datetime.combine(day, time(11, 30), tzinfo=tz).astimezone(UTC)
            cancelled = cancelled_on(n, day)
            sessions.append(
                {
                    "id": session_id,
                    "location_id": location_id,
                    "starts_at": starts,
                    "ends_at": starts + timedelta(hours=2),
                    "status": SessionStatus.CANCELLED if cancelled else SessionStatus.SCHEDULED,
                    "created_at": now,
                }
            )
            count = 0 if cancelled else booked(n, day)
            slot = 0
            for job, job_places in JOBS:
                job_id = FIRST_ID + len(jobs)
                taken = max(0, min(job_places, count - slot))
                jobs.append(
                    {
                        "id": job_id,
                        "session_id": session_id,
                        "job": job,
                        "places": job_places,
                        "taken": taken,
                    }
                )
                bookings.extend(
                    {
                        "session_id": session_id,
                        "job_id": job_id,
                        "person_id": FIRST_VOLUNTEER + n * PLACES + k,
                        "status": BookingStatus.BOOKED,
                        "created_at": now,
                        "updated_at": now,
                        "confirmed_at": now if k < confirmed_on(n, day) else None,
                    }
                    for k in range(slot, slot + taken)
                )
                slot += job_places
    async with db.transaction() as session:
        await session.execute(
            insert(Location),
            [
                {"id": location_id, "name": location_name(n), "created_at": now}
                for n, location_id in enumerate(ids)
            ],
        )
        crowd = [FIRST_VOLUNTEER + k for k in range(places * PLACES)]
        await session.execute(
            insert(Person),
            [
                {
                    "id": person_id,
                    "telegram_id": person_id,
                    "display_name": f"Volunteer {person_id - FIRST_VOLUNTEER:05d}",
                    "privacy_accepted_at": now,
                    "created_at": now,
                }
                for person_id in crowd
            ],
        )
        await session.execute(
            insert(RoleGrant),
            [{"person_id": p, "role": Role.VOLUNTEER, "granted_at": now} for p in crowd],
        )
        await session.execute(insert(LunchSession), sessions)
        await session.execute(insert(SessionJob), jobs)
        if bookings:
            await session.execute(insert(Booking), bookings)
    return Programme(location_ids=ids)


# --- what the database holds, counted on its own ------------------------------------------------


async def day_figures(bot: Rehearsal, day: date) -> dict[str, int]:
    """The day's lunches, places, bookings and confirmations, straight from the tables."""
    tz = bot.services.settings.timezone
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    on_the_day = select(LunchSession.id).where(
        LunchSession.starts_at >= start,
        LunchSession.starts_at < start + timedelta(days=1),
        LunchSession.status == SessionStatus.SCHEDULED,
    )
    async with bot.services.db.read() as session:
        lunches = await session.scalar(select(func.count()).select_from(on_the_day.subquery()))
        places, taken = (
            await session.execute(
                select(func.sum(SessionJob.places), func.sum(SessionJob.taken)).where(
                    SessionJob.session_id.in_(on_the_day)
                )
            )
        ).one()
        booked = await session.scalar(
            select(func.count()).where(
                Booking.session_id.in_(on_the_day), Booking.status == BookingStatus.BOOKED
            )
        )
        confirmed = await session.scalar(
            select(func.count()).where(
                Booking.session_id.in_(on_the_day),
                Booking.status == BookingStatus.BOOKED,
                Booking.confirmed_at.is_not(None),
            )
        )
    return {
        "lunches": int(lunches or 0),
        "places": int(places or 0),
        "free": int(places or 0) - int(taken or 0),
        "booked": int(booked or 0),
        "confirmed": int(confirmed or 0),
    }


def rows_of(message_document: bytes | None) -> list[dict[str, str]]:
    assert message_document is not None
    return list(csv.DictReader(io.StringIO(message_document.decode("utf-8-sig"))))


def pictures_fit(user: SimUser) -> None:
    """Every picture is one Telegram keeps whole, with a caption Telegram accepts."""
    for message in user.bot_messages:
        if message.photo is not None:
            size = image_size(message.photo)
            assert size is not None and max(size) <= PHOTO_SIDE_MAX, size
            assert len(message.text) <= CAPTION_MAX


# --- 60 locations ----------------------------------------------------------------------------


async def test_a_coordinator_of_60_locations_sees_the_day_at_every_location_worst_first(
    bot: Rehearsal, clock: Clock
) -> None:
    await seed(bot, clock, 60)
    clock.now = TUESDAY_MORNING
    rachel = bot.user(RACHEL, "Rachel")
    figures = await day_figures(bot, TUESDAY)

    await rachel.send("/today")
    screen = rachel.last
    cancelled = sum(1 for n in range(60) if cancelled_on(n, TUESDAY))
    assert screen.text.startswith(
        f"📋 Today, Tue 28 Jul: {figures['lunches']} lunches at 60 locations\n"
        f"👥 Booked: {figures['booked']} of {figures['places']} places, "
        f"{figures['confirmed']} confirmed.\n"
        f"⚠️ To fill: {figures['free']} places at "
    )
    assert f"🚫 {cancelled} lunches cancelled." in screen.text
    # Worst gaps first: the lunches with nobody booked, by name; 8 of the 60 a page.
    nobody = sorted(
        (n for n in range(60) if booked_on(n, TUESDAY) == 0 and not cancelled_on(n, TUESDAY)),
        key=location_name,
    )
    assert len(nobody) > 8
    assert screen.labels()[:8] == [label(n) for n in nobody[:8]]
    assert screen.text.count("🔴") == 8
    assert "0 of 6 booked, 0 confirmed · ⚠️ 6 to fill" in screen.text
    assert "Showing 1-8 of 60. Send part of a name to find one." in screen.text
    await rachel.tap("Next ▶", message=screen)
    assert "Showing 9-16 of 60." in screen.text

    # Found by typing; chosen, its own day; and back to the day at every location.
    await rachel.send("club 042")
    found = rachel.last
    assert "🔎 Matching “club 042”: 1-1 of 1." in found.text
    assert f"{booked_on(42, TUESDAY)} of 6 booked, {confirmed_on(42, TUESDAY)} confirmed" in (
        found.text
    )
    await rachel.tap(label(42), message=found)
    assert f"📋 {location_name(42)}, today, Tue 28 Jul" in found.text
    await rachel.tap("« The day at a glance", message=found)
    assert "🔎 Matching “club 042”" in found.text  # the search is kept

    # The whole day as a spreadsheet: a row a lunch, each as the database has it.
    await rachel.tap("✖ Clear search", message=found)
    await rachel.tap("📄 The day as a spreadsheet", message=found)
    day = rachel.last
    assert day.filename == "day-2026-07-28.csv"
    rows = rows_of(day.document)
    assert len(rows) == 60
    on = [row for row in rows if row["Lunch"] == "on"]
    assert len(on) == figures["lunches"]
    assert sum(int(row["Booked"]) for row in on) == figures["booked"]
    assert sum(int(row["Confirmed"]) for row in on) == figures["confirmed"]
    assert sum(int(row["To fill"]) for row in on) == figures["free"]
    by_name = {row["Location"]: row for row in rows}
    ten = by_name[location_name(10)]  # 3 booked, 1 confirmed
    assert (ten["Booked"], ten["Confirmed"], ten["To fill"]) == ("3", "1", "3")
    assert ten["Not confirmed yet"] == "Volunteer 00061 (cook); Volunteer 00062 (server)"
    exported = await audit.recent(bot.services.db, action="programme_day.exported")
    assert [(e.details["day"], e.details["rows"]) for e in exported] == [("2026-07-28", 60)]

    # The week: one picture of all 60, and the same as a spreadsheet.
    await rachel.tap("🗓 The week", message=found)
    picture = rachel.last
    assert picture.photo is not None
    lunches = 60 * len(WEEK) - sum(cancelled_on(n, d) for n in range(60) for d in WEEK)
    assert picture.text.startswith(f"🗓 Week of Mon 27 Jul: {lunches} lunches at 60 locations")
    assert "Previous" not in " ".join(picture.labels())
    assert "Next ▶" not in picture.labels()
    await rachel.tap("📄 The week as a spreadsheet", message=picture)
    week = rows_of(rachel.last.document)
    assert len(week) == 60
    assert list(week[0])[1:6] == [f"{d:%a} {d.isoformat()}" for d in WEEK]
    twelve = next(row for row in week if row["Location"] == location_name(12))
    for d in WEEK:
        count = booked_on(12, d)
        words = f"{count} of 6 booked" + (f"; {6 - count} to fill" if count < 6 else "")
        assert twelve[f"{d:%a} {d.isoformat()}"] == words
    assert twelve["Booked"] == str(sum(booked_on(12, d) for d in WEEK))
    to_fill = [int(row["To fill"]) for row in week]
    assert to_fill == sorted(to_fill, reverse=True)  # worst gaps first

    within_limits(rachel)
    labels_unique(rachel)
    pictures_fit(rachel)
    no_refusals(bot)


async def test_after_lunch_the_day_says_which_counts_are_in(bot: Rehearsal, clock: Clock) -> None:
    await seed(bot, clock, 12)
    db = bot.services.db
    async with db.transaction() as session:  # three of Tuesday's lunches have their counts
        await session.execute(
            update(LunchSession)
            .where(LunchSession.id.in_([FIRST_ID + 1, FIRST_ID + 6, FIRST_ID + 11]))
            .values(meals_served=30, children_attended=25)
        )
    clock.now = TUESDAY_AFTER_LUNCH
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/today")
    screen = rachel.last  # location 5's lunch is cancelled: 11 lunches, all begun
    assert "🍽 Counts recorded: 3 of the 11 lunches begun; 8 to record." in screen.text
    on_the_page = screen.text.count("🍽 counts recorded") + screen.text.count("🍽 counts to record")
    assert on_the_page == 8
    await rachel.tap("Next ▶", message=screen)  # the cancelled one, with nothing to fill, last
    assert f"⚪ {location_name(5)} · 11:30-13:30\n      cancelled\n\nTap a location" in (
        screen.text
    )
    await rachel.tap("📄 The day as a spreadsheet", message=screen)
    rows = rows_of(rachel.last.document)
    assert sorted(row["Location"] for row in rows if row["Meals served"]) == [
        location_name(n) for n in (0, 1, 2)
    ]


# --- 200 locations ---------------------------------------------------------------------------


async def test_at_200_locations_every_screen_fits_and_every_location_can_be_reached(
    bot: Rehearsal, clock: Clock
) -> None:
    await seed(bot, clock, 200)
    clock.now = TUESDAY_MORNING
    rachel = bot.user(RACHEL, "Rachel")
    figures = await day_figures(bot, TUESDAY)

    await rachel.send("/today")
    screen = rachel.last
    assert f"{figures['lunches']} lunches at 200 locations" in screen.text
    assert f"Booked: {figures['booked']:,} of {figures['places']:,} places" in screen.text
    assert "Showing 1-8 of 200." in screen.text
    await rachel.tap_data("gd:20260728:100000", message_id=screen.message_id)  # an old page
    assert "Showing 193-200 of 200." in screen.text
    assert "Next ▶" not in screen.labels()
    await rachel.tap("📄 The day as a spreadsheet", message=screen)
    assert len(rows_of(rachel.last.document)) == 200

    # The week: 200 locations are four pictures of 60 at most, each one new.
    await rachel.send("/week")
    first = rachel.last
    assert "This picture: locations 1-60 of 200, worst gaps first" in first.text
    await rachel.tap("Next ▶", message=first)
    assert "locations 61-120 of 200" in rachel.last.text
    await rachel.tap_data("gk:20260727:180")
    last = rachel.last
    assert "locations 181-200 of 200" in last.text
    assert "Next ▶" not in last.labels() and "◀ Previous" in last.labels()
    assert len([m for m in rachel.bot_messages if m.photo is not None]) == 3
    await rachel.tap("📄 The week as a spreadsheet", message=last)
    assert len(rows_of(rachel.last.document)) == 200

    # /coverage: grouped by location, over each horizon, a location's sessions a page.
    await rachel.send("/coverage")
    coverage = rachel.last
    assert "Places to fill in the next 7 days" in coverage.text
    assert "Showing 1-8 of " in coverage.text
    await rachel.tap("Rest of the holiday", message=coverage)
    assert "Places to fill in the rest of the holiday (to Fri 31 Jul)" in coverage.text
    await rachel.send("club 150")
    await rachel.tap(label(150))
    sessions = rachel.last
    assert f"{location_name(150)}: sessions to fill in the rest of the holiday" in sessions.text

    # The morning list: one message, the worst gaps and a file of every lunch ahead.
    await bot.deliver()
    (morning,) = [m for m in rachel.bot_messages if m.text.startswith("☀️")]
    assert morning.text.startswith(
        f"☀️ Good morning! Today, Tue 28 Jul: {figures['lunches']} lunches at "
    )
    assert len(rows_of(morning.document)) == figures["lunches"]

    within_limits(rachel)
    labels_unique(rachel)
    pictures_fit(rachel)
    # (The crowd has no chats in the sandbox: their reminders, sent meanwhile, go nowhere.)
    assert [c.method for c in bot.sandbox.calls if not c.ok and c.chat_id == RACHEL] == []


# --- who may see it, and buttons that were never given ------------------------------------------


async def test_a_volunteer_is_refused_and_forged_buttons_change_nothing(
    bot: Rehearsal, clock: Clock
) -> None:
    world = await seed(bot, clock, 3)
    st_marks, riverside = world.location_ids[0], world.location_ids[1]
    await register(bot, clock, BEN, "Ben")
    await register(bot, clock, PRIYA, "Priya")
    await promote_to_coordinator(
        bot.services.db, clock(), PRIYA, by=RACHEL, scope=frozenset({st_marks})
    )
    clock.now = TUESDAY_MORNING
    ben, priya = bot.user(BEN, "Ben"), bot.user(PRIYA, "Priya")

    for command in ("/today", "/week", "/coverage"):
        await ben.send(command)
        assert "only for coordinators" in ben.last.text, command
    for forged in ("gd:20260728:0", "gf:20260728", "gk:20260727:0", "gv:20260727", "gh:7"):
        await ben.tap_data(forged)
        assert "only for coordinators" in ben.last.text, forged
    assert all(m.document is None and m.photo is None for m in ben.bot_messages)

    # A site lead of one location goes straight to its day; her week is hers alone.
    await priya.send("/today")
    assert priya.last.text.startswith(f"📋 {location_name(0)}, today, Tue 28 Jul")
    await priya.send("/week")
    assert priya.last.text.startswith("🗓 Week of Mon 27 Jul: 5 lunches at 1 location")
    await priya.tap("📄 The week as a spreadsheet")
    assert [row["Location"] for row in rows_of(priya.last.document)] == [location_name(0)]
    await priya.tap_data("gd:20260728:0")
    assert location_name(1) not in priya.last.text
    refusal = "Sorry, that is outside the locations you lead"
    await priya.tap_data(f"gl:{riverside}:7:0")
    assert priya.last.text.startswith(refusal)
    await priya.tap_data(f"dl:{riverside}:20260728")
    assert priya.last.text.startswith(refusal)
    for stale in ("gf:20261399", "gk:20260230:0", "gv:99999999", "gd:99991231:0", "gk:19000101:0"):
        before = len(priya.bot_messages)
        await priya.tap_data(stale)
        assert priya.last.text == "That button is out of date. Send /start for a fresh menu."
        assert len(priya.bot_messages) == before + 1
    for malformed in ("gh:365", "gl:1:x:0", "gk:-1:0"):
        before = len(priya.bot_messages)
        await priya.tap_data(malformed)
        assert len(priya.bot_messages) == before  # only the tap's own answer
    # Files of a day or a week without lunch: nothing to send, nothing exported.
    await priya.tap_data("gf:20260801")
    assert (
        priya.last.text
        == "There is no lunch at your locations on Sat 1 Aug, so there is no file to send."
    )
    await priya.tap_data("gv:20260803")
    assert priya.last.text == "🗓 No lunch at your locations in the week of Mon 3 Aug."
    exported = await audit.recent(bot.services.db, action="programme_day.exported")
    assert exported == []
    weeks = await audit.recent(bot.services.db, action="week.exported")
    assert [w.details["locations"] for w in weeks] == [1]
