"""/export, for coordinators: the rota as a spreadsheet, or a session's printable sign-in sheet.

The rota: a period (this week, next week, the rest of the holiday, or typed dates), then all
locations or some, ticked a page at a time or found by typing part of a name (the long list of
handlers/choose.py, picking several); the answer is a CSV file with a row for every place.
The sheet: a location here (one picked from the same kind of list), then one of its sessions
from today in handlers/exports_sheet.py. A site lead who runs one location skips the choosing.

It is a form (flow "export", handlers/export_form.py): its draft holds the period and the
locations chosen (the search is the list's, kept with it), so a restart carries on and a
button of a closed form changes nothing."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import Any

from telegram import InputFile, Update

from handlers import (
    callbacks,
    choose,
    choose_texts,
    export_form,
    export_texts,
    exports_sheet,
    flows,
    texts,
)
from handlers.common import Row, button, command, say, show
from handlers.context import BotContext
from handlers.export_form import EXPORT_FLOW, ROTA, SHEET, ExportPlaces
from handlers.impact import parse_period
from handlers.siteday import day_code, day_of
from storage import drafts, exports, locations
from storage.models import Role
from storage.people import Profile

ROTA_LIST = "export_rota"  # the locations of the rota, several picked (handlers/choose.py)
SHEET_LIST = "export_sheet"  # the location of a sign-in sheet
FILE_MAX_BYTES = 50 * 1024 * 1024  # the largest file a bot may send (Bot API sendDocument)


class Preset(enum.StrEnum):
    THIS_WEEK = "t"
    NEXT_WEEK = "n"
    REST = "r"  # the rest of the holiday


@callbacks.action("xp")
@dataclass(frozen=True)
class ExportPeriod:
    preset: Preset


@callbacks.action("xd")
@dataclass(frozen=True)
class ExportDates:
    pass


@callbacks.action("xa")
@dataclass(frozen=True)
class ExportAll:
    pass


@callbacks.action("xc")
@dataclass(frozen=True)
class ExportChosen:
    pass


@callbacks.action("xs")
@dataclass(frozen=True)
class ExportSheets:
    """A sign-in sheet instead of the rota: choose a location."""


# --- the period ------------------------------------------------------------------------------


@command(Role.COORDINATOR)
async def export_command(update: Update, context: BotContext, profile: Profile) -> None:
    today = export_form.today(context.services)
    this_week, next_week = exports.this_week(today), exports.next_week(today)
    rows: list[Row] = [
        [(export_texts.this_week_button(*this_week), ExportPeriod(Preset.THIS_WEEK))],
        [(export_texts.next_week_button(*next_week), ExportPeriod(Preset.NEXT_WEEK))],
        [(export_texts.rest_button(), ExportPeriod(Preset.REST))],
        [(export_texts.dates_button(), ExportDates())],
        [(export_texts.sheet_button(), ExportSheets())],
    ]
    await flows.begin(context, profile.telegram_id, EXPORT_FLOW)
    await show(update, export_texts.choose_period(), flows.cancel_keyboard(EXPORT_FLOW, *rows))


@button(ExportPeriod, Role.COORDINATOR)
async def export_period(
    update: Update, context: BotContext, profile: Profile, chosen: ExportPeriod
) -> None:
    if await export_form.form(update, context, profile) is None:
        return
    services = context.services
    today = export_form.today(services)
    match chosen.preset:
        case Preset.THIS_WEEK:
            period: tuple[date, date] | None = exports.this_week(today)
        case Preset.NEXT_WEEK:
            period = exports.next_week(today)
        case Preset.REST:
            period = await exports.holiday_left(
                services.db,
                actor_telegram_id=profile.telegram_id,
                today=today,
                tz=services.settings.timezone,
            )
    if period is None:
        await say(update, export_texts.nothing_planned())
        return
    await _period_chosen(update, context, profile, *period)


@button(ExportDates, Role.COORDINATOR)
async def export_dates(
    update: Update, context: BotContext, profile: Profile, _chosen: ExportDates
) -> None:
    if await export_form.form(update, context, profile) is None:
        return
    await flows.wait_for_text(context, profile.telegram_id, EXPORT_FLOW, "dates")
    await show(update, export_texts.ask_dates(), flows.cancel_keyboard(EXPORT_FLOW))


async def on_export_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    """Typed dates (a list of locations on screen hears its own search: handlers/choose.py)."""
    draft = await drafts.load(
        context.services.db, telegram_id=profile.telegram_id, flow=EXPORT_FLOW
    )
    if draft is not None and draft.awaiting == "dates":
        await _typed_dates(update, context, profile, text)


async def _typed_dates(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    """Asked again until the dates make sense (or /cancel)."""
    chosen = parse_period(text)
    if chosen is None:
        await say(update, export_texts.dates_unreadable())
        return
    problem = exports.period_problem(*chosen, today=export_form.today(context.services))
    if problem is not None:
        await say(update, export_texts.period_refused(problem))
        return
    await _period_chosen(update, context, profile, *chosen, new_message=True)


async def _period_chosen(
    update: Update,
    context: BotContext,
    profile: Profile,
    first: date,
    last: date,
    *,
    new_message: bool = False,
) -> None:
    data = {"make": ROTA, "first": day_code(first), "last": day_code(last), choose.CHOSEN: []}
    await export_form.save(context, profile, data, awaiting=None)
    await _places(
        update, context, profile, choose.View(kind=ROTA_LIST, fresh=True, typed=new_message)
    )


# --- the locations ---------------------------------------------------------------------------


@button(ExportSheets, Role.COORDINATOR)
async def export_sheets(
    update: Update, context: BotContext, profile: Profile, _chosen: ExportSheets
) -> None:
    if await export_form.form(update, context, profile) is None:
        return
    await export_form.save(context, profile, {"make": SHEET}, awaiting=None)
    await _places(update, context, profile, choose.View(kind=SHEET_LIST, fresh=True))


@button(ExportPlaces, Role.COORDINATOR)
async def export_places(
    update: Update, context: BotContext, profile: Profile, page: ExportPlaces
) -> None:
    draft = await export_form.form(update, context, profile)
    if draft is None:
        return
    kind = SHEET_LIST if draft.data.get("make") == SHEET else ROTA_LIST
    await _places(update, context, profile, choose.View(kind=kind, offset=page.offset))


async def _places(update: Update, context: BotContext, profile: Profile, view: choose.View) -> None:
    """The locations to choose from: several for the rota, one for a sheet. With a single
    location (a site lead's) there is nothing to choose, and the answer comes at once."""
    draft = await drafts.load(
        context.services.db, telegram_id=profile.telegram_id, flow=EXPORT_FLOW
    )
    data = draft.data if draft is not None else {}
    if data.get("make") not in (ROTA, SHEET):  # a forged page button: no period chosen yet
        await show(update, texts.stale_button())
        return
    run = await locations.find(
        context.services.db, actor_telegram_id=profile.telegram_id, search="", offset=0, limit=1
    )
    if run.matching <= 1:
        if run.matching == 0:
            await flows.finish(context, profile.telegram_id, EXPORT_FLOW)
            await export_form.reply(
                update, export_texts.no_locations(), None, new_message=view.typed
            )
        elif data.get("make") == SHEET:
            location_id = run.shown[0].location_id
            await exports_sheet.sessions(update, context, profile, location_id, 0, alone=True)
        else:
            await _export(update, context, profile, data, None, new_message=view.typed)
        return
    if data.get("make") == SHEET:
        await _sheet_places(update, context, profile, view)
    else:
        await _rota_places(update, context, profile, view)


@choose.listing(ROTA_LIST, Role.COORDINATOR, choose.Picks(EXPORT_FLOW, choose.open_location))
async def _rota_places(
    update: Update, context: BotContext, profile: Profile, view: choose.View
) -> None:
    draft = await export_form.form(update, context, profile)
    if draft is None:
        return
    if draft.data.get("make") != ROTA:
        await show(update, texts.stale_button())
        return
    db = context.services.db
    search = await choose.search_for(context, profile.telegram_id, view)
    found = await locations.find(
        db,
        actor_telegram_id=profile.telegram_id,
        search=search,
        offset=view.offset,
        limit=choose.PER_PAGE,
    )
    everywhere = await locations.find(
        db, actor_telegram_id=profile.telegram_id, search="", offset=0, limit=0
    )
    picked = await locations.some(db, choose.chosen(draft.data))
    picked = [place for place in picked if not place.archived]
    rows = choose.pick_rows(
        found,
        [(place.location_id, place.name) for place in found.shown],
        {place.location_id for place in picked},
        lambda offset: ExportPlaces(offset=offset),
        search,
        view.kind,
        everything=(
            export_texts.all_locations_button(
                everywhere.matching, whole_programme=not profile.scoped
            ),
            ExportAll(),
        ),
        done=(choose_texts.continue_button(len(picked)), ExportChosen()),
    )
    text = export_texts.choose_locations(
        _first(draft.data), _last(draft.data), [place.name for place in picked]
    )
    text = choose_texts.with_status(text, found, search, choose.PER_PAGE)
    await choose.present(update, view, text, flows.cancel_keyboard(EXPORT_FLOW, *rows))


@choose.listing(SHEET_LIST, Role.COORDINATOR)
async def _sheet_places(
    update: Update, context: BotContext, profile: Profile, view: choose.View
) -> None:
    if await export_form.form(update, context, profile) is None:
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
        [(choose_texts.label(place.name), exports_sheet.SheetSessions(place.location_id, 0))]
        for place in found.shown
    ]
    rows = choose.rows(found, items, lambda offset: ExportPlaces(offset=offset), search, view.kind)
    text = choose_texts.with_status(
        export_texts.choose_sheet_location(), found, search, choose.PER_PAGE
    )
    await choose.present(update, view, text, flows.cancel_keyboard(EXPORT_FLOW, *rows))


