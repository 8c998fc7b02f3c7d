"""/week (and "🗓 The week" on /today): the week at every location the coordinator runs, as a
picture, locations by days, each cell filled, short, nobody booked or cancelled, worst gaps
first; and the same as a spreadsheet.

A picture holds LOCATIONS_PER_PICTURE locations, each row as readable as in a small
programme's; a bigger programme's week is several pictures, "◀ Previous" / "Next ▶" sending
the next one (a photo can't be edited into another), and the spreadsheet always holds them all.
Drawing takes a few hundred milliseconds, in a worker thread (handlers/charts.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from telegram import InputFile, Update

from handlers import callbacks, charts, choose, glance_texts, site_texts, texts
from handlers.common import Row, button, command, keyboard, pager, say
from handlers.context import BotContext
from handlers.siteday import ProgrammeDayPage, day_code, day_of, today_of
from storage import week
from storage.choosing import clamp
from storage.dates import PLANNING, REPORTING
from storage.models import Role
from storage.people import Profile
from storage.week import monday_of

# 60 rows make a picture about 1,000 by 2,000 pixels, which Telegram keeps whole (it scales
# photos down past 2,560): a 56-location programme's week is one picture, 200 locations' four.
LOCATIONS_PER_PICTURE = 60


@callbacks.action("gk")
@dataclass(frozen=True)
class WeekView:
    monday: int  # YYYYMMDD: any day of the week will do, its Monday is shown
    offset: int = 0  # the first location of the picture, worst gaps first


@callbacks.action("gv")
@dataclass(frozen=True)
class WeekFile:
    monday: int  # YYYYMMDD


def reachable_day(code: int, today: date) -> date | None:
    """The day a button names, if it is one the bot keeps a rota for (five years back, a year
    ahead, as reports and plans reach): anything else is a forged button."""
    day = day_of(code)
    if day is None or not (REPORTING.earliest(today) <= day <= PLANNING.latest(today)):
        return None
    return day


@command(Role.COORDINATOR)
async def week_command(update: Update, context: BotContext, profile: Profile) -> None:
    await _show_week(update, context, profile, monday_of(today_of(context.services)), 0)


@button(WeekView, Role.COORDINATOR)
async def week_view(update: Update, context: BotContext, profile: Profile, asked: WeekView) -> None:
    day = reachable_day(asked.monday, today_of(context.services))
    if day is None:  # a forged day
        await say(update, texts.stale_button())
        return
    # From /today's day list: what is typed next no longer searches it (the week has none).
    await choose.leave(context, profile.telegram_id)
    await _show_week(update, context, profile, monday_of(day), asked.offset)


async def _show_week(
    update: Update, context: BotContext, profile: Profile, monday: date, offset: int
) -> None:
    """A new message each time: the picture, or the words when there is nothing to draw."""
    services = context.services
    found = await week.week(
        services.db,
        actor_telegram_id=profile.telegram_id,
        monday=monday,
        tz=services.settings.timezone,
        now=services.now(),
    )
    chat = update.effective_chat
    if chat is None:
        return
    if found.runs == 0:
        await say(update, site_texts.no_locations())
        return
    if not found.rows:
        await say(
            update, glance_texts.week_empty(monday), keyboard(*_steps(found, today_of(services)))
        )
        return
    offset = clamp(offset, len(found.rows), LOCATIONS_PER_PICTURE)
    rows = list(found.rows[offset : offset + LOCATIONS_PER_PICTURE])
    first, last = offset + 1, offset + len(rows)
    picture = await charts.draw_heat_map(
        glance_texts.week_title(found, first, last),
        glance_texts.week_columns(found),
        [row.name for row in rows],
        glance_texts.heat_cells(rows),
        glance_texts.HEAT_KEYS,
    )
    code = day_code(monday)
    buttons: list[Row] = [
        pager(
            offset,
            len(found.rows),
            LOCATIONS_PER_PICTURE,
            lambda offset: WeekView(monday=code, offset=offset),
        ),
        *_steps(found, today_of(services)),
    ]
    await chat.send_photo(
        picture,
        caption=glance_texts.week_caption(found, first, last),
        reply_markup=keyboard(*buttons),
    )


def _steps(found: week.Week, today: date) -> list[Row]:
    earlier, later = found.monday - timedelta(days=7), found.monday + timedelta(days=7)
    steps: list[Row] = [
        [
            (glance_texts.earlier_week_button(earlier), WeekView(monday=day_code(earlier))),
            (glance_texts.later_week_button(later), WeekView(monday=day_code(later))),
        ]
    ]
    if found.rows:
        steps.append([(glance_texts.week_file_button(), WeekFile(monday=day_code(found.monday)))])
    steps.append([(glance_texts.back_to_glance_button(), ProgrammeDayPage(day=day_code(today)))])
    return steps


@button(WeekFile, Role.COORDINATOR)
async def week_file(update: Update, context: BotContext, profile: Profile, asked: WeekFile) -> None:
    services = context.services
    day = reachable_day(asked.monday, today_of(services))
    chat = update.effective_chat
    if day is None or chat is None:  # a forged day
        await say(update, texts.stale_button())
        return
    found, made = await week.export_week(
        services.db,
        actor_telegram_id=profile.telegram_id,
        monday=monday_of(day),
        tz=services.settings.timezone,
        now=services.now(),
    )
    if made.rows == 0:
        await say(update, glance_texts.week_empty(found.monday))
        return
    await chat.send_document(
        InputFile(made.data, filename=glance_texts.week_file_name(found.monday)),
        caption=glance_texts.week_file_caption(found),
    )
