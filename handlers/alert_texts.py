"""The words of reminders and of coordinators' alerts. HTML; stored values escaped."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.rota_texts import day_and_time, where_when
from handlers.texts import esc
from storage.referrals import DayFamilies
from storage.rota import BookingView, JobView, SessionView, SiteSession

GAPS_SHOWN = 10
# Whole sessions up to this, inside Telegram's 4096 with room for the "…and N more" line.
MORNING_MAX_CHARS = 3900
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


def morning_list(
    sessions: list[SiteSession], day: date, tz: ZoneInfo, families: dict[int, DayFamilies]
) -> str:
    """The day's sessions, each whole: a session's block is built first and added only if the
    message still fits, else the list says how many more there are and where to see them."""
    lines = [f"☀️ <b>Good morning! Today, {day:%a %-d %b}</b>"]
    length = len(lines[0])
    for shown, site in enumerate(sessions):
        block = "\n".join(_morning_block(site, tz, families))
        if length + len(block) + 1 > MORNING_MAX_CHARS:
            rest = len(sessions) - shown
            lines.append(f"\n…and {rest} more {'session' if rest == 1 else 'sessions'}: see /today")
            break
        lines.append(block)
        length += len(block) + 1
    return "\n".join(lines)


def _morning_block(site: SiteSession, tz: ZoneInfo, families: dict[int, DayFamilies]) -> list[str]:
    view = site.session
    waiting = [h for h in site.helpers if not h.confirmed]
    lines = [
        f"\n<b>{esc(view.location_name)}</b>, {day_and_time(view, tz)}: {len(site.helpers)} booked"
    ]
    if not site.helpers:
        lines.append("⚠️ Nobody is booked yet: ask for cover in /coverage.")
    elif waiting:
        names = ", ".join(f"{esc(h.name)} ({esc(h.job)})" for h in waiting[:WAITING_SHOWN])
        if len(waiting) > WAITING_SHOWN:
            names += f" and {len(waiting) - WAITING_SHOWN} more"
        lines.append(f"Not confirmed yet: {names}")
    else:
        lines.append("Everyone booked has confirmed. 👍")
    short = [job for job in view.jobs if job.free > 0]
    if short:
        lines.append("Still to fill: " + ", ".join(f"{esc(j.job)} x{j.free}" for j in short))
    placed = families.get(view.location_id)
    if placed is not None and placed.families:
        needs = (
            f"; ⚠️ {placed.with_needs} with allergies or dietary needs" if placed.with_needs else ""
        )
        lines.append(
            f"👨‍👩‍👧 {placed.families} placed "
            f"{'family' if placed.families == 1 else 'families'} "
            f"({placed.children} children{needs}): /register"
        )
    return lines
