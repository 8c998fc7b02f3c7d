"""What each kind of outbox notice says, rendered when it is sent from the state at that
moment: a notice that is no longer true (an offer already answered, a cover request for a job
since filled) renders as None and is skipped rather than sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup

from handlers import rota_texts
from handlers.common import keyboard
from handlers.context import Services
from handlers.volunteer import BookJob, OfferAnswer
from storage import rota
from storage.models import BookingStatus
from storage.outbox import Outgoing


@dataclass(frozen=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None


Renderer = Callable[[Services, dict[str, Any]], Awaitable[Rendered | None]]


async def render(services: Services, notice: Outgoing) -> Rendered | None:
    renderer = _RENDERERS.get(notice.kind)
    if renderer is None:
        raise LookupError(f"no renderer for notice kind {notice.kind!r}")
    return await renderer(services, notice.payload)


async def _offer(services: Services, payload: dict[str, Any]) -> Rendered | None:
    booking = await rota.booking_view(services.db, int(payload["booking_id"]))
    if booking is None or booking.status is not BookingStatus.OFFERED:
        return None
    return Rendered(
        rota_texts.offer(booking, services.settings.timezone),
        keyboard(
            [
                ("✅ Yes, book me", OfferAnswer(booking_id=booking.booking_id, accept=True)),
                ("No, pass it on", OfferAnswer(booking_id=booking.booking_id, accept=False)),
            ]
        ),
    )


async def _session_cancelled(services: Services, payload: dict[str, Any]) -> Rendered | None:
    view = await rota.session_view(services.db, int(payload["session_id"]))
    if view is None or not view.cancelled:
        return None
    return Rendered(rota_texts.session_cancelled(view, services.settings.timezone))


async def _session_changed(services: Services, payload: dict[str, Any]) -> Rendered | None:
    view = await rota.session_view(services.db, int(payload["session_id"]))
    job = view.job(int(payload["job_id"])) if view else None
    if view is None or job is None or view.cancelled or view.starts_at <= services.now():
        return None
    return Rendered(rota_texts.session_changed(view, job.job, services.settings.timezone))


async def _cover_needed(services: Services, payload: dict[str, Any]) -> Rendered | None:
    job_id = int(payload["job_id"])
    view = await rota.session_of_job(services.db, job_id)
    job = view.job(job_id) if view else None
    if (
        view is None
        or job is None
        or job.free <= 0
        or view.cancelled
        or (view.starts_at <= services.now())
    ):
        return None
    return Rendered(
        rota_texts.cover_needed(view, job, services.settings.timezone),
        keyboard([(f"Book {job.job}", BookJob(job_id=job_id, waitlist=False))]),
    )


_RENDERERS: dict[str, Renderer] = {
    "offer": _offer,
    "session_cancelled": _session_cancelled,
    "session_changed": _session_changed,
    "cover_needed": _cover_needed,
}
