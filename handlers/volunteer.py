"""Volunteers: browse sessions, book a job or join its waitlist, answer offers, cancel, get a
calendar file, and keep their profile (home locations, phone)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from telegram import InputFile, Update

from handlers import alert_texts, callbacks, choose, flows, rota_texts
from handlers import homes as homes_chooser
from handlers.calendar import ics
from handlers.common import Row, button, command, keyboard, say, show
from handlers.context import BotContext
from storage import locations, people, rota
from storage.models import BookingStatus, Role
from storage.people import Profile
from storage.rota import BookResult

SESSIONS_PER_PAGE = 5
# /mysessions lists this many bookings on a screen: even with the longest location and job
# names, 8 lines stay far below Telegram's 4096 characters, and their buttons below 100.
BOOKINGS_PER_PAGE = 8
PHONE_FLOW = "phone"


@callbacks.action("sp")
@dataclass(frozen=True)
class SessionsPage:
    offset: int


@callbacks.action("so")
@dataclass(frozen=True)
class OpenSession:
    session_id: int


@callbacks.action("bj")
@dataclass(frozen=True)
class BookJob:
    job_id: int
    waitlist: bool


@callbacks.action("mb")
@dataclass(frozen=True)
class MyBookings:
    pass


@callbacks.action("mp")
@dataclass(frozen=True)
class MyBookingsPage:
    """A later page of /mysessions (the first page is MyBookings)."""

    offset: int


@callbacks.action("cb")
@dataclass(frozen=True)
class AskCancelBooking:
    booking_id: int


@callbacks.action("cc")
@dataclass(frozen=True)
class CancelBooking:
    booking_id: int


@callbacks.action("oa")
@dataclass(frozen=True)
class OfferAnswer:
    booking_id: int
    accept: bool


@callbacks.action("ra")
@dataclass(frozen=True)
class ReminderAnswer:
    booking_id: int
    coming: bool


@callbacks.action("ic")
@dataclass(frozen=True)
class CalendarFile:
    pass


@callbacks.action("th")
@dataclass(frozen=True)
class ToggleHome:
    location_id: int


@callbacks.action("ph")
@dataclass(frozen=True)
class AskPhone:
    pass


@callbacks.action("px")
@dataclass(frozen=True)
class RemovePhone:
    pass


# --- browsing and booking --------------------------------------------------------------------


@command(Role.VOLUNTEER)
async def sessions_command(update: Update, context: BotContext, profile: Profile) -> None:
    await _sessions_page(update, context, profile, 0)


@button(SessionsPage, Role.VOLUNTEER)
async def sessions_page(
    update: Update, context: BotContext, profile: Profile, page: SessionsPage
) -> None:
    await _sessions_page(update, context, profile, page.offset)


async def _sessions_page(
    update: Update, context: BotContext, profile: Profile, offset: int
) -> None:
    services = context.services
    tz = services.settings.timezone
    page = await rota.upcoming(
        services.db,
        telegram_id=profile.telegram_id,
        now=services.now(),
        offset=offset,
        limit=SESSIONS_PER_PAGE,
    )
    rows: list[Row] = [
        [
            (
                rota_texts.session_button(view, tz, page.mine.get(view.session_id)),
                OpenSession(session_id=view.session_id),
            )
        ]
        for view in page.sessions
    ]
    nav: list[tuple[str, object]] = []
    if offset > 0:
        nav.append(("◀ Earlier", SessionsPage(offset=max(0, offset - SESSIONS_PER_PAGE))))
    if offset + SESSIONS_PER_PAGE < page.total:
        nav.append(("Later ▶", SessionsPage(offset=offset + SESSIONS_PER_PAGE)))
    rows.append(nav)
    await show(update, rota_texts.sessions_page(page, tz), keyboard(*rows))


@button(OpenSession, Role.VOLUNTEER)
async def open_session(
    update: Update, context: BotContext, profile: Profile, opened: OpenSession
) -> None:
    await _session_card(update, context, profile, opened.session_id)


async def _session_card(
    update: Update, context: BotContext, profile: Profile, session_id: int
) -> None:
    services = context.services
    card = await rota.session_card(
        services.db, telegram_id=profile.telegram_id, session_id=session_id, now=services.now()
    )
    if card is None:
        closed = rota.BookOutcome(result=BookResult.CLOSED)
        await show(update, rota_texts.booked(closed, services.settings.timezone))
        return
    await _show_card(update, context, card.session, card.mine)


async def _show_card(
    update: Update,
    context: BotContext,
    view: rota.SessionView,
    mine: rota.BookingView | None,
    note: str = "",
) -> None:
    """A session's card: its jobs, the volunteer's place on it, and what they can do."""
    services = context.services
    tz = services.settings.timezone
    rows: list[Row] = []
    if mine is None and not view.cancelled and view.starts_at > services.now():
        rows += [
            [(rota_texts.book_button(job), BookJob(job_id=job.job_id, waitlist=job.free <= 0))]
            for job in view.jobs
        ]
    elif mine is not None and mine.offer_expires_at is None:
        rows.append(
            [(rota_texts.cancel_button(mine, tz), AskCancelBooking(booking_id=mine.booking_id))]
        )
    rows.append([("« All sessions", SessionsPage(offset=0))])
    text = rota_texts.session_card(view, tz, mine)
    await show(update, text, keyboard(*rows), note=note)


@button(BookJob, Role.VOLUNTEER)
async def book_job(update: Update, context: BotContext, profile: Profile, chosen: BookJob) -> None:
    services = context.services
    tz = services.settings.timezone
    outcome = await rota.book(
        services.db,
        telegram_id=profile.telegram_id,
        job_id=chosen.job_id,
        now=services.now(),
        waitlist=chosen.waitlist,
    )
    if outcome.session is None:
        await show(update, rota_texts.booked(outcome, tz))
        return
    # The card as the booking left it, read in the booking's own transaction.
    await _show_card(
        update, context, outcome.session, outcome.mine, note=rota_texts.booked(outcome, tz)
    )


# --- my sessions: cancel, offers, calendar ---------------------------------------------------


@command(Role.VOLUNTEER)
async def my_sessions_command(update: Update, context: BotContext, profile: Profile) -> None:
    await _my_sessions(update, context, profile)


@button(MyBookings, Role.VOLUNTEER)
async def my_sessions(
    update: Update, context: BotContext, profile: Profile, _opened: MyBookings
) -> None:
    await _my_sessions(update, context, profile)


@button(MyBookingsPage, Role.VOLUNTEER)
async def my_sessions_page(
    update: Update, context: BotContext, profile: Profile, page: MyBookingsPage
) -> None:
    await _my_sessions(update, context, profile, offset=page.offset)


async def _my_sessions(
    update: Update, context: BotContext, profile: Profile, note: str = "", *, offset: int = 0
) -> None:
    services = context.services
    tz = services.settings.timezone
    bookings = await rota.my_bookings(
        services.db, telegram_id=profile.telegram_id, now=services.now()
    )
    if offset >= len(bookings):  # an old page button: fewer bookings now
        offset = 0
    page = bookings[offset : offset + BOOKINGS_PER_PAGE]
    rows: list[Row] = []
    for booking in page:
        if booking.offer_expires_at is not None:
            rows.append(
                [
                    (
                        "✅ Take the offered place",
                        OfferAnswer(booking_id=booking.booking_id, accept=True),
                    ),
                    ("Pass", OfferAnswer(booking_id=booking.booking_id, accept=False)),
                ]
            )
        else:
            rows.append(
                [
                    (
                        rota_texts.cancel_button(booking, tz),
                        AskCancelBooking(booking_id=booking.booking_id),
                    )
                ]
            )
    nav: list[tuple[str, object]] = []
    if offset > 0:
        nav.append(("◀ Earlier", _bookings_page(max(0, offset - BOOKINGS_PER_PAGE))))
    if offset + BOOKINGS_PER_PAGE < len(bookings):
        nav.append(("Later ▶", _bookings_page(offset + BOOKINGS_PER_PAGE)))
    rows.append(nav)
    if _holding_places(bookings):  # the file has every booked session, not just this page's
        rows.append([("📅 Add to my calendar", CalendarFile())])
    text = rota_texts.my_sessions(page, tz, offset=offset, total=len(bookings))
    await show(update, text, keyboard(*rows), note=note)


def _bookings_page(offset: int) -> object:
    return MyBookingsPage(offset=offset) if offset > 0 else MyBookings()


@button(AskCancelBooking, Role.VOLUNTEER)
async def ask_cancel(
    update: Update, context: BotContext, profile: Profile, asked: AskCancelBooking
) -> None:
    await _ask_cancel(update, context, profile, asked.booking_id)


async def _ask_cancel(
    update: Update, context: BotContext, profile: Profile, booking_id: int
) -> None:
    """Giving up a place always asks first, wherever the volunteer started (/mysessions or a
    reminder's "I can't make it"): one slip of the thumb must not hand a place on."""
    services = context.services
    mine = await rota.my_bookings(services.db, telegram_id=profile.telegram_id, now=services.now())
    booking = next((b for b in mine if b.booking_id == booking_id), None)
    if booking is None:  # already cancelled, past, or not theirs (forged)
        await _my_sessions(
            update, context, profile, rota_texts.cancelled(rota.CancelResult.NOT_ACTIVE)
        )
        return
    await show(
        update,
        rota_texts.confirm_cancel(booking, services.settings.timezone),
        keyboard(
            [
                ("Yes, cancel", CancelBooking(booking_id=booking.booking_id)),
                ("No, keep it", MyBookings()),
            ],
        ),
    )


@button(CancelBooking, Role.VOLUNTEER)
async def cancel_booking(
    update: Update, context: BotContext, profile: Profile, chosen: CancelBooking
) -> None:
    result = await _give_up(context, profile, chosen.booking_id)
    await _my_sessions(update, context, profile, rota_texts.cancelled(result))


async def _give_up(context: BotContext, profile: Profile, booking_id: int) -> rota.CancelResult:
    """Cancel the volunteer's place: it passes down the waitlist, and late alerts leads."""
    services = context.services
    result, _ = await rota.cancel(
        services.db,
        telegram_id=profile.telegram_id,
        booking_id=booking_id,
        now=services.now(),
        offer_window=services.settings.offer_window,
        late_window=services.settings.late_window,
    )
    return result


@button(OfferAnswer, Role.VOLUNTEER)
async def offer_answer(
    update: Update, context: BotContext, profile: Profile, answer: OfferAnswer
) -> None:
    services = context.services
    result, booking = await rota.answer_offer(
        services.db,
        telegram_id=profile.telegram_id,
        booking_id=answer.booking_id,
        accept=answer.accept,
        now=services.now(),
        offer_window=services.settings.offer_window,
        late_window=services.settings.late_window,
    )
    await show(update, rota_texts.offer_answered(result, booking, services.settings.timezone))


@button(ReminderAnswer, Role.VOLUNTEER)
async def reminder_answer(
    update: Update, context: BotContext, profile: Profile, answer: ReminderAnswer
) -> None:
    """The reminder's two buttons: confirm the place, or ask to give it up (confirmed as in
    /mysessions; it then passes down the waitlist, and a late drop-out alerts the
    coordinators)."""
    services = context.services
    tz = services.settings.timezone
    if answer.coming:
        booking = await rota.confirm(
            services.db,
            telegram_id=profile.telegram_id,
            booking_id=answer.booking_id,
            now=services.now(),
        )
        await show(
            update, alert_texts.confirmed(booking, tz) if booking else alert_texts.reminder_stale()
        )
        return
    await _ask_cancel(update, context, profile, answer.booking_id)


@button(CalendarFile, Role.VOLUNTEER)
async def calendar_file(
    update: Update, context: BotContext, profile: Profile, _asked: CalendarFile
) -> None:
    services = context.services
    booked = _holding_places(
        await rota.my_bookings(services.db, telegram_id=profile.telegram_id, now=services.now())
    )
    chat = update.effective_chat
    if not booked or chat is None:
        await say(update, rota_texts.calendar_caption(0))
        return
    data = ics(booked, programme=services.settings.programme_name, now=services.now())
    await chat.send_document(
        InputFile(data, filename="lunch-sessions.ics"),
        caption=rota_texts.calendar_caption(len(booked)),
    )


def _holding_places(bookings: list[rota.BookingView]) -> list[rota.BookingView]:
    """The bookings that hold a place (not a waitlist place, not an offer not yet taken): what
    the calendar file holds."""
    return [b for b in bookings if b.status is BookingStatus.BOOKED]


# --- profile ---------------------------------------------------------------------------------


@command()
async def profile_command(update: Update, context: BotContext, profile: Profile) -> None:
    await _profile(update, context, profile)


async def _profile(update: Update, context: BotContext, profile: Profile, note: str = "") -> None:
    services = context.services
    first = await locations.find(services.db, search="", offset=0, limit=choose.PER_PAGE)
    mine = await locations.homes_of(services.db, telegram_id=profile.telegram_id)
    homes = {loc.location_id for loc in mine}
    # More locations than a page: the paged, searchable chooser (one button per location
    # would pass Telegram's 100 buttons at the programme's size).
    many = first.matching > choose.PER_PAGE
    rows: list[Row] = (
        [[(rota_texts.choose_homes_button(), homes_chooser.HomesPage(offset=0))]]
        if many
        else [
            [
                (
                    ("✓ " if loc.location_id in homes else "") + loc.name,
                    ToggleHome(location_id=loc.location_id),
                )
            ]
            for loc in first.shown
        ]
    )
    phone: list[tuple[str, object]] = [
        ("📞 Change phone" if profile.phone else "📞 Add phone", AskPhone())
    ]
    if profile.phone:
        phone.append(("Remove phone", RemovePhone()))
    rows.append(phone)
    text = rota_texts.profile(profile, mine, services.settings.timezone, many=many)
    await show(update, text, keyboard(*rows), note=note)


@button(ToggleHome)
async def toggle_home(
    update: Update, context: BotContext, profile: Profile, chosen: ToggleHome
) -> None:
    with contextlib.suppress(LookupError):  # archived meanwhile: the new screen drops it
        await locations.toggle_home(
            context.services.db, telegram_id=profile.telegram_id, location_id=chosen.location_id
        )
    await _profile(update, context, profile)


@button(AskPhone)
async def ask_phone(
    update: Update, context: BotContext, profile: Profile, _asked: AskPhone
) -> None:
    await flows.wait_for_text(context, profile.telegram_id, PHONE_FLOW, "phone")
    await say(update, rota_texts.ask_phone(), flows.cancel_keyboard(PHONE_FLOW))


async def on_phone_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    phone = people.clean_phone(text)
    if phone is None:
        await say(update, rota_texts.phone_invalid())
        return
    await _save_phone(update, context, profile, phone)


@button(RemovePhone)
async def remove_phone(
    update: Update, context: BotContext, profile: Profile, _asked: RemovePhone
) -> None:
    await _save_phone(update, context, profile, None)


async def _save_phone(
    update: Update, context: BotContext, profile: Profile, phone: str | None
) -> None:
    services = context.services
    updated = await people.set_phone(
        services.db, telegram_id=profile.telegram_id, phone=phone, now=services.now()
    )
    await flows.finish(context, profile.telegram_id, PHONE_FLOW)
    await say(update, rota_texts.phone_saved(updated))
