"""What each kind of outbox notice says, rendered when it is sent from the state at that
moment: a notice that is no longer true (an offer already answered, a reminder for a cancelled
booking, a cover request for a job since filled) renders as None and is skipped, not sent."""

from __future__ import annotations

from datetime import date, datetime

from handlers import (
    act_for_texts,
    alert_texts,
    broadcast,
    bulk_texts,
    celebrate,
    jobs_texts,
    referral_texts,
    rota_texts,
    triage_texts,
    wins,
)
from handlers.common import keyboard
from handlers.context import Services
from handlers.rendering import Document, Later, Rendered, Renderer
from handlers.siteday import RequestCover
from handlers.triage import OpenReferral
from handlers.volunteer import BookJob, OfferAnswer, ReminderAnswer
from storage import programme_day, referrals, rota, rota_for, schedule
from storage.models import BookingStatus, ReferralStatus
from storage.outbox import Outgoing

__all__ = ["Later", "Rendered", "Renderer", "render"]


async def render(services: Services, notice: Outgoing) -> Rendered | Later | None:
    renderer = _RENDERERS.get(notice.kind)
    if renderer is None:
        raise LookupError(f"no renderer for notice kind {notice.kind!r}")
    return await renderer(services, notice)


async def _offer(services: Services, notice: Outgoing) -> Rendered | Later | None:
    booking = await rota.booking_view(services.db, int(notice.payload["booking_id"]))
    if booking is None or booking.status is not BookingStatus.OFFERED:
        return None
    # Made in the quiet hours: it is held, and its window runs, from their end (OfferWindow).
    wait = schedule.quiet_until(
        services.now(), booking.session.starts_at, services.settings.schedule
    )
    if wait is not None:
        return Later(wait, "quiet hours")
    return Rendered(
        rota_texts.offer(booking, services.settings.timezone),
        keyboard(
            [
                ("✅ Yes, book me", OfferAnswer(booking_id=booking.booking_id, accept=True)),
                ("No, pass it on", OfferAnswer(booking_id=booking.booking_id, accept=False)),
            ]
        ),
    )


async def _offer_expired(services: Services, notice: Outgoing) -> Rendered | None:
    booking = await rota.booking_view(services.db, int(notice.payload["booking_id"]))
    if booking is None or booking.status is not BookingStatus.EXPIRED:
        return None
    return Rendered(alert_texts.offer_expired(booking, services.settings.timezone))


async def _reminder(services: Services, notice: Outgoing) -> Rendered | Later | None:
    booking = await rota.booking_view(services.db, int(notice.payload["booking_id"]))
    if (
        booking is None
        or booking.status is not BookingStatus.BOOKED
        or (booking.confirmed_at is not None)
        or not _ahead(services, booking.session)
        or (booking.session.starts_at != datetime.fromisoformat(notice.payload["starts_at"]))
    ):
        return None  # cancelled, confirmed, started, or moved (a new reminder is planned)
    policy, now = services.settings.schedule, services.now()
    starts_at = booking.session.starts_at
    if schedule.superseded(starts_at, int(notice.payload["hours"]), policy, now):
        return None  # the bot was down: the closer reminder alone goes out
    wait = schedule.quiet_until(now, starts_at, policy)
    if wait is not None:
        return Later(wait, "quiet hours")
    tz = services.settings.timezone
    return Rendered(
        alert_texts.reminder(booking, now, tz),
        keyboard(
            [
                ("👍 I'm coming", ReminderAnswer(booking_id=booking.booking_id, coming=True)),
                ("I can't make it", ReminderAnswer(booking_id=booking.booking_id, coming=False)),
            ]
        ),
    )


async def _session_cancelled(services: Services, notice: Outgoing) -> Rendered | None:
    view = await rota.session_view(services.db, int(notice.payload["session_id"]))
    if view is None or not view.cancelled:
        return None
    return Rendered(rota_texts.session_cancelled(view, services.settings.timezone))


async def _sessions_cancelled(services: Services, notice: Outgoing) -> Rendered | None:
    """A bulk cancel (a location archived): one notice naming all the person's sessions."""
    views = await rota.session_views(services.db, [int(i) for i in notice.payload["session_ids"]])
    cancelled = [view for view in views if view.cancelled]
    if not cancelled:
        return None
    return Rendered(rota_texts.sessions_cancelled(cancelled, services.settings.timezone))


async def _session_changed(services: Services, notice: Outgoing) -> Rendered | None:
    view = await rota.session_view(services.db, int(notice.payload["session_id"]))
    job = view.job(int(notice.payload["job_id"])) if view else None
    if view is None or job is None or not _ahead(services, view):
        return None
    return Rendered(rota_texts.session_changed(view, job.job, services.settings.timezone))


