"""The words of changing a session's jobs and places (from its card in /today or /coverage),
and of the notice to a volunteer moved to the waitlist. HTML; names escaped."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from handlers.plan_texts import names
from handlers.rota_texts import plural, where_when
from handlers.texts import esc
from storage.models import BookingStatus
from storage.rota import MAX_PLACES_PER_JOB, BookingView, JobView, SessionView
from storage.session_jobs import MAX_JOBS, Holder, PlacesChanged

NAMES_SHOWN = 10  # people named in a refusal; more are counted


def jobs_button() -> str:
    return "✏️ Jobs and places"


def jobs(view: SessionView, tz: ZoneInfo) -> str:
    lines = [f"✏️ <b>Jobs and places</b> at {where_when(view, tz)}:", ""]
    lines += [f"• {_job_line(job)}" for job in view.jobs]
    lines += [
        "",
        "Tap a job to change its places or remove it, or ➕ to add one. Volunteers whose place "
        "changes are told.",
    ]
    return "\n".join(lines)


def _job_line(job: JobView) -> str:
    waiting = f", {job.waiting} waiting" if job.waiting else ""
    check = " (needs a check)" if job.needs_check else ""
    return f"{esc(job.job)}{check}: {plural(job.places, 'place')}, {job.taken} taken{waiting}"


def job_button(job: JobView) -> str:
    return f"{job.job} ({job.taken}/{job.places})"


def add_job_button() -> str:
    return "➕ Add a job"


def ask_places(job: JobView) -> str:
    return (
        f"How many <b>{esc(job.job)}</b> places? Now {plural(job.places, 'place')}, "
        f"{job.taken} taken{f', {job.waiting} waiting' if job.waiting else ''}. Send a number "
        f"from 1 to {MAX_PLACES_PER_JOB}; or /cancel."
    )


def places_invalid() -> str:
    return f"Please send a number of places from 1 to {MAX_PLACES_PER_JOB}; or /cancel."


def remove_button(job: JobView) -> str:
    return f"🗑 Remove {job.job}"


def back_to_jobs_button() -> str:
    return "« Jobs and places"


def _who(people: Sequence[Holder]) -> str:
    listed = [holder.name for holder in people]
    if len(listed) == 1:
        return esc(listed[0])
    if len(listed) <= NAMES_SHOWN:
        return f"{', '.join(esc(n) for n in listed[:-1])} and {esc(listed[-1])}"
    return names(listed, NAMES_SHOWN)


def would_lose(job: JobView, places: int, losing: Sequence[Holder], held: int) -> str:
    offered = [holder for holder in losing if holder.status is BookingStatus.OFFERED]
    offer_note = (
        f" ({_who(offered)} had been offered a place and not answered yet)" if offered else ""
    )
    theirs = "their place" if len(losing) == 1 else "their places"
    return (
        f"{held} people hold {esc(job.job)} places: with {places}, <b>{_who(losing)}</b>, the "
        f"last to book, would lose {theirs}{offer_note}.\n\n"
        f"Move {'them' if len(losing) > 1 else 'this volunteer'} to the top of the waitlist "
        "(they are told, and offered a place first if one comes free), keep the places, or "
        "send another number."
    )


def move_button(losing: Sequence[Holder]) -> str:
    if len(losing) == 1:
        return f"⏬ Move {losing[0].name} to the waitlist"
    return f"⏬ Move {len(losing)} to the waitlist"


def keep_button(places: int) -> str:
    return f"Keep {places} places" if places != 1 else "Keep 1 place"


def places_saved(changed: PlacesChanged) -> str:
    job = esc(changed.job)
    if changed.before == changed.after:
        return f"Nothing changed: {job} has {plural(changed.after, 'place')}."
    said = f"Saved: {job} now has {plural(changed.after, 'place')} (it had {changed.before})."
    if changed.offered:
        said += (
            f" {plural(changed.offered, 'place')} offered to the first on the waitlist, who "
            f"{'is' if changed.offered == 1 else 'are'} asked now."
        )
    if changed.moved:
        who = _who(
            [Holder(booking_id=0, name=n, status=BookingStatus.BOOKED) for n in changed.moved]
        )
        said += f" Moved to the top of the waitlist, and told: {who}."
    return said


def nothing_moved(changed: PlacesChanged) -> str:
    return (
        f"Nothing more to do: {esc(changed.job)} already has {plural(changed.after, 'place')}, "
        "and nobody needed moving."
    )


def in_use(job: JobView, people: Sequence[Holder]) -> str:
    return (
        f"<b>{esc(job.job)}</b> can't be removed while people are on it: "
        f"{_who(people)}. Cut its places to move the last booked to the waitlist, or ask them "
        "to choose another job; then remove it."
    )


def confirm_remove(job: JobView) -> str:
    return f"Remove the <b>{esc(job.job)}</b> job from this session? Nobody is on it."


def yes_remove_button(job: JobView) -> str:
    return f"🗑 Yes, remove {job.job}"


def removed(name: str) -> str:
    return f"Removed: the {esc(name)} job."


def last_job() -> str:
    return "A session needs at least one job: add another before removing this one."


def ask_new_job() -> str:
    return (
        "<b>Which job, and how many places?</b> Send it like <i>driver 1</i> (a name, then 1 to "
        f"{MAX_PLACES_PER_JOB} places); or /cancel."
    )


def new_job_invalid() -> str:
    return (
        f"Please send one job like <i>driver 1</i>: a name and 1 to {MAX_PLACES_PER_JOB} "
        "places; or /cancel."
    )


def job_added(job: str, places: int) -> str:
    return f"Added: {esc(job)}, {plural(places, 'place')}. Volunteers can book it now."


def job_taken(job: str) -> str:
    return f"This session has a {esc(job)} job already: tap it to change its places."


def too_many_jobs() -> str:
    return f"A session has at most {MAX_JOBS} jobs: remove one first."


# --- the volunteer moved to the waitlist ------------------------------------------------------


def moved_to_waitlist(booking: BookingView, tz: ZoneInfo, *, was_offered: bool) -> str:
    what = "the place offered to you" if was_offered else "your place"
    number = f" You're number {booking.position} on it." if booking.position else ""
    return (
        f"Sorry: the {esc(booking.job)} places at {where_when(booking.session, tz)} were cut, "
        f"and {what} moved to the waitlist, at its top.{number} If a place comes free, it is "
        "offered to you first. You don't need to do anything; /mysessions shows where you are."
    )
