"""The words of the site day, coverage and session management. HTML; typed values escaped."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.rota_texts import day_and_time, job_state, where_when
from handlers.texts import esc
from storage.models import BookingStatus
from storage.rota import MAX_COUNT, CoverAudience, Helper, JobView, SessionView, SiteSession
from storage.siteday import SiteDay

MARKS = {BookingStatus.ATTENDED: "✅", BookingStatus.NO_SHOW: "❌"}
NOT_MARKED = "▫️"
COUNT_WORDS = {"meals": "meals served", "children": "children who came"}


def short_day(day: date) -> str:
    return f"{day:%a %-d %b}"


# --- the day ---------------------------------------------------------------------------------


def no_locations() -> str:
    return (
        "You don't run any open locations yet. Ask the programme's coordinator to add you to yours."
    )


def choose_location(day: date) -> str:
    return f"Which location's day do you want to see ({short_day(day)})?"


def session_people(site: SiteSession) -> list[Helper]:
    """A session's people in the order the day lists them: job by job, as the session's jobs
    are ordered (anyone whose job is not among them last)."""
    order = {job.job: n for n, job in enumerate(site.session.jobs)}
    return sorted(site.helpers, key=lambda h: order.get(h.job, len(order)))


def day_people(site: SiteDay) -> list[Helper]:
    """Everyone on the day, session by session: what the day's pages share out."""
    return [h for s in site.sessions for h in session_people(s)]


def site_day(
    site: SiteDay,
    today: date,
    now: datetime,
    tz: ZoneInfo,
    *,
    offset: int = 0,
    size: int | None = None,
) -> str:
    """The day at a location; with `size`, only people offset+1 to offset+size are listed."""
    head = f"📋 <b>{esc(site.location.name)}</b>, "
    if site.day == today:
        head += f"today, {short_day(today)}"
    else:
        head += f"{short_day(site.day)} (today is {short_day(today)})"
    if not site.sessions:
        return f"{head}\n\nNo lunch session here on {short_day(site.day)}."
    people = day_people(site)
    page = people if size is None else people[offset : offset + size]
    here = {h.booking_id for h in page}
    parts = [head]
    if len(page) < len(people):
        parts.append(_page_line(offset, len(page), len(people)))
    parts += [_session_block(s, now, tz, here) for s in site.sessions]
    if any(
        _started(s.session, now) and any(h.booking_id in here for h in s.helpers)
        for s in site.sessions
    ):
        parts.append(
            "Tap ✅ came or ❌ no-show by each name. Tapped the wrong one? Just tap again."
        )
    return "\n\n".join(parts)


def _page_line(offset: int, shown: int, total: int) -> str:
    more = []
    if offset > 0:
        more.append("◀ Previous")
    if offset + shown < total:
        more.append("Next ▶")
    return f"👥 People {offset + 1}-{offset + shown} of {total}: {' and '.join(more)} for the rest."


def _session_block(site: SiteSession, now: datetime, tz: ZoneInfo, here: set[int]) -> str:
    view = site.session
    starts, ends = view.starts_at.astimezone(tz), view.ends_at.astimezone(tz)
    lines = [f"<b>{starts:%H:%M}-{ends:%H:%M}</b>"]
    if view.cancelled:
        lines.append("This session is cancelled.")
    for job in view.jobs:
        helpers = [h for h in site.helpers if h.job == job.job]
        lines.append(f"<i>{esc(job.job)}</i> ({len(helpers)} of {job.places})")
        if not helpers:
            lines.append("  nobody booked")
            continue
        listed = [_helper_line(h) for h in helpers if h.booking_id in here]
        lines += listed or ["  on other pages"]
    if not view.cancelled:
        lines.append(_counts_line(view) if _started(view, now) else "Not started yet.")
    return "\n".join(lines)


def _helper_line(helper: Helper) -> str:
    mark = MARKS.get(helper.status, NOT_MARKED)
    state = {BookingStatus.ATTENDED: "came", BookingStatus.NO_SHOW: "no-show"}.get(
        helper.status, "not marked yet"
    )
    return f"  {mark} {esc(helper.name)}: {state}"


