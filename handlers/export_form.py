"""What /export's screens share: the form's draft (flow "export": what it makes, the period, the
locations chosen, the search) and the way back to the list of locations. Apart from
handlers/exports.py so that the sign-in sheet's screens (handlers/exports_sheet.py), which the
site day imports, can use it without importing the site day back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from telegram import Update

from handlers import callbacks, flows
from handlers.common import Row, say, show
from handlers.context import BotContext, Services
from storage import drafts
from storage.drafts import DraftState
from storage.people import Profile

EXPORT_FLOW = "export"
ROTA, SHEET = "rota", "sheet"  # what the form is making


@callbacks.action("xl")
@dataclass(frozen=True)
class ExportPlaces:
    """A page of locations (for the rota or for a sheet, as the form says)."""

    offset: int


async def form(update: Update, context: BotContext, profile: Profile) -> DraftState | None:
    """The open /export form, or None after saying it is closed."""
    return await flows.still_open(update, context, profile.telegram_id, EXPORT_FLOW)


async def save(
    context: BotContext, profile: Profile, data: dict[str, Any], *, awaiting: str | None
) -> None:
    services = context.services
    await drafts.save(
        services.db,
        telegram_id=profile.telegram_id,
        flow=EXPORT_FLOW,
        awaiting=awaiting,
        data=data,
        now=services.now(),
    )


async def reply(update: Update, text: str, rows: list[Row] | None, *, new_message: bool) -> None:
    """In place of the screen tapped; after a typed message, as a new one below it."""
    markup = flows.cancel_keyboard(EXPORT_FLOW, *rows) if rows is not None else None
    if new_message:
        await say(update, text, markup)
    else:
        await show(update, text, markup)


def today(services: Services) -> date:
    return services.now().astimezone(services.settings.timezone).date()
