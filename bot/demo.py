"""`lunchbot demo`: the bot, for real, against the local Bot API sandbox, with a script of people.

No token and no network: the sandbox stands in for Telegram on 127.0.0.1, the database is a
temporary SQLite file, and the transcript shows what each person sees.
"""

from __future__ import annotations

import re
import sys
import tempfile
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.config import (
    Config,
    CoordinatorsConfig,
    DatabaseConfig,
    ProgrammeConfig,
    ReferralsConfig,
)
from bot.harness import Clock, Rehearsal
from bot.sandbox import SimGroup, SimMessage, SimUser
from storage import rota_import
from storage.celebrations import CelebrationPolicy
from storage.crypto import new_key

RACHEL, OKAFOR, SAM, JO = 700001, 700002, 700003, 700004
CELEBRATIONS = -1001700000001  # the programme's celebrations group
_LINK = re.compile(r"https://t\.me/\w+\?start=(\S+)")
WIDTH = 78


class Transcript:
    """Acts for a person and prints what changed on their screen."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def heading(self, text: str) -> None:
        self.out.write(f"\n== {text} ==\n")

    async def send(self, person: SimUser, role: str, text: str) -> None:
        seen = _snapshot(person)
        self.out.write(f"\n{person.first_name} ({role}) sends: {text}\n")
        await person.send(text)
        self._show_changes(person, seen)

    async def tap(self, person: SimUser, role: str, label: str) -> None:
        seen = _snapshot(person)
        self.out.write(f"\n{person.first_name} ({role}) taps [{label}]\n")
        await person.tap(label)
        self._show_changes(person, seen)

    async def send_photo(self, person: SimUser, role: str, caption: str) -> None:
        seen = _snapshot(person)
        self.out.write(f"\n{person.first_name} ({role}) sends a photo with the words: {caption}\n")
        await person.send_photo(caption=caption)
        self._show_changes(person, seen)

    def show_new(self, person: SimUser) -> None:
        """What arrived for someone who did nothing themselves (an offer, a notice)."""
        self.out.write(f"\n{person.first_name} receives:\n")
        self._show(person.last, edited=False)

    def show_received(self, person: SimUser, starts: str) -> None:
        """The newest message to someone that starts with `starts` (one of several notices)."""
        found = [m for m in person.bot_messages if m.text.startswith(starts)]
        if not found:
            raise RuntimeError(f"{person.first_name} has no message starting {starts!r}")
        self.out.write(f"\n{person.first_name} receives:\n")
        self._show(found[-1], edited=False)

    def _show_changes(self, person: SimUser, seen: dict[int, tuple[str, list[str]]]) -> None:
        for message in person.bot_messages:
            before = seen.get(message.message_id)
            if before == (message.text, message.labels()):
                continue
            self._show(message, edited=before is not None)

    def show_chat(self, chat: SimGroup, seen: set[int]) -> None:
        """What the bot posted in a group since last time (`seen`: the messages shown before)."""
        fresh = [m for m in chat.bot_messages if m.message_id not in seen]
        self.out.write(f'\nIn the group "{chat.title}":\n')
        for message in fresh:
            self._show(message, edited=False)
            seen.add(message.message_id)

    def _show(self, message: SimMessage, *, edited: bool) -> None:
        marker = "bot (edits its message)" if edited else "bot"
        if message.photo is not None:
            marker += f", a picture ({len(message.photo):,} bytes) with the words"
        elif message.document is not None:
            marker += f", a file {message.filename or ''} ({len(message.document):,} bytes)"
        self.out.write(f"  {marker}:\n")
        for line in message.text.splitlines() or [""]:
            wrapped = textwrap.wrap(line, WIDTH - 6) or [""]
            self.out.writelines(f"    | {part}\n" for part in wrapped)
        for row in message.buttons:
            self.out.write("    " + "  ".join(f"[{b.label}]" for b in row) + "\n")


def _snapshot(person: SimUser) -> dict[int, tuple[str, list[str]]]:
    return {m.message_id: (m.text, m.labels()) for m in person.bot_messages}


async def run_demo(out: TextIO = sys.stdout) -> int:
    with tempfile.TemporaryDirectory(prefix="lunchbot-demo-") as folder:
        config = Config(
            database=DatabaseConfig(url=f"sqlite+aiosqlite:///{Path(folder) / 'demo.sqlite3'}"),
            programme=ProgrammeConfig(name="Holiday Lunch Club"),
            coordinators=CoordinatorsConfig(telegram_ids=frozenset({RACHEL})),
            # A key for this run only: the demo's referral details are sealed like real ones.
            referrals=ReferralsConfig(keys=(new_key(),)),
            # Low thresholds, so that the demo's one week already reaches a milestone.
            celebrations=CelebrationPolicy(chats=(CELEBRATIONS,), meals=(25, 100, 1_000)),
        )
        # The story happens in the summer holiday, whatever today's date.
        clock = Clock()
        async with Rehearsal(config, clock=clock) as bot:
            out.write(
                "Holiday Lunch Bot: demo\n"
                f"The bot runs for real against a local Bot API sandbox at {bot.sandbox.base_url}"
                ",\nwith a temporary SQLite database. Nobody here needs a token or Telegram.\n"
            )
            await _script(bot, Transcript(out), clock)
        out.write("\nDemo finished: everything above happened through the Bot API over HTTP.\n")
    return 0


async def _script(bot: Rehearsal, t: Transcript, clock: Clock) -> None:
    rachel = bot.user(RACHEL, "Rachel")
    okafor = bot.user(OKAFOR, "Mr Okafor")
    sam = bot.user(SAM, "Sam")
    jo = bot.user(JO, "Jo")
    coordinator = "coordinator"

    t.heading("1 July: Rachel, the coordinator, sets up")
    await t.send(rachel, coordinator, "/start")
    await t.tap(rachel, coordinator, "✅ I agree")
    await t.send(rachel, coordinator, "/locations")
    await t.tap(rachel, coordinator, "➕ Add a location")
    await t.send(rachel, coordinator, "St Mark's church hall")
    await t.tap(rachel, coordinator, "✏️ Address")
    await t.send(rachel, coordinator, "12 Church Lane")
    await t.send(rachel, coordinator, "/newsessions")
    await t.send(rachel, coordinator, "27/07/2026 - 30/07/2026")
    await t.tap(rachel, coordinator, "Continue ▶")
    await t.send(rachel, coordinator, "11:30-13:30")
    await t.tap(rachel, coordinator, "Use these")
    await t.tap(rachel, coordinator, "✅ Create them")

    await t.send(rachel, coordinator, "/invite")
    await t.tap(rachel, coordinator, "A school contact")
    await t.tap(rachel, coordinator, "➕ A new school")
    await t.send(rachel, coordinator, "Hillside Primary")
    match = _LINK.search(rachel.last.text)
    if match is None:
        raise RuntimeError("the invite link is missing from the bot's answer")
    token = match.group(1)

    await _joining(t, okafor, token)
    await _volunteers(t, sam, jo)
    await _referral(t, okafor, rachel)
    await _mistakes(t, sam, token)
    await _reminders(t, bot, clock, sam, jo)
    await _site_day(t, rachel, clock)
    await _celebrating(t, bot, clock, rachel, sam, jo)
    await _at_a_glance(t, bot, clock, rachel, sam)


async def _joining(t: Transcript, okafor: SimUser, token: str) -> None:
    contact = "school contact"
    t.heading("Mr Okafor, the family support worker at Hillside Primary, taps the link")
    await t.send(okafor, contact, f"/start {token}")
    await t.tap(okafor, contact, "✅ I agree")


async def _volunteers(t: Transcript, sam: SimUser, jo: SimUser) -> None:
    volunteer = "volunteer"
    t.heading("July: Sam, a new volunteer, finds the bot and books a Tuesday")
    await t.send(sam, volunteer, "/start")
    await t.tap(sam, volunteer, "✅ I agree")
    await t.tap(sam, volunteer, "St Mark's church hall")  # a home location
    await t.tap(sam, volunteer, "✅ Done")
    await t.send(sam, volunteer, "/name Sam Taylor")
    await t.send(sam, volunteer, "/sessions")
    await t.tap(sam, volunteer, "Tue 28 Jul 11:30 · St Mark's church hall")
    await t.tap(sam, volunteer, "Book driver (1 free)")

    t.heading("Jo wants the same Tuesday: the driver place is full, so Jo joins the waitlist")
    await t.send(jo, volunteer, "/start")
    await t.tap(jo, volunteer, "✅ I agree")
    await t.tap(jo, volunteer, "Skip for now")
    await t.send(jo, volunteer, "/sessions")
    await t.tap(jo, volunteer, "Tue 28 Jul 11:30 · St Mark's church hall")
    await t.tap(jo, volunteer, "Join driver waitlist")

    t.heading("Sam can't drive after all: the place is offered to Jo, who takes it")
    await t.send(sam, volunteer, "/mysessions")
    await t.tap(sam, volunteer, "Cancel: Tue 28 Jul driver")
    await t.tap(sam, volunteer, "Yes, cancel")
    t.show_new(jo)
    await t.tap(jo, volunteer, "✅ Yes, book me")
    await t.send(sam, volunteer, "/sessions")
    await t.tap(sam, volunteer, "Tue 28 Jul 11:30 · St Mark's church hall")
    await t.tap(sam, volunteer, "Book server (3 free)")


async def _mistakes(t: Transcript, sam: SimUser, token: str) -> None:
    volunteer = "volunteer"
    t.heading("Things that go wrong get a kind answer")
    await t.send(sam, volunteer, f"/start {token}")
    await t.send(sam, volunteer, "/people")
    await t.send(sam, volunteer, "/lunch")


async def _referral(t: Transcript, okafor: SimUser, rachel: SimUser) -> None:
    contact, coordinator = "school contact", "coordinator"
    t.heading("Before the holiday: Mr Okafor refers a family, Rachel places them")
    await t.send(okafor, contact, "/refer")
    await t.send(okafor, contact, "HS-014")
    await t.tap(okafor, contact, "2")
    await t.tap(okafor, contact, "Year 2")
    await t.tap(okafor, contact, "Year 5")
    await t.send(okafor, contact, "nut allergy (the younger child)")
    await t.tap(okafor, contact, "St Mark's church hall")
    await t.tap(okafor, contact, "Continue ▶")
    await t.send(okafor, contact, "28/07/2026 - 27/08/2026")
    for day in ("✓ Mon", "✓ Wed", "✓ Fri"):
        await t.tap(okafor, contact, day)
    await t.tap(okafor, contact, "Continue ▶")
    await t.tap(okafor, contact, "✅ The parent or carer agreed")
    await t.tap(okafor, contact, "Skip")
    await t.tap(okafor, contact, "📨 Send referral")
    t.show_new(rachel)
    await t.send(rachel, coordinator, "/referrals")
    await t.tap(rachel, coordinator, "HS-014 · Hillside Primary · 2 children")
    await t.tap(rachel, coordinator, "📍 Place")
    # St Mark's runs lunch only in the first week so far: the placing screen says which of
    # the days asked for have a lunch, and the school is told exactly those dates.
    await t.tap(rachel, coordinator, "★ St Mark's church hall · 2 of 10 days")
    await t.tap(rachel, coordinator, "✅ Place on 2 days")
    t.show_new(okafor)


async def _reminders(
    t: Transcript, bot: Rehearsal, clock: Clock, sam: SimUser, jo: SimUser
) -> None:
    volunteer = "volunteer"
    t.heading("Monday 27 July, 11:30: the day-before reminders go out")
    clock.now = datetime(2026, 7, 27, 10, 30, tzinfo=UTC)
    await bot.deliver()  # what the scheduler does every few seconds
    t.show_new(sam)
    t.show_new(jo)
    await t.tap(jo, volunteer, "👍 I'm coming")
    await t.tap(sam, volunteer, "👍 I'm coming")


async def _site_day(t: Transcript, rachel: SimUser, clock: Clock) -> None:
    coordinator = "coordinator"
    t.heading("Tuesday 28 July, 13:45: the site day at St Mark's")
    clock.now = datetime(2026, 7, 28, 12, 45, tzinfo=UTC)
    await t.send(rachel, coordinator, "/today")
    await t.tap(rachel, coordinator, "✅ Sam Taylor")
    await t.tap(rachel, coordinator, "✅ Jo")
    await t.tap(rachel, coordinator, "🍽 Record meals and children")
    await t.send(rachel, coordinator, "38")
    await t.send(rachel, coordinator, "31")
    await t.send(rachel, coordinator, "/register")
    await t.tap(rachel, coordinator, "HS-014")


async def _celebrating(
    t: Transcript, bot: Rehearsal, clock: Clock, rachel: SimUser, sam: SimUser, jo: SimUser
) -> None:
    volunteer, coordinator = "volunteer", "coordinator"
    group, posted = bot.group(CELEBRATIONS, "Holiday Lunch Club celebrations"), set[int]()
    t.heading("The first 25 meals, and Sam's and Jo's first sessions, are celebrated")
    await bot.deliver()
    t.show_chat(group, posted)
    t.show_new(sam)
    t.show_new(jo)

    t.heading("Sam shares a win with a photo; Rachel approves it")
    await t.send(sam, volunteer, "/win")
    await t.send_photo(sam, volunteer, "First time all 12 kids tried the vegetable curry!")
    await t.tap(sam, volunteer, "🙋 Share with my name")
    t.show_new(rachel)
    await t.tap(rachel, coordinator, "✅ Approve")
    await bot.deliver()
    t.show_chat(group, posted)
    t.show_new(sam)

    t.heading("Rachel thanks everyone with a broadcast")
    await t.send(rachel, coordinator, "/broadcast")
    await t.tap(rachel, coordinator, "Everyone")
    await t.send(rachel, coordinator, "Thank you all for a wonderful first week! 🎉")
    await t.tap(rachel, coordinator, "📣 Send to 3 people")
    t.show_new(jo)

    t.heading("Thursday 30 July, 14:00: three lunches nobody could staff did not run")
    clock.now = datetime(2026, 7, 30, 13, 0, tzinfo=UTC)
    # Without this, her copy of the digest would ask for their meal counts.
    await t.send(rachel, coordinator, "/today")
    for earlier in ("", "◀ Wed 29 Jul", "◀ Tue 28 Jul", "◀ Mon 27 Jul"):
        if earlier:
            await t.tap(rachel, coordinator, earlier)
        if earlier != "◀ Tue 28 Jul":  # Tuesday's lunch ran: its counts are in
            await t.tap(rachel, coordinator, "🚫 Did not run")
            await t.tap(rachel, coordinator, "Not enough volunteers")

    t.heading("Friday 31 July, 16:00: the week's digest, with a chart of meals per day")
    clock.now = datetime(2026, 7, 31, 15, 0, tzinfo=UTC)
    await bot.deliver()
    t.show_chat(group, posted)
    theirs = [m.text for m in group.bot_messages if m.photo is not None][-1:]
    if [m.text for m in rachel.bot_messages if m.photo is not None][-1:] != theirs:
        raise RuntimeError("Rachel's copy of the digest is not the group's")
    t.out.write("\n(Rachel gets the same digest in her own chat.)\n")


# The second week, as a coordinator would write it in a spreadsheet (`lunchbot import`).
NEXT_WEEK = """location,date,start,end,cook,server,driver
""" + "".join(
    f"{place},2026-08-0{day},{start},{end},{cook},{server},{driver}\n"
    for place, start, end, cook, server, driver in (
        ("St Mark's church hall", "11:30", "13:30", 2, 3, 1),
        ("Riverside community centre", "12:00", "14:00", 2, 2, 1),
        ("Hillside Primary hall", "11:45", "13:15", 1, 2, 0),
        ("Oak Lane Methodist church", "12:00", "13:30", 2, 3, 1),
        ("Northfield youth club", "12:30", "14:00", 1, 2, 0),
    )
    for day in (3, 4, 5, 6)
)


async def _at_a_glance(
    t: Transcript, bot: Rehearsal, clock: Clock, rachel: SimUser, sam: SimUser
) -> None:
    coordinator, volunteer = "coordinator", "volunteer"
    t.heading("Friday 31 July: the programme grows to five locations for the second week")
    made = await rota_import.import_sessions(
        bot.services.db,
        NEXT_WEEK,
        tz=bot.services.settings.timezone,
        jobs_needing_check=frozenset({"cook"}),
        now=clock(),
        create_locations=True,
    )
    t.out.write(
        f"\n(Rachel runs `lunchbot import --create-locations next-week.csv`: {made.created} "
        f"sessions, {len(made.new_locations)} new locations.)\n"
    )
    await t.send(sam, volunteer, "/sessions")
    await t.tap(sam, volunteer, "Mon 3 Aug 11:30 · St Mark's church hall")
    await t.tap(sam, volunteer, "Book server (3 free)")

    t.heading("Monday 3 August, 09:00: the morning list, and the programme at a glance")
    clock.now = datetime(2026, 8, 3, 8, 0, tzinfo=UTC)
    await bot.deliver()
    t.show_received(rachel, "☀️")
    await t.send(rachel, coordinator, "/today")
    await t.tap(rachel, coordinator, "St Mark's church hall")
    await t.tap(rachel, coordinator, "« The day at a glance")
    await t.tap(rachel, coordinator, "🗓 The week")
    await t.send(rachel, coordinator, "/coverage")