# --- the rota --------------------------------------------------------------------------------


@button(ExportAll, Role.COORDINATOR)
async def export_all(
    update: Update, context: BotContext, profile: Profile, _chosen: ExportAll
) -> None:
    draft = await export_form.form(update, context, profile)
    if draft is not None:
        await _export(update, context, profile, draft.data, None)


@button(ExportChosen, Role.COORDINATOR)
async def export_chosen(
    update: Update, context: BotContext, profile: Profile, _chosen: ExportChosen
) -> None:
    draft = await export_form.form(update, context, profile)
    if draft is None:
        return
    picked = choose.chosen(draft.data)
    if not picked:  # nothing chosen (a forged tap): back to the list
        await _places(update, context, profile, choose.View(kind=ROTA_LIST))
        return
    await _export(update, context, profile, draft.data, picked)


async def _export(
    update: Update,
    context: BotContext,
    profile: Profile,
    data: dict[str, Any],
    location_ids: list[int] | None,
    *,
    new_message: bool = False,
) -> None:
    """The file, and in place of the question what it holds."""
    if data.get("make") != ROTA:
        await show(update, texts.stale_button())
        return
    services = context.services
    first, last = _first(data), _last(data)
    try:
        made = await exports.rota(
            services.db,
            actor_telegram_id=profile.telegram_id,
            first=first,
            last=last,
            location_ids=location_ids,
            tz=services.settings.timezone,
            now=services.now(),
            max_bytes=FILE_MAX_BYTES,
        )
    except exports.TooBig as big:
        await flows.finish(context, profile.telegram_id, EXPORT_FLOW)
        await export_form.reply(
            update, export_texts.too_big(big.size), None, new_message=new_message
        )
        return
    await flows.finish(context, profile.telegram_id, EXPORT_FLOW)
    await export_form.reply(
        update, export_texts.exported(first, last, made), None, new_message=new_message
    )
    chat = update.effective_chat
    if chat is None or made.sessions == 0:
        return
    await chat.send_document(
        InputFile(made.file.data, filename=export_texts.rota_file_name(first, last)),
        caption=export_texts.rota_caption(first, last, made),
    )


# --- shared ----------------------------------------------------------------------------------


def _first(data: dict[str, Any]) -> date:
    return _day(data, "first")


def _last(data: dict[str, Any]) -> date:
    return _day(data, "last")


def _day(data: dict[str, Any], key: str) -> date:
    found = day_of(int(data.get(key, 0)))
    if found is None:
        raise ValueError(f"the export form has no {key} day")
    return found
