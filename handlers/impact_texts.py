"""The words of the impact report: choosing a period and a location, the summary, the files'
captions, and the summary printed by `lunchbot report`. HTML; location names escaped."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from handlers.rota_texts import plural
from handlers.texts import esc
from storage.impact import (
    CHILDREN_FED,
    DEFINITIONS,
    FAMILIES_CAME,
    MAX_REPORT_DAYS,
    MEALS_SERVED,
    REFERRAL_STATUS_WORDS,
    REFERRALS_RECEIVED,
    SESSIONS_RUN,
    SESSIONS_WITHOUT_COUNTS,
    VOLUNTEER_HOURS,
    VOLUNTEER_SHIFTS,
    Definition,
    Figures,
    LocationFigures,
    PeriodProblem,
    Report,
    figure_values,
)
from storage.models import ReferralStatus

# Locations listed in the chat's summary (the biggest by meals); the CSV has every one.
SUMMARY_LOCATIONS = 15
# ...and in the terminal's, which should fit one screen with the totals and the two paths.
TERMINAL_LOCATIONS = 10
REFERRAL_WORDS = REFERRAL_STATUS_WORDS
ICONS = {
    MEALS_SERVED: "🍽",
    CHILDREN_FED: "🧒",
    FAMILIES_CAME: "👪",
    SESSIONS_RUN: "📅",
    SESSIONS_WITHOUT_COUNTS: "⚠️",
    VOLUNTEER_SHIFTS: "🙋",
    VOLUNTEER_HOURS: "⏱",
    REFERRALS_RECEIVED: "📨",
}
EXAMPLE = "27/07/2026 - 28/08/2026"
# The terminal's table by location: the figures' names, shortened only where they must be.
TERMINAL_COLUMNS = (
    (MEALS_SERVED.name, MEALS_SERVED),
    ("Children fed", CHILDREN_FED),
    (SESSIONS_RUN.name, SESSIONS_RUN),
    (VOLUNTEER_SHIFTS.name, VOLUNTEER_SHIFTS),
    ("Without counts", SESSIONS_WITHOUT_COUNTS),
)


def period(start: date, end: date) -> str:
    """'27 Jul – 28 Aug 2026', '20 Dec 2025 – 3 Jan 2026', or one day."""
    if start == end:
        return f"{start:%-d %b %Y}"
    if start.year == end.year:
        return f"{start:%-d %b} – {end:%-d %b %Y}"
    return f"{start:%-d %b %Y} – {end:%-d %b %Y}"


def file_stem(start: date, end: date, location: str | None = None) -> str:
    """impact-2026-07-27-to-2026-08-28, with the location's name when there is one."""
    named = ""
    if location is not None:
        named = "".join(ch if ch.isalnum() else "-" for ch in location).strip("-")[:40] + "-"
    return f"impact-{named}{start.isoformat()}-to-{end.isoformat()}"


# --- choosing --------------------------------------------------------------------------------


def choose_period() -> str:
    names = ", ".join(d.name.lower() for d in DEFINITIONS if d is not SESSIONS_WITHOUT_COUNTS)
    return (
        f"📊 <b>Impact report</b>: {names}, per location and in total, as a CSV file and a "
        "chart.\n\nWhich period?"
    )


def value(definition: Definition, figures: Figures) -> str:
    """A figure as every summary writes it: 1,234, or 12.5 for hours."""
    number = figure_values(figures)[definition]
    return hours(number) if definition is VOLUNTEER_HOURS else f"{number:,}"


def meanings_button() -> str:
    return "ℹ️ What the figures count"


def meanings() -> str:
    """What each figure counts, one line each, as the README says it: sent with every report
    (the CSV's columns carry the same names)."""
    lines = [f"• <b>{esc(d.name)}</b>: {esc(d.meaning)}" for d in DEFINITIONS]
    return "\n".join(["ℹ️ <b>What the figures count</b>", *lines])


def ask_dates() -> str:
    return (
        f"Type the first and the last day of the period, like <code>{EXAMPLE}</code> "
        "(or one day). Send /cancel to stop."
    )


def dates_unreadable() -> str:
    return (
        f"Sorry, I couldn't read those dates. Please type them like <code>{EXAMPLE}</code>: "
        "the first day, a dash, the last day."
    )


def period_refused(problem: PeriodProblem) -> str:
    match problem:
        case PeriodProblem.BACKWARDS:
            reason = "the last day is before the first"
        case PeriodProblem.TOO_LONG:
            reason = f"a report covers at most 3 years ({MAX_REPORT_DAYS:,} days)"
        case PeriodProblem.NOT_STARTED:
            reason = "that period hasn't begun yet"
    return f"Sorry, {reason}. Please type the dates again, like <code>{EXAMPLE}</code>."


def period_too_early(years: int) -> str:
    return (
        f"Sorry, a report starts at most {years} years ago. Please type the dates again, like "
        f"<code>{EXAMPLE}</code>."
    )


def choose_place(start: date, end: date, *, whole_programme: bool) -> str:
    every = "every location" if whole_programme else "all the locations you lead"
    return f"📊 Impact report, {period(start, end)}: for {every}, or one location?"


def all_places(*, whole_programme: bool) -> str:
    return "All locations" if whole_programme else "All my locations"


def place_label(name: str, *, archived: bool) -> str:
    return f"{name} (archived)" if archived else name


# --- the report ------------------------------------------------------------------------------


