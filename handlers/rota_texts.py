"""The rota's words: sessions, bookings, offers, the site day. HTML; typed values escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.texts import esc
from storage.locations import FIELD_LIMITS, Field, LocationInfo
from storage.models import BookingStatus, CheckStatus
from storage.people import Profile
from storage.rota import (
    BookingView,
    BookOutcome,
    BookResult,
    CancelResult,
    JobView,
    OfferResult,
    SessionsPage,
    SessionView,
)


def day_and_time(view: SessionView, tz: ZoneInfo) -> str:
    """'Tue 28 Jul, 11:30-13:30' in the programme's time zone."""
    starts, ends = view.starts_at.astimezone(tz), view.ends_at.astimezone(tz)
    return f"{starts:%a %-d %b}, {starts:%H:%M}-{ends:%H:%M}"


def at(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%a %-d %b} at {local:%H:%M}"


def where_when(view: SessionView, tz: ZoneInfo) -> str:
    return f"<b>{esc(view.location_name)}</b>, {day_and_time(view, tz)}"


def job_state(job: JobView) -> str:
    if job.free > 0:
        return f"{esc(job.job)} {job.free} free"
    waiting = f", {job.waiting} waiting" if job.waiting else ""
    return f"{esc(job.job)} full{waiting}"


def session_line(view: SessionView, tz: ZoneInfo, mine: BookingStatus | None = None) -> str:
    jobs = ", ".join(job_state(job) for job in view.jobs)
    return f"• {_MINE.get(mine, '')}{where_when(view, tz)}: {jobs}{_MINE_WORDS.get(mine, '')}"


# How the list of sessions marks the volunteer's own: a place, an offer, the waitlist.
_MINE: dict[BookingStatus | None, str] = {
    BookingStatus.BOOKED: "✅ ",
    BookingStatus.OFFERED: "🎁 ",
    BookingStatus.WAITLISTED: "⏳ ",
}
_MINE_WORDS: dict[BookingStatus | None, str] = {
    BookingStatus.BOOKED: " (you're booked)",
    BookingStatus.OFFERED: " (a place is offered to you)",
    BookingStatus.WAITLISTED: " (you're on the waitlist)",
}


def booking_line(booking: BookingView, tz: ZoneInfo) -> str:
    what = f"{esc(booking.job)} at {where_when(booking.session, tz)}"
    if booking.position is not None:
        return f"• ⏳ {what} (waitlist, number {booking.position})"
    if booking.offer_expires_at is not None:
        return f"• 🎁 {what} (offered to you until {at(booking.offer_expires_at, tz)})"
    return f"• ✅ {what}"


# --- notices (sent by the delivery engine, rendered when due) --------------------------------


def offer(booking: BookingView, tz: ZoneInfo) -> str:
    expires = booking.offer_expires_at
    until = f" The offer is open until {at(expires, tz)}." if expires else ""
    return (
        f"🎁 Good news: a <b>{esc(booking.job)}</b> place came free at "
        f"{where_when(booking.session, tz)}, and you are first on the waitlist.{until}\n\n"
        "Would you like it?"
    )


def session_cancelled(view: SessionView, tz: ZoneInfo) -> str:
    return (
        f"Sorry: the lunch session at {where_when(view, tz)} is cancelled. You don't need "
        "to do anything; thank you for offering your time."
    )


CANCELLED_LISTED = 40  # sessions named in one notice of a bulk cancel: far inside 4096
PLACES_NAMED = 3  # locations named in its heading (more are counted)


def sessions_cancelled(views: Sequence[SessionView], tz: ZoneInfo) -> str:
    """One notice for all of a person's sessions cancelled at once (a location archived, a snow
    day). At several locations each line says where: fewer lines, so that 24 of the longest
    names still fit a message."""
    if len(views) == 1:
        return session_cancelled(views[0], tz)
    places = sorted({view.location_name for view in views})
    several = len(places) > 1
    where = esc(", ".join(places)) if len(places) <= PLACES_NAMED else f"{len(places)} locations"
    lines = [f"Sorry: these {len(views)} lunch sessions at <b>{where}</b> are cancelled:"]
    listed = CANCELLED_LISTED // 2 if several else CANCELLED_LISTED
    lines += [
        f"• {esc(view.location_name) + ', ' if several else ''}{day_and_time(view, tz)}"
        for view in views[:listed]
    ]
    if len(views) > listed:
        lines.append(f"…and {len(views) - listed} more, up to {day_and_time(views[-1], tz)}.")
    lines.append("You don't need to do anything; thank you for offering your time.")
    return "\n".join(lines)


