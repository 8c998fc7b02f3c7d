"""Coordinators' screens at the programme's size, measured: how long the bot takes to answer a
screen of the people directory, of the locations, or of the programme at a glance (the day at
every location, the week's picture, /coverage), on SQLite (or PostgreSQL), with 200 locations,
10,000 people, 8,000 sessions and a year of bookings; and planning at that size: a holiday
planned at all 200 locations in one plan (its review, and its creation of 3,200 sessions in one
transaction), and a CSV file of 8,000 sessions sent in chat and reviewed.

    python -m benchmarks.screens                  # make bench-screens
    python -m benchmarks.screens --repeat 50 --people 20000
    python -m benchmarks.screens --postgres postgresql://postgres@127.0.0.1:5432/postgres

Each figure is the median (and 90th percentile) of `--repeat` runs of the server's time: from
the moment the person's message or tap reaches the Bot API sandbox to the moment the bot's
answer (the list, sent or edited) reaches it. That includes the bot fetching the update,
storing it in its inbox and handling it. /help, which reads nothing from the lists, is the
anchor measured in the same run: the difference is what the screen itself costs.

The data is inserted in bulk (as `lunchbot import` or a migration would) before the bot starts:
every volunteer calls one location home, and each session has three volunteers, who came (the
sessions past) or are booked (those ahead). Of the sessions, the week of the run's day has a
lunch at every location each weekday (1,000 of the 8,000, from none to all of five places
booked), the busiest day the programme has; the rest are spread over the past year and the
month ahead.

Each run of the plan is four weeks of lunches, Monday to Thursday (16 at each location, 3,200
in all), from 3 August: twelve runs plan the year's twelve four-week blocks at 11:30, the rest
plan them again at 14:00, so that their review finds a whole holiday there already (and says
so), and every run creates its 3,200 sessions anew. The CSV file is the 200
locations' weekday lunches from 31 August, 40 each; its review fetches the file through the
Bot API, reads it and checks it against the database, writing nothing.

Then a snow day, `--repeat` times: a day ahead with a lunch at every location, three volunteers
on each (600 people, each at one location) and 80 families placed by 40 partner schools, all
inserted after the screens above are measured (so they do not change those figures). Rachel
cancels it in /cancelsessions: the day typed (its sessions counted), the preview (whom it would
tell, each once) and the confirm (200 sessions cancelled in one transaction, 600 volunteers and
40 school contacts queued one notice each) are timed as above. The notices are then sent at a
pace far above Telegram's (the pace is not what is measured), so each run ends clean.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bot.config import (
    Config,
    CoordinatorsConfig,
    DatabaseConfig,
    DeliveryConfig,
    ProgrammeConfig,
)
from bot.harness import Clock, Rehearsal
from bot.sandbox import SimUser
from handlers import callbacks
from handlers.act_for_buttons import PutOnPeople, RotaTeam
from storage import migrate, people
from storage.db import Database
from storage.models import (
    Base,
    Booking,
    BookingStatus,
    HomeLocation,
    Location,
    LunchSession,
    Person,
    PlacementDay,
    Referral,
    ReferralStatus,
    Role,
    RoleGrant,
    School,
    SessionJob,
)

COORDINATOR = 1001
FIRST_PERSON = 100_000
FIRST_ID = 1_000  # the crowd's person ids
NOW = datetime(2026, 7, 29, 13, 0, tzinfo=UTC)  # a Wednesday of the summer holiday
DAY = f"{NOW:%Y%m%d}"  # on a button: the day shown
YEAR = timedelta(days=365)
PER_SESSION = 3  # volunteers at each session
TARGET_MS = 200.0
PICTURE_TARGET_MS = 2_000.0  # the week's picture (issue 12): drawing it is most of it
FILE_TARGET_MS = 2_000.0
CHUNK = 2_000  # rows a bulk insert: far below SQLite's bound parameters
REPLIES = ("sendMessage", "editMessageText", "sendPhoto", "sendDocument")
WEEK_DAYS = 5  # the run's week: Monday to Friday, a lunch at every location each day
PLACES_A_LUNCH = 5
# The snow days: their people, sessions and families, above every id the seed uses.
SNOW_FIRST_PERSON = 900_000  # Telegram ids
SNOW_FIRST_ID = 500_000  # person ids
SNOW_FIRST_SESSION = 1_000_000
SNOW_SCHOOLS = 40
SNOW_FAMILIES = 80  # placed at the first 80 locations, two to a school
SNOW_PACE = 2_000  # messages a second: the bench measures the server, not Telegram's pace


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def location_name(n: int) -> str:
    return f"Lunch club {n:03d}, community hall on Station Road"


def person_name(n: int) -> str:
    first = ("Aisha", "Ben", "Cleo", "Dev", "Elsa", "Finn", "Gail", "Hugo", "Iris", "Jack")
    return f"{first[n % len(first)]} Volunteer {n:05d}"


async def seed(url: str, *, places: int, crowd: int, sessions: int) -> None:
    """The programme, inserted in bulk: locations, volunteers (each with a home), sessions
    spread over the past year and the month ahead, each with a job and its bookings."""
    await migrate.upgrade(url)
    db = Database(url)
    at = NOW - YEAR
    try:
        # Rachel first, by the bot's own rule: the rows below name their ids (to link them),
        # above any the database hands out itself (PostgreSQL's sequences do not see them).
        await people.register(
            db,
            telegram_id=COORDINATOR,
            name="Rachel",
            now=at,
            coordinator_ids=frozenset({COORDINATOR}),
        )
        await _insert(
            db,
            Location,
            [{"id": n + 1, "name": location_name(n), "created_at": at} for n in range(places)],
        )
        await _insert(
            db,
            Person,
            [
                {
                    "id": FIRST_ID + n,
                    "telegram_id": FIRST_PERSON + n,
                    "display_name": person_name(n),
                    "privacy_accepted_at": at,
                    "created_at": at,
                }
                for n in range(crowd)
            ],
        )
        await _insert(
            db,
            RoleGrant,
            [
                {"person_id": FIRST_ID + n, "role": Role.VOLUNTEER, "granted_at": at}
                for n in range(crowd)
            ],
        )
        await _insert(
            db,
            HomeLocation,
            [{"person_id": FIRST_ID + n, "location_id": n % places + 1} for n in range(crowd)],
        )
        span = YEAR + timedelta(days=30)
        rows, jobs, bookings = [], [], []
        monday = (NOW - timedelta(days=NOW.weekday())).replace(hour=10, minute=30)
        this_week = min(sessions, places * WEEK_DAYS)
        for n in range(sessions):
            location_id = n % places + 1
            if n < this_week:  # 11:30 in London, every location, Monday to Friday
                starts = monday + timedelta(days=n // places)
                booked = (n + n // places) % (PLACES_A_LUNCH + 1)
            else:
                starts = NOW - YEAR + span * (n - this_week) / (sessions - this_week)
                booked = PER_SESSION
            rows.append(
                {
                    "id": n + 1,
                    "location_id": location_id,
                    "starts_at": starts,
                    "ends_at": starts + timedelta(hours=2),
                    "created_at": at,
                }
            )
            jobs.append(
                {
                    "id": n + 1,
                    "session_id": n + 1,
                    "job": "server",
                    "places": PLACES_A_LUNCH,
                    "taken": booked,
                }
            )
            status = BookingStatus.ATTENDED if starts < NOW else BookingStatus.BOOKED
            bookings.extend(
                {
                    "session_id": n + 1,
                    "job_id": n + 1,
                    "person_id": FIRST_ID + (n * PLACES_A_LUNCH + k) % crowd,
                    "status": status,
                    "created_at": at,
                    "updated_at": at,
                }
                for k in range(booked)
            )
        await _insert(db, LunchSession, rows)
        await _insert(db, SessionJob, jobs)
        await _insert(db, Booking, bookings)
        await _catch_up(db, (Location, Person, LunchSession, SessionJob))
    finally:
        await db.dispose()


async def _catch_up(db: Database, models: tuple[type[Base], ...]) -> None:
    """PostgreSQL's sequences hand out ids from 1 whatever rows were inserted with their own:
    moved past those, the bot's own inserts (a plan's sessions) take fresh ones."""
    async with db.transaction() as session:
        if session.get_bind().dialect.name != "postgresql":
            return
        for model in models:
            table = model.__table__
            highest = select(func.max(table.c.id)).scalar_subquery()
            await session.execute(
                select(func.setval(func.pg_get_serial_sequence(table.name, "id"), highest))
            )


async def _insert(db: Database, table: type[object], rows: list[dict[str, object]]) -> None:
    for first in range(0, len(rows), CHUNK):
        async with db.transaction() as session:
            await session.execute(insert(table), rows[first : first + CHUNK])  # type: ignore[arg-type]


def snow_day(k: int) -> date:
    """The k-th snow day: after every session the seed plans (a month ahead at most)."""
    return (NOW + timedelta(days=40 + k)).date()


async def seed_snow(url: str, *, places: int, days: int) -> None:
    """`days` snow days: a lunch at each location, 3 volunteers on each (the same 600 each
    day), 80 families placed (each on one day), 40 schools with a contact each."""
    db = Database(url)
    at = NOW - timedelta(days=1)
    people = places * PER_SESSION
    try:
        await _insert(
            db,
            Person,
            [
                {
                    "id": SNOW_FIRST_ID + n,
                    "telegram_id": SNOW_FIRST_PERSON + n,
                    "display_name": person_name(n),
                    "privacy_accepted_at": at,
                    "created_at": at,
                    "school_id": None,
                }
                for n in range(people)
            ],
        )
        await _insert(
            db,
            School,
            [
                {"id": n + 1, "name": f"School {n:02d}", "created_at": at}
                for n in range(SNOW_SCHOOLS)
            ],
        )
        contacts = [
            {
                "id": SNOW_FIRST_ID + people + n,
                "telegram_id": SNOW_FIRST_PERSON + people + n,
                "display_name": f"Contact {n:02d}",
                "privacy_accepted_at": at,
                "created_at": at,
                "school_id": n + 1,
            }
            for n in range(SNOW_SCHOOLS)
        ]
        await _insert(db, Person, contacts)
        await _insert(
            db,
            RoleGrant,
            [
                {"person_id": SNOW_FIRST_ID + n, "role": Role.VOLUNTEER, "granted_at": at}
                for n in range(people)
            ]
            + [
                {"person_id": row["id"], "role": Role.SCHOOL_CONTACT, "granted_at": at}
                for row in contacts
            ],
        )
        sessions: list[dict[str, object]] = []
        jobs: list[dict[str, object]] = []
        bookings: list[dict[str, object]] = []
        families: list[dict[str, object]] = []
        placements: list[dict[str, object]] = []
        for k in range(days):
            day = snow_day(k)
            starts = datetime(day.year, day.month, day.day, 10, 30, tzinfo=UTC)
            for n in range(places):
                session_id = SNOW_FIRST_SESSION + k * places + n
                sessions.append(
                    {
                        "id": session_id,
                        "location_id": n + 1,
                        "starts_at": starts,
                        "ends_at": starts + timedelta(hours=2),
                        "created_at": at,
                    }
                )
                jobs.append(
                    {
                        "id": session_id,
                        "session_id": session_id,
                        "job": "server",
                        "places": 5,
                        "taken": PER_SESSION,
                    }
                )
                bookings.extend(
                    {
                        "session_id": session_id,
                        "job_id": session_id,
                        "person_id": SNOW_FIRST_ID + n * PER_SESSION + j,
                        "status": BookingStatus.BOOKED,
                        "created_at": at,
                        "updated_at": at,
                    }
                    for j in range(PER_SESSION)
                )
                if n < SNOW_FAMILIES:
                    referral_id = k * SNOW_FAMILIES + n + 1
                    families.append(
                        {
                            "id": referral_id,
                            "school_id": n % SNOW_SCHOOLS + 1,
                            "reference": f"REF-{k:02d}-{n:03d}",
                            "children": 2,
                            "age_bands": ["Year 2", "Year 5"],
                            "preferred_location_ids": [n + 1],
                            "first_day": day,
                            "last_day": day,
                            "weekdays": [day.weekday()],
                            "consent": True,
                            "status": ReferralStatus.PLACED,
                            "location_id": n + 1,
                            "placed_from": day,
                            "placed_to": day,
                            "placed_weekdays": [day.weekday()],
                            "created_at": at,
                        }
                    )
                    placements.append(
                        {"referral_id": referral_id, "session_id": session_id, "day": day}
                    )
        await _insert(db, LunchSession, sessions)
        await _insert(db, SessionJob, jobs)
        await _insert(db, Booking, bookings)
        await _insert(db, Referral, families)
        await _insert(db, PlacementDay, placements)
    finally:
        await db.dispose()


@dataclass(frozen=True)
class Timing:
    screen: str
    seconds: list[float]
    target_ms: float = TARGET_MS

    def ms(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return 1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def median_ms(self) -> float:
        return 1000 * statistics.median(self.seconds)


async def timed(bot: Rehearsal, user: SimUser, act: Callable[[], Awaitable[object]]) -> float:
    """From the person's message or tap to the bot's answer to them, as the sandbox saw both."""
    first = len(bot.sandbox.calls)
    started = time.monotonic()
    await act()
    answers = [
        call.at
        for call in bot.sandbox.calls[first:]
        if call.method in REPLIES and call.chat_id == user.id and call.ok
    ]
    if not answers:
        raise RuntimeError("the bot did not answer")
    return answers[0] - started


async def measure(url: str, repeat: int, places: int, sessions: int) -> list[Timing]:
    config = Config(
        database=DatabaseConfig(url=url),
        programme=ProgrammeConfig(name="Holiday Lunch Club"),
        coordinators=CoordinatorsConfig(telegram_ids=frozenset({COORDINATOR})),
        # One person's answers are otherwise spaced a second apart (Telegram's limit per chat):
        # that is the lane's pace, not the server's time, which is what is measured here.
        delivery=DeliveryConfig(per_chat_seconds=0, overall_per_second=SNOW_PACE),
    )
    # A session ahead (the seed's sessions run from a year ago to a month ahead): its job has
    # the session's id.
    ahead = math.ceil(sessions * YEAR / (YEAR + timedelta(days=30))) + 10
    async with Rehearsal(config, clock=Clock(NOW)) as bot:
        rachel = bot.user(COORDINATOR, "Rachel")
        await rachel.send("/help")  # warm: the first update opens connections
        await rachel.send("/people")
        people_list = rachel.last
        await rachel.tap_data(callbacks.encode(RotaTeam(ahead, 0)))
        rota_screen = rachel.last
        screens: dict[str, Callable[[], Awaitable[object]]] = {
            "/help (anchor: reads no list)": lambda: rachel.send("/help"),
            "/people, first page": lambda: rachel.send("/people"),
            "/people search, typed (“ais”)": lambda: rachel.send("ais"),
            "/people, next page": lambda: rachel.tap_data(
                "pp:8", message_id=people_list.message_id
            ),
            "/people filters, each counted": lambda: rachel.tap_data(
                "zf", message_id=people_list.message_id
            ),
            "/locations, first page": lambda: rachel.send("/locations"),
            "/locations search, typed (“club 123”)": lambda: rachel.send("club 123"),
            "/today, the day at every location": lambda: rachel.send("/today"),
            "/today, its next page": lambda: rachel.tap_data(f"gd:{DAY}:8"),
            "/today, the day as a spreadsheet": lambda: rachel.tap_data(f"gf:{DAY}"),
            "/week, the picture (60 locations)": lambda: rachel.send("/week"),
            "/week, as a spreadsheet": lambda: rachel.tap_data(f"gv:{DAY}"),
            "/coverage, 7 days by location": lambda: rachel.send("/coverage"),
            "/coverage, the rest of the holiday": lambda: rachel.tap_data("gh:h"),
            # (tapped on a message of /help's, so that each run changes what it shows)
            "a session's rota (👥)": lambda: rachel.tap_data(
                callbacks.encode(RotaTeam(ahead, 0)), message_id=rachel.last.message_id
            ),
            "put someone on: whom, of everyone": lambda: rachel.tap_data(
                callbacks.encode(PutOnPeople(ahead, 0)), message_id=rachel.last.message_id
            ),
            "put someone on: search, typed (“ais”)": lambda: rachel.send("ais"),
        }
        # What must be on screen for a typed search to search it.
        shown: dict[str, Callable[[], Awaitable[object]]] = {
            "/people search, typed (“ais”)": lambda: rachel.send("/people"),
            "/locations search, typed (“club 123”)": lambda: rachel.send("/locations"),
            "put someone on: search, typed (“ais”)": lambda: rachel.tap_data(
                callbacks.encode(PutOnPeople(ahead, 0)), message_id=rota_screen.message_id
            ),
            "a session's rota (👥)": lambda: rachel.send("/help"),
            "put someone on: whom, of everyone": lambda: rachel.send("/help"),
            "/today, its next page": lambda: rachel.send("/today"),
            "/coverage, the rest of the holiday": lambda: rachel.send("/coverage"),
        }
        timings = {name: Timing(name, []) for name in screens}
        for _ in range(repeat):
            for name, act in screens.items():
                if name in shown:  # its list must be the one on screen
                    await shown[name]()
                timings[name].seconds.append(await timed(bot, rachel, act))
        planned = await measure_planning(bot, rachel, repeat, places)
        snow = await snow_days(bot, rachel, url, places=places, repeat=repeat)
        timings |= {timing.screen: timing for timing in snow}
        refused = [c.method for c in bot.sandbox.calls if not c.ok and c.method != "getUpdates"]
        if refused:
            raise RuntimeError(f"the sandbox refused {refused}")
    return list(timings.values()) + planned


PLAN_FROM = datetime(2026, 8, 3, tzinfo=UTC).date()  # a Monday
PLAN_BLOCKS = 12  # four-week blocks, all within a year of NOW
PLAN_DAYS = 16  # Monday to Thursday, four weeks
CSV_LUNCHES = 40  # weekdays from Monday 31 August, at each location


def summer_file(places: int) -> bytes:
    """A CSV of every location's weekday lunches from 31 August, 12:00-14:00."""
    first = datetime(2026, 8, 31, tzinfo=UTC).date()
    days = [first + timedelta(days=n) for n in range(CSV_LUNCHES * 2) if n % 7 < 5]
    lines = ["location,date,start,end,cook,server"]
    lines += [
        f'"{location_name(n)}",{day:%d/%m/%Y},12:00,14:00,2,3'
        for n in range(places)
        for day in days[:CSV_LUNCHES]
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


async def measure_planning(
    bot: Rehearsal, rachel: SimUser, repeat: int, places: int
) -> list[Timing]:
    """A holiday planned at every location (its review, then its creation), and a CSV file of
    `places` x 40 sessions sent in chat (its review)."""
    review = Timing(f"plan at all {places} locations: review", [])
    # Creating a holiday, and reading a file of thousands of lines, are not screens: issue 12
    # gives a file of 8,000 sessions "a couple of seconds".
    create = Timing(f"plan: create {places * PLAN_DAYS:,} sessions", [], FILE_TARGET_MS)
    upload = Timing(f"CSV of {places * CSV_LUNCHES:,} sessions: review", [], FILE_TARGET_MS)
    data = summer_file(places)
    for run in range(repeat):
        first = PLAN_FROM + timedelta(weeks=4 * (run % PLAN_BLOCKS))
        times = ("11:30-13:30", "14:00-16:00", "16:30-18:30")[run // PLAN_BLOCKS % 3]
        await rachel.send("/newsessions")
        await rachel.tap(f"✅ All {places} locations")
        await rachel.send(f"{first:%d/%m/%Y} - {first + timedelta(days=24):%d/%m/%Y}")
        await rachel.tap("✓ Fri")
        await rachel.tap("Continue ▶")
        await rachel.send(times)
        review.seconds.append(await timed(bot, rachel, lambda: rachel.tap("Use these")))
        if "Ready to create" not in rachel.last.text:
            raise RuntimeError(f"the plan was not reviewed: {rachel.last.text[:200]}")
        create.seconds.append(await timed(bot, rachel, lambda: rachel.tap("✅ Create them")))
        if "✅ Created" not in rachel.last.text:
            raise RuntimeError(f"the plan was not created: {rachel.last.text[:200]}")
        upload.seconds.append(
            await timed(bot, rachel, lambda: rachel.send_document(data, "summer.csv"))
        )
        if "to add" not in rachel.last.text:
            raise RuntimeError(f"the file was not reviewed: {rachel.last.text[:200]}")
    return [review, create, upload]


async def snow_days(
    bot: Rehearsal, rachel: SimUser, url: str, *, places: int, repeat: int
) -> list[Timing]:
    """Each snow day cancelled at every location: the day typed, the preview, the confirm."""
    await seed_snow(url, places=places, days=repeat)
    for n in range(places * PER_SESSION + SNOW_SCHOOLS):  # their chats with the bot
        bot.user(SNOW_FIRST_PERSON + n, person_name(n))
    told = places * PER_SESSION + SNOW_SCHOOLS
    day_typed = Timing(f"snow day: its date typed ({places} sessions)", [])
    preview = Timing(f"snow day: the preview ({places} locations)", [])
    confirm = Timing(f"snow day: confirm ({places} cancelled, {told} told)", [])
    for k in range(repeat):
        await rachel.send("/cancelsessions")
        typed = functools.partial(rachel.send, f"{snow_day(k):%d/%m/%Y}")
        day_typed.seconds.append(await timed(bot, rachel, typed))
        preview.seconds.append(
            await timed(bot, rachel, lambda: rachel.tap(f"Every location ({places} sessions)"))
        )
        if "will be told" not in rachel.last.text:
            raise RuntimeError(f"not the preview: {rachel.last.text[:200]}")
        confirm.seconds.append(
            await timed(bot, rachel, lambda: rachel.tap(f"❄️ Yes, cancel {places} sessions"))
        )
        if not rachel.last.text.startswith(f"✅ Cancelled {places} sessions"):
            raise RuntimeError(f"not cancelled: {rachel.last.text[:200]}")
    return [day_typed, preview, confirm]


def table(timings: list[Timing], *, engine: str, args: argparse.Namespace) -> str:
    anchor = timings[0].median_ms
    lines = [
        f"Screens on {engine}: {args.locations} locations, {args.people:,} people, "
        f"{args.sessions:,} sessions ({PER_SESSION} bookings each); median of {args.repeat}",
        "",
        f"{'screen':48} {'median':>9} {'p90':>9} {'over /help':>11} {'target':>8}",
        "(target: under 200 ms each, the week's picture under 2 s)",
    ]
    for timing in timings:
        over = timing.median_ms - anchor
        target = PICTURE_TARGET_MS if "picture" in timing.screen else timing.target_ms
        ok = "ok" if timing.median_ms < target else "OVER"
        lines.append(
            f"{timing.screen:48} {timing.median_ms:7.1f}ms {timing.ms(0.9):7.1f}ms "
            f"{over:9.1f}ms {ok:>8}"
        )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory() as folder:
        made = None
        if args.postgres:  # a new database on that server, dropped after the run
            from tests.support import create_postgres_database  # noqa: PLC0415 - only with PG

            url, made = await create_postgres_database(args.postgres)
        else:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'screens.sqlite3'}"
        try:
            started = time.monotonic()
            await seed(url, places=args.locations, crowd=args.people, sessions=args.sessions)
            say(f"seeded in {time.monotonic() - started:.1f} s")
            timings = await measure(url, args.repeat, args.locations, args.sessions)
        finally:
            if made is not None:
                from tests.support import drop_postgres_database  # noqa: PLC0415

                await drop_postgres_database(args.postgres, made)
        return table(timings, engine="PostgreSQL" if made else "SQLite", args=args)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.screens", description=__doc__)
    parser.add_argument("--locations", type=int, default=200)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=8_000)
    parser.add_argument("--repeat", type=int, default=20, help="runs of each screen")
    parser.add_argument(
        "--postgres", default=None, help="a PostgreSQL server's URL (a new database is made)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.ERROR)
    say(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
