"""/cancelsessions: a coordinator cancels many sessions at once, and everyone is told once.

A day (a snow day): its sessions still to come at every location, or at those chosen (a page
at a time, found by typing part of a name); or a location's sessions still to come (the rest
of this holiday, or all of them: a venue lost). The preview says how many sessions, and whom
the cancel tells (each volunteer once however many of the sessions they were on, each placed
family through its school), and names the people on them without Telegram, whom only the
coordinator can tell. "Yes, cancel" cancels them all in one transaction
(storage.rota_bulk.cancel) and answers with what was done, counted as it was done.

It is a form (flow "bulk_cancel"): its draft holds the day, the locations chosen and the
preview's token, so a restart carries on, /cancel or ✖ Cancel ends it, and a tap on an older
preview (or on a closed form) cancels nothing. A site lead does all this at their own
locations only.
"""

from __future__ import annotations

import secrets
from datetime import date

from telegram import Update

from handlers import bulk_texts, flows, texts
from handlers.bulk_form import (
    BULK_FLOW,
    BulkAtLocation,
    BulkChoosePlaces,
    BulkConfirm,
    BulkDay,
    BulkEverywhere,
    BulkLocations,
    BulkStart,
    open_form,
    save,
)
from handlers.common import Row, button, command, say, show
from handlers.context import BotContext, Services
from handlers.siteday import day_code, day_of
from storage import drafts, locations, rota_bulk
from storage.models import Role
from storage.people import Profile
from storage.rota_bulk import Scope

TOKEN_MAX = 2**31 - 1


# --- what to cancel: a day -------------------------------------------------------------------


@command(Role.COORDINATOR)
async def cancel_sessions_command(update: Update, context: BotContext, profile: Profile) -> None:
    # A new /cancelsessions starts afresh: a half-made one is forgotten.
    await flows.begin(context, profile.telegram_id, BULK_FLOW)
    await _start(update, context, profile, new_message=True)


@button(BulkStart, Role.COORDINATOR)
async def bulk_start(
    update: Update, context: BotContext, profile: Profile, _back: BulkStart
) -> None:
    if await open_form(update, context, profile) is None:
        return
    await _start(update, context, profile)


async def _start(
    update: Update, context: BotContext, profile: Profile, *, new_message: bool = False
) -> None:
    services = context.services
    days = await rota_bulk.days_ahead(
        services.db,
        actor_telegram_id=profile.telegram_id,
        now=services.now(),
        tz=services.settings.timezone,
    )
    # The next message typed is the day's date.
    await flows.wait_for_text(context, profile.telegram_id, BULK_FLOW, "day")
    rows: list[Row] = [
        [(bulk_texts.day_button(found), BulkDay(day_code(found.day)))] for found in days
    ]
    rows.append([(bulk_texts.location_button(), BulkLocations(offset=0))])
    markup = flows.cancel_keyboard(BULK_FLOW, *rows)
    if new_message:
        await say(update, bulk_texts.ask_what(days), markup)
    else:
        await show(update, bulk_texts.ask_what(days), markup)


async def on_bulk_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    """The day, typed."""
    draft = await drafts.load(context.services.db, telegram_id=profile.telegram_id, flow=BULK_FLOW)
    if draft is None or draft.awaiting != "day":
        return
    on = rota_bulk.day_of(text, today=_today(context.services))
    if on is None:
        await say(update, bulk_texts.day_invalid())
        return
    await _where(update, context, profile, on, new_message=True)


@button(BulkDay, Role.COORDINATOR)
async def bulk_day(update: Update, context: BotContext, profile: Profile, chosen: BulkDay) -> None:
    on = day_of(chosen.day)
    if on is None or await open_form(update, context, profile) is None:
        if on is None:
            await show(update, texts.stale_button())
        return
    await _where(update, context, profile, on)


async def _where(
    update: Update, context: BotContext, profile: Profile, on: date, *, new_message: bool = False
) -> None:
    """The day chosen: every location's sessions that day, or a chosen few."""
    services = context.services
    await save(context, profile, {"day": on.isoformat(), "chosen": []})
    found = await rota_bulk.preview(
        services.db,
        actor_telegram_id=profile.telegram_id,
        scope=Scope(day=on),
        now=services.now(),
        tz=services.settings.timezone,
    )
    code = day_code(on)
    rows: list[Row] = []
    if found.sessions:
        rows.append([(bulk_texts.everywhere_button(found.sessions), BulkEverywhere(code))])
        if found.locations > 1:
            rows.append([(bulk_texts.choose_button(), BulkChoosePlaces(code, 0))])
    rows.append([(bulk_texts.another_day_button(), BulkStart())])
    text = bulk_texts.ask_where(on, found.locations, found.sessions)
    markup = flows.cancel_keyboard(BULK_FLOW, *rows)
    if new_message:
        await say(update, text, markup)
    else:
        await show(update, text, markup)