def _counts_line(view: SessionView) -> str:
    if view.meals_served is None or view.children_attended is None:
        return "🍽 Meals and children: not recorded yet."
    return f"🍽 Meals served: {view.meals_served}. Children: {view.children_attended}."


def _started(view: SessionView, now: datetime) -> bool:
    return view.starts_at <= now


def came_button(helper: Helper) -> str:
    return f"✅ {helper.name}"


def no_show_button(helper: Helper) -> str:
    return f"❌ {helper.name}"


def counts_button(view: SessionView, tz: ZoneInfo, several: bool) -> str:
    return "🍽 Record meals and children" + _at(view, tz, several)


def manage_button(view: SessionView, tz: ZoneInfo, several: bool) -> str:
    return "⚙️ Change or cancel session" + _at(view, tz, several)


def _at(view: SessionView, tz: ZoneInfo, several: bool) -> str:
    return f" ({view.starts_at.astimezone(tz):%H:%M})" if several else ""


def earlier_button(day: date) -> str:
    return f"◀ {short_day(day)}"


def later_button(day: date) -> str:
    return f"{short_day(day)} ▶"


def today_button() -> str:
    return "Today"


def other_location_button() -> str:
    return "📍 Another location"


# --- meals and children ----------------------------------------------------------------------


def ask_meals(view: SessionView, tz: ZoneInfo) -> str:
    return (
        f"🍽 How many <b>meals were served</b> at {where_when(view, tz)}? Send a number, "
        "for example 38, or /cancel."
    )


def ask_children(meals: int) -> str:
    return (
        f"{meals} meals: got it. And how many <b>children came</b>? Send a number, for "
        "example 31, or /cancel."
    )


def count_invalid(field: str) -> str:
    return (
        f"Sorry, I need the number of {COUNT_WORDS.get(field, 'people')} as a whole number "
        f"from 0 to {MAX_COUNT:,}, written with digits only (for example 38). Please try "
        "again, or /cancel."
    )


def counts_saved(view: SessionView) -> str:
    return (
        f"✅ Saved: {view.meals_served} meals served and {view.children_attended} children. "
        "Thank you: every number helps make the case to our funders."
    )


# --- coverage --------------------------------------------------------------------------------


def coverage(
    views: list[SessionView], offset: int, total: int, days: int, tz: ZoneInfo, *, planned: int
) -> str:
    if planned == 0:
        return (
            f"There are no sessions planned in the next {days} days, so there is nothing to "
            "fill. Plan some with /newsessions."
        )
    if total == 0:
        if planned == 1:
            return f"🎉 The one session in the next {days} days has every place filled."
        return f"🎉 All {planned} sessions in the next {days} days have every place filled."
    first, last = offset + 1, offset + len(views)
    lines = [f"<b>Places to fill in the next {days} days</b> ({first}-{last} of {total})"]
    for view in views:
        gaps = ", ".join(job_state(job) for job in view.jobs if job.free > 0)
        lines.append(f"• {where_when(view, tz)}: {gaps}")
    lines.append("\nTap a session to ask its volunteers for cover, change its times or cancel it.")
    return "\n".join(lines)


def earlier_page_button() -> str:
    return "◀ Earlier"


def later_page_button() -> str:
    return "Later ▶"


# --- one session: cover, times, cancel --------------------------------------------------------


def session_card(view: SessionView, now: datetime, tz: ZoneInfo) -> str:
    lines = [f"⚙️ {where_when(view, tz)}", ""]
    lines += [f"• {job_state(job)} of {job.places}" for job in view.jobs]
    if view.cancelled:
        lines.append("\nThis session is cancelled.")
    elif view.starts_at <= now:
        lines.append("\nThis session has started, so its times can't change any more.")
    else:
        lines.append(
            "\nAsk for cover and the volunteers who call this location home get a message "
            "with a Book button."
        )
    return "\n".join(lines)


def cover_button(job: JobView) -> str:
    return f"Cover needed: {job.job}"


def change_times_button() -> str:
    return "Change times"


def cancel_session_button() -> str:
    return "Cancel session"


def back_to_day_button(view: SessionView, tz: ZoneInfo) -> str:
    return f"« {view.starts_at.astimezone(tz):%a %-d %b}"


def back_to_coverage_button() -> str:
    return "« Coverage"