def summary(report: Report, *, where: str | None, whole_programme: bool) -> str:
    """Totals, then a line per location (the biggest, when there are very many)."""
    scope = (
        esc(where)
        if where is not None
        else "All locations"
        if whole_programme
        else "All the locations you lead"
    )
    total = report.total
    lines = [f"📊 <b>Impact, {period(report.start, report.end)}</b>", scope, ""]
    for definition in DEFINITIONS:
        line = f"{ICONS[definition]} {definition.name}: <b>{value(definition, total)}</b>"
        if definition is SESSIONS_WITHOUT_COUNTS:
            if not total.unrecorded:
                continue
            line += " (record them with /today, or mark them as did not run)"
        if definition is REFERRALS_RECEIVED:
            line += _referral_split(total)
        lines.append(line)
    if where is None and len(report.locations) > 1:
        lines += ["", "<b>By location</b>"]
        shown = _biggest(report.locations, SUMMARY_LOCATIONS)
        lines += [f"• {esc(row.name)}: {_location_line(row.figures)}" for row in shown]
        if len(report.locations) > len(shown):
            rest = len(report.locations) - len(shown)
            lines.append(f"…and {plural(rest, 'more location')}: every one is in the CSV.")
    elif not report.locations and not total.referrals_total:
        lines += ["", "Nothing was recorded in this period."]
    return "\n".join(lines)


def csv_caption(report: Report) -> str:
    return (
        f"📄 Impact figures, {period(report.start, report.end)}: one row per location and a "
        "total, in columns named as in the summary (its ℹ️ button says what each counts)."
    )


def chart_title(report: Report, unit: str, where: str | None) -> str:
    # Drawn on the image, not parsed as HTML: no escaping.
    place = f" at {where}" if where is not None else ""
    return f"{MEALS_SERVED.name} per {unit}{place}, {period(report.start, report.end)}"


def chart_caption(report: Report, unit: str) -> str:
    return f"📈 {MEALS_SERVED.name} per {unit} by location, {period(report.start, report.end)}."


def hours(value: float) -> str:
    return f"{value:,.1f}"


def _referral_split(figures: Figures) -> str:
    parts = [
        f"{figures.referrals[status]:,} {words}"
        for status, words in REFERRAL_WORDS.items()
        if figures.referrals[status]
    ]
    return f" ({', '.join(parts)})" if parts else ""


def _location_line(figures: Figures) -> str:
    """'38 meals served, 31 children fed, 2 sessions run, 3 volunteer shifts': the figures'
    names, in lower case, after their values."""
    parts = [
        f"{value(MEALS_SERVED, figures)} {MEALS_SERVED.name.lower()}",
        f"{value(CHILDREN_FED, figures)} children fed",
        f"{plural(figures.sessions, 'session')} run",
        plural(figures.volunteer_shifts, "volunteer shift"),
    ]
    if figures.unrecorded:
        parts.append(f"{value(SESSIONS_WITHOUT_COUNTS, figures)} without counts")
    return ", ".join(parts)


def unrecorded(count: int, how: str) -> str:
    """'3 sessions without counts: record them with /today, or mark them as did not run',
    in the figure's own name (storage.impact.SESSIONS_WITHOUT_COUNTS)."""
    name = SESSIONS_WITHOUT_COUNTS.name.lower()
    if count == 1:
        one = name.replace("sessions", "session", 1)
        return f"1 {one}: record it {how}, or mark it as did not run"
    return f"{count:,} {name}: record them {how}, or mark them as did not run"


def _biggest(rows: list[LocationFigures], count: int) -> list[LocationFigures]:
    return sorted(rows, key=lambda row: (-row.figures.meals_served, row.name.lower()))[:count]


# --- on the command line ---------------------------------------------------------------------


def terminal_summary(
    report: Report, *, programme: str, where: str | None, csv_path: Path, chart_path: Path
) -> str:
    """`lunchbot report`'s output: plain text, one screen."""
    total = report.total
    referrals = ", ".join(
        f"{total.referrals[status]:,} {REFERRAL_WORDS[status]}" for status in ReferralStatus
    )
    lines = [
        f"{programme}: impact report, {period(report.start, report.end)} "
        f"({where if where is not None else 'all locations'})",
    ]
    width = max(len(d.name) for d in DEFINITIONS) + 1
    for definition in DEFINITIONS:
        line = f"  {definition.name + ':':<{width}} {value(definition, total)}"
        lines.append(line + (f" ({referrals})" if definition is REFERRALS_RECEIVED else ""))
    if total.unrecorded:
        lines.append(f"  Note: {unrecorded(total.unrecorded, 'in the bot with /today')}")
    if where is None and report.locations:
        shown = _biggest(report.locations, TERMINAL_LOCATIONS)
        width = max(len("By location"), *(len(row.name) for row in shown))
        heading = " ".join(title for title, _ in TERMINAL_COLUMNS)
        lines.append(f"  {'By location':<{width}}  {heading}")
        lines += [
            f"  {row.name:<{width}}  "
            + " ".join(f"{value(d, row.figures):>{len(title)}}" for title, d in TERMINAL_COLUMNS)
            for row in shown
        ]
        if len(report.locations) > len(shown):
            rest = len(report.locations) - len(shown)
            lines.append(f"  ...and {plural(rest, 'more location')} (in the CSV)")
    lines += [f"CSV:   {csv_path}", f"Chart: {chart_path}"]
    return "\n".join(lines)
