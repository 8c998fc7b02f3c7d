"""/today for coordinators: first the day at every location they run, on one screen (what is
booked of what is needed, who confirmed, the gaps, whether the counts are in), worst gaps
first; then, a location chosen, its own day (handlers/siteday.py). A site lead of one location
goes straight to it.

However many locations there are, the screen stays inside Telegram's limits: the day's totals
at the top, its locations a page at a time and found by typing part of a name (it is a list of
handlers/choose.py), and the whole day as a spreadsheet, one row a lunch. "📍 Every location, A
to Z" lists the locations without a lunch that day too (to record an unplanned one), and
"🗓 The week" shows the week as a picture (handlers/week.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from telegram import InputFile, Update

from handlers import callbacks, choose, choose_texts, glance_texts, site_texts, texts
from handlers.common import Row, button, command, keyboard, say
from handlers.context import BotContext
from handlers.siteday import (
    OpenDay,
    PickLocation,
    ProgrammeDayPage,
    day_code,
    show_day,
    today_of,
)
from handlers.week import WeekView, reachable_day
from storage import locations, programme_day
from storage.models import Role
from storage.people import Profile
from storage.week import monday_of

PROGRAMME_LIST = "programme_day"  # the day at every location (handlers/choose.py)


@callbacks.action("gf")
@dataclass(frozen=True)
class DayFile:
    day: int  # YYYYMMDD


@command(Role.COORDINATOR)
async def today_command(update: Update, context: BotContext, profile: Profile) -> None:
    services = context.services
    today = today_of(services)
    first = await locations.find(
        services.db, actor_telegram_id=profile.telegram_id, search="", offset=0, limit=1
    )
    if first.matching == 1:  # a site lead of one location: straight to its day
        await show_day(update, context, profile, first.shown[0].location_id, today)
        return
    view = choose.View(kind=PROGRAMME_LIST, args={"day": day_code(today)}, fresh=True)
    await _programme_day(update, context, profile, view)


@button(ProgrammeDayPage, Role.COORDINATOR)
async def programme_day_page(
    update: Update, context: BotContext, profile: Profile, page: ProgrammeDayPage
) -> None:
    day = reachable_day(page.day, today_of(context.services))
    if day is None:  # a forged day
        await say(update, texts.stale_button())
        return
    view = choose.View(kind=PROGRAMME_LIST, args={"day": day_code(day)}, offset=page.offset)
    await _programme_day(update, context, profile, view)


@choose.listing(PROGRAMME_LIST, Role.COORDINATOR)
async def _programme_day(
    update: Update, context: BotContext, profile: Profile, view: choose.View
) -> None:
    services = context.services
    tz, now, today = services.settings.timezone, services.now(), today_of(services)
    search = await choose.search_for(context, profile.telegram_id, view)
    day = reachable_day(int(view.args.get("day", 0)), today) or today
    found = await programme_day.programme_day(
        services.db, actor_telegram_id=profile.telegram_id, day=day, tz=tz, now=now
    )
    if found.runs == 0:
        await choose.present(update, view, site_texts.no_locations(), None)
        return
    shown = programme_day.page(found, search=search, offset=view.offset, limit=choose.PER_PAGE)
    code = day_code(day)
    items: list[Row] = [
        [(choose_texts.label(place.name), OpenDay(location_id=place.location_id, day=code))]
        for place in shown.shown
    ]
    rows = choose.rows(
        shown, items, lambda offset: ProgrammeDayPage(day=code, offset=offset), search, view.kind
    )
    steps: list[tuple[str, object]] = [
        (glance_texts.week_button(), WeekView(monday=day_code(monday_of(day))))
    ]
    if found.locations:
        steps.append((glance_texts.day_file_button(), DayFile(day=code)))
    rows.append(steps)
    rows.append([(glance_texts.every_location_button(), PickLocation(day=code))])
    rows.append(_day_nav(day, today))
    text = glance_texts.programme_day(found, shown, today, now, tz)
    if found.locations:
        text = choose_texts.with_status(text, shown, search, choose.PER_PAGE)
    await choose.present(update, view, text, keyboard(*rows))


def _day_nav(day_shown: date, today: date) -> Row:
    earlier, later = day_shown - timedelta(days=1), day_shown + timedelta(days=1)
    nav = [(site_texts.earlier_button(earlier), ProgrammeDayPage(day=day_code(earlier)))]
    if day_shown != today:
        nav.append((site_texts.today_button(), ProgrammeDayPage(day=day_code(today))))
    nav.append((site_texts.later_button(later), ProgrammeDayPage(day=day_code(later))))
    return nav


@button(DayFile, Role.COORDINATOR)
async def day_file(update: Update, context: BotContext, profile: Profile, asked: DayFile) -> None:
    """The whole day, one row a lunch, sent below the screen (which stays as it is)."""
    services = context.services
    day = reachable_day(asked.day, today_of(services))
    chat = update.effective_chat
    if day is None or chat is None:  # a forged day
        await say(update, texts.stale_button())
        return
    found, made = await programme_day.export_day(
        services.db,
        actor_telegram_id=profile.telegram_id,
        day=day,
        tz=services.settings.timezone,
        now=services.now(),
    )
    if made.rows == 0:
        await say(update, glance_texts.day_file_nothing(day))
        return
    await chat.send_document(
        InputFile(made.data, filename=glance_texts.day_file_name(day)),
        caption=glance_texts.day_file_caption(found, made.rows),
    )
