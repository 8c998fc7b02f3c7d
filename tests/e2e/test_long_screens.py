"""Screens that grow with the programme stay within Telegram's limits: a message of at most 4096
characters, an inline keyboard of at most 100 buttons and 8 a row. The sandbox refuses anything
bigger (as Telegram does), so these screens are shown a page at a time.

People, locations, sessions and bookings are set up through storage; the screens are driven
through the bot."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.harness import Clock, Rehearsal
from bot.sandbox import SimUser
from bot.sandbox.markup import MAX_INLINE_BUTTONS, MAX_INLINE_BUTTONS_PER_ROW
from bot.sandbox.methods import MAX_TEXT_LENGTH
from handlers import siteday, volunteer
from storage import locations, people, rota
from storage.models import NAME_MAX, BookingStatus
from storage.rota import MAX_PLACES_PER_JOB, JobSpec, SessionPlan
from tests.conftest import RACHEL

TUESDAY = date(2026, 7, 28)
# 13:45 in London (BST) on Tuesday 28 July: lunch is over, time to mark who came.
AFTER_LUNCH = datetime(2026, 7, 28, 12, 45, tzinfo=UTC)
FIRST_HELPER = 5000
ADA = 4999
INTERNAL_ERROR = "Sorry, something went wrong"
LOCATION_NAME_MAX = 100


def long_location_name(n: int) -> str:
    """A location name of exactly 100 characters, the most a location's name may have."""
    name = f"St Mark's church hall and community centre number {n}, by the old railway bridge"
    return (name + ", Upper Riverside Lane" * 3)[:LOCATION_NAME_MAX]


def helper_name(n: int, long: bool = True) -> str:
    """'Helper 007 …', sorting in number order; as long as a name may be, with `long`."""
    name = f"Helper {n:03d}"
    return (name + " Featherstonehaugh-Cholmondeley" * 3)[:NAME_MAX] if long else name


def within_limits(user: SimUser) -> None:
    """Everything the bot has shown this person fits Telegram's limits."""
    for message in user.bot_messages:
        assert len(message.text) <= MAX_TEXT_LENGTH
        assert sum(len(row) for row in message.buttons) <= MAX_INLINE_BUTTONS
        assert all(len(row) <= MAX_INLINE_BUTTONS_PER_ROW for row in message.buttons)
        assert INTERNAL_ERROR not in message.text


def no_refusals(bot: Rehearsal) -> None:
    refused = [(c.method, c.error_code) for c in bot.sandbox.calls if not c.ok]
    assert refused == []


async def register(bot: Rehearsal, clock: Clock, telegram_id: int, name: str) -> None:
    await people.register(
        bot.services.db,
        telegram_id=telegram_id,
        name=name,
        now=clock(),
        coordinator_ids=frozenset({RACHEL}),
    )


async def plan(
    bot: Rehearsal,
    clock: Clock,
    name: str,
    *,
    days: tuple[date, date],
    times: tuple[time, time],
    jobs: tuple[JobSpec, ...],
) -> list[rota.SessionView]:
    """A location and its sessions, Monday to Friday from the first day to the last; returns
    the sessions' views, soonest first."""
    db, tz = bot.services.db, bot.services.settings.timezone
    location = await locations.create(db, actor_telegram_id=RACHEL, name=name, now=clock())
    weekdays = SessionPlan(
        location_id=location.location_id,
        first_day=days[0],
        last_day=days[1],
        weekdays=frozenset(range(5)),
        start=times[0],
        end=times[1],
        jobs=jobs,
    )
    await rota.create_sessions(db, actor_telegram_id=RACHEL, plan=weekdays, tz=tz, now=clock())
    views, day = [], days[0]
    while day <= days[1]:
        on_the_day = await rota.sessions_on(
            db, actor_telegram_id=RACHEL, location_id=location.location_id, day=day, tz=tz
        )
        views += [s.session for s in on_the_day]
        day += timedelta(days=1)
    return views


async def book(bot: Rehearsal, clock: Clock, who: int, job_id: int) -> int:
    outcome = await rota.book(
        bot.services.db, telegram_id=who, job_id=job_id, now=clock(), waitlist=False
    )
    assert outcome.booking is not None, outcome
    return outcome.booking.booking_id


async def busy_tuesday(bot: Rehearsal, clock: Clock, jobs: tuple[JobSpec, ...], long: bool) -> int:
    """Rachel, one location with one session on Tuesday, every place booked: returns how many."""
    await register(bot, clock, RACHEL, "Rachel")
    (tuesday,) = await plan(
        bot,
        clock,
        long_location_name(1),
        days=(TUESDAY, TUESDAY),
        times=(time(11, 30), time(13, 30)),
        jobs=jobs,
    )
    n = 0
    for job in tuesday.jobs:
        for _ in range(job.places):
            n += 1
            await register(bot, clock, FIRST_HELPER + n, helper_name(n, long))
            await book(bot, clock, FIRST_HELPER + n, job.job_id)
    return n