def session_changed(view: SessionView, job: str, tz: ZoneInfo) -> str:
    return (
        f"🕑 A change: the lunch session at <b>{esc(view.location_name)}</b> is now "
        f"{day_and_time(view, tz)}. You are still down as {esc(job)}. If you can no longer "
        "make it, please cancel in /mysessions so someone else can help."
    )


def cover_needed(view: SessionView, job: JobView, tz: ZoneInfo) -> str:
    places = "a place" if job.free == 1 else f"{job.free} places"
    return (
        f"🙋 Can you help? {where_when(view, tz)} still has {places} for a <b>{esc(job.job)}</b>."
    )


# --- volunteers: browsing and booking ---------------------------------------------------------


def sessions_page(page: SessionsPage, tz: ZoneInfo) -> str:
    if page.total == 0:
        where = "at your locations " if page.home_only else ""
        tip = "" if page.home_only else "\n\n" + _choose_homes()
        return (
            f"There are no upcoming lunch sessions {where}yet. I'll have more when the "
            f"coordinators plan the holiday.{tip}"
        )
    first, last = page.offset + 1, page.offset + len(page.sessions)
    where = "at your locations" if page.home_only else "at all locations"
    lines = [
        f"<b>Upcoming lunch sessions {where}</b> ({first}-{last} of {page.total}). Tap one to book."
    ]
    lines += [session_line(view, tz, page.mine.get(view.session_id)) for view in page.sessions]
    if not page.home_only:
        lines += ["", _choose_homes()]
    return "\n".join(lines)


def _choose_homes() -> str:
    return "Tip: choose your home locations in /profile to see only theirs."


def session_button(view: SessionView, tz: ZoneInfo, mine: BookingStatus | None = None) -> str:
    starts = view.starts_at.astimezone(tz)
    return f"{_MINE.get(mine, '')}{starts:%a %-d %b %H:%M} · {view.location_name}"


def session_card(view: SessionView, tz: ZoneInfo, mine: BookingView | None) -> str:
    lines = [where_when(view, tz), ""]
    for job in view.jobs:
        check = " (needs a safeguarding check)" if job.needs_check else ""
        if job.free > 0:
            state = f"{job.free} of {job.places} free"
        else:
            waiting = f", {job.waiting} on the waitlist" if job.waiting else ""
            state = f"full ({job.places} of {job.places}){waiting}"
        lines.append(f"• {esc(job.job)}: {state}{check}")
    if view.cancelled:
        lines.append("\nThis session is cancelled.")
    elif mine is not None:
        lines.append("\n" + _your_place(mine))
    return "\n".join(lines)


def _your_place(booking: BookingView) -> str:
    if booking.position is not None:
        return f"You are number {booking.position} on the {esc(booking.job)} waitlist."
    if booking.offer_expires_at is not None:
        return f"A {esc(booking.job)} place is being held for you: see the offer message."
    return f"You are booked as <b>{esc(booking.job)}</b>."


def book_button(job: JobView) -> str:
    if job.free > 0:
        return f"Book {job.job} ({job.free} free)"
    return f"Join {job.job} waitlist"


def booked(outcome: BookOutcome, tz: ZoneInfo) -> str:
    booking, view = outcome.booking, outcome.session
    match outcome.result:
        case BookResult.BOOKED if booking is not None:
            return (
                f"✅ Booked: you're a <b>{esc(booking.job)}</b> at "
                f"{where_when(booking.session, tz)}. Thank you! Your sessions: /mysessions"
            )
        case BookResult.WAITLISTED if booking is not None:
            return (
                f"⏳ You're on the {esc(booking.job)} waitlist at "
                f"{where_when(booking.session, tz)}, number {booking.position}. If a place "
                "comes free I'll offer it to you here."
            )
        case BookResult.ALREADY if booking is not None:
            return f"You already have a place on this session. {_your_place(booking)}"
        case BookResult.FULL:
            return "That job has just filled up. You can join its waitlist instead."
        case BookResult.OVERLAP:
            return (
                "You're already booked on another session at that time, so I can't book "
                "this one too. Your sessions: /mysessions"
            )
        case BookResult.NEEDS_CHECK:
            return (
                "This job needs a cleared safeguarding check (DBS), and I don't have one "
                "recorded for you that is valid on that day. Please talk to a coordinator."
            )
        case _:
            where = f" ({where_when(view, tz)})" if view else ""
            return f"Sorry, this session{where} is no longer taking bookings."