async def _moved_to_waitlist(services: Services, notice: Outgoing) -> Rendered | None:
    """A job's places were cut: the volunteer's place moved to the top of its waitlist."""
    booking = await rota.booking_view(services.db, int(notice.payload["booking_id"]))
    if (
        booking is None
        or booking.status is not BookingStatus.WAITLISTED
        or not _ahead(services, booking.session)
    ):
        return None  # offered a place again, gone, or the session is over
    was_offered = notice.payload.get("was") == BookingStatus.OFFERED.value
    return Rendered(
        jobs_texts.moved_to_waitlist(booking, services.settings.timezone, was_offered=was_offered)
    )


async def _cover_needed(services: Services, notice: Outgoing) -> Rendered | None:
    job_id = int(notice.payload["job_id"])
    view = await rota.session_of_job(services.db, job_id)
    job = view.job(job_id) if view else None
    if view is None or job is None or job.free <= 0 or not _ahead(services, view):
        return None
    return Rendered(
        rota_texts.cover_needed(view, job, services.settings.timezone),
        keyboard([(f"Book {job.job}", BookJob(job_id=job_id, waitlist=False))]),
    )


async def _late_dropout(services: Services, notice: Outgoing) -> Rendered | None:
    booking = await rota.booking_view(services.db, int(notice.payload["booking_id"]))
    if booking is None or not _ahead(services, booking.session):
        return None
    job = booking.session.job(booking.job_id)
    rows = (
        []
        if job is None or job.free <= 0
        else [[(f"Cover needed: {job.job}", RequestCover(job_id=job.job_id))]]
    )
    return Rendered(
        alert_texts.late_dropout(booking, job, services.settings.timezone), keyboard(*rows)
    )


async def _place_filled(services: Services, notice: Outgoing) -> Rendered | None:
    booking = await rota.booking_view(services.db, int(notice.payload["booking_id"]))
    if (
        booking is None
        or booking.status is not BookingStatus.BOOKED
        or not _ahead(services, booking.session)
    ):
        return None
    return Rendered(alert_texts.place_filled(booking, services.settings.timezone))


async def _unfilled(services: Services, notice: Outgoing) -> Rendered | None:
    horizon = services.settings.schedule.unfilled_horizon
    sessions = await rota.coverage(
        services.db, actor_telegram_id=notice.chat_id, now=services.now(), within=horizon
    )
    gaps = [(view, job) for view in sessions for job in view.jobs if job.free > 0]
    if not gaps:
        return None
    tz = services.settings.timezone
    shown = gaps[: alert_texts.GAPS_SHOWN]
    return Rendered(
        alert_texts.unfilled(shown, len(gaps), horizon, tz),
        keyboard(
            *[
                [(alert_texts.cover_button(view, job, tz), RequestCover(job_id=job.job_id))]
                for view, job in shown
            ]
        ),
    )


async def _morning_list(services: Services, notice: Outgoing) -> Rendered | None:
    """The day's lunches still to come at the coordinator's locations: the whole list when it
    fits one message, else a summary with the worst gaps and the whole list as a file."""
    day, tz, now = (
        date.fromisoformat(notice.payload["day"]),
        services.settings.timezone,
        services.now(),
    )
    whole = await programme_day.programme_day(
        services.db, actor_telegram_id=notice.chat_id, day=day, tz=tz, now=now, names=True
    )
    found = programme_day.narrowed(whole, lambda lunch: lunch.on and lunch.starts_at > now, now)
    if not found.locations:
        return None
    text = alert_texts.morning_list(found, tz)
    if len(text) <= alert_texts.MORNING_MAX_CHARS:
        return Rendered(text)
    made = programme_day.day_file(found, tz)
    return Rendered(
        alert_texts.morning_summary(found, tz),
        document=Document(made.data, alert_texts.morning_file_name(day)),
    )


def _ahead(services: Services, view: rota.SessionView) -> bool:
    return not view.cancelled and view.starts_at > services.now()


async def _referral_new(services: Services, notice: Outgoing) -> Rendered | None:
    summary = await referrals.summary(services.db, int(notice.payload["referral_id"]))
    if summary is None or summary.status is not ReferralStatus.SUBMITTED:
        return None  # decided already
    return Rendered(
        triage_texts.new_referral(summary),
        keyboard([(triage_texts.OPEN_REFERRAL, OpenReferral(referral_id=summary.referral_id))]),
    )


async def _referral_status(services: Services, notice: Outgoing) -> Rendered | None:
    summary = await referrals.summary(services.db, int(notice.payload["referral_id"]))
    if summary is None or summary.version != int(notice.payload["version"]):
        return None  # decided again since: that newer notice says it
    return Rendered(triage_texts.status_for_school(summary))


