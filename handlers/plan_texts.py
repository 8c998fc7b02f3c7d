"""The words of /newsessions: where (one location, some, or all of them), which dates, days,
times and jobs, the review of what each location makes of the plan, and what was made. HTML;
every name escaped. However many locations a plan spans, what it says stays inside one
Telegram message: the locations with something to say are named by kind, a few each, the rest
counted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from handlers.rota_texts import WEEKDAYS, plural
from handlers.texts import CONTINUE, esc
from storage.rota import MAX_PLACES_PER_JOB, JobSpec
from storage.rota_plan import AtLocation, Outlook, Plan

NAMES_SHOWN = 8  # locations named on the picker and the dates' question; more are counted
# Locations named for each kind of exception: four kinds of 5 names of 100 characters, and
# the plan above them, stay far inside Telegram's 4,096 characters.
EXCEPTIONS_NAMED = 5


def count(number: int, noun: str, many: str | None = None) -> str:
    """'1 session', '1,116 sessions'."""
    return f"{number:,} {noun if number == 1 else many or noun + 's'}"


def names(items: Sequence[str], shown: int = NAMES_SHOWN) -> str:
    """'St Mark's, Riverside and 3 more' (escaped)."""
    listed = ", ".join(esc(name) for name in items[:shown])
    more = len(items) - shown
    return f"{listed} and {more:,} more" if more > 0 else listed


def no_locations() -> str:
    return "There are no locations to plan for yet. Add one with /locations."


def where(chosen: Sequence[str]) -> str:
    return (
        "Let's plan lunch sessions. <b>Where?</b> Tap the locations to plan at (✓ marks "
        "them), or take them all: the same days, times and jobs go to each, and you see what "
        "each location makes of it before anything is created. To find one, type part of its "
        f"name. (A spreadsheet of sessions? Send it to me as a CSV file.)\n\nChosen: "
        f"{names(chosen) if chosen else 'none yet'}"
    )


def all_button(total: int, *, whole_programme: bool) -> str:
    every = "All" if whole_programme else "All your"
    return f"✅ {every} {total:,} locations"


def dates(place: str) -> str:
    """`place`: where the plan goes, as `at` says it."""
    return (
        f"Sessions at {place}. <b>Which dates?</b> Send the first and last day, like "
        "<i>27/07/2026 - 28/08/2026</i>, or one date for a single session; or /cancel."
    )


def at(chosen: Sequence[str], *, everywhere: bool = False) -> str:
    """Where the plan goes: one location's name, or how many and which."""
    if len(chosen) == 1:
        return f"<b>{esc(chosen[0])}</b>"
    if everywhere:
        return f"<b>all {len(chosen):,} locations</b>"
    return f"<b>{len(chosen):,} locations</b> ({names(chosen)})"


def dates_invalid(max_days: int) -> str:
    return (
        "Please send two dates like 27/07/2026 - 28/08/2026 (or one date), from today to "
        f"a year ahead, and at most {max_days} days apart; or /cancel. (A lunch that already "
        "happened without being planned is recorded from /today: ➕ Record an unplanned "
        "lunch.)"
    )


def weekdays(first: date, last: date) -> str:
    return (
        f"From {first:%a %-d %b} to {last:%a %-d %b %Y}. <b>On which days?</b> Tap to "
        f"choose, then {CONTINUE}."
    )


def no_weekdays() -> str:
    return "Please choose at least one day."


def times() -> str:
    return "<b>What time?</b> Send the start and end, like <i>11:30-13:30</i>; or /cancel."


def times_invalid() -> str:
    return "Please send the times like 11:30-13:30, ending after they start; or /cancel."


def jobs(defaults: tuple[JobSpec, ...]) -> str:
    return (
        f"<b>Which jobs, and how many people?</b> Usually: {jobs_summary(defaults)}. Tap "
        "<b>Use these</b>, or send your own like <i>cook 3, server 3, driver 1</i>."
    )


def jobs_invalid() -> str:
    return (
        f"Please send jobs like <i>cook 3, server 3, driver 1</i>: each a name and 1 to "
        f"{MAX_PLACES_PER_JOB} places; or /cancel."
    )


def jobs_summary(jobs: tuple[JobSpec, ...]) -> str:
    return ", ".join(
        f"{esc(j.job)} x{j.places}" + (" (needs a check)" if j.needs_check else "") for j in jobs
    )


def _when(plan: Plan) -> str:
    if plan.first_day == plan.last_day:
        return f"{plan.first_day:%a %-d %b %Y}"
    days = ", ".join(WEEKDAYS[d] for d in sorted(plan.weekdays))
    return f"every {days}, from {plan.first_day:%a %-d %b} to {plan.last_day:%a %-d %b %Y}"


def _where_made(outlook: Outlook, single: str | None) -> str:
    """Where the sessions go: the one location's name, or how many of the plan's locations."""
    if single is not None:
        return f"<b>{esc(single)}</b>"
    making, chosen = len(outlook.making), len(outlook.locations)
    if making == chosen:
        return f"<b>{count(chosen, 'location')}</b>"
    return f"<b>{making:,} of the {count(chosen, 'location')}</b>"


