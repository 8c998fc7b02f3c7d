"""/cancelsessions, choosing where: a day's sessions at a chosen few locations (a page at a time,
found by typing part of a name, each ticked), or one location's sessions still to come (the
rest of this holiday, or all of them). Then the preview, as for a whole day
(handlers/bulk_cancel.py)."""

from __future__ import annotations

from datetime import date

from telegram import Update

from handlers import bulk_texts, choose, choose_texts, flows, texts
from handlers.bulk_cancel import preview
from handlers.bulk_form import (
    BULK_FLOW,
    BulkAtLocation,
    BulkChoosePlaces,
    BulkDay,
    BulkLocations,
    BulkPlacesDone,
    BulkSpan,
    BulkStart,
    BulkTogglePlace,
    chosen_ids,
    open_form,
    save,
)
from handlers.common import Row, button, say, show
from handlers.context import BotContext
from handlers.siteday import day_code, day_of
from storage import locations, rota_bulk
from storage.models import Role
from storage.people import Profile
from storage.rota_bulk import CHOSEN_MAX, Scope, Span

PLACES_LIST = "bulk_places"  # the locations with sessions on the day (handlers/choose.py)
LOCATION_LIST = "bulk_location"  # a location whose sessions to come are cancelled


# --- a day: a chosen few locations -----------------------------------------------------------


@button(BulkChoosePlaces, Role.COORDINATOR)
async def bulk_choose_places(
    update: Update, context: BotContext, profile: Profile, chosen: BulkChoosePlaces
) -> None:
    on = day_of(chosen.day)
    if on is None or await open_form(update, context, profile, {"day": on.isoformat()}) is None:
        return
    view = choose.View(kind=PLACES_LIST, args={"day": chosen.day}, offset=chosen.offset)
    await _places(update, context, profile, view)


@choose.listing(PLACES_LIST, Role.COORDINATOR)
async def _places(update: Update, context: BotContext, profile: Profile, view: choose.View) -> None:
    draft = await open_form(update, context, profile)
    if draft is None:
        return
    on = day_of(int(view.args.get("day", 0)))
    if on is None or draft.data.get("day") != on.isoformat():
        await show(update, texts.stale_button())
        return
    services = context.services
    search = await choose.search_for(context, profile.telegram_id, view)
    found = await rota_bulk.day_locations(
        services.db,
        actor_telegram_id=profile.telegram_id,
        day=on,
        now=services.now(),
        tz=services.settings.timezone,
        search=search,
        offset=view.offset,
        limit=choose.PER_PAGE,
    )
    picked = set(chosen_ids(draft.data))
    items: list[Row] = [
        [
            (
                choose_texts.label(bulk_texts.place_button(place, place.location_id in picked)),
                BulkTogglePlace(place.location_id, found.offset),
            )
        ]
        for place in found.shown
    ]
    code = day_code(on)
    rows = choose.rows(
        found, items, lambda offset: BulkChoosePlaces(code, offset), search, view.kind
    )
    if picked:
        rows.append([(bulk_texts.places_done_button(len(picked)), BulkPlacesDone())])
    rows.append([(bulk_texts.back_button(), BulkDay(code))])
    text = choose_texts.with_status(
        bulk_texts.choose_places(on, len(picked)), found, search, choose.PER_PAGE
    )
    await choose.present(update, view, text, flows.cancel_keyboard(BULK_FLOW, *rows))


@button(BulkTogglePlace, Role.COORDINATOR)
async def bulk_toggle_place(
    update: Update, context: BotContext, profile: Profile, chosen: BulkTogglePlace
) -> None:
    draft = await open_form(update, context, profile)
    if draft is None:
        return
    on = date.fromisoformat(str(draft.data.get("day")))
    # Raises OutOfScope (audited, answered kindly) for a location not the site lead's.
    await rota_bulk.may_choose(
        context.services.db, actor_telegram_id=profile.telegram_id, location_id=chosen.location_id
    )
    picked = chosen_ids(draft.data)
    if chosen.location_id in picked:
        picked.remove(chosen.location_id)
    elif len(picked) >= CHOSEN_MAX:
        await say(update, bulk_texts.too_many_chosen(CHOSEN_MAX))
        return
    else:
        picked.append(chosen.location_id)
    await save(context, profile, draft.data | {"chosen": picked})
    view = choose.View(kind=PLACES_LIST, args={"day": day_code(on)}, offset=chosen.offset)
    await _places(update, context, profile, view)