async def _placement_cancelled(services: Services, notice: Outgoing) -> Rendered | None:
    summary = await referrals.summary(services.db, int(notice.payload["referral_id"]))
    views = [
        view
        for session_id in notice.payload["session_ids"]
        if (view := await rota.session_view(services.db, int(session_id))) is not None
        and view.cancelled
    ]
    if summary is None or summary.purged or not views:
        return None
    tz = services.settings.timezone
    lost = sorted(view.starts_at.astimezone(tz).date() for view in views)
    return Rendered(triage_texts.placement_cancelled(summary, views[0].location_name, lost))


async def _placements_cancelled(services: Services, notice: Outgoing) -> Rendered | None:
    """A bulk cancel, to a school contact: one notice for all their school's families that
    lost lunches, each as `_placement_cancelled` says it."""
    tz, parts = services.settings.timezone, []
    for referral_id, session_ids in notice.payload["families"]:
        summary = await referrals.summary(services.db, int(referral_id))
        views = [
            view
            for view in await rota.session_views(services.db, [int(i) for i in session_ids])
            if view.cancelled
        ]
        if summary is None or summary.purged or not views:
            continue
        lost = sorted(view.starts_at.astimezone(tz).date() for view in views)
        parts.append(triage_texts.placement_cancelled(summary, views[0].location_name, lost))
    if not parts:
        return None
    return Rendered(bulk_texts.placements_cancelled(parts))


async def _rota_changed(services: Services, notice: Outgoing) -> Rendered | None:
    """A coordinator put the volunteer on the rota, took them off, or moved them: said while
    it is still so, and the session still to come."""
    booking = await rota.booking_view(services.db, int(notice.payload["booking_id"]))
    if booking is None or not _ahead(services, booking.session):
        return None
    by = await rota_for.name_of(services.db, int(notice.payload.get("by", 0)))
    tz = services.settings.timezone
    if notice.kind == rota_for.REMOVED:
        if booking.status is not BookingStatus.CANCELLED:
            return None
        return Rendered(act_for_texts.removed(booking, by, tz))
    if booking.status not in (BookingStatus.BOOKED, BookingStatus.WAITLISTED):
        return None  # cancelled, or moved again, since: that says it
    if notice.kind == rota_for.MOVED:
        before = await rota.booking_view(services.db, int(notice.payload["from_booking_id"]))
        return Rendered(act_for_texts.moved_notice(booking, before, by, tz))
    return Rendered(act_for_texts.added(booking, by, tz))


async def _placement_moved(services: Services, notice: Outgoing) -> Rendered | None:
    summary = await referrals.summary(services.db, int(notice.payload["referral_id"]))
    view = await rota.session_view(services.db, int(notice.payload["session_id"]))
    tz = services.settings.timezone
    if (
        summary is None
        or view is None
        or not _ahead(services, view)
        or summary.location_id != view.location_id
        or view.starts_at.astimezone(tz).date() not in summary.placed_days
    ):
        return None  # cancelled, started, or the family is no longer placed there
    return Rendered(
        triage_texts.placement_moved(summary, view.location_name, rota_texts.day_and_time(view, tz))
    )


async def _details_removed(services: Services, notice: Outgoing) -> Rendered:
    """A message that showed a referral's details (a card, a register), edited at purge."""
    days = services.settings.referral_retention.days
    return Rendered(
        referral_texts.details_removed(days),
        edit_message_id=int(notice.payload["edit_message_id"]),
    )


_RENDERERS: dict[str, Renderer] = {
    "offer": _offer,
    "offer_expired": _offer_expired,
    "reminder": _reminder,
    "session_cancelled": _session_cancelled,
    "sessions_cancelled": _sessions_cancelled,
    "session_changed": _session_changed,
    "moved_to_waitlist": _moved_to_waitlist,
    "cover_needed": _cover_needed,
    "late_dropout": _late_dropout,
    "place_filled": _place_filled,
    "unfilled": _unfilled,
    "morning_list": _morning_list,
    "referral_new": _referral_new,
    "referral_status": _referral_status,
    "placement_cancelled": _placement_cancelled,
    "placement_moved": _placement_moved,
    # (bulk cancels and acting for people: begin)
    referrals.PLACEMENTS_CANCELLED: _placements_cancelled,
    rota_for.ADDED: _rota_changed,
    rota_for.REMOVED: _rota_changed,
    rota_for.MOVED: _rota_changed,
    # (bulk cancels and acting for people: end)
    referrals.DETAILS_REMOVED: _details_removed,
    # (wins notices: begin)
    "win_review": wins.render_review,
    "win_announce": wins.render_announce,
    "win_thanks": wins.render_thanks,
    "win_rejected": wins.render_rejected,
    # (wins notices: end)
    # (broadcasts notices: begin)
    "broadcast": broadcast.render_notice,
    # (broadcasts notices: end)
    # (celebrations notices: begin)
    "milestone": celebrate.render_milestone,
    "milestone_personal": celebrate.render_personal,
    "digest": celebrate.render_digest,
    # (celebrations notices: end)
}
