"""A session's printable sign-in sheet (PDF), from the site day's "🖨 Sign-in sheet" button or
chosen in /export. Only those who may see the session's register get it: storage refuses
anyone else (a site lead of another location is told kindly, and the attempt is audited).

This module imports nothing from handlers.siteday, so that the site day can carry the button."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InputFile, Update

from handlers import callbacks, export_texts, exports_pdf
from handlers.common import button, say
from handlers.context import BotContext
from storage import exports_sheet
from storage.models import Role
from storage.people import Profile


@callbacks.action("xk")
@dataclass(frozen=True)
class SignInSheet:
    """The sheet of one session, from the site day (not a form: it changes nothing)."""

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
