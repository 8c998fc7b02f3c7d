"""The words of cancelling many sessions at once (/cancelsessions): choosing the day or the
location, the preview of whom it tells, and what was done. HTML; names escaped."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.texts import esc
from storage.rota import Told
from storage.rota_bulk import Day, DayLocation, LocationAhead, Preview

HEADING = "❄️ <b>Cancel many lunch sessions</b>"
EVERY_LOCATION = "Every location"


def day(value: date) -> str:
    return f"{value:%a %-d %b}"


def _sessions(count: int) -> str:
    return "1 session" if count == 1 else f"{count:,} sessions"


def _locations(count: int) -> str:
    return "1 location" if count == 1 else f"{count:,} locations"


# --- choosing --------------------------------------------------------------------------------


def ask_what(days: list[Day]) -> str:
    lines = [
        HEADING,
        "A snow day, a closed venue: everyone signed up is told once, and so are the schools "
        "of the families placed (never with their needs). You see whom before anything is "
        "cancelled.",
        "",
    ]
    if days:
        lines.append("Which day? Tap it, or send its date (13/08/2026).")
    else:
        lines.append(
            "No sessions are planned in the next two weeks. Send a later date (13/08/2026), "
            "or choose a location."
        )
    return "\n".join(lines)


def day_button(found: Day) -> str:
    return f"{day(found.day)} · {_sessions(found.sessions)} at {_locations(found.locations)}"


def location_button() -> str:
    return "📍 A location's sessions to come…"


def day_invalid() -> str:
    return (
        "Please send one date from today to a year ahead, like 13/08/2026 or 2026-08-13 "
        "(or tap a day)."
    )


def ask_where(on: date, matching: int, sessions: int) -> str:
    if matching == 0:
        return (
            f"{HEADING}\nNo sessions are still to come on {day(on)} at your locations: "
            "nothing to cancel that day. Choose another day."
        )
    return (
        f"{HEADING}\n{day(on)}: {_sessions(sessions)} still to come at "
        f"{_locations(matching)}. Cancel them where?"
    )


def everywhere_button(sessions: int) -> str:
    return f"{EVERY_LOCATION} ({_sessions(sessions)})"


def choose_button() -> str:
    return "Choose locations…"


def another_day_button() -> str:
    return "« Another day"


def choose_places(on: date, chosen: int) -> str:
    picked = f" {chosen} chosen so far." if chosen else ""
    return (
        f"{HEADING}\nWhich locations on {day(on)}? Tap each one (✓ marks those chosen), then "
        f"Continue.{picked}"
    )


def place_button(place: DayLocation, chosen: bool) -> str:
    return f"{'✓ ' if chosen else ''}{place.name} · {place.sessions}"


def places_done_button(chosen: int) -> str:
    return f"Continue ▶ ({_locations(chosen)})"


def too_many_chosen(most: int) -> str:
    return f"That is as many as can be chosen ({most}): choose {EVERY_LOCATION} instead."


def ask_location() -> str:
    return f"{HEADING}\nWhich location's sessions to come?"


def ask_span(ahead: LocationAhead) -> str:
    name = esc(ahead.name)
    if ahead.to_come == 0:
        return f"{HEADING}\n<b>{name}</b> has no sessions still to come: nothing to cancel."
    return (
        f"{HEADING}\n<b>{name}</b> has {_sessions(ahead.to_come)} still to come; this "
        f"holiday's last lunch there is on {day(ahead.holiday_ends or date.min)}. Cancel which?"
    )


def holiday_button(ahead: LocationAhead) -> str:
    ends = day(ahead.holiday_ends or date.min)
    return f"The rest of this holiday, to {ends} ({_sessions(ahead.this_holiday)})"


def all_to_come_button(ahead: LocationAhead) -> str:
    return f"Every session to come ({_sessions(ahead.to_come)})"


def back_button() -> str:
    return "« Back"


# --- the preview and what was done -------------------------------------------------------------


def where(every: bool, places: int, name: str | None) -> str:
    """'at every location', 'at St Mark's', 'at 3 locations'."""
    if every:
        return "at every location"
    if places == 1 and name is not None:
        return f"at {esc(name)}"
    return f"at {_locations(places)}"