def names_on(text: str) -> list[str]:
    """The helpers listed on a page of the day, in order."""
    return re.findall(r"^  \S+ (Helper \d{3}[^:\n]*):", text, re.MULTILINE)


async def test_a_day_with_120_helpers_is_shown_20_at_a_time(bot: Rehearsal, clock: Clock) -> None:
    jobs = (
        JobSpec(job="cook", places=MAX_PLACES_PER_JOB),
        JobSpec(job="server", places=MAX_PLACES_PER_JOB),
        JobSpec(job="driver", places=20),
    )
    assert await busy_tuesday(bot, clock, jobs, long=True) == 120
    assert siteday.PEOPLE_PER_DAY_PAGE == 20
    clock.now = AFTER_LUNCH
    rachel = bot.user(RACHEL, "Rachel")

    await rachel.send("/today")
    first = rachel.last
    assert f"{long_location_name(1)}, today, Tue 28 Jul" in first.text
    assert "👥 People 1-20 of 120: Next ▶ for the rest." in first.text
    # Every job's count stays on every page, and the day's counts and navigation too.
    assert "cook (50 of 50)" in first.text and "server (50 of 50)" in first.text
    assert "driver (20 of 20)\n  on other pages" in first.text
    assert "Meals and children: not recorded yet." in first.text
    assert names_on(first.text) == [helper_name(n) for n in range(1, 21)]
    labels = first.labels()
    assert labels[:2] == [f"✅ {helper_name(1)}", f"❌ {helper_name(1)}"]
    assert labels[40:] == [
        "🍽 Record meals and children",
        "🚫 Did not run",
        "🖨 Sign-in sheet",
        "Next ▶",
        "➕ Record an unplanned lunch",
        "◀ Mon 27 Jul",
        "Wed 29 Jul ▶",
    ]

    seen = names_on(first.text)
    for page in range(2, 7):
        await rachel.tap("Next ▶")
        shown = rachel.last.text
        first_on_page = (page - 1) * 20 + 1
        assert f"People {first_on_page}-{first_on_page + 19} of 120" in shown
        assert "🍽 Record meals and children" in rachel.last.labels()
        seen += names_on(shown)
    assert seen == [helper_name(n) for n in range(1, 121)]
    last = rachel.last
    assert "People 101-120 of 120: ◀ Previous for the rest." in last.text
    assert "cook (50 of 50)\n  on other pages" in last.text
    assert "Next ▶" not in last.labels() and "◀ Previous" in last.labels()

    # Marking someone on the last page shows the last page again, with the mark.
    await rachel.tap(f"✅ {helper_name(110)}")
    assert "People 101-120 of 120" in rachel.last.text
    assert f"✅ {helper_name(110)}: came" in rachel.last.text
    await rachel.tap(f"❌ {helper_name(120)}")
    assert "People 101-120 of 120" in rachel.last.text
    assert f"❌ {helper_name(120)}: no-show" in rachel.last.text
    assert f"✅ {helper_name(110)}: came" in rachel.last.text
    day = await rota.sessions_on(
        bot.services.db,
        actor_telegram_id=RACHEL,
        location_id=(await locations.listed(bot.services.db))[0].location_id,
        day=TUESDAY,
        tz=bot.services.settings.timezone,
    )
    marked = {h.name: h.status for h in day[0].helpers if h.status is not BookingStatus.BOOKED}
    assert marked == {
        helper_name(110): BookingStatus.ATTENDED,
        helper_name(120): BookingStatus.NO_SHOW,
    }

    await rachel.tap("◀ Previous")
    assert "People 81-100 of 120" in rachel.last.text
    await rachel.tap("Wed 29 Jul ▶")  # another day starts at its first page
    assert "No lunch session here on Wed 29 Jul." in rachel.last.text
    await rachel.tap("◀ Tue 28 Jul")
    assert "People 1-20 of 120" in rachel.last.text
    await rachel.tap("Next ▶")
    assert "People 21-40 of 120" in rachel.last.text
    # A page button from before people left (here: forged) falls back to the first page.
    location_id = (await locations.listed(bot.services.db))[0].location_id
    await rachel.tap_data(f"dg:{location_id}:20260728:500")
    assert "People 1-20 of 120" in rachel.last.text

    within_limits(rachel)
    no_refusals(bot)