def my_sessions(
    bookings: list[BookingView], tz: ZoneInfo, *, offset: int = 0, total: int | None = None
) -> str:
    """One page of the volunteer's bookings, starting at `offset`, of `total` in all."""
    total = len(bookings) if total is None else total
    if not bookings:
        return "You have no upcoming sessions. Find one with /sessions."
    head = "<b>Your upcoming sessions</b>"
    if len(bookings) < total:
        head += f" ({offset + 1}-{offset + len(bookings)} of {total})"
    return head + "\n" + "\n".join(booking_line(b, tz) for b in bookings)


def cancel_button(booking: BookingView, tz: ZoneInfo) -> str:
    starts = booking.session.starts_at.astimezone(tz)
    verb = "Leave waitlist" if booking.position is not None else "Cancel"
    return f"{verb}: {starts:%a %-d %b} {booking.job}"


def confirm_cancel(booking: BookingView, tz: ZoneInfo) -> str:
    if booking.position is not None:
        return f"Leave the {esc(booking.job)} waitlist at {where_when(booking.session, tz)}?"
    job = booking.session.job(booking.job_id)
    after = (
        "It will be offered to the next volunteer on the waitlist."
        if job is not None and job.waiting > 0
        else "It will be open for another volunteer to book."
    )
    return f"Cancel your {esc(booking.job)} place at {where_when(booking.session, tz)}? {after}"


def cancelled(result: CancelResult) -> str:
    return {
        CancelResult.CANCELLED: (
            "Cancelled. Thank you for letting us know: the place goes to the next volunteer."
        ),
        CancelResult.LEFT_WAITLIST: "You've left the waitlist.",
        CancelResult.STARTED: (
            "This session has already started, so it can't be cancelled "
            "here. Please tell the site lead."
        ),
        CancelResult.NOT_ACTIVE: "That place was already cancelled: nothing more to do.",
    }[result]


def offer_answered(result: OfferResult, booking: BookingView | None, tz: ZoneInfo) -> str:
    where = f" at {where_when(booking.session, tz)}" if booking else ""
    job = esc(booking.job) if booking else "the"
    return {
        OfferResult.BOOKED: f"✅ It's yours: you're booked as <b>{job}</b>{where}. Thank you!",
        OfferResult.DECLINED: "No problem: I've passed the place on to the next volunteer.",
        OfferResult.EXPIRED: "Sorry, this offer has expired and the place was passed on.",
        OfferResult.OVERLAP: (
            "You're booked on another session at that time, so I've passed this place on."
        ),
        OfferResult.NOT_OFFERED: "This offer is no longer open.",
    }[result]


def calendar_caption(count: int) -> str:
    if count == 0:
        return "You have no booked sessions to put in a calendar yet."
    sessions = "session" if count == 1 else "sessions"
    return f"📅 Your {count} booked {sessions}. Open the file to add them to your calendar."


# --- volunteers: profile ----------------------------------------------------------------------


HOMES_SHOWN = 10


def profile(person: Profile, homes: list[LocationInfo], tz: ZoneInfo, *, many: bool = False) -> str:
    # Someone may call hundreds of locations home: the first few, then how many more (4096).
    home_names = ", ".join(esc(h.name) for h in homes[:HOMES_SHOWN])
    if len(homes) > HOMES_SHOWN:
        home_names += f" and {len(homes) - HOMES_SHOWN} more"
    home_names = home_names or "none chosen (you see all locations)"
    check = {
        CheckStatus.NONE: "not recorded",
        CheckStatus.PENDING: "pending",
        CheckStatus.CLEARED: "cleared",
    }[person.check_status]
    if person.check_status is CheckStatus.CLEARED and person.check_expires_on:
        check += f" until {person.check_expires_on:%-d %b %Y}"
    return "\n".join(
        [
            f"<b>{esc(person.display_name)}</b>",
            f"Home locations: {home_names}",
            f"Phone: {esc(person.phone) if person.phone else 'not given (optional)'}",
            f"Safeguarding check: {check}",
            "",
            (
                "Tap Choose home locations to change them."
                if many
                else "Tap a location to add or remove it."
            )
            + " Coordinators see your phone number, to reach you on the day.",
        ]
    )


def choose_homes_button() -> str:
    return "🏠 Choose home locations"


