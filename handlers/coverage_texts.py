"""The words of /coverage: the places to fill over a horizon, by location. HTML; names escaped."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from handlers.glance_texts import n, short_day
from handlers.rota_texts import job_state
from handlers.texts import esc
from storage.choosing import Page
from storage.coverage import Coverage, Horizon, LocationGaps, Span
from storage.rota import SessionView

HORIZON_WORDS = {
    Horizon.WEEK: "7 days",
    Horizon.FORTNIGHT: "14 days",
    Horizon.FOUR_WEEKS: "28 days",
    Horizon.HOLIDAY: "Rest of the holiday",
}


def within(span: Span) -> str:
    """'in the next 7 days', 'in the rest of the holiday (to Fri 28 Aug)'."""
    if span.horizon is Horizon.HOLIDAY:
        return f"in the rest of the holiday (to {short_day(span.last_day)})"
    return f"in the next {HORIZON_WORDS[span.horizon]}"


def horizon_button(horizon: Horizon, chosen: Horizon) -> str:
    return f"• {HORIZON_WORDS[horizon]}" if horizon is chosen else HORIZON_WORDS[horizon]


def nothing_this_holiday() -> str:
    return (
        "There are no sessions planned from today, so there is nothing to fill. Plan some "
        "with /newsessions."
    )


def coverage(found: Coverage, shown: Page[LocationGaps], tz: ZoneInfo) -> str:
    span = within(found.span)
    if found.planned == 0:
        return (
            f"There are no sessions planned {span}, so there is nothing to fill. Plan some "
            "with /newsessions."
        )
    if not found.locations:
        if found.planned == 1:
            return f"🎉 The one session {span} has every place filled."
        return f"🎉 All {found.planned:,} sessions {span} have every place filled."
    empty = f"; {n(found.empty, 'session')} with nobody booked" if found.empty else ""
    lines = [
        f"<b>Places to fill {span}</b>",
        f"{n(found.free, 'place')} at {found.short:,} of {n(found.planned, 'session')}, at "
        f"{n(len(found.locations), 'location')}{empty}. Worst gaps first:",
        "",
    ]
    lines += [_location_line(place, tz) for place in shown.shown]
    lines += ["", "Tap a location to see its sessions and ask for cover."]
    return "\n".join(lines)


def _location_line(place: LocationGaps, tz: ZoneInfo) -> str:
    jobs = ", ".join(f"{esc(gap.job)} x{gap.free}" for gap in place.jobs)
    first = place.first.astimezone(tz)
    nobody = f", {place.empty:,} with nobody" if place.empty else ""
    return (
        f"• <b>{esc(place.name)}</b>: {n(place.free, 'place')} at "
        f"{n(place.sessions, 'session')}{nobody} ({jobs}); the first {first:%a %-d %b %H:%M}"
    )


def gaps_at(name: str, span: Span, shown: Page[SessionView], tz: ZoneInfo) -> str:
    if not shown.shown:
        return f"🎉 <b>{esc(name)}</b> has every place filled {within(span)}."
    lines = [
        f"<b>{esc(name)}</b>: sessions to fill {within(span)} "
        f"({shown.offset + 1}-{shown.last} of {shown.matching})",
        "",
    ]
    for view in shown.shown:
        starts, ends = view.starts_at.astimezone(tz), view.ends_at.astimezone(tz)
        gaps = ", ".join(job_state(job) for job in view.jobs if job.free > 0)
        lines.append(f"• {starts:%a %-d %b}, {starts:%H:%M}-{ends:%H:%M}: {gaps}")
    lines.append("\nTap a session to ask its volunteers for cover, change its times or cancel it.")
    return "\n".join(lines)


def all_locations_button() -> str:
    return "« All locations"
