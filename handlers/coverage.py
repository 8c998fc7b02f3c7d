"""/coverage, for coordinators: the places still to fill at the sessions ahead, grouped by
location, worst gaps first, over a horizon they choose (the next 7, 14 or 28 days, or the rest
of the holiday, reckoned as /export reckons it). The locations are a list of handlers/choose.py
(a page at a time, found by typing part of a name); a location shows its sessions to fill, and
a session its card (handlers/siteday.py), where cover is asked for."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Update

from handlers import callbacks, choose, choose_texts, coverage_texts, rota_texts
from handlers.common import Row, button, command, keyboard, pager, show
from handlers.context import BotContext
from handlers.siteday import CoveragePage, OpenSessionAdmin
from storage import coverage, drafts, locations
from storage.coverage import Horizon
from storage.models import Role
from storage.people import Profile

COVERAGE_LIST = "coverage"  # the locations with places to fill (handlers/choose.py)
SESSIONS_PER_PAGE = 8  # a location's sessions: with the pager and the way back, 10 rows


@callbacks.action("gh")
@dataclass(frozen=True)
class CoverageHorizon:
    horizon: Horizon


@callbacks.action("gl")
@dataclass(frozen=True)
class CoverageAt:
    """One location's sessions to fill."""

    location_id: int
    horizon: Horizon
    offset: int = 0


@command(Role.COORDINATOR)
async def coverage_command(update: Update, context: BotContext, profile: Profile) -> None:
    view = choose.View(kind=COVERAGE_LIST, args={"horizon": Horizon.WEEK.value}, fresh=True)
    await _coverage(update, context, profile, view)


@button(CoverageHorizon, Role.COORDINATOR)
async def coverage_horizon(
    update: Update, context: BotContext, profile: Profile, chosen: CoverageHorizon
) -> None:
    view = choose.View(kind=COVERAGE_LIST, args={"horizon": chosen.horizon.value})
    await _coverage(update, context, profile, view)


@button(CoveragePage, Role.COORDINATOR)
async def coverage_page(
    update: Update, context: BotContext, profile: Profile, page: CoveragePage
) -> None:
    """A page of the list, or back to it from a session's card: as it was last shown."""
    state = await drafts.list_state(
        context.services.db, telegram_id=profile.telegram_id, kind=COVERAGE_LIST
    )
    args = state.args if state is not None else {"horizon": Horizon.WEEK.value}
    await _coverage(
        update, context, profile, choose.View(kind=COVERAGE_LIST, args=args, offset=page.offset)
    )


@choose.listing(COVERAGE_LIST, Role.COORDINATOR)
async def _coverage(
    update: Update, context: BotContext, profile: Profile, view: choose.View
) -> None:
    services = context.services
    tz, now = services.settings.timezone, services.now()
    horizon = _horizon(view.args.get("horizon"))
    search = await choose.search_for(context, profile.telegram_id, view)
    span = await coverage.span(
        services.db, actor_telegram_id=profile.telegram_id, horizon=horizon, now=now, tz=tz
    )
    horizons = _horizons(horizon)
    if span is None:
        await choose.present(update, view, coverage_texts.nothing_this_holiday(), horizons)
        return
    found = await coverage.coverage(
        services.db, actor_telegram_id=profile.telegram_id, within=span, now=now
    )
    shown = coverage.page(found, search=search, offset=view.offset, limit=choose.PER_PAGE)
    items: list[Row] = [
        [(choose_texts.label(place.name), CoverageAt(place.location_id, horizon))]
        for place in shown.shown
    ]
    rows = choose.rows(shown, items, CoveragePage, search, view.kind)
    text = coverage_texts.coverage(found, shown, tz)
    if found.locations:
        text = choose_texts.with_status(text, shown, search, choose.PER_PAGE)
    await choose.present(update, view, text, keyboard(*rows, *_horizon_rows(horizon)))


@button(CoverageAt, Role.COORDINATOR)
async def coverage_at(
    update: Update, context: BotContext, profile: Profile, chosen: CoverageAt
) -> None:
    services = context.services
    tz, now = services.settings.timezone, services.now()
    await choose.leave(context, profile.telegram_id)
    span = await coverage.span(
        services.db, actor_telegram_id=profile.telegram_id, horizon=chosen.horizon, now=now, tz=tz
    )
    if span is None:
        await show(update, coverage_texts.nothing_this_holiday(), _horizons(chosen.horizon))
        return
    # Raises OutOfScope (audited, told kindly) for a site lead's other locations.
    shown = await coverage.gaps_at(
        services.db,
        actor_telegram_id=profile.telegram_id,
        location_id=chosen.location_id,
        within=span,
        now=now,
        offset=chosen.offset,
        limit=SESSIONS_PER_PAGE,
    )
    name = await _name(context, chosen.location_id)
    rows: list[Row] = [
        [(rota_texts.session_button(view, tz), OpenSessionAdmin(view.session_id))]
        for view in shown.shown
    ]
    rows.append(
        pager(
            shown.offset,
            shown.matching,
            SESSIONS_PER_PAGE,
            lambda offset: CoverageAt(chosen.location_id, chosen.horizon, offset),
        )
    )
    rows.append([(coverage_texts.all_locations_button(), CoveragePage(0))])
    await show(update, coverage_texts.gaps_at(name, span, shown, tz), keyboard(*rows))


async def _name(context: BotContext, location_id: int) -> str:
    found = await locations.get(context.services.db, location_id)
    return found.name if found is not None else "?"


def _horizon(value: object) -> Horizon:
    try:
        return Horizon(str(value))
    except ValueError:  # a draft from before, or nothing: the week ahead
        return Horizon.WEEK


def _horizon_rows(chosen: Horizon) -> list[Row]:
    """The four horizons, two a row (a phone's width), the one shown marked."""
    buttons = [
        (coverage_texts.horizon_button(horizon, chosen), CoverageHorizon(horizon))
        for horizon in Horizon
    ]
    return [buttons[:2], buttons[2:]]


def _horizons(chosen: Horizon) -> InlineKeyboardMarkup:
    return keyboard(*_horizon_rows(chosen))
