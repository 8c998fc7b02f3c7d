"""The words of the impact report: choosing a period and a location, the summary, the files'
captions, and the summary printed by `lunchbot report`. HTML; location names escaped."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from handlers.rota_texts import plural
from handlers.texts import esc
from storage.impact import MAX_REPORT_DAYS, Figures, LocationFigures, PeriodProblem, Report
from storage.models import ReferralStatus

# Locations listed in the chat's summary (the biggest by meals); the CSV has every one.
SUMMARY_LOCATIONS = 15
# ...and in the terminal's, which should fit one screen with the totals and the two paths.
TERMINAL_LOCATIONS = 10
REFERRAL_WORDS = {
    ReferralStatus.PLACED: "placed",
    ReferralStatus.WAITLISTED: "on the waiting list",
    ReferralStatus.DECLINED: "not placed",
    ReferralStatus.SUBMITTED: "waiting for a decision",
}
EXAMPLE = "27/07/2026 - 28/08/2026"


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
    return (
        "📊 <b>Impact report</b>: meals served, children fed, families, sessions, volunteer "
        "hours and referrals, per location and in total, as a CSV file and a chart.\n\n"
        "Which period?"
    )


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
    lines = [
        f"📊 <b>Impact, {period(report.start, report.end)}</b>",
        scope,
        "",
        f"🍽 Meals served: <b>{total.meals_served:,}</b>",
        f"🧒 Children fed: <b>{total.children_fed:,}</b> (attendances)",
        f"👪 Families referred by schools who came: <b>{total.unique_families:,}</b>",
        f"📅 Sessions run: <b>{total.sessions:,}</b>",
    ]
    if total.unrecorded:
        lines.append(f"⚠️ {_unrecorded(total.unrecorded, 'with /today')}")
    lines += [
        f"🙋 Volunteer shifts: <b>{total.volunteer_shifts:,}</b> "
        f"({hours(total.volunteer_hours)} hours)",
        f"📨 Referrals received: <b>{total.referrals_total:,}</b>{_referral_split(total)}",
    ]
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
        "total. The column names say what each figure counts."
    )


def chart_title(report: Report, unit: str, where: str | None) -> str:
    # Drawn on the image, not parsed as HTML: no escaping.
    place = f" at {where}" if where is not None else ""
    return f"Meals served per {unit}{place}, {period(report.start, report.end)}"


def chart_caption(report: Report, unit: str) -> str:
    return f"📈 Meals served per {unit} by location, {period(report.start, report.end)}."


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
    line = (
        f"{figures.meals_served:,} meals, {figures.children_fed:,} children, "
        f"{plural(figures.sessions, 'session')}, {plural(figures.volunteer_shifts, 'shift')}"
    )
    return f"{line}, {figures.unrecorded:,} without counts" if figures.unrecorded else line


def _unrecorded(count: int, how: str) -> str:
    """'3 sessions have no meal counts yet: record them with /today'."""
    if count == 1:
        return f"1 session has no meal counts yet: record it {how}"
    return f"{count:,} sessions have no meal counts yet: record them {how}"


def _biggest(rows: list[LocationFigures], count: int) -> list[LocationFigures]:
    return sorted(rows, key=lambda row: (-row.figures.meals_served, row.name.lower()))[:count]


# --- on the command line ---------------------------------------------------------------------


def terminal_summary(
    report: Report, *, programme: str, where: str | None, csv_path: Path, chart_path: Path
) -> str:
    """`lunchbot report`'s output: plain text, one screen."""
    total = report.total
    referrals = ", ".join(
        f"{status.value} {total.referrals[status]:,}" for status in ReferralStatus
    )
    lines = [
        f"{programme}: impact report, {period(report.start, report.end)} "
        f"({where if where is not None else 'all locations'})",
        f"  Meals served:        {total.meals_served:,}",
        f"  Children fed:        {total.children_fed:,} (attendances)",
        f"  Unique families:     {total.unique_families:,}",
        f"  Sessions run:        {total.sessions:,}",
        f"  Volunteer shifts:    {total.volunteer_shifts:,} ({hours(total.volunteer_hours)} hours)",
        f"  Referrals received:  {total.referrals_total:,} ({referrals})",
    ]
    if total.unrecorded:
        lines.append(f"  Note: {_unrecorded(total.unrecorded, 'in the bot with /today')}")
    if where is None and report.locations:
        shown = _biggest(report.locations, TERMINAL_LOCATIONS)
        width = max(len("By location"), *(len(row.name) for row in shown))
        heading = f"{'Meals':>7} {'Children':>8} {'Sessions':>8} {'Shifts':>6} {'No counts':>9}"
        lines.append(f"  {'By location':<{width}}  {heading}")
        lines += [
            f"  {row.name:<{width}}  {row.figures.meals_served:>7,} "
            f"{row.figures.children_fed:>8,} {row.figures.sessions:>8,} "
            f"{row.figures.volunteer_shifts:>6,} {row.figures.unrecorded:>9,}"
            for row in shown
        ]
        if len(report.locations) > len(shown):
            rest = len(report.locations) - len(shown)
            lines.append(f"  ...and {plural(rest, 'more location')} (in the CSV)")
    lines += [f"CSV:   {csv_path}", f"Chart: {chart_path}"]
    return "\n".join(lines)
