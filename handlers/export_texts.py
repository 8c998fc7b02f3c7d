"""The words of /export (the rota as a spreadsheet) and of the sign-in sheet, on screen (HTML,
every stored or typed value escaped) and on paper (plain text, drawn by handlers/exports_pdf.py).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.impact_texts import period
from handlers.texts import esc
from storage.exports import MAX_EXPORT_DAYS, PeriodProblem, PlaceState, RotaExport
from storage.exports_sheet import SessionChoice, SheetFamily, SheetVolunteer, SignInSheet

EXAMPLE = "27/07/2026 - 28/08/2026"
NAMES_SHOWN = 8  # chosen locations named on the screen; more are counted


def count(number: int, noun: str, many: str | None = None) -> str:
    return f"{number:,} {noun if number == 1 else many or noun + 's'}"


def times(starts_at: datetime, ends_at: datetime, tz: ZoneInfo) -> str:
    """'Tue 28 Jul, 11:30-13:30'."""
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    return f"{start:%a %-d %b}, {start:%H:%M}-{end:%H:%M}"


# --- /export: the period ---------------------------------------------------------------------


def choose_period() -> str:
    return (
        "📄 <b>Export the rota</b> as a spreadsheet (CSV): every place at every session, who "
        "holds it or that it is open, with the site lead's name and phone.\n\nWhich dates? "
        "(For a session's printable sign-in sheet, tap 🖨 below.)"
    )


def this_week_button(first: date, last: date) -> str:
    return f"This week ({period(first, last)})"


def next_week_button(first: date, last: date) -> str:
    return f"Next week ({period(first, last)})"


def rest_button() -> str:
    return "The rest of the holiday"


def dates_button() -> str:
    return "Choose dates…"


def sheet_button() -> str:
    return "🖨 A session's sign-in sheet"


def nothing_planned() -> str:
    return (
        "Nothing is planned from today at the locations you run, so there is no rest of the "
        "holiday to export. Choose dates instead, or send /cancel."
    )


def ask_dates() -> str:
    return (
        f"Type the first and the last day, like <code>{EXAMPLE}</code> (or one day). "
        "Send /cancel to stop."
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
            reason = f"one export covers at most a year ({MAX_EXPORT_DAYS} days)"
        case PeriodProblem.TOO_FAR:
            reason = "the rota goes back at most 5 years and ahead at most a year"
    return f"Sorry, {reason}. Please type the dates again, like <code>{EXAMPLE}</code>."


# --- /export: the locations ------------------------------------------------------------------


def choose_locations(first: date, last: date, chosen: list[str]) -> str:
    lines = [
        f"📄 The rota for <b>{period(first, last)}</b>. Which locations?",
        "Tap locations to choose them, then Continue ▶; or take them all. To find one, type "
        "part of its name.",
        "",
        f"Chosen: {_names(chosen)}",
    ]
    return "\n".join(lines)


def choose_sheet_location() -> str:
    return "🖨 <b>Sign-in sheet</b>: at which location? To find one, type part of its name."


def _names(chosen: list[str]) -> str:
    if not chosen:
        return "none yet"
    names = ", ".join(esc(name) for name in chosen[:NAMES_SHOWN])
    more = len(chosen) - NAMES_SHOWN
    return f"{names} and {more:,} more" if more > 0 else names


def all_locations_button(total: int, *, whole_programme: bool) -> str:
    every = "All locations" if whole_programme else "All your locations"
    return f"📄 {every} ({total:,})"


def no_locations() -> str:
    return "There are no locations yet: add one with /locations first."


# --- /export: the file -----------------------------------------------------------------------


def exported(first: date, last: date, made: RotaExport) -> str:
    if made.sessions == 0:
        return (
            f"📄 No lunch sessions run at those locations in {period(first, last)}, so there "
            "is no rota to export. Send /export to choose other dates."
        )
    places = made.filled + made.open
    return (
        f"📄 The rota for <b>{period(first, last)}</b>: {count(made.sessions, 'session')} at "
        f"{count(made.locations, 'location')}, {count(places, 'place')}: {made.filled:,} "
        f"filled, {made.open:,} open. The file is below: one row a place."
    )


def too_big(size: int) -> str:
    return (
        f"📄 That rota would be a file of {size / 1e6:,.0f} MB, more than Telegram lets a bot "
        "send (50 MB), so nothing was exported. Send /export and choose fewer weeks or "
        "locations."
    )


def rota_caption(first: date, last: date, made: RotaExport) -> str:
    return (
        f"📄 The rota, {period(first, last)}: {count(made.file.rows, 'row')}. It holds "
        "volunteers' names and site leads' phone numbers: keep it safe and delete it when "
        "done. The export is recorded."
    )


def rota_file_name(first: date, last: date) -> str:
    return f"rota-{first.isoformat()}-to-{last.isoformat()}.csv"


# --- the sign-in sheet on screen -------------------------------------------------------------


def site_day_button(starts_at: datetime, tz: ZoneInfo, several: bool) -> str:
    """On the site day: one a session; with several that day, each names its start."""
    return f"🖨 Sign-in sheet {starts_at.astimezone(tz):%H:%M}" if several else "🖨 Sign-in sheet"


def choose_session(location: str, total: int) -> str:
    if total == 0:
        return (
            f"🖨 No sessions are planned at <b>{esc(location)}</b> from today. Choose another "
            "location, or send /cancel."
        )
    return f"🖨 Sign-in sheet for <b>{esc(location)}</b>: which session?"


def session_button(choice: SessionChoice, tz: ZoneInfo) -> str:
    return times(choice.starts_at, choice.ends_at, tz)


def other_location_button() -> str:
    return "↩ Another location"


def sheet_cancelled(sheet: SignInSheet, tz: ZoneInfo) -> str:
    return (
        f"That session ({esc(sheet.location)}, {times(sheet.starts_at, sheet.ends_at, tz)}) "
        "is cancelled, so there is no sign-in sheet for it."
    )


def sheet_caption(sheet: SignInSheet, tz: ZoneInfo) -> str:
    open_places = sum(job.open for job in sheet.jobs)
    return (
        f"🖨 Sign-in sheet: {esc(sheet.location)}, {times(sheet.starts_at, sheet.ends_at, tz)}"
        f": {count(len(sheet.volunteers), 'volunteer')}, {count(open_places, 'open place')}, "
        f"{count(len(sheet.families), 'family', 'families')} "
        f"({count(sheet.children, 'child', 'children')}). It names volunteers and families' "
        "references: shred it after the session. Making it is recorded."
    )


def sheet_file_name(sheet: SignInSheet, tz: ZoneInfo) -> str:
    local = sheet.starts_at.astimezone(tz)
    name = "".join(ch if ch.isalnum() else "-" for ch in sheet.location).strip("-")[:40]
    return f"sign-in-{name or 'session'}-{local:%Y-%m-%d-%H%M}.pdf"


# --- the sign-in sheet on paper (plain text) -------------------------------------------------


SHEET_VOLUNTEER_HEADING = (
    "Name",
    "Job",
    "Place",
    "Coming?",
    "Time in",
    "Signature",
    "Time out",
)
SHEET_FAMILY_HEADING = ("Reference", "School", "Children", "Ages", "Needs", "Arrived")
PLACE_WORDS = {
    PlaceState.BOOKED: "booked",
    PlaceState.OFFERED: "offered",
    PlaceState.CAME: "came",
    PlaceState.NO_SHOW: "no-show",
    PlaceState.OPEN: "open",
}


def sheet_title(sheet: SignInSheet, tz: ZoneInfo) -> str:
    return f"Sign-in sheet: {sheet.location}"


def sheet_about(sheet: SignInSheet, tz: ZoneInfo) -> list[str]:
    start, end = sheet.starts_at.astimezone(tz), sheet.ends_at.astimezone(tz)
    lines = [f"{start:%A %-d %B %Y}, {start:%H:%M} to {end:%H:%M}"]
    if sheet.address:
        lines.append(f"Address: {sheet.address}")
    if sheet.leads:
        noun = "Site lead" if len(sheet.leads) == 1 else "Site leads"
        lines.append(f"{noun}: {', '.join(sheet.leads)}")
    if sheet.jobs:
        jobs = ", ".join(
            f"{job.job} {job.filled} of {job.places}" + (f" ({job.open} open)" if job.open else "")
            for job in sheet.jobs
        )
        lines.append(f"Jobs: {jobs}")
    return lines


def sheet_volunteers_title(sheet: SignInSheet) -> str:
    open_places = sum(job.open for job in sheet.jobs)
    return (
        f"Volunteers: {count(len(sheet.volunteers), 'place')} taken, "
        f"{count(open_places, 'place')} open"
    )


def sheet_volunteer_row(volunteer: SheetVolunteer) -> list[str]:
    coming = "yes" if volunteer.confirmed else ""
    # Someone without Telegram was put on by a coordinator: only they can have reminded them.
    name = f"{volunteer.name} (no Telegram)" if volunteer.offline else volunteer.name
    return [name, volunteer.job, PLACE_WORDS[volunteer.state], coming, "", "", ""]


def sheet_open_row(job: str) -> list[str]:
    """A place nobody holds: a volunteer who turns up writes their name in."""
    return ["", job, PLACE_WORDS[PlaceState.OPEN], "", "", "", ""]


def sheet_no_volunteers() -> str:
    return "This session has no jobs to fill."


def sheet_families_title(sheet: SignInSheet) -> str:
    return (
        f"Families placed: {count(len(sheet.families), 'family', 'families')}, "
        f"{count(sheet.children, 'child', 'children')}"
    )


def sheet_family_row(family: SheetFamily) -> list[str]:
    return [
        family.reference,
        family.school,
        str(family.children),
        ", ".join(family.age_bands),
        "YES" if family.needs else "no",
        "",
    ]


def sheet_no_families() -> str:
    return "No families are placed at this session."


def sheet_needs_note() -> str:
    return (
        "Needs: YES means needs or allergies are recorded for the family. What they are is "
        "never printed: read them in /register before serving."
    )


def sheet_footer_base(programme: str, printed: datetime) -> str:
    return (
        f"{programme}, printed {printed:%a %-d %b %Y %H:%M}. Names volunteers and families: "
        "keep it safe and shred it after the session."
    )


def sheet_footer(base: str, page: int) -> str:
    return f"{base} Page {page} of {{nb}}"
