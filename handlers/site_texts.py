"""The words of the site day, coverage and session management. HTML; typed values escaped."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from handlers.rota_texts import day_and_time, job_state, where_when
from handlers.texts import esc
from storage.models import BookingStatus
from storage.rota import (
    MAX_COUNT,
    CoverAudience,
    Helper,
    JobView,
    SessionView,
    SiteSession,
    Told,
    attendance_open,
)
from storage.siteday import (
    MEALS_PER_CHILD_MAX,
    UNPLANNED_DAYS_BACK,
    CountDoubt,
    NotRunReason,
    NotRunRefused,
    SiteDay,
    UnplannedRefused,
)

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
        markable(s.session, now)
        and s.session.not_run_reason is None
        and any(h.booking_id in here for h in s.helpers)
        for s in site.sessions
    ):
        parts.append(
            "Tap ✅ came or ❌ no-show by each name. Tapped the wrong one? Tap the other, or "
            "↩️ Unmark to go back to not marked."
        )
    return "\n\n".join(parts)


def markable(view: SessionView, now: datetime) -> bool:
    """Attendance can be marked from a few hours before the start: cooks come early."""
    return not view.cancelled and attendance_open(view.starts_at, now)


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
    if view.not_run_reason is not None:
        lines.append(f"🚫 Did not run: {esc(view.not_run_reason)}")
    elif not view.cancelled:
        lines.append(_counts_line(view) if _started(view, now) else "Not started yet.")
    return "\n".join(lines)


def _helper_line(helper: Helper) -> str:
    mark = MARKS.get(helper.status, NOT_MARKED)
    state = {BookingStatus.ATTENDED: "came", BookingStatus.NO_SHOW: "no-show"}.get(
        helper.status, "not marked yet"
    )
    name = f"☎ {esc(helper.name)}" if helper.offline else esc(helper.name)  # (no Telegram)
    return f"  {mark} {name}: {state}"


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


def unmark_button(helper: Helper) -> str:
    return f"↩️ Unmark {helper.name}"


def not_run_button(view: SessionView, tz: ZoneInfo, several: bool) -> str:
    return "🚫 Did not run" + _at(view, tz, several)


def did_run_button(view: SessionView, tz: ZoneInfo, several: bool) -> str:
    return "🍽 It did run: record meals and children" + _at(view, tz, several)


def unplanned_button() -> str:
    return "➕ Record an unplanned lunch"


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


def ask_meals_again() -> str:
    return "🍽 Then how many <b>meals were served</b>? Send a number, for example 38, or /cancel."


def are_you_sure(meals: int, children: int, doubts: list[str], capacity: int) -> str:
    """The counts repeated, and why they look wrong (`doubts`: CountDoubt values, kept in the
    draft with the counts, so that the question reads the same after a restart)."""
    lines = [f"🤔 <b>Are you sure?</b> {meals:,} meals served and {children:,} children came."]
    for doubt in doubts:
        match doubt:
            case CountDoubt.MEALS_PER_CHILD:
                lines.append(
                    f"• That is more than {MEALS_PER_CHILD_MAX} meals a child, with some to "
                    "spare for the volunteers."
                )
            case CountDoubt.MEALS_OVER_CAPACITY:
                lines.append(
                    f"• This location feeds about {capacity:,} children a day: {meals:,} meals "
                    "is far more."
                )
            case CountDoubt.CHILDREN_OVER_CAPACITY:
                lines.append(
                    f"• This location feeds about {capacity:,} children a day: {children:,} "
                    "children is far more."
                )
    lines.append("These figures go to funders, so a typo matters. Save them, or change them?")
    return "\n".join(lines)


def save_anyway_button(meals: int, children: int) -> str:
    return f"✅ Save anyway ({meals:,} and {children:,})"


def change_counts_button() -> str:
    return "✏️ Change"


def nothing_to_save() -> str:
    return "Those counts were already saved or cancelled: nothing more to do here. See /today."


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
    elif view.not_run_reason is not None:
        lines.append(f"\n🚫 This session did not run: {esc(view.not_run_reason)}")
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


def ask_times(view: SessionView, tz: ZoneInfo, told: Told) -> str:
    return (
        f"🕑 {where_when(view, tz)}. Send the new start and end times as "
        "<b>HH:MM-HH:MM</b>, for example 12:00-14:00, or /cancel. "
        f"{who_is_told(told, booked_only=True)}"
    )


def times_invalid() -> str:
    return (
        "Sorry, I couldn't read those times. Please send a start and an end on the same day "
        "in 24-hour time, for example 12:00-14:00 (the end after the start), or /cancel."
    )


def times_saved(view: SessionView, tz: ZoneInfo, told: Told) -> str:
    return f"✅ The session is now {day_and_time(view, tz)}. {told_line(told)}"


def confirm_cancel(view: SessionView, tz: ZoneInfo, told: Told) -> str:
    text = f"Cancel the lunch session at {where_when(view, tz)}? {who_is_told(told)}"
    if told.families:
        text += (
            " The families leave that day's register; a family with no lunch left goes back "
            "on the referrals waiting list."
        )
    return text


def who_is_told(told: Told, *, booked_only: bool = False) -> str:
    """'3 volunteers and 2 placed families (5 children) will be told.'"""
    parts = []
    if told.volunteers:
        parts.append(_volunteers(told.volunteers))
    if told.families:
        parts.append(_families(told))
    if not parts:
        who = "booked" if booked_only else "signed up"
        return f"Nobody has {who} and no family is placed, so nobody needs telling."
    through = " (each family through its school, never with its needs)" if told.families else ""
    return f"{' and '.join(parts)} will be told{through}."


def yes_cancel_button() -> str:
    return "Yes, cancel the session"


def keep_button() -> str:
    return "No, keep it"


def cancelled(told: Told) -> str:
    return f"Cancelled. {told_line(told)}"


def told_line(told: Told) -> str:
    parts = []
    if told.volunteers:
        parts.append(f"the {_volunteers(told.volunteers)} who signed up for it")
    if told.families:
        parts.append(f"the schools of the {_families(told)}")
    if not parts:
        return "Nobody was booked and no family placed, so nobody needs telling."
    return f"I'm telling {' and '.join(parts)}."


def _volunteers(count: int) -> str:
    return "1 volunteer" if count == 1 else f"{count} volunteers"


def _families(told: Told) -> str:
    kids = "1 child" if told.children == 1 else f"{told.children} children"
    placed = "1 placed family" if told.families == 1 else f"{told.families} placed families"
    return f"{placed} ({kids})"


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


# --- a session that did not run --------------------------------------------------------------

NOT_RUN_REASONS = {
    NotRunReason.VENUE: "The venue was closed",
    NotRunReason.VOLUNTEERS: "Not enough volunteers",
    NotRunReason.CHILDREN: "No children came",
    NotRunReason.WEATHER: "Severe weather",
}


def ask_not_run(view: SessionView, tz: ZoneInfo) -> str:
    return (
        f"🚫 {where_when(view, tz)} did not run? Then it counts in no figure and nobody is "
        "asked for its meal counts any more. Why did it not run?"
    )


def other_reason_button() -> str:
    return "✏️ Another reason (type it)"


def ask_not_run_reason(view: SessionView, tz: ZoneInfo) -> str:
    return (
        f"✏️ Why did {where_when(view, tz)} not run? Send a short reason, or /cancel. "
        "Please don't name children or families."
    )


def not_run_reason_empty() -> str:
    return "Please send a short reason in words, or /cancel."


def not_run_saved(view: SessionView) -> str:
    reason = esc(view.not_run_reason or "")
    return (
        f"🚫 Recorded: this session did not run ({reason}). It counts in no figure. If it did "
        "run after all, record its meals and children."
    )


def not_run_refused(why: NotRunRefused) -> str:
    match why:
        case NotRunRefused.NOT_BEGUN:
            return "This session hasn't started yet: cancel it instead, from its card."
        case NotRunRefused.CANCELLED:
            return "This session was cancelled: it counts in no figure already."
        case NotRunRefused.COUNTED:
            return (
                "This session has meals or children recorded, so it ran. If those counts are "
                "wrong, record 0 meals and 0 children first."
            )


# --- a lunch that was never planned ----------------------------------------------------------


def ask_unplanned_times(location: str, day: date) -> str:
    return (
        f"➕ A lunch at <b>{esc(location)}</b> on {short_day(day)} that was not on the rota. "
        "When did it run? Send the start and end as <b>HH:MM-HH:MM</b>, for example "
        "12:00-13:30, or /cancel."
    )


def ask_unplanned_meals(start: time, end: time) -> str:
    return (
        f"{start:%H:%M}-{end:%H:%M}: got it. 🍽 How many <b>meals were served</b>? Send a "
        "number, for example 38, or /cancel."
    )


def unplanned_saved(view: SessionView) -> str:
    return (
        f"✅ Recorded the unplanned lunch: {view.meals_served} meals served and "
        f"{view.children_attended} children. It counts as a session run."
    )


def unplanned_refused(why: UnplannedRefused) -> str:
    match why:
        case UnplannedRefused.TOO_OLD:
            return (
                f"Sorry, an unplanned lunch can be recorded for today or the last "
                f"{UNPLANNED_DAYS_BACK} days only. Ask the programme's coordinator to add an "
                "older one."
            )
        case UnplannedRefused.NOT_YET:
            return (
                "That lunch hasn't started yet: plan it with /newsessions instead, so that "
                "volunteers can book it. Or send the times it really ran, or /cancel."
            )
        case UnplannedRefused.ARCHIVED:
            return "This location is archived: lunches can't be recorded there."
        case UnplannedRefused.BACKWARDS:
            return times_invalid()


def unplanned_clash() -> str:
    return (
        "There is already a session at this location at that time: record its counts from "
        "the day with 🍽 Record meals and children, not as an unplanned lunch. Nothing new "
        "was saved."
    )
