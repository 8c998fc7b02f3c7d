"""The form of /cancelsessions (flow "bulk_cancel"): its buttons and its draft, which holds the
day, the locations chosen and the preview's token, so a restart carries on, /cancel or ✖ Cancel
ends it, and a tap on an older preview (or on a closed form) cancels nothing. Here on their
own, for the modules that choose what to cancel (handlers/bulk_cancel.py, bulk_places.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Update

from handlers import callbacks, flows
from handlers.context import BotContext
from storage import drafts
from storage.people import Profile
from storage.rota_bulk import Span

BULK_FLOW = "bulk_cancel"


@callbacks.action("ua")
@dataclass(frozen=True)
class BulkDay:
    day: int  # YYYYMMDD, the programme's local date


@callbacks.action("ub")
@dataclass(frozen=True)
class BulkEverywhere:
    day: int


@callbacks.action("uc")
@dataclass(frozen=True)
class BulkChoosePlaces:
    day: int
    offset: int


@callbacks.action("ud")
@dataclass(frozen=True)
class BulkTogglePlace:
    location_id: int
    offset: int  # the page it was on


@callbacks.action("ue")
@dataclass(frozen=True)
class BulkPlacesDone:
    pass


@callbacks.action("uf")
@dataclass(frozen=True)
class BulkLocations:
    offset: int


@callbacks.action("ug")
@dataclass(frozen=True)
class BulkAtLocation:
    location_id: int


@callbacks.action("uh")
@dataclass(frozen=True)
class BulkSpan:
    location_id: int
    span: Span


@callbacks.action("ui")
@dataclass(frozen=True)
class BulkConfirm:
    token: int  # the preview's: an older preview's button (or a second tap) cancels nothing


@callbacks.action("uj")
@dataclass(frozen=True)
class BulkStart:
    """Back to the first step: another day, or a location."""


async def open_form(
    update: Update, context: BotContext, profile: Profile, about: dict[str, Any] | None = None
) -> drafts.DraftState | None:
    return await flows.still_open(update, context, profile.telegram_id, BULK_FLOW, about)


async def save(context: BotContext, profile: Profile, data: dict[str, Any]) -> None:
    services = context.services
    await drafts.save(
        services.db,
        telegram_id=profile.telegram_id,
        flow=BULK_FLOW,
        awaiting=None,
        data=data,
        now=services.now(),
    )


def chosen_ids(data: dict[str, Any]) -> list[int]:
    kept = data.get("chosen")
    return [int(i) for i in kept if isinstance(i, int)] if isinstance(kept, list) else []
