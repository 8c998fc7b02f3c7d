"""/export, for coordinators: the rota as a spreadsheet, or a session's printable sign-in sheet.

The rota: a period (this week, next week, the rest of the holiday, or typed dates), then all
locations or some, chosen a page at a time or found by typing part of a name; the answer is a
CSV file with a row for every place. The sheet: a location here, then one of its sessions from
today in handlers/exports_sheet.py. A site lead who runs one location skips the choosing.

It is a form (flow "export", handlers/export_form.py): its draft holds the period, the
locations chosen and the search, so a restart carries on and a button of a closed form changes
nothing. While locations are listed, the next message typed is a search of their names."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import Any

from telegram import InputFile, Update

from handlers import callbacks, export_form, export_texts, exports_sheet, flows, texts
from handlers.common import Row, button, command, pager, say, show
from handlers.context import BotContext
from handlers.export_form import EXPORT_FLOW, ROTA, SHEET, ExportPlaces
from handlers.impact import parse_period
from handlers.siteday import day_code, day_of
from storage import drafts, exports, locations
from storage.models import Role
from storage.people import Profile
from storage.text import one_line

LOCATIONS_PER_PAGE = 8  # with All, the pager and Continue: 11 rows, far below 100 buttons
SEARCH_MAX = 60
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


@callbacks.action("xt")
@dataclass(frozen=True)
class ExportToggle:
    location_id: int
    offset: int  # the page it was on


@callbacks.action("xw")
@dataclass(frozen=True)
class ExportShowAll:
    """Forget the search: every location again."""


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
    """Typed dates, or (while locations are listed) part of a location's name."""
    draft = await drafts.load(
        context.services.db, telegram_id=profile.telegram_id, flow=EXPORT_FLOW
    )
    if draft is None:
        return
    if draft.awaiting == "dates":
        await _typed_dates(update, context, profile, text)
        return
    search = one_line(text)[:SEARCH_MAX]
    await export_form.save(context, profile, draft.data | {"search": search}, awaiting="search")
    await _places(update, context, profile, 0, new_message=True)


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
    data = {"make": ROTA, "first": day_code(first), "last": day_code(last), "chosen": []}
    await export_form.save(context, profile, data, awaiting="search")
    await _places(update, context, profile, 0, new_message=new_message)


# --- the locations ---------------------------------------------------------------------------


@button(ExportSheets, Role.COORDINATOR)
async def export_sheets(
    update: Update, context: BotContext, profile: Profile, _chosen: ExportSheets
) -> None:
    if await export_form.form(update, context, profile) is None:
        return
    await export_form.save(context, profile, {"make": SHEET}, awaiting="search")
    await _places(update, context, profile, 0)


@button(ExportPlaces, Role.COORDINATOR)
async def export_places(
    update: Update, context: BotContext, profile: Profile, page: ExportPlaces
) -> None:
    if await export_form.form(update, context, profile) is None:
        return
    await _places(update, context, profile, page.offset)


@button(ExportShowAll, Role.COORDINATOR)
async def export_show_all(
    update: Update, context: BotContext, profile: Profile, _chosen: ExportShowAll
) -> None:
    draft = await export_form.form(update, context, profile)
    if draft is None:
        return
    await export_form.save(context, profile, draft.data | {"search": ""}, awaiting="search")
    await _places(update, context, profile, 0)


@button(ExportToggle, Role.COORDINATOR)
async def export_toggle(
    update: Update, context: BotContext, profile: Profile, chosen: ExportToggle
) -> None:
    draft = await export_form.form(update, context, profile)
    if draft is None or draft.data.get("make") != ROTA:
        if draft is not None:
            await show(update, texts.stale_button())
        return
    # Raises OutOfScope (audited, told kindly) for a location that is not the site lead's.
    await locations.managed(
        context.services.db, actor_telegram_id=profile.telegram_id, location_id=chosen.location_id
    )
    picked = [int(i) for i in draft.data.get("chosen", [])]
    if chosen.location_id in picked:
        picked.remove(chosen.location_id)
    else:
        picked.append(chosen.location_id)
    await export_form.save(context, profile, draft.data | {"chosen": picked}, awaiting="search")
    await _places(update, context, profile, chosen.offset)


