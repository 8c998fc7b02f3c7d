"""Choosing home locations, one page at a time (there may be hundreds of locations), found by
typing part of a name (handlers/choose.py). Offered to every new volunteer right after they
register, and skippable: without homes they simply see every location's sessions."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from telegram import Update

from handlers import callbacks, choose, choose_texts, home_texts
from handlers.common import Row, button, keyboard, show
from handlers.context import BotContext
from storage import locations
from storage.people import Profile

HOMES_LIST = "homes"


@callbacks.action("hg")
@dataclass(frozen=True)
class HomesPage:
    offset: int


@callbacks.action("hk")
@dataclass(frozen=True)
class PickHome:
    location_id: int
    offset: int


@callbacks.action("hd")
@dataclass(frozen=True)
class HomesDone:
    pass


async def offer_homes(update: Update, context: BotContext, profile: Profile) -> None:
    """A new volunteer is asked where they could help (a new message, below the welcome)."""
    found = await locations.find(context.services.db, search="", offset=0, limit=0)
    if not found.matching:
        return  # no locations yet: nothing to choose from
    # Choosing takes effect at each tap: there is no form to cancel, only the list's search.
    view = choose.View(kind=HOMES_LIST, fresh=True, typed=True)
    await _picker(update, context, profile, view)


@choose.listing(HOMES_LIST)
async def _picker(update: Update, context: BotContext, profile: Profile, view: choose.View) -> None:
    db = context.services.db
    search = await choose.search_for(context, profile.telegram_id, view)
    found = await locations.find(db, search=search, offset=view.offset, limit=choose.PER_PAGE)
    homes = await locations.homes_of(db, telegram_id=profile.telegram_id)
    chosen = {home.location_id for home in homes}
    items: list[Row] = [
        [
            (
                choose_texts.label(location.name, "✓ " if location.location_id in chosen else ""),
                PickHome(location_id=location.location_id, offset=found.offset),
            )
        ]
        for location in found.shown
    ]
    rows = choose.rows(found, items, lambda offset: HomesPage(offset=offset), search, view.kind)
    rows.append([(home_texts.done_button(len(chosen)), HomesDone())])
    text = choose_texts.with_status(home_texts.picker(homes), found, search, choose.PER_PAGE)
    await choose.present(update, view, text, keyboard(*rows))


@button(HomesPage)
async def homes_page(
    update: Update, context: BotContext, profile: Profile, page: HomesPage
) -> None:
    await _picker(update, context, profile, choose.View(kind=HOMES_LIST, offset=page.offset))


@button(PickHome)
async def pick_home(
    update: Update, context: BotContext, profile: Profile, picked: PickHome
) -> None:
    with contextlib.suppress(LookupError):  # archived meanwhile: the new screen drops it
        await locations.toggle_home(
            context.services.db, telegram_id=profile.telegram_id, location_id=picked.location_id
        )
    await _picker(update, context, profile, choose.View(kind=HOMES_LIST, offset=picked.offset))


@button(HomesDone)
async def homes_done(
    update: Update, context: BotContext, profile: Profile, _done: HomesDone
) -> None:
    await choose.leave(context, profile.telegram_id)
    homes = await locations.homes_of(context.services.db, telegram_id=profile.telegram_id)
    await show(update, home_texts.done(homes))
