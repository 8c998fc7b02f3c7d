"""A session's printable sign-in sheet (PDF), from the site day's "🖨 Sign-in sheet" button, or
chosen in /export (a location, then one of its sessions from today). Only those who may see the
session's register get it: storage refuses anyone else (a site lead of another location is told
kindly, and the attempt is audited).

This module imports nothing from handlers.siteday, so that the site day can carry the button."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InputFile, Update

from handlers import callbacks, export_form, export_texts, exports_pdf, flows
from handlers.common import Row, button, pager, say, show
from handlers.context import BotContext
from handlers.export_form import EXPORT_FLOW, SHEET, ExportPlaces
from storage import exports_sheet
from storage.exports_sheet import SessionChoices, session_choices
from storage.models import Role
from storage.people import Profile

SESSIONS_PER_PAGE = 8


@callbacks.action("xk")
@dataclass(frozen=True)
class SignInSheet:
    """The sheet of one session, from the site day (not a form: it changes nothing)."""

    session_id: int


@callbacks.action("xh")
@dataclass(frozen=True)
class SheetSessions:
    location_id: int
    offset: int


@callbacks.action("xj")
@dataclass(frozen=True)
class SheetChosen:
    session_id: int


@button(SignInSheet, Role.COORDINATOR)
async def sign_in_sheet(
    update: Update, context: BotContext, profile: Profile, chosen: SignInSheet
) -> None:
    await send_sheet(update, context, profile, chosen.session_id)


async def send_sheet(
    update: Update, context: BotContext, profile: Profile, session_id: int
) -> None:
    """Send the session's sheet as a new message under the screen, or say that the session is
    cancelled. Storage raises OutOfScope or NotFound for a session the
    person may not see, which the error handler answers."""
    services = context.services
    tz = services.settings.timezone
    sheet = await exports_sheet.sign_in_sheet(
        services.db,
        actor_telegram_id=profile.telegram_id,
        session_id=session_id,
        now=services.now(),
    )
    if sheet.cancelled:
        await say(update, export_texts.sheet_cancelled(sheet, tz))
        return
    data = await exports_pdf.draw(
        sheet, programme=services.settings.programme_name, tz=tz, now=services.now()
    )
    chat = update.effective_chat
    if chat is not None:
        await chat.send_document(
            InputFile(data, filename=export_texts.sheet_file_name(sheet, tz)),
            caption=export_texts.sheet_caption(sheet, tz),
        )


# --- chosen in /export -----------------------------------------------------------------------


@button(SheetSessions, Role.COORDINATOR)
async def sheet_sessions(
    update: Update, context: BotContext, profile: Profile, chosen: SheetSessions
) -> None:
    if await export_form.form(update, context, profile) is None:
        return
    await sessions(update, context, profile, chosen.location_id, chosen.offset)


async def sessions(
    update: Update,
    context: BotContext,
    profile: Profile,
    location_id: int,
    offset: int,
    *,
    alone: bool = False,
) -> None:
    """A page of the location's sessions from today (OutOfScope for another's location);
    `alone`: the only location the person runs, so there is no other to go back to."""
    services = context.services
    tz = services.settings.timezone

    async def page(offset: int) -> SessionChoices:
        return await session_choices(
            services.db,
            actor_telegram_id=profile.telegram_id,
            location_id=location_id,
            first=export_form.today(services),
            tz=tz,
            offset=offset,
            limit=SESSIONS_PER_PAGE,
        )

    choices = await page(offset)
    if offset and offset >= choices.total:  # an old page button: fewer sessions now
        offset = 0
        choices = await page(0)
    rows: list[Row] = [
        [(export_texts.session_button(choice, tz), SheetChosen(choice.session_id))]
        for choice in choices.shown
    ]
    rows.append(
        pager(
            offset,
            choices.total,
            SESSIONS_PER_PAGE,
            lambda offset: SheetSessions(location_id, offset),
        )
    )
    if not alone:
        rows.append([(export_texts.other_location_button(), ExportPlaces(0))])
    await export_form.save(context, profile, {"make": SHEET}, awaiting=None)
    await show(
        update,
        export_texts.choose_session(choices.location, choices.total),
        flows.cancel_keyboard(EXPORT_FLOW, *rows),
    )


@button(SheetChosen, Role.COORDINATOR)
async def sheet_chosen(
    update: Update, context: BotContext, profile: Profile, chosen: SheetChosen
) -> None:
    """The sheet, below the list: the list stays, so that the other days' sheets can be
    printed too (the form ends with /cancel, or by itself after two weeks)."""
    if await export_form.form(update, context, profile) is None:
        return
    await send_sheet(update, context, profile, chosen.session_id)
