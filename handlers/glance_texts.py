"""The words of the programme at a glance: /today's day at every location, and the week as a
picture (/week). HTML; every name is escaped. Counts are the storage's own (storage/
programme_day.py says what each one counts), never worked out again here."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.charts import HeatKey
from handlers.texts import esc
from storage.choosing import Page
from storage.programme_day import LocationDay, ProgrammeDay, Tally
from storage.referrals import DayFamilies
from storage.week import CellState, Week, WeekCell, WeekRow, cell

# A location's state at a glance, in the text and the picture alike.
MARKS = {
    CellState.NONE: "▫️",
    CellState.FILLED: "🟢",
    CellState.SHORT: "🟠",
    CellState.EMPTY: "🔴",
    CellState.CANCELLED: "⚪",
}
# The picture's kinds of cell, in this order (the chart takes their index).
HEAT_ORDER = (
    CellState.NONE,
    CellState.FILLED,
    CellState.SHORT,
    CellState.EMPTY,
    CellState.CANCELLED,
)
HEAT_KEYS = (
    HeatKey("#f2f2f2", "no lunch"),
    HeatKey("#43a047", "filled"),
    HeatKey("#ffb74d", "short"),
    HeatKey("#e53935", "nobody booked"),
    HeatKey("#b0bec5", "cancelled or did not run"),
)


def n(count: int, noun: str, many: str | None = None) -> str:
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"


def short_day(day: date) -> str:
    return f"{day:%a %-d %b}"


# --- the day at every location ----------------------------------------------------------------


def day_heading(day: date, today: date) -> str:
    if day == today:
        return f"Today, {short_day(day)}"
    return f"{short_day(day)} (today is {short_day(today)})"


def programme_day(
    found: ProgrammeDay, shown: Page[LocationDay], today: date, now: datetime, tz: ZoneInfo
) -> str:
    """The day's totals, then a page of its locations, worst gaps first."""
    head = f"📋 <b>{day_heading(found.day, today)}</b>"
    if not found.locations:
        return f"{head}\n\nNo lunch at any of your locations on {short_day(found.day)}."
    t = found.tally
    lines = [
        f"{head}: {n(t.lunches, 'lunch', 'lunches')} at {n(found.at_locations, 'location')}",
        *totals(t, found.families),
    ]
    if shown.shown:
        lines += ["", "<b>Worst gaps first</b>"]
        lines += [location_line(place, now, tz) for place in shown.shown]
        lines += ["", "Tap a location for its day: who is coming, attendance and counts."]
    return "\n".join(lines)


def totals(t: Tally, families: DayFamilies) -> list[str]:
    """The day's figures, a line each, only those with something to say."""
    lines = []
    if t.places:
        booked = f"👥 Booked: {t.booked:,} of {t.places:,} places, {t.confirmed:,} confirmed"
        if t.offered:
            booked += f", {t.offered:,} offered from a waitlist"
        lines.append(booked + ".")
    if t.free:
        empty = f"; {n(t.empty, 'lunch', 'lunches')} with nobody booked" if t.empty else ""
        lines.append(f"⚠️ To fill: {n(t.free, 'place')} at {n(t.short, 'lunch', 'lunches')}{empty}.")
    elif t.lunches:
        lines.append("✅ Every place is filled.")
    if t.begun:
        lines.append(
            f"🍽 Counts recorded: {t.recorded:,} of the {n(t.begun, 'lunch', 'lunches')} begun"
            + (f"; {t.to_record:,} to record." if t.to_record else ".")
        )
    # "1 lunch cancelled", "2 lunches cancelled and 1 did not run": said as the week says it.
    gone = []
    if t.cancelled:
        gone.append(f"{n(t.cancelled, 'lunch', 'lunches')} cancelled")
    if t.not_run:
        did_not_run = f"{t.not_run:,} did not run"
        gone.append(did_not_run if gone else f"{n(t.not_run, 'lunch', 'lunches')} did not run")
    if gone:
        lines.append(f"🚫 {' and '.join(gone)}.")
    if families.families:
        needs = f"; ⚠️ {families.with_needs:,} with allergies or dietary needs"
        lines.append(
            f"👨‍👩‍👧 Placed: {n(families.families, 'family', 'families')} "
            f"({n(families.children, 'child', 'children')}"
            f"{needs if families.with_needs else ''})."
        )
    return lines


def location_state(place: LocationDay, now: datetime) -> CellState:
    return cell(place.lunches, now).state


