"""/people at the programme's size (10,000 people): found by typing part of a name, narrowed
by a filter (a role, safeguarding checks missing or running out, blocked the bot, not seen this
holiday) and a location, a page at a time, with a count for each filter; and "Message these N
people", which starts a broadcast to exactly whom the list picks out (handlers/broadcast.py:
preview, confirm, the outbox).

The list is one of handlers/choose.py's: the search and the filter are kept in the person's
list draft, so they survive a restart and are there again back from a person's card. The card
and what a coordinator changes on it are handlers/coordination.py's."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from telegram import Update

from handlers import broadcast, callbacks, choose, choose_texts, people_texts
from handlers.common import Row, button, command, keyboard, show
from handlers.context import BotContext
from storage import directory, drafts, locations
from storage.directory import Selection, Show
from storage.models import Role
from storage.people import Profile
from storage.text import folded

PEOPLE_LIST = "people"
WHERE_LIST = "people_where"  # the location whose people are listed
ANY_LOCATION = 0  # on a button: no location chosen
TOKEN_MAX = 2**31 - 1


@callbacks.action("pp")
@dataclass(frozen=True)
class PeoplePage:
    offset: int


@callbacks.action("pc")
@dataclass(frozen=True)
class PersonCard:
    person_id: int


@callbacks.action("zf")
@dataclass(frozen=True)
class PeopleFilters:
    pass


@callbacks.action("zw")
@dataclass(frozen=True)
class PeopleShow:
    show: Show


@callbacks.action("zh")
@dataclass(frozen=True)
class PeopleWhere:
    offset: int


@callbacks.action("za")
@dataclass(frozen=True)
class PeopleAt:
    location_id: int  # ANY_LOCATION: everyone's, whatever their locations


@callbacks.action("zm")
@dataclass(frozen=True)
class MessagePeople:
    """The list as it was shown: a tap on an older list (another filter or search since) does
    not write to whom the newer one picks out."""

    show: Show
    location_id: int
    search: int  # a checksum of the search shown


# --- the list --------------------------------------------------------------------------------


@command(Role.COORDINATOR)
async def people_command(update: Update, context: BotContext, profile: Profile) -> None:
    view = choose.View(kind=PEOPLE_LIST, args=_args(Selection()), fresh=True)
    await _people(update, context, profile, view)


@button(PeoplePage, Role.COORDINATOR)
async def people_page(
    update: Update, context: BotContext, profile: Profile, page: PeoplePage
) -> None:
    chosen = await _selection(context, profile)
    await _people(update, context, profile, _view(chosen, page.offset))


@choose.listing(PEOPLE_LIST, Role.COORDINATOR)
async def _people(
    update: Update, context: BotContext, profile: Profile, view: choose.View, note: str = ""
) -> None:
    services = context.services
    search = await choose.search_for(context, profile.telegram_id, view)
    chosen = _selected(view.args, search)
    found = await directory.find(
        services.db,
        actor_telegram_id=profile.telegram_id,
        chosen=chosen,
        offset=view.offset,
        limit=choose.PER_PAGE,
        now=services.now(),
    )
    items: list[Row] = [
        [
            (
                choose_texts.label(people_texts.button_name(person)),
                PersonCard(person_id=person.person_id),
            )
        ]
        for person in found.page.shown
    ]
    rows = choose.rows(
        found.page, items, lambda offset: PeoplePage(offset=offset), search, view.kind
    )
    rows.append([(people_texts.filters_button(chosen, found.location_name), PeopleFilters())])
    if found.reachable:
        rows.append(
            [
                (
                    people_texts.message_button(found.reachable),
                    MessagePeople(
                        show=chosen.show,
                        location_id=chosen.location_id or ANY_LOCATION,
                        search=_checksum(search),
                    ),
                )
            ]
        )
    text = choose_texts.with_status(
        people_texts.listing(found, chosen), found.page, search, choose.PER_PAGE
    )
    await choose.present(update, view, text, keyboard(*rows), note=note)


# --- the filters -----------------------------------------------------------------------------


@button(PeopleFilters, Role.COORDINATOR)
async def people_filters(
    update: Update, context: BotContext, profile: Profile, _opened: PeopleFilters
) -> None:
    services = context.services
    chosen = await _selection(context, profile)
    figures, holiday = await directory.counts(
        services.db, actor_telegram_id=profile.telegram_id, chosen=chosen, now=services.now()
    )
    name = await _location_name(context, chosen.location_id)
    shows: list[tuple[str, object]] = [
        (people_texts.show_button(show, figures[show], chosen.show), PeopleShow(show=show))
        for show in Show
    ]
    rows: list[Row] = [[item] for item in shows]
    where: list[tuple[str, object]] = [
        (
            choose_texts.label(f"📍 {name}", "✓ ") if name else people_texts.AT_A_LOCATION,
            PeopleWhere(offset=0),
        )
    ]
    if chosen.location_id is not None:
        where.append((people_texts.ANY_LOCATION, PeopleAt(location_id=ANY_LOCATION)))
    rows.append(where)
    rows.append([(people_texts.BACK_TO_LIST, PeoplePage(offset=0))])
    text = people_texts.filters(chosen, name, holiday, scoped=profile.scoped)
    await show(update, text, keyboard(*rows))


@button(PeopleShow, Role.COORDINATOR)
async def people_show(
    update: Update, context: BotContext, profile: Profile, chosen: PeopleShow
) -> None:
    before = await _selection(context, profile)
    after = Selection(show=chosen.show, location_id=before.location_id, search=before.search)
    await _people(update, context, profile, _view(after, 0))


@button(PeopleWhere, Role.COORDINATOR)
async def people_where(
    update: Update, context: BotContext, profile: Profile, page: PeopleWhere
) -> None:
    await _where(update, context, profile, choose.View(kind=WHERE_LIST, offset=page.offset))


@choose.listing(WHERE_LIST, Role.COORDINATOR)
async def _where(update: Update, context: BotContext, profile: Profile, view: choose.View) -> None:
    search = await choose.search_for(context, profile.telegram_id, view)
    found = await locations.find(
        context.services.db,
        actor_telegram_id=profile.telegram_id,
        search=search,
        offset=view.offset,
        limit=choose.PER_PAGE,
    )
    items: list[Row] = [
        [(choose_texts.label(loc.name), PeopleAt(location_id=loc.location_id))]
        for loc in found.shown
    ]
    rows = choose.rows(found, items, lambda offset: PeopleWhere(offset=offset), search, view.kind)
    rows.append([(people_texts.BACK_TO_FILTERS, PeopleFilters())])
    text = choose_texts.with_status(
        people_texts.where(scoped=profile.scoped), found, search, choose.PER_PAGE
    )
    await choose.present(update, view, text, keyboard(*rows))


@button(PeopleAt, Role.COORDINATOR)
async def people_at(
    update: Update, context: BotContext, profile: Profile, chosen: PeopleAt
) -> None:
    before = await _selection(context, profile)
    location_id = chosen.location_id if chosen.location_id != ANY_LOCATION else None
    if location_id is not None:  # re-checked: a site lead only lists their own locations
        await locations.managed(
            context.services.db, actor_telegram_id=profile.telegram_id, location_id=location_id
        )
    after = Selection(show=before.show, location_id=location_id, search=before.search)
    await _people(update, context, profile, _view(after, 0))


# --- writing to them -------------------------------------------------------------------------


@button(MessagePeople, Role.COORDINATOR)
async def message_people(
    update: Update, context: BotContext, profile: Profile, asked: MessagePeople
) -> None:
    chosen = await _selection(context, profile)
    shown = (
        asked.show is chosen.show
        and (asked.location_id or None) == chosen.location_id
        and asked.search == _checksum(chosen.search)
    )
    if not shown:  # an older list: show the one whose people a message would reach now
        await _people(update, context, profile, _view(chosen, 0), note=people_texts.changed())
        return
    await choose.leave(context, profile.telegram_id)
    await broadcast.to_people(update, context, profile, chosen)


# --- inside ----------------------------------------------------------------------------------


async def _selection(context: BotContext, profile: Profile) -> Selection:
    """The filter and search of the person's /people, as last shown (none yet: everyone)."""
    state = await drafts.list_state(
        context.services.db, telegram_id=profile.telegram_id, kind=PEOPLE_LIST
    )
    if state is None:
        return Selection()
    return _selected(state.args, state.search)


def _selected(args: dict[str, Any], search: str) -> Selection:
    return Selection.from_data(args | {"search": search})


def _args(chosen: Selection) -> dict[str, Any]:
    return {"show": chosen.show.value, "location_id": chosen.location_id}


def _view(chosen: Selection, offset: int) -> choose.View:
    return choose.View(kind=PEOPLE_LIST, args=_args(chosen), offset=offset)


def _checksum(search: str) -> int:
    return zlib.crc32(folded(search).encode()) & TOKEN_MAX


async def _location_name(context: BotContext, location_id: int | None) -> str | None:
    if location_id is None:
        return None
    location = await locations.get(context.services.db, location_id)
    return location.name if location is not None else None