async def _places(
    update: Update,
    context: BotContext,
    profile: Profile,
    offset: int,
    *,
    new_message: bool = False,
) -> None:
    """The page of locations to choose from: several for the rota, one for a sheet. With a
    single location (a site lead's) there is nothing to choose, and the answer comes at once."""
    draft = await drafts.load(
        context.services.db, telegram_id=profile.telegram_id, flow=EXPORT_FLOW
    )
    data = draft.data if draft is not None else {}
    if data.get("make") not in (ROTA, SHEET):  # a forged page button: no period chosen yet
        await show(update, texts.stale_button())
        return
    search = str(data.get("search", ""))
    choices = await _choices(context, profile, data, search, offset)
    if offset and offset >= choices.matching:  # an old page button: fewer match now
        offset = 0
        choices = await _choices(context, profile, data, search, offset)
    sheet = data.get("make") == SHEET
    if choices.total <= 1 and not search:
        if choices.total == 0:
            await flows.finish(context, profile.telegram_id, EXPORT_FLOW)
            await export_form.reply(
                update, export_texts.no_locations(), None, new_message=new_message
            )
        elif sheet:
            await exports_sheet.sessions(
                update, context, profile, choices.shown[0].location_id, 0, alone=True
            )
        else:
            await _export(update, context, profile, data, None, new_message=new_message)
        return
    if sheet:
        rows = _sheet_rows(choices, offset)
        text = export_texts.choose_sheet_location(choices, search, offset)
    else:
        rows = _rota_rows(choices, offset, search)
        text = export_texts.choose_locations(_first(data), _last(data), choices, search, offset)
    await export_form.reply(update, text, rows, new_message=new_message)


async def _choices(
    context: BotContext, profile: Profile, data: dict[str, Any], search: str, offset: int
) -> exports.LocationChoices:
    return await exports.location_choices(
        context.services.db,
        actor_telegram_id=profile.telegram_id,
        search=search,
        chosen=[int(i) for i in data.get("chosen", [])],
        offset=offset,
        limit=LOCATIONS_PER_PAGE,
    )


def _rota_rows(choices: exports.LocationChoices, offset: int, search: str) -> list[Row]:
    picked = {place.location_id for place in choices.chosen}
    rows: list[Row] = [
        [
            (
                export_texts.all_locations_button(
                    choices.total, whole_programme=choices.whole_programme
                ),
                ExportAll(),
            )
        ]
    ]
    rows += [
        [
            (
                export_texts.location_button(place.name, place.location_id in picked),
                ExportToggle(place.location_id, offset),
            )
        ]
        for place in choices.shown
    ]
    rows.append(pager(offset, choices.matching, LOCATIONS_PER_PAGE, ExportPlaces))
    step: list[tuple[str, object]] = []
    if search:
        step.append((export_texts.show_all_button(), ExportShowAll()))
    if picked:
        step.append((export_texts.continue_button(len(picked)), ExportChosen()))
    rows.append(step)
    return rows


def _sheet_rows(choices: exports.LocationChoices, offset: int) -> list[Row]:
    rows: list[Row] = [
        [
            (
                export_texts.location_button(place.name, False),
                exports_sheet.SheetSessions(place.location_id, 0),
            )
        ]
        for place in choices.shown
    ]
    rows.append(pager(offset, choices.matching, LOCATIONS_PER_PAGE, ExportPlaces))
    return rows


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
    picked = [int(i) for i in draft.data.get("chosen", [])]
    if not picked:  # nothing chosen (a forged tap): back to the list
        await _places(update, context, profile, 0)
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