def location_line(place: LocationDay, now: datetime, tz: ZoneInfo) -> str:
    """Two lines: the location and its times; what its lunches add up to."""
    t = place.tally
    mark = MARKS[location_state(place, now)]
    if len(place.lunches) == 1:
        lunch = place.lunches[0]
        starts, ends = lunch.starts_at.astimezone(tz), lunch.ends_at.astimezone(tz)
        when = f"{starts:%H:%M}-{ends:%H:%M}"
    else:
        first = place.lunches[0].starts_at.astimezone(tz)
        when = f"{len(place.lunches)} lunches from {first:%H:%M}"
    facts = []
    if t.lunches == 0:
        facts.append("did not run" if t.not_run and not t.cancelled else "cancelled")
    else:
        facts.append(f"{t.booked:,} of {t.places:,} booked, {t.confirmed:,} confirmed")
        if t.free:
            facts.append(f"⚠️ {t.free:,} to fill")
        if t.begun:
            facts.append("🍽 counts to record" if t.to_record else "🍽 counts recorded")
    return f"{mark} <b>{esc(place.name)}</b> · {when}\n      {' · '.join(facts)}"


def week_button() -> str:
    return "🗓 The week"


def day_file_button() -> str:
    return "📄 The day as a spreadsheet"


def every_location_button() -> str:
    return "📍 Every location, A to Z"


def back_to_glance_button() -> str:
    return "« The day at a glance"


def day_file_name(day: date) -> str:
    return f"day-{day.isoformat()}.csv"


def day_file_caption(found: ProgrammeDay, rows: int) -> str:
    return (
        f"📄 {short_day(found.day)}: {n(rows, 'lunch', 'lunches')} at "
        f"{n(found.at_locations, 'location')}, one row each, worst gaps first, with who has "
        "not confirmed yet."
    )


def day_file_nothing(day: date) -> str:
    return f"There is no lunch at your locations on {short_day(day)}, so there is no file to send."


# --- the week as a picture --------------------------------------------------------------------


def week_title(found: Week, first: int, last: int) -> str:
    where = (
        f"locations {first}-{last} of {len(found.rows)}, worst gaps first"
        if len(found.rows) > last - first + 1
        else f"{n(len(found.rows), 'location')}, worst gaps first"
    )
    return f"Week of {found.monday:%a %-d %b %Y} · {where}"


def week_columns(found: Week) -> list[str]:
    return [f"{day:%a %-d}" for day in found.days]


def cell_words(week_cell: WeekCell) -> str:
    """What a cell of the picture says: "4/6" booked of the places (a picture, not a
    spreadsheet, so no date can be read into it)."""
    t = week_cell.tally
    match week_cell.state:
        case CellState.NONE:
            return ""
        case CellState.CANCELLED:
            return "did not run" if week_cell.not_run else "cancelled"
    words = f"{t.booked}/{t.places}"
    return f"{words} +{t.offered} offered" if t.offered else words


def heat_cells(rows: list[WeekRow]) -> list[list[tuple[int, str]]]:
    return [[(HEAT_ORDER.index(c.state), cell_words(c)) for c in row.cells] for row in rows]


def week_caption(found: Week, first: int, last: int) -> str:
    t = found.tally
    lines = [
        f"🗓 <b>Week of {short_day(found.monday)}</b>: {n(t.lunches, 'lunch', 'lunches')} at "
        f"{n(len(found.rows), 'location')}"
    ]
    lines += totals(t, DayFamilies(families=0, children=0, with_needs=0))[:2]
    gone = t.cancelled + t.not_run
    if gone:
        lines.append(f"🚫 {n(gone, 'lunch', 'lunches')} cancelled or did not run.")
    if len(found.rows) > last - first + 1:
        lines.append(
            f"This picture: locations {first}-{last} of {len(found.rows)}, worst gaps first; "
            "◀ Previous / Next ▶ for the others, or the spreadsheet for all of them."
        )
    if found.quiet:
        lines.append(f"{n(found.quiet, 'location')} of yours with no lunch this week.")
    lines.append("🟢 filled · 🟠 short · 🔴 nobody booked · ⚪ cancelled")
    return "\n".join(lines)


def week_empty(monday: date) -> str:
    return f"🗓 No lunch at your locations in the week of {short_day(monday)}."


def earlier_week_button(monday: date) -> str:
    return f"◀ Week of {monday:%-d %b}"


def later_week_button(monday: date) -> str:
    return f"Week of {monday:%-d %b} ▶"


def week_file_button() -> str:
    return "📄 The week as a spreadsheet"


def week_file_name(monday: date) -> str:
    return f"week-{monday.isoformat()}.csv"


def week_file_caption(found: Week) -> str:
    last = found.monday + timedelta(days=6)
    return (
        f"📄 The week of {short_day(found.monday)} to {short_day(last)}: "
        f"{n(len(found.rows), 'location')}, a row each and a column a day, worst gaps first."
    )