@button(BulkEverywhere, Role.COORDINATOR)
async def bulk_everywhere(
    update: Update, context: BotContext, profile: Profile, chosen: BulkEverywhere
) -> None:
    on = day_of(chosen.day)
    if on is None or await open_form(update, context, profile, {"day": on.isoformat()}) is None:
        return
    await preview(update, context, profile, Scope(day=on))


# --- the preview, and the cancel -------------------------------------------------------------


async def preview(update: Update, context: BotContext, profile: Profile, scope: Scope) -> None:
    services = context.services
    found = await rota_bulk.preview(
        services.db,
        actor_telegram_id=profile.telegram_id,
        scope=scope,
        now=services.now(),
        tz=services.settings.timezone,
    )
    where = await _where_words(context, scope, found)
    token = secrets.randbelow(TOKEN_MAX) + 1
    draft = await drafts.load(services.db, telegram_id=profile.telegram_id, flow=BULK_FLOW)
    data = dict(draft.data) if draft is not None else {}
    await save(context, profile, data | {"scope": scope.to_data(), "token": token})
    rows: list[Row] = []
    if found.sessions:
        rows.append([(bulk_texts.confirm_button(found.sessions), BulkConfirm(token))])
    rows.append([(bulk_texts.back_button(), _back_from_preview(scope))])
    await show(update, bulk_texts.preview(found, where), flows.cancel_keyboard(BULK_FLOW, *rows))


@button(BulkConfirm, Role.COORDINATOR)
async def bulk_confirm(
    update: Update, context: BotContext, profile: Profile, chosen: BulkConfirm
) -> None:
    services = context.services
    draft = await drafts.load(services.db, telegram_id=profile.telegram_id, flow=BULK_FLOW)
    if draft is not None and draft.finished and draft.data.get("token") == chosen.token:
        await show(update, str(draft.data.get("done", "")))  # a double tap: the same answer
        return
    draft = await open_form(update, context, profile, {"token": chosen.token})
    if draft is None:
        return
    scope = Scope.from_data(draft.data.get("scope"))
    if scope is None:
        await show(update, texts.stale_button())
        return
    tz = services.settings.timezone
    result = await rota_bulk.cancel(
        services.db, actor_telegram_id=profile.telegram_id, scope=scope, now=services.now(), tz=tz
    )
    where = await _where_words(context, scope, result)
    answer = bulk_texts.done(result, where)
    # Kept, finished, so that a second tap gets the same answer (and cancels nothing more).
    await drafts.save(
        services.db,
        telegram_id=profile.telegram_id,
        flow=BULK_FLOW,
        awaiting=None,
        data=dict(draft.data) | {"done": answer},
        now=services.now(),
        finished=True,
    )
    await show(update, answer)


def _back_from_preview(scope: Scope) -> object:
    if scope.day is not None:
        return BulkDay(day_code(scope.day))
    (location_id,) = scope.location_ids or {0}
    return BulkAtLocation(location_id)


async def _where_words(context: BotContext, scope: Scope, found: rota_bulk.Preview) -> str:
    """Where and when the scope's sessions are, in words: 'on Thu 13 Aug at every location',
    'at St Mark's, Mon 3 Aug to Fri 28 Aug'."""
    name = None
    if scope.location_ids is not None and len(scope.location_ids) == 1:
        (only,) = scope.location_ids
        location = await locations.get(context.services.db, only)
        name = location.name if location is not None else None
    if scope.day is None:
        at = bulk_texts.where(False, 1, name)
        when = bulk_texts.span(found.first, found.last, context.services.settings.timezone)
        return f"{at}, {when}" if when else at
    every = scope.location_ids is None
    return f"on {bulk_texts.day(scope.day)} {bulk_texts.where(every, found.locations, name)}"


def _today(services: Services) -> date:
    return services.now().astimezone(services.settings.timezone).date()