@button(BulkPlacesDone, Role.COORDINATOR)
async def bulk_places_done(
    update: Update, context: BotContext, profile: Profile, _done: BulkPlacesDone
) -> None:
    draft = await open_form(update, context, profile)
    if draft is None:
        return
    picked = chosen_ids(draft.data)
    if not picked or not draft.data.get("day"):
        await show(update, texts.stale_button())
        return
    await choose.leave(context, profile.telegram_id)
    scope = Scope(day=date.fromisoformat(str(draft.data["day"])), location_ids=frozenset(picked))
    await preview(update, context, profile, scope)


# --- a location's sessions to come ---------------------------------------------------------


@button(BulkLocations, Role.COORDINATOR)
async def bulk_locations(
    update: Update, context: BotContext, profile: Profile, page: BulkLocations
) -> None:
    if await open_form(update, context, profile) is None:
        return
    await save(context, profile, {})  # (no longer waiting for a day)
    await _locations(update, context, profile, choose.View(kind=LOCATION_LIST, offset=page.offset))


@choose.listing(LOCATION_LIST, Role.COORDINATOR)
async def _locations(
    update: Update, context: BotContext, profile: Profile, view: choose.View
) -> None:
    if await open_form(update, context, profile) is None:
        return
    search = await choose.search_for(context, profile.telegram_id, view)
    found = await locations.find(
        context.services.db,
        actor_telegram_id=profile.telegram_id,
        search=search,
        offset=view.offset,
        limit=choose.PER_PAGE,
    )
    items: list[Row] = [
        [(choose_texts.label(loc.name), BulkAtLocation(loc.location_id))] for loc in found.shown
    ]
    rows = choose.rows(found, items, BulkLocations, search, view.kind)
    rows.append([(bulk_texts.back_button(), BulkStart())])
    text = choose_texts.with_status(bulk_texts.ask_location(), found, search, choose.PER_PAGE)
    await choose.present(update, view, text, flows.cancel_keyboard(BULK_FLOW, *rows))


@button(BulkAtLocation, Role.COORDINATOR)
async def bulk_at_location(
    update: Update, context: BotContext, profile: Profile, chosen: BulkAtLocation
) -> None:
    if await open_form(update, context, profile) is None:
        return
    await choose.leave(context, profile.telegram_id)
    services = context.services
    ahead = await rota_bulk.location_ahead(
        services.db,
        actor_telegram_id=profile.telegram_id,
        location_id=chosen.location_id,
        now=services.now(),
        tz=services.settings.timezone,
    )
    await save(context, profile, {"location_id": ahead.location_id})
    rows: list[Row] = []
    if ahead.to_come:
        rows.append(
            [
                (
                    bulk_texts.holiday_button(ahead),
                    BulkSpan(ahead.location_id, Span.HOLIDAY),
                )
            ]
        )
        if ahead.to_come > ahead.this_holiday:
            rows.append(
                [(bulk_texts.all_to_come_button(ahead), BulkSpan(ahead.location_id, Span.ALL))]
            )
    rows.append([(bulk_texts.back_button(), BulkLocations(offset=0))])
    await show(update, bulk_texts.ask_span(ahead), flows.cancel_keyboard(BULK_FLOW, *rows))


@button(BulkSpan, Role.COORDINATOR)
async def bulk_span(
    update: Update, context: BotContext, profile: Profile, chosen: BulkSpan
) -> None:
    about = {"location_id": chosen.location_id}
    if await open_form(update, context, profile, about) is None:
        return
    services = context.services
    ahead = await rota_bulk.location_ahead(
        services.db,
        actor_telegram_id=profile.telegram_id,
        location_id=chosen.location_id,
        now=services.now(),
        tz=services.settings.timezone,
    )
    await preview(update, context, profile, rota_bulk.location_scope(ahead, chosen.span))
