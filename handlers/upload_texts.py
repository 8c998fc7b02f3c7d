"""The words of a rota sent to the bot as a CSV file: the review of what it would add (every
problem by line), the refusals (a workbook, a file too big or unreadable), and what was
imported. HTML; everything from the file escaped, and each problem cut to a line's length so
that however the file is written the review fits one Telegram message."""

from __future__ import annotations

from datetime import date

from handlers.plan_texts import count, names
from handlers.texts import esc
from storage.rota_import import MAX_ROWS, SAVE_AS_UTF8, ImportResult, ImportReview

PROBLEMS_SHOWN = 12  # with the file's name and counts, far inside 4,096 characters
PROBLEM_CHARS = 200  # a line naming a location of 100 characters, and more, fits
NEW_NAMES_SHOWN = 8
EXAMPLE = "location,date,start,end,cook,server,driver"


def _problem(line: str) -> str:
    short = line if len(line) <= PROBLEM_CHARS else line[: PROBLEM_CHARS - 1] + "…"
    return f"• {esc(short)}"


def _span(first: date | None, last: date | None) -> str:
    if first is None or last is None:
        return ""
    if first == last:
        return f", {first:%a %-d %b %Y}"
    return f", {first:%a %-d %b} – {last:%a %-d %b %Y}"


def _file(name: str) -> str:
    return f"📄 <b>{esc(name)}</b>"


def review(name: str, seen: ImportReview, *, may_add_locations: bool) -> str:
    """What the import would do; the buttons below it do it."""
    lines = [
        f"{_file(name)}: {count(seen.sessions, 'session')} at "
        f"{count(seen.locations, 'location')}{_span(seen.first, seen.last)}.",
        f"• {count(seen.new, 'session')} to add",
    ]
    if seen.existing:
        lines.append(f"• {count(seen.existing, 'session')} already in the bot, left as they are")
    if seen.new_locations and may_add_locations:
        lines.append(
            f"• {count(len(seen.new_locations), 'location')} not in the bot yet: "
            f"{names(seen.new_locations, NEW_NAMES_SHOWN)}. Tap ➕ to add "
            f"{'it' if len(seen.new_locations) == 1 else 'them'} with the import (then give "
            "them their addresses in /locations), or correct the names and send the file again."
        )
    lines += ["", "Nothing is written until you tap a button below."]
    return "\n".join(lines)


def import_button(new: int) -> str:
    return f"✅ Import {count(new, 'session')}"


def also_create_button(new_locations: int) -> str:
    return f"➕ Also create the {count(new_locations, 'new location')}"


def problems(name: str, seen: ImportReview, *, listed_in_file: bool) -> str:
    """The file cannot be imported as it is: every problem by line (the first few here, all of
    them in the file sent below when there are more)."""
    shown = seen.errors[:PROBLEMS_SHOWN]
    lines = [
        f"{_file(name)} can't be imported as it is: {count(len(seen.errors), 'problem')}. "
        "Nothing was written.",
        *(_problem(error) for error in shown),
    ]
    if listed_in_file:
        lines.append(
            f"…and {len(seen.errors) - len(shown):,} more: every one is in the file below."
        )
    lines += ["", "Correct them in the spreadsheet and send the file again."]
    return "\n".join(lines)


def problems_file_name(name: str) -> str:
    stem = name.rsplit(".", 1)[0] or "sessions"
    return f"{stem}-problems.txt"


def problems_caption(count_: int) -> str:
    return f"Every problem in the file, by line ({count_:,})."


def nothing_new(name: str, seen: ImportReview) -> str:
    held = "its one session is" if seen.existing == 1 else f"all its {seen.existing:,} sessions are"
    return f"{_file(name)}: {held} already in the bot, so there is nothing to import."


def empty(name: str) -> str:
    return f"{_file(name)} holds no session: {how_to()}"


def how_to() -> str:
    return (
        "the first line names the columns, like <code>"
        f"{EXAMPLE}</code>, then one line per session (dates like 27/07/2026, times like 11:30)."
    )


def unreadable(name: str, problem: str) -> str:
    """A workbook, or text in another encoding: the import's own advice."""
    return f"{_file(name)} can't be read: {esc(problem)}."


def too_big(name: str, most_bytes: int) -> str:
    return (
        f"{_file(name)} is too big for one import (at most {most_bytes // 1_000_000} MB, "
        f"{MAX_ROWS:,} sessions): split it into a few files and send them one after another."
    )


def workbook_by_name(name: str) -> str:
    return f"{_file(name)} is a spreadsheet workbook, not a CSV file: {esc(SAVE_AS_UTF8)}."


def closed_to_import() -> str:
    return (
        "Only coordinators can import sessions from a file. I can read words and photos: "
        "/help shows what I can do."
    )


def changed() -> str:
    return (
        "That file can't be fetched as it was reviewed, so nothing was imported. Please send "
        "it again."
    )


def imported(name: str, done: ImportResult) -> str:
    existing = (
        f" ({count(done.existing, 'session')} already in the bot, left as they are)"
        if done.existing
        else ""
    )
    lines = [
        f"✅ {_file(name)} imported: {count(done.created, 'session')} added at "
        f"{count(done.locations, 'location')}{existing}. Volunteers can book them now with "
        "/sessions."
    ]
    if done.new_locations:
        lines.append(
            f"New locations: {names(done.new_locations, NEW_NAMES_SHOWN)}. Give them their "
            "addresses and how many children they can feed in /locations."
        )
    return "\n\n".join(lines)


def refused_now(name: str, done: ImportResult) -> str:
    """Something changed between the review and the tap (a session begun, a location archived):
    nothing was imported, and the problems say what."""
    return "\n".join(
        [
            f"{_file(name)} can't be imported now: something changed since the review. "
            "Nothing was written.",
            *(_problem(error) for error in done.errors[:PROBLEMS_SHOWN]),
            "",
            "Correct the file and send it again.",
        ]
    )
