"""One way to choose from a long list, for every screen that lists locations, people or
schools: a page of PER_PAGE at a time, and found by typing.

While a list is the last thing shown, the person's next text message searches it (any part of
a name, whatever its case or accents): the list comes back as a new message with what matches,
and "✖ Clear search" shows everything again. The search is the database's to answer (each
name has a folded key column), and it is kept in the person's list draft (storage.drafts), so
it survives a restart; each kind of list keeps its own, so that back from a location's card the
locations found are still there. Page buttons ("◀ Previous", "Next ▶") never share a label
with a step's buttons ("Continue ▶").

A screen registers its list with `@listing(kind, role)`: the function that shows it from a
View (what it lists, which page, in place or as a new message). That function asks
`search_for` for the search in force (which also marks its list as the one on screen), reads
one page from storage with it, lays the page out with `rows` and `choose_texts.with_status`,
and shows it with `present`. Choosing something from the list calls `leave`: typed text is
then no longer a search.

A list that chooses several things for a form (locations to plan at, to export) registers
`picks=Picks(flow, check)`: each name is then a `Pick` button that ticks it or unticks it (✓),
the ids kept in that form's draft under CHOSEN, and `pick_rows` lays the page out with the
screen's own "all of them" and "Continue" steps. One implementation, so that every such list
ticks, pages and searches alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from telegram import InlineKeyboardMarkup, Message, Update

from handlers import callbacks, choose_texts, flows, texts
from handlers.common import Row, audit_refusal, button, pager, say, show
from handlers.context import BotContext
from storage import drafts, locations
from storage.choosing import SEARCH_MAX, Page
from storage.errors import NotFound
from storage.models import Role
from storage.people import Profile
from storage.text import folded, one_line

LIST_FLOW = drafts.LIST_FLOW
# One page of any list: with the page buttons and a screen's own steps, 12 rows at most, far
# inside Telegram's 100 buttons; 8 names of the longest (100 characters) stay far inside its
# 4096 characters.
PER_PAGE = 8
# The key of a form's draft that holds what was picked from its list (ids, in the order picked).
CHOSEN = "chosen"

_F = TypeVar("_F", bound=Callable[..., Awaitable[None]])


@dataclass(frozen=True, kw_only=True)
class View:
    """Which list to show and how: what it lists (a day, a referral...: plain values, kept in
    the draft), from which row, and whether it answers a typed search (a new message, below
    the person's) or a button (the screen tapped, edited)."""

    kind: str
    args: dict[str, Any] = field(default_factory=dict)
    offset: int = 0
    fresh: bool = False  # opened by its command: no search yet
    typed: bool = False


Shows = Callable[[Update, BotContext, Profile, View], Awaitable[None]]
# Raises (OutOfScope, NotFound...: the error handler answers) for an id the person may not pick.
Check = Callable[[BotContext, Profile, int], Awaitable[object]]


@dataclass(frozen=True)
class Picks:
    """A list that picks several things for a form: the form whose draft keeps their ids (under
    CHOSEN), and the check of each id tapped (a button's id is untrusted)."""

    flow: str
    check: Check


@dataclass(frozen=True)
class _Listing:
    shows: Shows
    role: Role | None
    picks: Picks | None = None


_LISTINGS: dict[str, _Listing] = {}


def listing(kind: str, role: Role | None = None, picks: Picks | None = None) -> Callable[[_F], _F]:
    """Register the function that shows a kind of list (for `role` only, when given); with
    `picks`, its names are ticked and unticked for that form."""

    def register(shows: _F) -> _F:
        if kind in _LISTINGS or callbacks.SEPARATOR in kind:
            raise ValueError(f"list kind {kind!r} is taken or invalid")
        _LISTINGS[kind] = _Listing(shows=shows, role=role, picks=picks)
        return shows

    return register


@callbacks.action("zc")
@dataclass(frozen=True)
class ClearSearch:
    kind: str


@callbacks.action("zp")
@dataclass(frozen=True)
class Pick:
    """Tick (or untick) one name of a list that picks several."""

    kind: str
    item_id: int
    offset: int  # the page it was on, shown again


async def search_for(context: BotContext, telegram_id: int, view: View) -> str:
    """The search in force on this list; the list is now the one on screen, and the person's
    next text message searches it."""
    services = context.services
    return await drafts.list_shown(
        services.db,
        telegram_id=telegram_id,
        kind=view.kind,
        args=view.args,
        now=services.now(),
        fresh=view.fresh,
    )


def rows(
    found: Page[Any],
    items: list[Row],
    page: Callable[[int], object],
    search: str,
    kind: str,
) -> list[Row]:
    """A page's buttons: its items, then ◀ / ▶ (`page(offset)` makes their action), then
    "✖ Clear search" while searching. A screen adds its own steps below."""
    laid: list[Row] = [*items, pager(found.offset, found.matching, PER_PAGE, page)]
    if search:
        laid.append([(choose_texts.CLEAR_SEARCH, ClearSearch(kind=kind))])
    return laid


def chosen(data: Mapping[str, Any]) -> list[int]:
    """The ids a form's draft holds as picked from its list."""
    kept = data.get(CHOSEN)
    return [int(item) for item in kept] if isinstance(kept, list) else []


def pick_rows(
    found: Page[Any],
    names: Sequence[tuple[int, str]],
    picked: Collection[int],
    page: Callable[[int], object],
    search: str,
    kind: str,
    *,
    everything: tuple[str, object] | None = None,
    done: tuple[str, object] | None = None,
) -> list[Row]:
    """A page of a list that picks several: the screen's "all of them" step first (when it has
    one), each (id, name) as a Pick button ticked when picked, ◀ / ▶ and "✖ Clear search" as in
    every list, then the screen's step onwards once something is picked."""
    items: list[Row] = [
        [
            (
                choose_texts.label(name, choose_texts.PICKED if item in picked else ""),
                Pick(kind=kind, item_id=item, offset=found.offset),
            )
        ]
        for item, name in names
    ]
    laid: list[Row] = [[everything]] if everything is not None else []
    laid += rows(found, items, page, search, kind)
    if done is not None and picked:
        laid.append([done])
    return laid


async def open_location(context: BotContext, profile: Profile, location_id: int) -> None:
    """The check of a location ticked in a list of locations: one the person runs (else
    OutOfScope), and still open (else NotFound: archived since the list was shown)."""
    location = await locations.managed(
        context.services.db, actor_telegram_id=profile.telegram_id, location_id=location_id
    )
    if location.archived:
        raise NotFound("an archived location")


async def present(
    update: Update, view: View, text: str, markup: InlineKeyboardMarkup | None, note: str = ""
) -> Message | None:
    """Show the list: in place of the screen tapped, or below a typed search."""
    if view.typed:
        return await say(update, f"{note}\n\n{text}" if note else text, markup)
    return await show(update, text, markup, note=note)


async def leave(context: BotContext, telegram_id: int) -> None:
    """Something was chosen from the list: what is typed next is not a search of it."""
    await drafts.leave_list(context.services.db, telegram_id=telegram_id)


async def on_search_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    """A text message while a list is on screen: the list again, showing what matches."""
    db = context.services.db
    state = await drafts.list_state(db, telegram_id=profile.telegram_id)
    found = _LISTINGS.get(state.kind) if state is not None else None
    if state is None or found is None:
        await drafts.leave_list(db, telegram_id=profile.telegram_id)
        await say(update, choose_texts.nothing_listed())
        return
    if not await _allowed(update, context, profile, found.role):
        return
    search = one_line(text)
    if len(search) > SEARCH_MAX:
        await say(update, choose_texts.search_too_long(SEARCH_MAX))
        return
    if not folded(search):
        await say(update, choose_texts.search_empty())
        return
    await drafts.list_shown(
        db,
        telegram_id=profile.telegram_id,
        kind=state.kind,
        args=state.args,
        now=context.services.now(),
        search=search,
    )
    await found.shows(update, context, profile, View(kind=state.kind, args=state.args, typed=True))


@button(ClearSearch)
async def clear_search(
    update: Update, context: BotContext, profile: Profile, chosen: ClearSearch
) -> None:
    services = context.services
    state = await drafts.list_state(services.db, telegram_id=profile.telegram_id, kind=chosen.kind)
    found = _LISTINGS.get(chosen.kind)
    if state is None or found is None:
        await show(update, texts.stale_button())
        return
    if not await _allowed(update, context, profile, found.role):
        return
    await drafts.list_shown(
        services.db,
        telegram_id=profile.telegram_id,
        kind=chosen.kind,
        args=state.args,
        now=services.now(),
        search="",
    )
    await found.shows(update, context, profile, View(kind=chosen.kind, args=state.args))


@button(Pick)
async def pick(update: Update, context: BotContext, profile: Profile, picked: Pick) -> None:
    """Tick or untick one name; the page is shown again as it was."""
    services = context.services
    found = _LISTINGS.get(picked.kind)
    if found is None or found.picks is None:
        await show(update, texts.stale_button())
        return
    if not await _allowed(update, context, profile, found.role):
        return
    draft = await flows.still_open(update, context, profile.telegram_id, found.picks.flow)
    if draft is None:
        return
    state = await drafts.list_state(services.db, telegram_id=profile.telegram_id, kind=picked.kind)
    if state is None:  # this form never showed that list: a forged tap
        await show(update, texts.stale_button())
        return
    await found.picks.check(context, profile, picked.item_id)
    ids = chosen(draft.data)
    if picked.item_id in ids:
        ids.remove(picked.item_id)
    else:
        ids.append(picked.item_id)
    await drafts.save(
        services.db,
        telegram_id=profile.telegram_id,
        flow=found.picks.flow,
        awaiting=draft.awaiting,
        data=draft.data | {CHOSEN: ids},
        now=services.now(),
    )
    view = View(kind=picked.kind, args=state.args, offset=picked.offset)
    await found.shows(update, context, profile, view)


async def _allowed(
    update: Update, context: BotContext, profile: Profile, role: Role | None
) -> bool:
    """The list's role, re-checked: a role can be lost while its list is on screen."""
    if role is None or profile.has(role):
        return True
    await audit_refusal(update, context, f"needs {role.value}")
    await say(update, texts.not_allowed(role))
    return False
