"""Running the sessions, for coordinators and site leads: the day at a location (attendance,
meals and children), coverage (asking a location's volunteers to fill a gap), and changing or
cancelling a session. Every id on these buttons is re-checked against the person's locations."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, time, timedelta

from telegram import Update

from handlers import callbacks, flows, rota_texts, site_texts
from handlers.common import Row, button, command, keyboard, pager, say, show
from handlers.context import BotContext, Services
from storage import drafts, locations, rota, siteday
from storage.errors import Clash, NotFound
from storage.locations import LocationInfo
from storage.models import Role
from storage.people import Profile
from storage.rota import Helper, SessionView
from storage.siteday import SiteDay

logger = logging.getLogger(__name__)

COUNTS_FLOW = "site_counts"
TIMES_FLOW = "site_times"
COVERAGE_DAYS = 7
SESSIONS_PER_COVERAGE_PAGE = 8
# People on one screen of the site day: two buttons each stays far below Telegram's 100 buttons
# per keyboard, and 20 lines of even the longest names leave the message well under 4096
# characters with a session's jobs, counts and a note above it.
PEOPLE_PER_DAY_PAGE = 20
_COUNT = re.compile(r"\d{1,3}(?:,\d{3})+|\d{1,6}", re.ASCII)  # 1,000 or 1000
_TIMES = re.compile(
    r"(\d{1,2})[:.](\d{2})\s*(?:-|–|—|to)\s*(\d{1,2})[:.](\d{2})", re.ASCII | re.IGNORECASE
)


@callbacks.action("dp")
@dataclass(frozen=True)
class PickLocation:
    day: int  # YYYYMMDD, the programme's local date


@callbacks.action("dl")
@dataclass(frozen=True)
class OpenDay:
    location_id: int
    day: int  # YYYYMMDD


@callbacks.action("dm")
@dataclass(frozen=True)
class MarkAttendance:
    booking_id: int
    attended: bool


# A day with more than PEOPLE_PER_DAY_PAGE people is shown a page at a time. The first page keeps
# the plain OpenDay and MarkAttendance buttons; later pages carry the offset of their first person.


@callbacks.action("dg")
@dataclass(frozen=True)
class OpenDayPage:
    location_id: int
    day: int  # YYYYMMDD
    offset: int


@callbacks.action("da")
@dataclass(frozen=True)
class MarkAttendanceOnPage:
    booking_id: int
    attended: bool
    offset: int


@callbacks.action("dn")
@dataclass(frozen=True)
class AskCounts:
    session_id: int


@callbacks.action("ds")
@dataclass(frozen=True)
class OpenSessionAdmin:
    session_id: int


@callbacks.action("dt")
@dataclass(frozen=True)
class AskTimes:
    session_id: int


@callbacks.action("dx")
@dataclass(frozen=True)
class AskCancelSession:
    session_id: int


@callbacks.action("dy")
@dataclass(frozen=True)
class CancelSession:
    session_id: int


@callbacks.action("gp")
@dataclass(frozen=True)
class CoveragePage:
    offset: int


@callbacks.action("gr")
@dataclass(frozen=True)
class RequestCover:
    job_id: int


# --- parsing what people type ----------------------------------------------------------------


def parse_count(text: str) -> int | None:
    """A whole number of meals or children (0 to MAX_COUNT); '1,000' is read as 1000."""
    typed = text.strip()
    if not _COUNT.fullmatch(typed) or int(typed.replace(",", "")) > rota.MAX_COUNT:
        return None
    return int(typed.replace(",", ""))


def parse_times(text: str) -> tuple[time, time] | None:
    """'12:00-14:00' (also '12.00 – 14.00', '12:00 to 14:00'); the end after the start."""
    match = _TIMES.fullmatch(text.strip())
    if match is None:
        return None
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError:
        return None
    return (start, end) if end > start else None


def day_code(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def day_of(code: int) -> date | None:
    try:
        return date(code // 10_000, code // 100 % 100, code % 100)
    except ValueError:
        return None


# --- the day ---------------------------------------------------------------------------------


@command(Role.COORDINATOR)
async def today_command(update: Update, context: BotContext, profile: Profile) -> None:
    services = context.services
    run = await locations.managed_by(services.db, actor_telegram_id=profile.telegram_id)
    today = _today(services)
    if len(run) == 1:
        await _show_day(update, context, profile, run[0].location_id, today)
        return
    await _choose_location(update, run, today)


@button(PickLocation, Role.COORDINATOR)
async def pick_location(
    update: Update, context: BotContext, profile: Profile, picked: PickLocation
) -> None:
    run = await locations.managed_by(context.services.db, actor_telegram_id=profile.telegram_id)
    await _choose_location(update, run, day_of(picked.day) or _today(context.services))


async def _choose_location(update: Update, run: list[LocationInfo], day: date) -> None:
    if not run:
        await show(update, site_texts.no_locations())
        return
    rows: list[Row] = [
        [(loc.name, OpenDay(location_id=loc.location_id, day=day_code(day)))] for loc in run
    ]
    await show(update, site_texts.choose_location(day), keyboard(*rows))


@button(OpenDay, Role.COORDINATOR)
async def open_day(update: Update, context: BotContext, profile: Profile, opened: OpenDay) -> None:
    day = day_of(opened.day)
    if day is None:
        raise NotFound("no such day")
    await _show_day(update, context, profile, opened.location_id, day)


@button(OpenDayPage, Role.COORDINATOR)
async def open_day_page(
    update: Update, context: BotContext, profile: Profile, opened: OpenDayPage
) -> None:
    day = day_of(opened.day)
    if day is None:
        raise NotFound("no such day")
    await _show_day(update, context, profile, opened.location_id, day, offset=opened.offset)


@button(MarkAttendance, Role.COORDINATOR)
async def mark_attendance(
    update: Update, context: BotContext, profile: Profile, mark: MarkAttendance
) -> None:
    await _mark(update, context, profile, mark.booking_id, mark.attended, 0)


@button(MarkAttendanceOnPage, Role.COORDINATOR)
async def mark_attendance_on_page(
    update: Update, context: BotContext, profile: Profile, mark: MarkAttendanceOnPage
) -> None:
    await _mark(update, context, profile, mark.booking_id, mark.attended, mark.offset)


async def _mark(
    update: Update,
    context: BotContext,
    profile: Profile,
    booking_id: int,
    attended: bool,
    offset: int,
) -> None:
    """Mark one person, then show the same page of the day again."""
    services = context.services
    session_id, _ = await rota.mark_attendance(
        services.db,
        actor_telegram_id=profile.telegram_id,
        booking_id=booking_id,
        attended=attended,
        now=services.now(),
    )
    view = await siteday.managed_session(
        services.db, actor_telegram_id=profile.telegram_id, session_id=session_id
    )
    await _show_day_of(update, context, profile, view, offset=offset)


async def _show_day_of(
    update: Update,
    context: BotContext,
    profile: Profile,
    view: SessionView,
    note: str = "",
    *,
    offset: int = 0,
) -> None:
    day = view.starts_at.astimezone(context.services.settings.timezone).date()
    await _show_day(update, context, profile, view.location_id, day, note, offset=offset)


async def _show_day(
    update: Update,
    context: BotContext,
    profile: Profile,
    location_id: int,
    day: date,
    note: str = "",
    *,
    offset: int = 0,
) -> None:
    services = context.services
    tz = services.settings.timezone
    site = await siteday.site_day(
        services.db, actor_telegram_id=profile.telegram_id, location_id=location_id, day=day, tz=tz
    )
    total = len(site_texts.day_people(site))
    if offset >= total:  # an old page button: fewer people are booked now
        offset = 0
    text = site_texts.site_day(
        site, _today(services), services.now(), tz, offset=offset, size=PEOPLE_PER_DAY_PAGE
    )
    await show(update, text, keyboard(*_day_rows(site, services, offset)), note=note)


def _day_rows(site: SiteDay, services: Services, offset: int) -> list[Row]:
    tz, now = services.settings.timezone, services.now()
    several = len(site.sessions) > 1
    people = site_texts.day_people(site)
    here = {h.booking_id for h in people[offset : offset + PEOPLE_PER_DAY_PAGE]}
    rows: list[Row] = []
    for on_the_day in site.sessions:
        view = on_the_day.session
        if view.cancelled:
            continue
        if view.starts_at <= now:
            rows += [
                [
                    (site_texts.came_button(h), _mark_action(h, True, offset)),
                    (site_texts.no_show_button(h), _mark_action(h, False, offset)),
                ]
                for h in site_texts.session_people(on_the_day)
                if h.booking_id in here
            ]
            rows.append([(site_texts.counts_button(view, tz, several), AskCounts(view.session_id))])
        else:
            rows.append(
                [(site_texts.manage_button(view, tz, several), OpenSessionAdmin(view.session_id))]
            )
    location_id, day = site.location.location_id, day_code(site.day)
    rows.append(
        pager(
            offset,
            len(people),
            PEOPLE_PER_DAY_PAGE,
            lambda offset: _day_page(location_id, day, offset),
        )
    )
    rows.append(_day_nav(site, _today(services)))
    if site.locations_run > 1:
        rows.append([(site_texts.other_location_button(), PickLocation(day=day_code(site.day)))])
    return rows


def _mark_action(helper: Helper, attended: bool, offset: int) -> object:
    if offset == 0:
        return MarkAttendance(helper.booking_id, attended=attended)
    return MarkAttendanceOnPage(helper.booking_id, attended=attended, offset=offset)


def _day_page(location_id: int, day: int, offset: int) -> object:
    if offset == 0:
        return OpenDay(location_id, day)
    return OpenDayPage(location_id, day, offset)


def _day_nav(site: SiteDay, today: date) -> Row:
    location_id = site.location.location_id
    earlier, later = site.day - timedelta(days=1), site.day + timedelta(days=1)
    nav = [(site_texts.earlier_button(earlier), OpenDay(location_id, day_code(earlier)))]
    if site.day != today:
        nav.append((site_texts.today_button(), OpenDay(location_id, day_code(today))))
    nav.append((site_texts.later_button(later), OpenDay(location_id, day_code(later))))
    return nav


# --- meals and children: two typed answers ---------------------------------------------------


@button(AskCounts, Role.COORDINATOR)
async def ask_counts(
    update: Update, context: BotContext, profile: Profile, asked: AskCounts
) -> None:
    services = context.services
    view = await siteday.managed_session(
        services.db, actor_telegram_id=profile.telegram_id, session_id=asked.session_id
    )
    await flows.wait_for_text(
        context, profile.telegram_id, COUNTS_FLOW, "meals", {"session_id": view.session_id}
    )
    await say(
        update,
        site_texts.ask_meals(view, services.settings.timezone),
        flows.cancel_keyboard(COUNTS_FLOW),
    )


async def on_counts_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    draft = await drafts.load(
        context.services.db, telegram_id=profile.telegram_id, flow=COUNTS_FLOW
    )
    if draft is None:  # answered by another instance a moment ago
        return
    field, count = draft.awaiting or "meals", parse_count(text)
    if count is None:
        await say(update, site_texts.count_invalid(field))
    elif field == "meals":
        data = {**draft.data, "meals": count}
        await flows.wait_for_text(context, profile.telegram_id, COUNTS_FLOW, "children", data)
        await say(update, site_texts.ask_children(count), flows.cancel_keyboard(COUNTS_FLOW))
    else:
        await _save_counts(
            update, context, profile, int(draft.data["session_id"]), int(draft.data["meals"]), count
        )


async def _save_counts(
    update: Update,
    context: BotContext,
    profile: Profile,
    session_id: int,
    meals: int,
    children: int,
) -> None:
    services = context.services
    view = await rota.record_counts(
        services.db,
        actor_telegram_id=profile.telegram_id,
        session_id=session_id,
        meals=meals,
        children=children,
        now=services.now(),
    )
    await flows.finish(context, profile.telegram_id, COUNTS_FLOW)
    await _show_day_of(update, context, profile, view, site_texts.counts_saved(view))


# --- coverage --------------------------------------------------------------------------------


@command(Role.COORDINATOR)
async def coverage_command(update: Update, context: BotContext, profile: Profile) -> None:
    await _coverage(update, context, profile, 0)


@button(CoveragePage, Role.COORDINATOR)
async def coverage_page(
    update: Update, context: BotContext, profile: Profile, page: CoveragePage
) -> None:
    await _coverage(update, context, profile, page.offset)


async def _coverage(update: Update, context: BotContext, profile: Profile, offset: int) -> None:
    services = context.services
    tz = services.settings.timezone
    gaps = await rota.coverage(
        services.db, actor_telegram_id=profile.telegram_id, now=services.now(), days=COVERAGE_DAYS
    )
    if offset >= len(gaps):  # an old page button: the list got shorter meanwhile
        offset = 0
    page = gaps[offset : offset + SESSIONS_PER_COVERAGE_PAGE]
    rows: list[Row] = [
        [(rota_texts.session_button(view, tz), OpenSessionAdmin(view.session_id))] for view in page
    ]
    nav: list[tuple[str, object]] = []
    if offset > 0:
        earlier = max(0, offset - SESSIONS_PER_COVERAGE_PAGE)
        nav.append((site_texts.earlier_page_button(), CoveragePage(earlier)))
    if offset + SESSIONS_PER_COVERAGE_PAGE < len(gaps):
        nav.append(
            (site_texts.later_page_button(), CoveragePage(offset + SESSIONS_PER_COVERAGE_PAGE))
        )
    rows.append(nav)
    text = site_texts.coverage(page, offset, len(gaps), COVERAGE_DAYS, tz)
    await show(update, text, keyboard(*rows))


@button(RequestCover, Role.COORDINATOR)
async def request_cover(
    update: Update, context: BotContext, profile: Profile, chosen: RequestCover
) -> None:
    services = context.services
    view, job = await siteday.managed_job(
        services.db, actor_telegram_id=profile.telegram_id, job_id=chosen.job_id
    )
    if not _open(view, services):
        note = site_texts.session_closed()
    elif job.free <= 0:
        note = site_texts.cover_not_needed(job)
    else:
        asked = await rota.request_cover(
            services.db,
            actor_telegram_id=profile.telegram_id,
            job_id=job.job_id,
            now=services.now(),
        )
        note = site_texts.cover_asked(view, job, asked)
    await _show_card(update, context, view, note)


# --- one session: its card, new times, cancelling --------------------------------------------


@button(OpenSessionAdmin, Role.COORDINATOR)
async def open_session_admin(
    update: Update, context: BotContext, profile: Profile, opened: OpenSessionAdmin
) -> None:
    view = await siteday.managed_session(
        context.services.db, actor_telegram_id=profile.telegram_id, session_id=opened.session_id
    )
    await _show_card(update, context, view)


async def _show_card(
    update: Update, context: BotContext, view: SessionView, note: str = ""
) -> None:
    services = context.services
    tz = services.settings.timezone
    rows: list[Row] = []
    if _open(view, services):
        rows += [
            [(site_texts.cover_button(job), RequestCover(job.job_id))]
            for job in view.jobs
            if job.free > 0
        ]
        rows.append(
            [
                (site_texts.change_times_button(), AskTimes(view.session_id)),
                (site_texts.cancel_session_button(), AskCancelSession(view.session_id)),
            ]
        )
    day = day_code(view.starts_at.astimezone(tz).date())
    rows.append(
        [
            (site_texts.back_to_day_button(view, tz), OpenDay(view.location_id, day)),
            (site_texts.back_to_coverage_button(), CoveragePage(0)),
        ]
    )
    text = site_texts.session_card(view, services.now(), tz)
    await show(update, text, keyboard(*rows), note=note)


@button(AskTimes, Role.COORDINATOR)
async def ask_times(update: Update, context: BotContext, profile: Profile, asked: AskTimes) -> None:
    services = context.services
    view = await siteday.managed_session(
        services.db, actor_telegram_id=profile.telegram_id, session_id=asked.session_id
    )
    if not _open(view, services):
        await _show_card(update, context, view, site_texts.session_closed())
        return
    await flows.wait_for_text(
        context, profile.telegram_id, TIMES_FLOW, "times", {"session_id": view.session_id}
    )
    await say(
        update,
        site_texts.ask_times(view, services.settings.timezone),
        flows.cancel_keyboard(TIMES_FLOW),
    )


async def on_times_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    services = context.services
    times = parse_times(text)
    draft = await drafts.load(services.db, telegram_id=profile.telegram_id, flow=TIMES_FLOW)
    if draft is None:
        return
    if times is None:
        await say(update, site_texts.times_invalid())
        return
    try:
        view, told = await rota.reschedule(
            services.db,
            actor_telegram_id=profile.telegram_id,
            session_id=int(draft.data["session_id"]),
            start=times[0],
            end=times[1],
            tz=services.settings.timezone,
            now=services.now(),
        )
    except ValueError:  # the end falls before the start on a clock-change night
        await say(update, site_texts.times_invalid())
        return
    except Clash as clash:
        await say(update, site_texts.times_clash(clash.names))
        return
    await flows.finish(context, profile.telegram_id, TIMES_FLOW)
    note = site_texts.times_saved(view, services.settings.timezone, told)
    await _show_card(update, context, view, note)


@button(AskCancelSession, Role.COORDINATOR)
async def ask_cancel_session(
    update: Update, context: BotContext, profile: Profile, asked: AskCancelSession
) -> None:
    services = context.services
    view = await siteday.managed_session(
        services.db, actor_telegram_id=profile.telegram_id, session_id=asked.session_id
    )
    if not _open(view, services):
        await _show_card(update, context, view, site_texts.session_closed())
        return
    await show(
        update,
        site_texts.confirm_cancel(view, services.settings.timezone),
        keyboard(
            [
                (site_texts.yes_cancel_button(), CancelSession(view.session_id)),
                (site_texts.keep_button(), OpenSessionAdmin(view.session_id)),
            ]
        ),
    )


@button(CancelSession, Role.COORDINATOR)
async def cancel_session(
    update: Update, context: BotContext, profile: Profile, chosen: CancelSession
) -> None:
    services = context.services
    view = await siteday.managed_session(
        services.db, actor_telegram_id=profile.telegram_id, session_id=chosen.session_id
    )
    if view.cancelled:  # a double tap: the first one told everyone
        await _show_card(update, context, view, site_texts.already_cancelled())
        return
    if not _open(view, services):
        await _show_card(update, context, view, site_texts.session_closed())
        return
    told = await rota.cancel_session(
        services.db,
        actor_telegram_id=profile.telegram_id,
        session_id=view.session_id,
        now=services.now(),
    )
    view = await siteday.managed_session(
        services.db, actor_telegram_id=profile.telegram_id, session_id=view.session_id
    )
    await _show_card(update, context, view, site_texts.cancelled(told))


# --- shared ----------------------------------------------------------------------------------


def _today(services: Services) -> date:
    return services.now().astimezone(services.settings.timezone).date()


def _open(view: SessionView, services: Services) -> bool:
    """Still to come and not cancelled: the only sessions worth changing or covering."""
    return not view.cancelled and view.starts_at > services.now()
