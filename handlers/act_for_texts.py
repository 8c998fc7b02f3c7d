"""The words of a session's rota as a coordinator changes it for people (handlers/act_for.py),
and of what the volunteers are told. HTML; names escaped. People without Telegram are marked
☎: the bot never messages them, so the coordinator tells them."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from handlers.act_for_buttons import WRITE_BUTTON
from handlers.choose_texts import label
from handlers.rota_texts import day_and_time, job_state, where_when
from handlers.texts import esc
from storage.models import BookingStatus
from storage.rota import BookingView, JobView, SessionView
from storage.rota_for import Candidate, Member, Result, SessionChoice

OFFLINE = "☎"
NO_TELEGRAM = f"{OFFLINE} no Telegram"
PUT_ON = "➕ Put someone on"
BY_NAME = "➕ Someone without Telegram"
WRITE = WRITE_BUTTON
OTHER_JOB = "↔️ Another job"
OTHER_SESSION = "📅 Another session"
OTHER_LOCATION = "📍 Another location…"
TAKE_OFF = "➖ Take off the rota"
YES_TAKE_OFF = "➖ Yes, take them off"
WAITLIST = "⏳ Put on the waitlist"
FORGET = "🗑 Erase their name"
YES_FORGET = "🗑 Yes, erase their name"


def _name(name: str, offline: bool) -> str:
    return f"{OFFLINE} {esc(name)}" if offline else esc(name)


def _state(member: Member) -> str:
    if member.status is BookingStatus.WAITLISTED:
        return "waiting for a place"
    if member.status is BookingStatus.OFFERED:
        return "offered a freed place, not answered yet"
    if member.offline:
        return "booked (no Telegram)"
    return "booked, said they're coming" if member.confirmed else "booked"


# --- the rota --------------------------------------------------------------------------------


def team(view: SessionView, page: Sequence[Member], offset: int, total: int, tz: ZoneInfo) -> str:
    lines = [
        f"👥 <b>The rota</b> · {where_when(view, tz)}",
        " · ".join(job_state(job) for job in view.jobs) or "No jobs.",
        "",
    ]
    if not total:
        lines.append("Nobody is on the rota yet.")
    lines += [f"• {_name(m.name, m.offline)}: {esc(m.job)}, {_state(m)}" for m in page]
    if total > len(page):
        lines.append(f"\nPeople {offset + 1}-{offset + len(page)} of {total}.")
    if any(m.offline for m in page):
        lines.append(
            f"\n{OFFLINE}: no Telegram, so the bot never messages them: tell them yourself."
        )
    return "\n".join(lines)


def member_button(member: Member) -> str:
    mark = f"{OFFLINE} " if member.offline else ""
    wait = " (waiting)" if member.status is BookingStatus.WAITLISTED else ""
    return label(f"{mark}{member.name} · {member.job}{wait}")


def member(member: Member, view: SessionView, tz: ZoneInfo) -> str:
    how = (
        "They have no Telegram: the bot never messages them, so tell them of any change yourself."
        if member.offline
        else "They are told by message of any change you make."
    )
    return (
        f"{_name(member.name, member.offline)}: {esc(member.job)} at {where_when(view, tz)}, "
        f"{_state(member)}.\n\n{how}"
    )


def ask_take_off(member: Member, view: SessionView, tz: ZoneInfo) -> str:
    told = (
        "The bot won't tell them (no Telegram): please do."
        if member.offline
        else "They'll be told."
    )
    passes = (
        " Their place goes to the first on the waitlist, if anyone waits."
        if member.status is not BookingStatus.WAITLISTED
        else ""
    )
    return (
        f"Take {_name(member.name, member.offline)} off {esc(member.job)} at "
        f"{where_when(view, tz)}? {told}{passes}"
    )


def ask_forget(member: Member) -> str:
    return (
        f"Erase {_name(member.name, member.offline)}, as on their request? Their name goes from "
        "the bot, they leave every session to come (their places pass down the waitlists), and "
        "the shifts they did stay, nameless, in the totals. This can't be undone."
    )


def keep_button() -> str:
    return "« No, keep them"


def back_to_team() -> str:
    return "« The rota"


def back_to_session() -> str:
    return "« The session"


def back() -> str:
    return "« Back"


def taken_off(member: Member) -> str:
    told = "(no Telegram: please tell them)" if member.offline else "They're told."
    return f"➖ Took {_name(member.name, member.offline)} off {esc(member.job)}. {told}"


def already_off() -> str:
    return "They are no longer on this session's rota (taken off or moved a moment ago)."


# --- putting someone on ------------------------------------------------------------------------


def ask_job(view: SessionView, tz: ZoneInfo) -> str:
    return f"{PUT_ON} at {where_when(view, tz)}: as which job?"


def job_name(job: JobView | None) -> str:
    return job.job if job is not None else "?"


def job_button(job: JobView) -> str:
    if job.free > 0:
        return f"{job.job} · {job.free} free"
    waiting = f", {job.waiting} waiting" if job.waiting else ""
    return f"{job.job} · full{waiting}"


def ask_person(view: SessionView, job: JobView, tz: ZoneInfo) -> str:
    return (
        f"Who, as <b>{esc(job.job)}</b> at {where_when(view, tz)}? Tap a volunteer, or send "
        f"part of a name to find them. Someone without Telegram: {BY_NAME}."
    )


def candidate_button(found: Candidate) -> str:
    return f"{OFFLINE} {found.name}" if found.offline else found.name


def ask_name(job: JobView, view: SessionView, tz: ZoneInfo) -> str:
    return (
        f"Send the name of the person without Telegram who will be <b>{esc(job.job)}</b> at "
        f"{where_when(view, tz)}, as the site lead should read it on the rota. Only their name "
        "is kept, and the bot never messages them: record only someone who agreed to be on "
        "the rota, and tell them yourself. (/cancel to stop.)"
    )


def name_invalid(most: int) -> str:
    return f"Please send their name: up to {most} characters, on one line (or /cancel)."


def name_taken(name: str) -> str:
    return (
        f"Someone without Telegram called {esc(name)} is on record already. If it is them, "
        "choose them from the list (send their name to find them); if not, send a name that "
        "tells them apart, like “Ann Smith, Hillside”."
    )


def put_on(result: Result, name: str, offline: bool, job: str) -> str:
    who = _name(name, offline)
    match result:
        case Result.BOOKED:
            told = (
                "The bot won't message them (no Telegram): let them know yourself."
                if offline
                else "They're told by message, and get the reminders."
            )
            return f"✅ {who} is on the rota as {esc(job)}. {told}"
        case Result.WAITLISTED:
            return (
                f"⏳ {who} is on the waitlist for {esc(job)}: they'll be offered the next place "
                "that comes free. They're told."
            )
        case Result.FULL:
            if offline:
                return (
                    f"{esc(job)} is full, and someone without Telegram can't be offered a place "
                    "later: choose another job, or free a place first. Nothing changed."
                )
            return f"{esc(job)} is full. Nothing changed."
        case Result.ALREADY:
            return f"{who} is already on this session's rota: move them instead. Nothing changed."
        case Result.OVERLAP:
            return f"{who} is on another session at the same time. Nothing changed."
        case Result.NEEDS_CHECK:
            return (
                f"{esc(job)} needs a cleared safeguarding check, and {who} has none on record for "
                "that day (record it in /people). Nothing changed."
            )
        case Result.SAME:
            return f"{who} is {esc(job)} there already. Nothing changed."
        case _:
            return (
                "This session has begun or is cancelled, so its rota can't change. Nothing changed."
            )


def ask_waitlist(name: str, job: JobView) -> str:
    return (
        f"{esc(job.job)} is full. Put {esc(name)} on its waitlist? They'd be offered the next "
        "place that comes free, and told now."
    )


# --- moving ----------------------------------------------------------------------------------


def ask_other_job(member: Member) -> str:
    return f"Move {_name(member.name, member.offline)} to which job at this session?"


def no_other_job() -> str:
    return "This session has no other job."


def ask_other_session(member: Member, location: str) -> str:
    return (
        f"Move {_name(member.name, member.offline)} to which session at <b>{esc(location)}</b>? "
        f"(Or {OTHER_LOCATION})"
    )


def no_sessions(location: str) -> str:
    return f"<b>{esc(location)}</b> has no other sessions still to come."


def session_button(choice: SessionChoice, tz: ZoneInfo) -> str:
    starts, ends = choice.starts_at.astimezone(tz), choice.ends_at.astimezone(tz)
    free = f"{choice.free} free" if choice.free > 0 else "full"
    return f"{starts:%a %-d %b}, {starts:%H:%M}-{ends:%H:%M} · {free}"


def ask_other_location(member: Member) -> str:
    return f"Move {_name(member.name, member.offline)} to a session at which location?"


def ask_target_job(member: Member, view: SessionView, tz: ZoneInfo) -> str:
    return f"Move {_name(member.name, member.offline)} to {where_when(view, tz)} as:"


def moved(member: Member, view: SessionView, tz: ZoneInfo) -> str:
    told = "(no Telegram: please tell them)" if member.offline else "They're told."
    return (
        f"↔️ Moved {_name(member.name, member.offline)}: now {esc(member.job)} at "
        f"{where_when(view, tz)}. {told}"
    )


# --- what the volunteer is told ----------------------------------------------------------------


def by(coordinator: str | None) -> str:
    return esc(coordinator) if coordinator else "A coordinator"


def added(booking: BookingView, coordinator: str | None, tz: ZoneInfo) -> str:
    view = booking.session
    if booking.status is BookingStatus.WAITLISTED:
        return (
            f"📋 {by(coordinator)} put you on the waitlist for {esc(booking.job)} at "
            f"{where_when(view, tz)} (number {booking.position or 1}): you'll be offered the "
            "next place that comes free. /mysessions shows it."
        )
    return (
        f"📋 {by(coordinator)} put you on the rota: {esc(booking.job)} at "
        f"{where_when(view, tz)}. Thank you! If you can't make it, cancel in /mysessions so "
        "someone else can help."
    )


def removed(booking: BookingView, coordinator: str | None, tz: ZoneInfo) -> str:
    return (
        f"📋 {by(coordinator)} took you off the rota: {esc(booking.job)} at "
        f"{where_when(booking.session, tz)}. You don't need to do anything; thank you for "
        "offering. /sessions has other lunches."
    )


def moved_notice(
    booking: BookingView, before: BookingView | None, coordinator: str | None, tz: ZoneInfo
) -> str:
    was = ""
    if before is not None:
        same = before.session.session_id == booking.session.session_id
        where = "" if same else f" at {esc(before.session.location_name)}, "
        when = "" if same else day_and_time(before.session, tz)
        was = f" (instead of {esc(before.job)}{where}{when})"
    return (
        f"📋 {by(coordinator)} moved you on the rota: you're now {esc(booking.job)} at "
        f"{where_when(booking.session, tz)}{was}. If you can't make it, cancel in /mysessions."
    )


# The names of people without Telegram said below a message to the team: 50 names of 100
# characters would not fit in a message.
TEAM_OFFLINE_NAMED = 5


def team_offline(names: list[str]) -> str:
    """Whom a message to the team won't reach: those without Telegram, to phone."""
    if not names:
        return ""
    shown = ", ".join(f"☎ {esc(name)}" for name in names[:TEAM_OFFLINE_NAMED])
    more = len(names) - TEAM_OFFLINE_NAMED
    rest = f", and {more} more" if more > 0 else ""
    whom = "has" if len(names) == 1 else "have"
    return f"{shown}{rest} {whom} no Telegram: the message won't reach them, so tell them yourself."