def cover_asked(
    view: SessionView, job: JobView, asked: int, audience: CoverAudience = CoverAudience.HOME
) -> str:
    where = esc(view.location_name)
    who = {
        CoverAudience.HOME: f"with {where} as a home location",
        CoverAudience.RECENT: (
            f"who call {where} home or have booked there in the last four weeks or ahead"
        ),
        CoverAudience.ALL: ("who are cleared for it" if job.needs_check else "in the programme"),
    }[audience]
    if asked == 0:
        return (
            f"Nobody to ask for the {esc(job.job)} place: no volunteer {who} is free to take "
            "it now."
        )
    people = "1 volunteer" if asked == 1 else f"{asked} volunteers"
    return (
        f"🙋 I've asked {people} {who} to take the {esc(job.job)} place. Each gets a message "
        "with a Book button; asking again won't message anyone twice."
    )


def cover_nobody_near(view: SessionView, job: JobView, recent: int, everyone: int) -> str:
    where = esc(view.location_name)
    lines = [
        f"Nobody has {where} as a home location (or they are all on this session already), "
        f"so nobody was asked for the {esc(job.job)} place yet."
    ]
    if everyone == 0:
        cleared = " cleared for this job (it needs a safeguarding check)" if job.needs_check else ""
        lines.append(
            f"\nThere is no other volunteer{cleared} to ask either. Volunteers choose home "
            "locations when they join, or in /profile."
        )
        return "\n".join(lines)
    lines.append("\nAsk instead:")
    if recent > 0:
        lines.append(
            f"• volunteers who have booked at {where} in the last four weeks or ahead: {recent}"
        )
    if everyone > recent:
        cleared = " (cleared for it)" if job.needs_check else ""
        lines.append(f"• every volunteer who can take the place{cleared}: {everyone}")
    return "\n".join(lines)


def cover_recent_button(count: int) -> str:
    return f"Ask recent volunteers here ({count})"


def cover_everyone_button(count: int) -> str:
    return f"Ask everyone who can ({count})"


def back_to_session_button() -> str:
    return "« Back to the session"


def cover_not_needed(job: JobView) -> str:
    return f"The {esc(job.job)} places are all taken now: nobody needs asking."


def already_cancelled() -> str:
    return "This session was already cancelled: nothing more to do."


def session_closed() -> str:
    return "This session has started or is cancelled, so it can't be changed any more."


def ask_times(view: SessionView, tz: ZoneInfo) -> str:
    return (
        f"🕑 {where_when(view, tz)}. Send the new start and end times as "
        "<b>HH:MM-HH:MM</b>, for example 12:00-14:00, or /cancel. Everyone booked is told."
    )


def times_invalid() -> str:
    return (
        "Sorry, I couldn't read those times. Please send a start and an end on the same day "
        "in 24-hour time, for example 12:00-14:00 (the end after the start), or /cancel."
    )


def times_saved(view: SessionView, tz: ZoneInfo, told: int) -> str:
    return f"✅ The session is now {day_and_time(view, tz)}. {_told(told)}"


def confirm_cancel(view: SessionView, tz: ZoneInfo) -> str:
    signed_up = sum(job.taken + job.waiting for job in view.jobs)
    who = (
        "Nobody has signed up yet."
        if signed_up == 0
        else f"The {_people(signed_up)} signed up (booked or waiting) will be told."
    )
    return f"Cancel the lunch session at {where_when(view, tz)}? {who}"


def yes_cancel_button() -> str:
    return "Yes, cancel the session"


def keep_button() -> str:
    return "No, keep it"


def cancelled(told: int) -> str:
    return f"Cancelled. {_told(told)}"


def _told(told: int) -> str:
    if told == 0:
        return "Nobody was booked, so nobody needs telling."
    return f"I'm telling the {_people(told)} who signed up for it."


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


# --- refusals --------------------------------------------------------------------------------


def times_clash(names: list[str]) -> str:
    if not names:
        return (
            "Another session at this location already starts then. Please choose other "
            "times, or /cancel."
        )
    who = ", ".join(esc(name) for name in names)
    return (
        f"That would give {who} two sessions at once: they are booked elsewhere then. "
        "Please choose other times, or ask them first; or /cancel."
    )
