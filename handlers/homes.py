"""Choosing home locations, one page at a time (there may be hundreds of locations), with a
typed search when there are more than one page. Offered to every new volunteer right after
they register, and skippable: without homes they simply see every location's sessions."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from telegram import Update

from handlers import callbacks, flows, home_texts
from handlers.common import Row, button, keyboard, pager, say, show
from handlers.context import BotContext
from storage import drafts, locations
from storage.people import Profile
from storage.text import one_line

HOMES_FLOW = "homes"
LOCATIONS_PER_PAGE = 8  # with the page and step buttons, 11 rows: well inside Telegram's 100
SEARCH_MAX = 60


@callbacks.action("hg")
@dataclass(frozen=True)
class HomesPage:
    offset: int


@callbacks.action("hk")
@dataclass(frozen=True)
class PickHome:
    location_id: int
    offset: int


@callbacks.action("ha")
@dataclass(frozen=True)
class AllHomes:
    pass


@callbacks.action("hf")
@dataclass(frozen=True)
class FindHome:
    pass


@callbacks.action("hd")
@dataclass(frozen=True)
class HomesDone:
    pass


async def offer_homes(update: Update, context: BotContext, profile: Profile) -> None:
    """A new volunteer is asked where they could help (a new message, below the welcome)."""
    if not await locations.listed(context.services.db):
        return  # no locations yet: nothing to choose from
    # No draft yet: choosing takes effect at each tap, so there is no open form to cancel
    # until the volunteer searches.
    await _picker(update, context, profile, 0, new_message=True)


async def _keep(context: BotContext, profile: Profile, *, search: str, typing: bool) -> None:
    """The search lives in a draft row; only after "Find by name" is a typed message taken as
    a search (once), so a volunteer who ignores the question can still write freely."""
    services = context.services
    await drafts.save(
        services.db,
        telegram_id=profile.telegram_id,
        flow=HOMES_FLOW,
        awaiting="search" if typing else None,
        data={"search": search},
        now=services.now(),
    )


async def _search(context: BotContext, profile: Profile) -> str:
    draft = await drafts.load(context.services.db, telegram_id=profile.telegram_id, flow=HOMES_FLOW)
    return str(draft.data.get("search", "")) if draft is not None else ""


async def _picker(
    update: Update,
    context: BotContext,
    profile: Profile,
    offset: int,
    *,
    new_message: bool = False,
) -> None:
    db = context.services.db
    search = await _search(context, profile)
    choices = await locations.home_choices(
        db, telegram_id=profile.telegram_id, search=search, offset=offset, limit=LOCATIONS_PER_PAGE
    )
    if offset and offset >= choices.matching:  # an old page button: fewer match now
        offset = 0
        choices = await locations.home_choices(
            db, telegram_id=profile.telegram_id, search=search, offset=0, limit=LOCATIONS_PER_PAGE
        )
    chosen = {home.location_id for home in choices.homes}
    rows: list[Row] = [
        [
            (
                home_texts.location_button(location, location.location_id in chosen),
                PickHome(location_id=location.location_id, offset=offset),
            )
        ]
        for location in choices.shown
    ]
    rows.append(pager(offset, choices.matching, LOCATIONS_PER_PAGE, HomesPage))
    searchable = bool(search) or choices.matching > LOCATIONS_PER_PAGE
    step: list[tuple[str, object]] = []
    if searchable:
        step.append((home_texts.find_button(), FindHome()))
    if search:
        step.append((home_texts.show_all_button(), AllHomes()))
    step.append((home_texts.done_button(len(chosen)), HomesDone()))
    rows.append(step)
    text = home_texts.picker(choices, search, offset, searchable=searchable)
    if new_message:
        await say(update, text, keyboard(*rows))
    else:
        await show(update, text, keyboard(*rows))


@button(HomesPage)
async def homes_page(
    update: Update, context: BotContext, profile: Profile, page: HomesPage
) -> None:
    await _picker(update, context, profile, page.offset)


@button(PickHome)
async def pick_home(
    update: Update, context: BotContext, profile: Profile, picked: PickHome
) -> None:
    with contextlib.suppress(LookupError):  # archived meanwhile: the new screen drops it
        await locations.toggle_home(
            context.services.db, telegram_id=profile.telegram_id, location_id=picked.location_id
        )
    await _picker(update, context, profile, picked.offset)


@button(AllHomes)
async def all_homes(update: Update, context: BotContext, profile: Profile, _all: AllHomes) -> None:
    await flows.finish(context, profile.telegram_id, HOMES_FLOW)  # no search: no form left
    await _picker(update, context, profile, 0)


@button(FindHome)
async def find_home(update: Update, context: BotContext, profile: Profile, _find: FindHome) -> None:
    await _keep(context, profile, search=await _search(context, profile), typing=True)
    await say(update, home_texts.ask_search(), flows.cancel_keyboard(HOMES_FLOW))


async def on_search_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    search = one_line(text)[:SEARCH_MAX]
    await _keep(context, profile, search=search, typing=False)
    await _picker(update, context, profile, 0, new_message=True)


@button(HomesDone)
async def homes_done(
    update: Update, context: BotContext, profile: Profile, _done: HomesDone
) -> None:
    await flows.finish(context, profile.telegram_id, HOMES_FLOW)
    choices = await locations.home_choices(
        context.services.db, telegram_id=profile.telegram_id, search="", offset=0, limit=0
    )
    await show(update, home_texts.done(choices.homes))
