"""The words of reminders and of coordinators' alerts. HTML; stored values escaped."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers import glance_texts
from handlers.rota_texts import where_when
from handlers.texts import esc
from storage.programme_day import Lunch, ProgrammeDay
from storage.referrals import DayFamilies
from storage.rota import BookingView, JobView, SessionView

GAPS_SHOWN = 10
# The whole list in one message up to this (inside Telegram's 4096); past it, a summary with
# the worst gaps, and the whole list as a file.
MORNING_MAX_CHARS = 3900
CAPTION_MAX = 1024  # the summary is the file's caption
GAP_NAME_CHARS = 40  # a location's name in the summary's list of gaps (the file holds it all)
# Unconfirmed helpers named per session: the rest are counted (their names are on /today), so
# one big session cannot crowd the others out of the message.
WAITING_SHOWN = 10


def when_word(starts_at: datetime, now: datetime, tz: ZoneInfo) -> str:
    days = (starts_at.astimezone(tz).date() - now.astimezone(tz).date()).days
    return {0: "Today", 1: "Tomorrow"}.get(days, f"On {starts_at.astimezone(tz):%a %-d %b}")


def reminder(booking: BookingView, now: datetime, tz: ZoneInfo) -> str:
    session = booking.session
    starts, ends = session.starts_at.astimezone(tz), session.ends_at.astimezone(tz)
    return (
        f"⏰ {when_word(session.starts_at, now, tz)} {starts:%H:%M}-{ends:%H:%M}: you're "
        f"<b>{esc(booking.job)}</b> at <b>{esc(session.location_name)}</b>. Still coming?"
    )


def confirmed(booking: BookingView, tz: ZoneInfo) -> str:
    starts = booking.session.starts_at.astimezone(tz)
    return (
        f"👍 Thank you! See you at {esc(booking.session.location_name)}, "
        f"{starts:%a %-d %b} at {starts:%H:%M}."
    )


def reminder_stale() -> str:
    return "That place is no longer booked for you, so there is nothing to answer."


def offer_expired(booking: BookingView, tz: ZoneInfo) -> str:
    return (
        f"The {esc(booking.job)} place at {where_when(booking.session, tz)} that was held "
        "for you has passed to the next volunteer, as there was no answer in time. You're "
        "off that waitlist; join it again from /sessions if you like."
    )


def late_dropout(booking: BookingView, job: JobView | None, tz: ZoneInfo) -> str:
    place = (
        "The place has gone to the first on the waitlist, who has been offered it."
        if job is not None and job.free <= 0
        else "Nobody was waiting for it, so the place is open."
    )
    return (
        f"⚠️ Late drop-out: {esc(booking.volunteer)} can't make it as "
        f"{esc(booking.job)} at {where_when(booking.session, tz)}. {place}"
    )


def place_filled(booking: BookingView, tz: ZoneInfo) -> str:
    return (
        f"✅ Gap filled: {esc(booking.volunteer)} took the {esc(booking.job)} place at "
        f"{where_when(booking.session, tz)}."
    )


def unfilled(
    gaps: list[tuple[SessionView, JobView]], total: int, horizon: timedelta, tz: ZoneInfo
) -> str:
    hours = int(horizon.total_seconds() // 3600)
    lines = [f"📋 <b>Still to fill in the next {hours} hours</b>"]
    lines += [f"• {where_when(view, tz)}: {esc(job.job)} x{job.free}" for view, job in gaps]
    if total > len(gaps):
        lines.append(f"…and {total - len(gaps)} more: see /coverage")
    lines.append("Tap one to ask that location's volunteers.")
    return "\n".join(lines)


def cover_button(view: SessionView, job: JobView, tz: ZoneInfo) -> str:
    starts = view.starts_at.astimezone(tz)
    return f"Cover: {job.job} · {starts:%a %-d %b %H:%M} · {view.location_name}"[:60]


def morning_list(found: ProgrammeDay, tz: ZoneInfo) -> str:
    """The day's lunches ahead, each whole, location by location, worst gaps first (as /today
    and the long list's summary order them): for a programme whose list fits one message
    (MORNING_MAX_CHARS); a longer one gets `morning_summary` and the file."""
    lines = [f"☀️ <b>Good morning! Today, {found.day:%a %-d %b}</b>"]
    for place in found.locations:  # (programme_day.worst_first)
        lines += [_morning_block(lunch, tz, place.families) for lunch in place.lunches]
    return "\n".join(lines)


def _morning_block(lunch: Lunch, tz: ZoneInfo, placed: DayFamilies) -> str:
    waiting = [v for v in lunch.volunteers if not v.confirmed]
    starts, ends = lunch.starts_at.astimezone(tz), lunch.ends_at.astimezone(tz)
    lines = [
        f"\n<b>{esc(lunch.location_name)}</b>, {starts:%a %-d %b}, {starts:%H:%M}-{ends:%H:%M}: "
        f"{lunch.booked} booked"
    ]
    if not lunch.volunteers:
        lines.append("⚠️ Nobody is booked yet: ask for cover in /coverage.")
    elif waiting:
        names = ", ".join(f"{esc(v.name)} ({esc(v.job)})" for v in waiting[:WAITING_SHOWN])
        if len(waiting) > WAITING_SHOWN:
            names += f" and {len(waiting) - WAITING_SHOWN} more"
        lines.append(f"Not confirmed yet: {names}")
    else:
        lines.append("Everyone booked has confirmed. 👍")
    if lunch.gaps:
        lines.append("Still to fill: " + ", ".join(f"{esc(g.job)} x{g.free}" for g in lunch.gaps))
    if placed.families:
        needs = (
            f"; ⚠️ {placed.with_needs} with allergies or dietary needs" if placed.with_needs else ""
        )
        lines.append(
            f"👨‍👩‍👧 {placed.families} placed "
            f"{'family' if placed.families == 1 else 'families'} "
            f"({placed.children} children{needs}): /register"
        )
    return "\n".join(lines)


def morning_summary(found: ProgrammeDay, tz: ZoneInfo) -> str:
    """Too long for one message: the day's totals and the worst gaps, as the caption of the
    file that lists every lunch (CAPTION_MAX), never a list cut off with the rest nowhere."""
    t = found.tally
    head = [
        f"☀️ <b>Good morning! Today, {found.day:%a %-d %b}: "
        f"{glance_texts.n(t.lunches, 'lunch', 'lunches')} at "
        f"{glance_texts.n(found.at_locations, 'location')}</b>",
        *glance_texts.totals(t, found.families),
    ]
    foot = [
        "",
        f"The file lists all {t.lunches:,}, with who has not confirmed yet. "
        "/today shows the day, /coverage asks for cover.",
    ]
    short = [lunch for place in found.locations for lunch in place.lunches if lunch.free]
    if not short:
        return "\n".join(head + foot)
    lines = [*head, "", "<b>Worst gaps first</b>"]
    for lunch in sorted(short, key=lambda lunch: (-lunch.free, -(lunch.booked == 0))):
        line = _gap_line(lunch, tz)
        if len("\n".join([*lines, line, *foot])) > CAPTION_MAX:
            break
        lines.append(line)
    return "\n".join(lines + foot)


def _gap_line(lunch: Lunch, tz: ZoneInfo) -> str:
    starts = lunch.starts_at.astimezone(tz)
    name = lunch.location_name
    if len(name) > GAP_NAME_CHARS:
        name = name[: GAP_NAME_CHARS - 1].rstrip() + "…"
    return (
        f"• {esc(name)} {starts:%H:%M}: {lunch.booked} of {lunch.places} booked, "
        f"{lunch.free} to fill"
    )


def morning_file_name(day: date) -> str:
    return f"morning-{day.isoformat()}.csv"