def ask_phone() -> str:
    return (
        "Send me your phone number (for example 07700 900123), or /cancel. Only "
        "coordinators see it."
    )


def phone_invalid() -> str:
    return "That doesn't look like a phone number. Please send digits only, or /cancel."


def phone_saved(person: Profile) -> str:
    if person.phone is None:
        return "Done: your phone number is removed."
    return f"Saved: coordinators can reach you on {esc(person.phone)}."


# --- coordinators: locations -----------------------------------------------------------------

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FIELD_NAMES = {
    Field.NAME: "name",
    Field.ADDRESS: "address",
    Field.NOTES: "notes",
    Field.CAPACITY: "number of children it can feed in a day",
}


def locations(run: list[LocationInfo], *, searched: bool = False) -> str:
    """A page of the locations (`run`); where it is in the list is said below it."""
    if not run and not searched:
        return "No locations yet. Add the first lunch club's venue."
    lines = ["<b>Locations</b>. Tap one to see or change it."]
    lines += [
        f"• {esc(loc.name)}" + (f", {esc(loc.address)}" if loc.address else "") for loc in run
    ]
    return "\n".join(lines)


def location_card(location: LocationInfo) -> str:
    lines = [f"<b>{esc(location.name)}</b>" + (" (archived)" if location.archived else "")]
    lines.append(f"Address: {esc(location.address) or 'not set'}")
    lines.append(f"Children a day: {location.daily_child_capacity or 'not set'}")
    if location.notes:
        lines.append(f"Notes: {esc(location.notes)}")
    return "\n".join(lines)


def ask_location_field(field: Field, location: LocationInfo | None) -> str:
    if field is Field.NAME and location is None:
        return "Send the new location's name, for example <i>St Mark's church hall</i>, or /cancel."
    limit = (
        "a whole number" if field is Field.CAPACITY else (f"up to {FIELD_LIMITS[field]} characters")
    )
    clear = "" if field in (Field.NAME, Field.CAPACITY) else " Send - to clear it."
    return f"Send the {FIELD_NAMES[field]} ({limit}), or /cancel.{clear}"


def location_field_invalid(field: Field) -> str:
    if field is Field.CAPACITY:
        return "Please send a whole number, like 40, or /cancel."
    return (
        f"Please send the {FIELD_NAMES[field]} as one line of up to "
        f"{FIELD_LIMITS[field]} characters, or /cancel."
    )


def location_name_taken(name: str) -> str:
    return f"There is already a location called {esc(name)}. Please choose another name."


def location_created(location: LocationInfo) -> str:
    return (
        f"✅ Added {esc(location.name)}. Add its address and how many children it can "
        "feed, then plan its sessions with /newsessions."
    )


def location_saved() -> str:
    return "✅ Saved."


def location_still_planned(sessions: int, families: int = 0) -> str:
    waiting = []
    if sessions:
        waiting.append(
            f"{plural(sessions, 'session')} to come (cancel them from /coverage or "
            "/today: ⚙️ Change or cancel session, so the people booked are told)"
        )
    if families:
        waiting.append(
            f"{plural(families, 'family', 'families')} placed there (move them in "
            "/referrals, so their school is told)"
        )
    return f"It still has {' and '.join(waiting)}. Then archive it."


def confirm_archive(location: LocationInfo, sessions: int, who: str) -> str:
    return (
        f"Archive <b>{esc(location.name)}</b>? It still has {plural(sessions, 'session')} to "
        f"come: archiving cancels {'it' if sessions == 1 else 'them all'}. {who}"
    )


def archive_and_cancel_button(sessions: int) -> str:
    return f"🗄 Cancel {plural(sessions, 'session')} and archive"


def archived_and_cancelled(told: str) -> str:
    """`told`: who is being told of the cancelled sessions."""
    return (
        "Archived: it keeps its history but takes no new sessions, and its sessions to come "
        f"are cancelled. {told}"
    )


def already_archived() -> str:
    return (
        "This location was already archived a moment ago, and its sessions to come cancelled: "
        "everyone who needed telling was told then. Nothing more to do."
    )


def location_archived(location: LocationInfo) -> str:
    if location.archived:
        return (
            "Archived: it keeps its history but takes no new sessions, and volunteers "
            "no longer see it."
        )
    return "Restored: it is open again."


def plural(count: int, noun: str, many: str | None = None) -> str:
    return f"{count} {noun if count == 1 else many or noun + 's'}"
