"""/impact, for coordinators: the evidence base for funders and the council. Pick a period
(a preset, or dates typed), then every location or one; the answer is a summary, the CSV and a
chart of meals. Storage limits a site lead to their own locations and audits every report."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, timedelta

from telegram import InputFile, Update

from handlers import callbacks, charts, choose, choose_texts, flows, impact_texts, texts
from handlers.common import Row, button, command, keyboard, say, show
from handlers.context import BotContext, Services
from handlers.siteday import day_code, day_of
from storage import dates, impact, locations, spreadsheet
from storage.models import Role
from storage.people import Profile
from storage.rota_import import parse_date

IMPACT_FLOW = "impact_dates"
PLACES_LIST = "impact_places"  # every location or one (handlers/choose.py)
ALL_LOCATIONS = 0  # on a button: no one location
# "27/07/2026-28/08/2026" has no spaces to split on; ISO dates need spaces around their dash.
_JOINED = re.compile(
    r"(\d{1,2}/\d{1,2}/\d{4})\s*(?:-|–|—|to)\s*(\d{1,2}/\d{1,2}/\d{4})", re.ASCII | re.IGNORECASE
)
_BETWEEN = re.compile(r"\s+(?:-|–|—|to)\s+|\s*[–—]\s*", re.IGNORECASE)


class Preset(enum.StrEnum):
    WEEK = "w"  # the last 7 days, today included
    FOUR_WEEKS = "m"
    YEAR = "y"  # since 1 January


PRESET_LABELS = {
    Preset.WEEK: "Last 7 days",
    Preset.FOUR_WEEKS: "Last 4 weeks",
    Preset.YEAR: "Since 1 January",
}


@callbacks.action("ka")
@dataclass(frozen=True)
class ImpactPeriod:
    preset: Preset


@callbacks.action("kb")
@dataclass(frozen=True)
class ImpactDates:
    pass


@callbacks.action("kc")
@dataclass(frozen=True)
class ImpactPlaces:
    start: int  # YYYYMMDD, programme time
    end: int
    offset: int


@callbacks.action("kd")
@dataclass(frozen=True)
class ImpactRun:
    start: int  # YYYYMMDD
    end: int
    location_id: int  # ALL_LOCATIONS for every one the coordinator may see


@callbacks.action("ke")
@dataclass(frozen=True)
class ImpactMeanings:
    """What each figure counts: the definitions every report and the README share."""


# --- parsing ---------------------------------------------------------------------------------


def parse_period(text: str) -> tuple[date, date] | None:
    """'27/07/2026 - 28/08/2026', '2026-07-27 to 2026-08-28', or one day. Only the form is
    checked here: `impact.period_problem` says what is wrong with a period that reads well."""
    typed = text.strip()
    joined = _JOINED.fullmatch(typed)
    parts = list(joined.groups()) if joined else [p for p in _BETWEEN.split(typed) if p]
    if not 1 <= len(parts) <= 2:
        return None
    days = [parse_date(part) for part in parts]
    first, last = days[0], days[-1]
    if first is None or last is None:
        return None
    return first, last


def preset_period(preset: Preset, today: date) -> tuple[date, date]:
    match preset:
        case Preset.WEEK:
            return today - timedelta(days=6), today
        case Preset.FOUR_WEEKS:
            return today - timedelta(days=27), today
        case Preset.YEAR:
            return date(today.year, 1, 1), today


# --- the screens -----------------------------------------------------------------------------


@command(Role.COORDINATOR)
async def impact_command(update: Update, context: BotContext, profile: Profile) -> None:
    rows: list[Row] = [
        [(PRESET_LABELS[Preset.WEEK], ImpactPeriod(Preset.WEEK))],
        [(PRESET_LABELS[Preset.FOUR_WEEKS], ImpactPeriod(Preset.FOUR_WEEKS))],
        [(PRESET_LABELS[Preset.YEAR], ImpactPeriod(Preset.YEAR))],
        [("Choose dates…", ImpactDates())],
    ]
    await flows.begin(context, profile.telegram_id, IMPACT_FLOW)
    await show(update, impact_texts.choose_period(), flows.cancel_keyboard(IMPACT_FLOW, *rows))


async def _open(update: Update, context: BotContext, profile: Profile) -> bool:
    """True if this /impact is still open: a report asked for, not cancelled, not sent."""
    form = await flows.still_open(update, context, profile.telegram_id, IMPACT_FLOW)
    return form is not None


@button(ImpactPeriod, Role.COORDINATOR)
async def impact_period(
    update: Update, context: BotContext, profile: Profile, chosen: ImpactPeriod
) -> None:
    if not await _open(update, context, profile):
        return
    start, end = preset_period(chosen.preset, _today(context.services))
    await _choose_place(update, context, profile, _places_view(start, end, 0, fresh=True))


@button(ImpactDates, Role.COORDINATOR)
async def impact_dates(
    update: Update, context: BotContext, profile: Profile, _chosen: ImpactDates
) -> None:
    if not await _open(update, context, profile):
        return
    await flows.wait_for_text(context, profile.telegram_id, IMPACT_FLOW, "dates")
    await show(update, impact_texts.ask_dates(), flows.cancel_keyboard(IMPACT_FLOW))


async def on_dates_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    """The typed period: asked again until it makes sense (or /cancel)."""
    chosen = parse_period(text)
    if chosen is None:
        await say(update, impact_texts.dates_unreadable())
        return
    problem = impact.period_problem(*chosen, today=_today(context.services))
    if problem is not None:
        await say(update, impact_texts.period_refused(problem))
        return
    if not dates.REPORTING.holds(_today(context.services), chosen[0]):
        await say(update, impact_texts.period_too_early(dates.REPORTING.back.days // 366))
        return
    # The form goes on, waiting for a button now, no longer for words.
    await flows.begin(context, profile.telegram_id, IMPACT_FLOW)
    await _choose_place(update, context, profile, _places_view(*chosen, 0, fresh=True))


@button(ImpactPlaces, Role.COORDINATOR)
async def impact_places(
    update: Update, context: BotContext, profile: Profile, chosen: ImpactPlaces
) -> None:
    period = await _button_period(update, context, chosen.start, chosen.end)
    if period is not None:
        await _choose_place(update, context, profile, _places_view(*period, chosen.offset))


@button(ImpactRun, Role.COORDINATOR)
async def impact_run(
    update: Update, context: BotContext, profile: Profile, chosen: ImpactRun
) -> None:
    if not await _open(update, context, profile):
        return
    period = await _button_period(update, context, chosen.start, chosen.end)
    if period is None:
        return
    await choose.leave(context, profile.telegram_id)
    location_id = None if chosen.location_id == ALL_LOCATIONS else chosen.location_id
    await _send_report(update, context, profile, *period, location_id)


def _places_view(start: date, end: date, offset: int, *, fresh: bool = False) -> choose.View:
    args = {"start": day_code(start), "end": day_code(end)}
    return choose.View(kind=PLACES_LIST, args=args, offset=offset, fresh=fresh)


@choose.listing(PLACES_LIST, Role.COORDINATOR)
async def _choose_place(
    update: Update, context: BotContext, profile: Profile, view: choose.View
) -> None:
    """Every location, or one: archived ones too (a past period may concern them)."""
    if not await _open(update, context, profile):
        return
    first, last = int(view.args["start"]), int(view.args["end"])
    start, end = day_of(first), day_of(last)
    if start is None or end is None:
        await say(update, texts.stale_button())
        return
    db = context.services.db
    mine = await locations.find(
        db, actor_telegram_id=profile.telegram_id, search="", offset=0, limit=1, archived=True
    )
    if mine.matching <= 1:
        # One location (a site lead's), or none yet: nothing to choose.
        await _send_report(update, context, profile, start, end, None)
        return
    search = await choose.search_for(context, profile.telegram_id, view)
    found = await locations.find(
        db,
        actor_telegram_id=profile.telegram_id,
        search=search,
        offset=view.offset,
        limit=choose.PER_PAGE,
        archived=True,
    )
    whole = not profile.scoped
    items: list[Row] = [
        [(impact_texts.all_places(whole_programme=whole), ImpactRun(first, last, ALL_LOCATIONS))],
        *(
            [
                (
                    choose_texts.label(
                        impact_texts.place_label(place.name, archived=place.archived)
                    ),
                    ImpactRun(first, last, place.location_id),
                )
            ]
            for place in found.shown
        ),
    ]
    rows = choose.rows(
        found, items, lambda offset: ImpactPlaces(first, last, offset), search, view.kind
    )
    text = choose_texts.with_status(
        impact_texts.choose_place(start, end, whole_programme=whole), found, search, choose.PER_PAGE
    )
    await choose.present(update, view, text, flows.cancel_keyboard(IMPACT_FLOW, *rows))


async def _send_report(
    update: Update,
    context: BotContext,
    profile: Profile,
    start: date,
    end: date,
    location_id: int | None,
) -> None:
    """The summary in place of the question, then the CSV and the chart."""
    services = context.services
    report = await impact.report_for(
        services.db,
        actor_telegram_id=profile.telegram_id,
        start=start,
        end=end,
        tz=services.settings.timezone,
        now=services.now(),
        location_id=location_id,
    )
    await flows.finish(context, profile.telegram_id, IMPACT_FLOW)
    where = report.locations[0].name if location_id is not None and report.locations else None
    await show(
        update,
        impact_texts.summary(report, where=where, whole_programme=not profile.scoped),
        keyboard([(impact_texts.meanings_button(), ImpactMeanings())]),
    )
    chat = update.effective_chat
    if chat is None:
        return
    data = spreadsheet.encode(impact.to_csv(report))
    await chat.send_document(
        InputFile(data, filename=f"{impact_texts.file_stem(start, end, where)}.csv"),
        caption=impact_texts.csv_caption(report),
    )
    unit, bars, series = impact.meals_series(report)
    chart = await charts.draw(impact_texts.chart_title(report, unit, where), bars, series)
    await chat.send_photo(chart, caption=impact_texts.chart_caption(report, unit))


@button(ImpactMeanings, Role.COORDINATOR)
async def impact_meanings(
    update: Update, context: BotContext, profile: Profile, asked: ImpactMeanings
) -> None:
    await say(update, impact_texts.meanings())


async def _button_period(
    update: Update, context: BotContext, start_code: int, end_code: int
) -> tuple[date, date] | None:
    """The period a button carries, if it still makes sense (a forged one does not)."""
    start, end = day_of(start_code), day_of(end_code)
    if (
        start is None
        or end is None
        or impact.period_problem(start, end, today=_today(context.services)) is not None
    ):
        await say(update, texts.stale_button())
        return None
    return start, end


def _today(services: Services) -> date:
    return services.now().astimezone(services.settings.timezone).date()