def span(first: datetime | None, last: datetime | None, tz: ZoneInfo) -> str:
    """'Mon 3 Aug to Fri 28 Aug' (or one day), the days the sessions are on."""
    if first is None or last is None:
        return ""
    start, end = first.astimezone(tz).date(), last.astimezone(tz).date()
    return day(start) if start == end else f"{day(start)} to {day(end)}"


def preview(preview: Preview, where: str) -> str:
    if preview.sessions == 0:
        return (
            f"{HEADING}\nThere are no sessions still to come {where} any more: nothing to "
            "cancel. (A session that has begun is not cancelled: mark it as did not run in "
            "/today.)"
        )
    lines = [
        f"{HEADING}\nCancel {_sessions(preview.sessions)} {where}?",
        "",
        told(preview.told),
    ]
    if preview.told.families:
        lines.append(
            "The families leave those days' registers; a family with no lunch left goes back "
            "on the referrals waiting list."
        )
    lines += _offline(preview, "will not hear it from the bot: please phone them")
    lines.append("")
    lines.append("Sessions that have begun are not cancelled (mark them as did not run in /today).")
    return "\n".join(lines)


def told(told: Told) -> str:
    """'220 volunteers and 38 placed families (71 children) will be told: ...'"""
    parts = []
    if told.volunteers:
        parts.append(_volunteers(told.volunteers))
    if told.families:
        parts.append(_families(told))
    if not parts:
        return "Nobody on Telegram is signed up and no family is placed, so nobody needs telling."
    how = ["the volunteers by message, each once"] if told.volunteers else []
    if told.families:
        schools = "1 school" if told.schools == 1 else f"{told.schools} schools"
        how.append(f"the families through their {schools}, each once, never with their needs")
    return f"{' and '.join(parts)} will be told: {'; '.join(how)}."


def confirm_button(sessions: int) -> str:
    return f"❄️ Yes, cancel {_sessions(sessions)}"


def done(result: Preview, where: str) -> str:
    if result.sessions == 0:
        return (
            f"Nothing was left to cancel {where}: those sessions were cancelled a moment ago "
            "(or have begun). Nobody was told twice."
        )
    lines = [f"✅ Cancelled {_sessions(result.sessions)} {where}."]
    sent = []
    if result.told.volunteers:
        sent.append(f"the {_volunteers(result.told.volunteers)} signed up (each once)")
    if result.told.families:
        schools = "1 school" if result.told.schools == 1 else f"{result.told.schools} schools"
        sent.append(f"the {schools} of the {_families(result.told)}")
    lines.append(
        f"I'm telling {' and '.join(sent)}." if sent else "Nobody needed telling by the bot."
    )
    told = "was" if result.told.offline == 1 else "were"
    lines += _offline(result, f"{told} not told by the bot: please phone them")
    return "\n".join(lines)


def _offline(result: Preview, what_to_do: str) -> list[str]:
    count = result.told.offline
    if not count:
        return []
    who = "1 person" if count == 1 else f"{count} people"
    names = ", ".join(esc(name) for name in result.offline)
    more = f", and {count - len(result.offline)} more" if count > len(result.offline) else ""
    return ["", f"☎️ {who} on these sessions without Telegram {what_to_do}: {names}{more}."]


def _volunteers(count: int) -> str:
    return "1 volunteer" if count == 1 else f"{count:,} volunteers"


def _families(told: Told) -> str:
    kids = "1 child" if told.children == 1 else f"{told.children:,} children"
    placed = "1 placed family" if told.families == 1 else f"{told.families:,} placed families"
    return f"{placed} ({kids})"


# --- what a school hears ---------------------------------------------------------------------

SCHOOL_NOTICE_MAX = 3800  # with the line below it, inside a message's 4096 characters


def placements_cancelled(parts: list[str]) -> str:
    """To a school contact, once for a bulk cancel: each of their families' lost lunches (as
    one cancel says it), as many as a message holds; the rest counted."""
    if len(parts) == 1:
        return parts[0]
    head = f"📬 Lunches cancelled for {len(parts)} of your families:"
    shown: list[str] = []
    for part in parts:
        if len(head) + sum(len(p) + 2 for p in shown) + len(part) + 2 > SCHOOL_NOTICE_MAX:
            break
        shown.append(part)
    more = len(parts) - len(shown)
    tail = [f"…and {more} more: /myreferrals shows each one's days."] if more else []
    return "\n\n".join([head, *shown, *tail])