def review(plan: Plan, outlook: Outlook) -> str:
    """What the plan would make, and what it leaves out where (the Create button follows)."""
    single = outlook.locations[0].name if len(outlook.locations) == 1 else None
    each = (
        f" ({count(outlook.per_location, 'session')} at each)"
        if single is None and len(outlook.making) > 1
        else ""
    )
    lines = [
        f"<b>Ready to create {count(outlook.new, 'session')}</b> at "
        f"{_where_made(outlook, single)}{each}:",
        f"• {_when(plan)}",
        f"• {plan.start:%H:%M}-{plan.end:%H:%M}",
        f"• {jobs_summary(plan.jobs)}",
    ]
    left_out = exceptions(outlook, single=single is not None)
    if left_out:
        lines += ["", "<b>Left out:</b>", *left_out]
    lines += [
        "",
        "Nothing is created until you tap ✅ Create them. To change the jobs, send them again.",
    ]
    return "\n".join(lines)


def nothing_new(outlook: Outlook) -> str:
    """The plan would make nothing: every one of its sessions is there already, or left out."""
    single = outlook.locations[0].name if len(outlook.locations) == 1 else None
    if single is not None and outlook.existing == outlook.per_location:
        return (
            f"Nothing new: the plan's {plural(outlook.existing, 'session')} at "
            f"{esc(single)} already exist, so there is nothing to create. See them with "
            "/sessions, or send /newsessions to plan others."
        )
    lines = ["Nothing new: this plan would create no session.", "", "<b>Left out:</b>"]
    lines += exceptions(outlook, single=single is not None)
    lines += ["", "Send /newsessions to plan other days or times."]
    return "\n".join(lines)


def exceptions(outlook: Outlook, *, single: bool = False) -> list[str]:
    """One line for each kind of exception, with the locations it concerns (a few named, the
    rest counted); at one location, its name goes without saying."""
    kinds: list[tuple[int, str, list[AtLocation], str]] = [
        (
            outlook.existing,
            "already there at that time, left as they are",
            [p for p in outlook.locations if p.existing],
            "existing",
        ),
        (
            outlook.cancelled,
            "cancelled at that time, which stay cancelled",
            [p for p in outlook.locations if p.cancelled],
            "cancelled",
        ),
        (
            outlook.clashing,
            "at the same time as another lunch there",
            [p for p in outlook.locations if p.clashing],
            "clashing",
        ),
    ]
    lines = []
    for total, what, places, field in kinds:
        if not total:
            continue
        line = f"• {count(total, 'session')} {what}"
        if not single:
            listed = [f"{place.name} ({getattr(place, field)})" for place in places]
            line += f": {names(listed, EXCEPTIONS_NAMED)}"
        lines.append(line)
    archived = outlook.archived
    if archived:
        lines.append(
            f"• {count(len(archived), 'location')} archived since "
            f"{'it was' if len(archived) == 1 else 'they were'} chosen, where nothing is made: "
            f"{names([place.name for place in archived], EXCEPTIONS_NAMED)}"
        )
    return lines


def empty() -> str:
    return (
        "Those dates have none of the chosen days, so there is nothing to create. Start "
        "again with /newsessions."
    )


def too_many(sessions: int, limit: int) -> str:
    return (
        f"That would be {sessions:,} sessions; please plan at most {limit:,} at a time (fewer "
        "locations, or a shorter period). Start again with /newsessions."
    )


def expired() -> str:
    return (
        "That button belongs to another step of this plan, so nothing was changed. Carry on "
        "from the newest message, or send /newsessions to start again."
    )


def no_longer_open() -> str:
    return (
        "None of the chosen locations is open any more (archived since), so nothing was "
        "created. Send /newsessions to plan again."
    )


def created(outlook: Outlook) -> str:
    """What the plan made, and what it left out, as the transaction counted it."""
    single = outlook.locations[0].name if len(outlook.locations) == 1 else None
    if outlook.new == 0:
        if single is not None and outlook.existing == outlook.per_location:
            return (
                f"Nothing new: the plan's {plural(outlook.existing, 'session')} at "
                f"{esc(single)} already existed, so none were added. See them with /sessions."
            )
        return "\n".join(
            [
                "Nothing new: no session was created.",
                "",
                "<b>Left out:</b>",
                *exceptions(outlook, single=single is not None),
            ]
        )
    where_made = esc(single) if single is not None else count(len(outlook.making), "location")
    existing = f" ({outlook.existing} already existed)" if single and outlook.existing else ""
    lines = [
        f"✅ Created {count(outlook.new, 'session')} at {where_made}{existing}. Volunteers can "
        "book them now with /sessions."
    ]
    left_out = exceptions(outlook, single=single is not None)
    if left_out and not (single and outlook.existing and len(left_out) == 1):
        lines += ["", "<b>Left out:</b>", *left_out]
    return "\n".join(lines)