async def test_without_pages_the_sandbox_would_refuse_the_day(
    bot: Rehearsal, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 50 people with short names: the text fits in one message, but 100 buttons for them and
    # the day's own buttons do not fit in one keyboard.
    jobs = (JobSpec(job="cook", places=25), JobSpec(job="server", places=25))
    assert await busy_tuesday(bot, clock, jobs, long=False) == 50
    clock.now = AFTER_LUNCH
    rachel = bot.user(RACHEL, "Rachel")

    monkeypatch.setattr(siteday, "PEOPLE_PER_DAY_PAGE", 1000)
    await rachel.send("/today")
    assert rachel.last.text.startswith(INTERNAL_ERROR)
    refused = [(c.method, c.error_code) for c in bot.sandbox.calls if not c.ok]
    assert refused == [("sendMessage", 400)]

    monkeypatch.setattr(siteday, "PEOPLE_PER_DAY_PAGE", 20)
    await rachel.send("/today")
    assert "People 1-20 of 50" in rachel.last.text
    assert len(rachel.last.labels()) == 20 * 2 + 7  # the day's own: counts, sheet, pages, days


async def my_forty_sessions(bot: Rehearsal, clock: Clock) -> list[str]:
    """Ada is booked on 40 sessions: two weeks, Monday to Friday, at four locations with
    100-character names, at four times of day. Returns the locations' names."""
    await register(bot, clock, RACHEL, "Rachel")
    await register(bot, clock, ADA, "Ada")
    names = [long_location_name(n) for n in range(1, 5)]
    for n, name in enumerate(names):
        views = await plan(
            bot,
            clock,
            name,
            days=(date(2026, 7, 27), date(2026, 8, 7)),
            times=(time(8 + 2 * n, 0), time(9 + 2 * n, 30)),
            jobs=(JobSpec(job="kitchen helper and lunch server", places=3),),
        )
        assert len(views) == 10
        for view in views:
            await book(bot, clock, ADA, view.jobs[0].job_id)
    return names


async def test_forty_bookings_are_shown_8_at_a_time(
    bot: Rehearsal, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = await my_forty_sessions(bot, clock)
    assert volunteer.BOOKINGS_PER_PAGE == 8
    ada = bot.user(ADA, "Ada")

    await ada.send("/mysessions")
    first = ada.last
    assert first.text.startswith("Your upcoming sessions (1-8 of 40)\n")
    assert f"• ✅ kitchen helper and lunch server at {names[0]}, Mon 27 Jul, 08:00-09:30" in (
        first.text
    )
    assert first.labels() == [
        *["Cancel: Mon 27 Jul kitchen helper and lunch server"] * 4,
        *["Cancel: Tue 28 Jul kitchen helper and lunch server"] * 4,
        "Later ▶",
        "📅 Add to my calendar",
    ]

    lines = [line for line in first.text.splitlines() if line.startswith("• ")]
    for page in range(2, 6):
        await ada.tap("Later ▶")
        start = (page - 1) * 8 + 1
        assert ada.last.text.startswith(f"Your upcoming sessions ({start}-{start + 7} of 40)\n")
        lines += [line for line in ada.last.text.splitlines() if line.startswith("• ")]
    assert len(lines) == len(set(lines)) == 40
    assert lines[-1].endswith(f"at {names[3]}, Fri 7 Aug, 14:00-15:30")
    last = ada.last
    assert last.labels()[-2:] == ["◀ Earlier", "📅 Add to my calendar"]

    # The calendar has every booked session, not just this page's.
    await ada.tap("📅 Add to my calendar", message=last)
    assert ada.last.filename == "lunch-sessions.ics"
    assert ada.last.text.startswith("📅 Your 40 booked sessions.")
    assert ada.last.document is not None and ada.last.document.count(b"BEGIN:VEVENT") == 40

    # Cancelling from the last page: "No, keep it" and the result go back to the first page.
    # (The calendar file came after the list, so the list is tapped and read as `screen`.)
    screen = last
    await ada.tap("Cancel: Fri 7 Aug kitchen helper and lunch server", message=screen)
    assert f"Cancel your kitchen helper and lunch server place at {names[0]}, Fri 7 Aug" in (
        screen.text
    )
    await ada.tap("No, keep it", message=screen)
    assert screen.text.startswith("Your upcoming sessions (1-8 of 40)\n")
    for nav in ("Later ▶", "Later ▶", "◀ Earlier"):
        await ada.tap(nav, message=screen)
    assert screen.text.startswith("Your upcoming sessions (9-16 of 40)\n")
    await ada.tap("Cancel: Wed 29 Jul kitchen helper and lunch server", message=screen)
    await ada.tap("Yes, cancel", message=screen)
    assert screen.text.startswith("Cancelled. Thank you for letting us know")
    assert "Your upcoming sessions (1-8 of 39)\n" in screen.text

    within_limits(ada)
    no_refusals(bot)

    # One screen for them all would be refused: the text alone is far over 4096 characters.
    monkeypatch.setattr(volunteer, "BOOKINGS_PER_PAGE", 1000)
    await ada.send("/mysessions")
    assert ada.last.text.startswith(INTERNAL_ERROR)
    assert [(c.method, c.error_code) for c in bot.sandbox.calls if not c.ok] == [
        ("sendMessage", 400)
    ]


# --- page buttons and step buttons never share a label ----------------------------------------

MANY_LOCATIONS = 500
PAGE_LABELS = ("◀ Previous", "Next ▶")


def labels_unique(user: SimUser) -> None:
    """No keyboard the bot has shown this person has two buttons with one label: a page button
    ("Next ▶": more of this list) must never look like a step button ("Continue ▶": done)."""
    for message in user.bot_messages:
        labels = message.labels()
        assert len(labels) == len(set(labels)), (message.text[:80], labels)


# Every list of locations, people or schools at 500 locations and 10,000 people: test_choosing.
