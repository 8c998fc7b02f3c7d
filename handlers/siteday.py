"""Running the sessions, for coordinators and site leads: the day at a location (attendance,
meals and children), asking a location's volunteers to fill a gap, and changing or cancelling
a session. /today's first screen, the day at every location, is handlers/programme_day.py;
/coverage's list of gaps is handlers/coverage.py. Every id on these buttons is re-checked
against the person's locations."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from telegram import Update

from handlers import (
    callbacks,
    choose,
    choose_texts,
    export_texts,
    flows,
    glance_texts,
    site_texts,
)
from handlers.act_for_buttons import TEAM_BUTTON, WRITE_BUTTON, RotaTeam, WriteToTeam
from handlers.common import Row, button, keyboard, pager, say, show
from handlers.context import BotContext, Services
from handlers.exports_sheet import SignInSheet  # (exports)
from handlers.jobs_texts import jobs_button  # (session jobs)
from storage import drafts, locations, rota, siteday
from storage.errors import Clash, NotFound
from storage.models import BookingStatus, Role
from storage.people import Profile
from storage.rota import Helper, JobView, SessionView
from storage.siteday import CannotMarkNotRun, CannotRecordUnplanned, Doubtful, NotRunReason, SiteDay

logger = logging.getLogger(__name__)

COUNTS_FLOW = "site_counts"
TIMES_FLOW = "site_times"
NOT_RUN_FLOW = "site_not_run"
COVER_FLOW = "site_cover"
TODAY_LIST = "today"  # which location's day (handlers/choose.py)
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
    offset: int = 0  # the page of locations: a programme may have hundreds


@callbacks.action("gd")
@dataclass(frozen=True)
class ProgrammeDayPage:
    """The day at every location the coordinator runs (handlers/programme_day.py), from this
    row of its list: here because the site day links back to it."""

    day: int  # YYYYMMDD
    offset: int = 0


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


# Back to "not marked": a third state, on its own button so that a double tap stays harmless.


@callbacks.action("qa")
@dataclass(frozen=True)
class ClearMark:
    booking_id: int
    offset: int  # the day's page it was on


# Counts that look wrong ask "Are you sure?"; the counts wait in the draft meanwhile.


@callbacks.action("qs")
@dataclass(frozen=True)
class SaveCountsAnyway:
    pass


@callbacks.action("qc")
@dataclass(frozen=True)
class ChangeCounts:
    pass


# A session that began but did not run, and why.


@callbacks.action("qn")
@dataclass(frozen=True)
class AskNotRun:
    session_id: int


@callbacks.action("qr")
@dataclass(frozen=True)
class NotRunChosen:
    session_id: int
    reason: NotRunReason


@callbacks.action("qt")
@dataclass(frozen=True)
class NotRunTyped:
    session_id: int


# A lunch that happened but was never planned: its times, then its counts.


@callbacks.action("qu")
@dataclass(frozen=True)
class AskUnplanned:
    location_id: int
    day: int  # YYYYMMDD


@callbacks.action("ds")
@dataclass(frozen=True)
class OpenSessionAdmin:
    session_id: int


@callbacks.action("dt")
@dataclass(frozen=True)
class AskTimes:
    session_id: int


@callbacks.action("nj")
@dataclass(frozen=True)
class EditJobs:
    """The session's jobs and places, to change (handlers/session_jobs.py)."""

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
    """/coverage's list of locations, as last shown (handlers/coverage.py), from this row: here
    because a session's card links back to it."""

    offset: int


@callbacks.action("gr")
@dataclass(frozen=True)
class RequestCover:
    job_id: int


@callbacks.action("gw")
@dataclass(frozen=True)
class RequestWiderCover:
    """Nobody calls the location home: ask a wider audience instead."""

    job_id: int
    audience: rota.CoverAudience


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


@button(PickLocation, Role.COORDINATOR)
async def pick_location(
    update: Update, context: BotContext, profile: Profile, picked: PickLocation
) -> None:
    day = day_of(picked.day) or today_of(context.services)
    view = choose.View(kind=TODAY_LIST, args={"day": day_code(day)}, offset=picked.offset)
    await _choose_location(update, context, profile, view)


@choose.listing(TODAY_LIST, Role.COORDINATOR)
async def _choose_location(
    update: Update, context: BotContext, profile: Profile, view: choose.View
) -> None:
    search = await choose.search_for(context, profile.telegram_id, view)
    found = await locations.find(
        context.services.db,
        actor_telegram_id=profile.telegram_id,
        search=search,
        offset=view.offset,
        limit=choose.PER_PAGE,
    )
    if not found.matching and not search:
        await choose.present(update, view, site_texts.no_locations(), None)
        return
    code = int(view.args.get("day", 0))
    day = day_of(code) or today_of(context.services)
    code = day_code(day)
    items: list[Row] = [
        [(choose_texts.label(loc.name), OpenDay(location_id=loc.location_id, day=code))]
        for loc in found.shown
    ]
    rows = choose.rows(
        found, items, lambda offset: PickLocation(day=code, offset=offset), search, view.kind
    )
    rows.append([(glance_texts.back_to_glance_button(), ProgrammeDayPage(day=code))])
    text = choose_texts.with_status(site_texts.choose_location(day), found, search, choose.PER_PAGE)
    await choose.present(update, view, text, keyboard(*rows))


@button(OpenDay, Role.COORDINATOR)
async def open_day(update: Update, context: BotContext, profile: Profile, opened: OpenDay) -> None:
    day = day_of(opened.day)
    if day is None:
        raise NotFound("no such day")
    await choose.leave(context, profile.telegram_id)
    await show_day(update, context, profile, opened.location_id, day)


@button(OpenDayPage, Role.COORDINATOR)
async def open_day_page(
    update: Update, context: BotContext, profile: Profile, opened: OpenDayPage
) -> None:
    day = day_of(opened.day)
    if day is None:
        raise NotFound("no such day")
    await show_day(update, context, profile, opened.location_id, day, offset=opened.offset)


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


@button(ClearMark, Role.COORDINATOR)
async def clear_mark(
    update: Update, context: BotContext, profile: Profile, mark: ClearMark
) -> None:
    await _mark(update, context, profile, mark.booking_id, None, mark.offset)


async def _mark(
    update: Update,
    context: BotContext,
    profile: Profile,
    booking_id: int,
    attended: bool | None,
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
    await show_day(update, context, profile, view.location_id, day, note, offset=offset)


async def show_day(
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
        site, today_of(services), services.now(), tz, offset=offset, size=PEOPLE_PER_DAY_PAGE
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
        if view.not_run_reason is not None:  # it can still turn out to have run
            rows.append(
                [(site_texts.did_run_button(view, tz, several), AskCounts(view.session_id))]
            )
            continue
        if site_texts.markable(view, now):  # from two hours before: cooks come early
            rows += [
                _mark_row(h, offset)
                for h in site_texts.session_people(on_the_day)
                if h.booking_id in here
            ]
        if view.starts_at <= now:
            counts: list[tuple[str, object]] = [
                (site_texts.counts_button(view, tz, several), AskCounts(view.session_id))
            ]
            if not (view.meals_served or view.children_attended):
                counts.append(
                    (site_texts.not_run_button(view, tz, several), AskNotRun(view.session_id))
                )
            rows.append(counts)
        else:
            rows.append(
                [(site_texts.manage_button(view, tz, several), OpenSessionAdmin(view.session_id))]
            )
    # (exports: begin) each session's printable sign-in sheet
    rows += [
        [
            (
                export_texts.site_day_button(on_the_day.session.starts_at, tz, several),
                SignInSheet(on_the_day.session.session_id),
            )
        ]
        for on_the_day in site.sessions
        if not on_the_day.session.cancelled
    ]
    # (exports: end)
    location_id, day = site.location.location_id, day_code(site.day)
    rows.append(
        pager(
            offset,
            len(people),
            PEOPLE_PER_DAY_PAGE,
            lambda offset: _day_page(location_id, day, offset),
        )
    )
    today = today_of(services)
    if today - timedelta(days=siteday.UNPLANNED_DAYS_BACK) <= site.day <= today:
        rows.append([(site_texts.unplanned_button(), AskUnplanned(location_id, day))])
    rows.append(_day_nav(site, today_of(services)))
    if site.locations_run > 1:
        rows.append([(glance_texts.back_to_glance_button(), ProgrammeDayPage(day=day))])
    return rows


def _mark_action(helper: Helper, attended: bool, offset: int) -> object:
    if offset == 0:
        return MarkAttendance(helper.booking_id, attended=attended)
    return MarkAttendanceOnPage(helper.booking_id, attended=attended, offset=offset)


def _mark_row(helper: Helper, offset: int) -> Row:
    """Came and no-show; the one already marked becomes "Unmark", back to not marked."""
    came = (site_texts.came_button(helper), _mark_action(helper, True, offset))
    no_show = (site_texts.no_show_button(helper), _mark_action(helper, False, offset))
    clear = (site_texts.unmark_button(helper), ClearMark(helper.booking_id, offset))
    if helper.status is BookingStatus.ATTENDED:
        return [clear, no_show]
    if helper.status is BookingStatus.NO_SHOW:
        return [came, clear]
    return [came, no_show]


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
    # In place of the day, so that the old day's buttons are not left live above the answers.
    await show(
        update,
        site_texts.ask_meals(view, services.settings.timezone),
        flows.cancel_keyboard(COUNTS_FLOW),
    )


@button(AskUnplanned, Role.COORDINATOR)
async def ask_unplanned(
    update: Update, context: BotContext, profile: Profile, asked: AskUnplanned
) -> None:
    """A lunch that was never planned: its times first, then the counts as for any session."""
    services = context.services
    day = day_of(asked.day)
    if day is None:
        raise NotFound("no such day")
    site = await siteday.site_day(
        services.db,
        actor_telegram_id=profile.telegram_id,
        location_id=asked.location_id,
        day=day,
        tz=services.settings.timezone,
    )
    today = today_of(services)
    if not today - timedelta(days=siteday.UNPLANNED_DAYS_BACK) <= day <= today:
        note = site_texts.unplanned_refused(siteday.UnplannedRefused.TOO_OLD)
        await show_day(update, context, profile, asked.location_id, day, note)
        return
    data = {"location_id": asked.location_id, "day": asked.day}
    await flows.wait_for_text(context, profile.telegram_id, COUNTS_FLOW, "times", data)
    await show(
        update,
        site_texts.ask_unplanned_times(site.location.name, day),
        flows.cancel_keyboard(COUNTS_FLOW),
    )


async def on_counts_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    draft = await drafts.load(
        context.services.db, telegram_id=profile.telegram_id, flow=COUNTS_FLOW
    )
    if draft is None:  # answered by another instance a moment ago
        return
    field = draft.awaiting or "meals"
    if field == "sure":  # waiting for a button, not a number
        await _ask_sure(update, draft.data)
        return
    if field == "times":
        await _on_unplanned_times(update, context, profile, draft.data, text)
        return
    count = parse_count(text)
    if count is None:
        await say(update, site_texts.count_invalid(field))
    elif field == "meals":
        data = {**draft.data, "meals": count}
        await flows.wait_for_text(context, profile.telegram_id, COUNTS_FLOW, "children", data)
        await say(update, site_texts.ask_children(count), flows.cancel_keyboard(COUNTS_FLOW))
    else:
        data = {**draft.data, "children": count}
        await _save_counts(update, context, profile, data, sure=False)


async def _on_unplanned_times(
    update: Update, context: BotContext, profile: Profile, data: dict[str, object], text: str
) -> None:
    services = context.services
    times = parse_times(text)
    day = day_of(int(str(data["day"])))
    if times is None or day is None:
        await say(update, site_texts.times_invalid())
        return
    problem = siteday.unplanned_problem(
        day, times[0], times[1], tz=services.settings.timezone, now=services.now()
    )
    if problem is not None:
        await say(update, site_texts.unplanned_refused(problem))
        return
    data = {**data, "start": f"{times[0]:%H:%M}", "end": f"{times[1]:%H:%M}"}
    await flows.wait_for_text(context, profile.telegram_id, COUNTS_FLOW, "meals", data)
    await say(
        update,
        site_texts.ask_unplanned_meals(times[0], times[1]),
        flows.cancel_keyboard(COUNTS_FLOW),
    )


async def _save_counts(
    update: Update,
    context: BotContext,
    profile: Profile,
    data: dict[str, object],
    *,
    sure: bool,
) -> None:
    """Save the counts the draft holds, for a session or an unplanned lunch; counts that look
    wrong are kept in the draft and asked about first."""
    services = context.services
    meals, children = int(str(data["meals"])), int(str(data["children"]))
    try:
        if "session_id" in data:
            view = await siteday.record_counts(
                services.db,
                actor_telegram_id=profile.telegram_id,
                session_id=int(str(data["session_id"])),
                meals=meals,
                children=children,
                now=services.now(),
                sure=sure,
            )
            note = site_texts.counts_saved(view)
        else:
            day = day_of(int(str(data["day"])))
            if day is None:
                raise NotFound("no such day")
            view = await siteday.record_unplanned(
                services.db,
                actor_telegram_id=profile.telegram_id,
                location_id=int(str(data["location_id"])),
                day=day,
                start=time.fromisoformat(str(data["start"])),
                end=time.fromisoformat(str(data["end"])),
                meals=meals,
                children=children,
                tz=services.settings.timezone,
                now=services.now(),
                sure=sure,
            )
            note = site_texts.unplanned_saved(view)
    except Doubtful as doubtful:
        found = doubtful.doubts
        data = {**data, "doubts": [d.value for d in found.doubts], "capacity": found.capacity}
        await flows.wait_for_text(context, profile.telegram_id, COUNTS_FLOW, "sure", data)
        await _ask_sure(update, data)
        return
    except CannotRecordUnplanned as refused:
        await flows.finish(context, profile.telegram_id, COUNTS_FLOW)
        await say(update, site_texts.unplanned_refused(refused.why))
        return
    except Clash:
        await flows.finish(context, profile.telegram_id, COUNTS_FLOW)
        await say(update, site_texts.unplanned_clash())
        return
    await flows.finish(context, profile.telegram_id, COUNTS_FLOW)
    await _show_day_of(update, context, profile, view, note)


async def _ask_sure(update: Update, data: dict[str, Any]) -> None:
    meals, children = int(data["meals"]), int(data["children"])
    doubts = [str(doubt) for doubt in data.get("doubts", [])]
    await show(
        update,
        site_texts.are_you_sure(meals, children, doubts, int(data.get("capacity", 0))),
        flows.cancel_keyboard(
            COUNTS_FLOW,
            [
                (site_texts.save_anyway_button(meals, children), SaveCountsAnyway()),
                (site_texts.change_counts_button(), ChangeCounts()),
            ],
        ),
    )


@button(SaveCountsAnyway, Role.COORDINATOR)
async def save_counts_anyway(
    update: Update, context: BotContext, profile: Profile, chosen: SaveCountsAnyway
) -> None:
    draft = await drafts.load(
        context.services.db, telegram_id=profile.telegram_id, flow=COUNTS_FLOW
    )
    if draft is None or draft.awaiting != "sure":  # saved already, or cancelled
        await show(update, site_texts.nothing_to_save())
        return
    await _save_counts(update, context, profile, draft.data, sure=True)


@button(ChangeCounts, Role.COORDINATOR)
async def change_counts(
    update: Update, context: BotContext, profile: Profile, chosen: ChangeCounts
) -> None:
    draft = await drafts.load(
        context.services.db, telegram_id=profile.telegram_id, flow=COUNTS_FLOW
    )
    if draft is None or draft.awaiting != "sure":
        await show(update, site_texts.nothing_to_save())
        return
    data = {
        k: v for k, v in draft.data.items() if k not in ("meals", "children", "doubts", "capacity")
    }
    await flows.wait_for_text(context, profile.telegram_id, COUNTS_FLOW, "meals", data)
    await show(update, site_texts.ask_meals_again(), flows.cancel_keyboard(COUNTS_FLOW))


# --- a session that did not run --------------------------------------------------------------


@button(AskNotRun, Role.COORDINATOR)
async def ask_not_run(
    update: Update, context: BotContext, profile: Profile, asked: AskNotRun
) -> None:
    services = context.services
    tz = services.settings.timezone
    view = await siteday.managed_session(
        services.db, actor_telegram_id=profile.telegram_id, session_id=asked.session_id
    )
    rows: list[Row] = [
        [(site_texts.NOT_RUN_REASONS[reason], NotRunChosen(view.session_id, reason))]
        for reason in NotRunReason
    ]
    rows.append([(site_texts.other_reason_button(), NotRunTyped(view.session_id))])
    day = day_code(view.starts_at.astimezone(tz).date())
    rows.append([(site_texts.back_to_day_button(view, tz), OpenDay(view.location_id, day))])
    # A form from here: the reason is chosen or typed next, and /cancel or Cancel ends it.
    await flows.begin(context, profile.telegram_id, NOT_RUN_FLOW, {"session_id": view.session_id})
    await show(update, site_texts.ask_not_run(view, tz), flows.cancel_keyboard(NOT_RUN_FLOW, *rows))


@button(NotRunChosen, Role.COORDINATOR)
async def not_run_chosen(
    update: Update, context: BotContext, profile: Profile, chosen: NotRunChosen
) -> None:
    about = {"session_id": chosen.session_id}
    if await flows.still_open(update, context, profile.telegram_id, NOT_RUN_FLOW, about) is None:
        return
    await flows.finish(context, profile.telegram_id, NOT_RUN_FLOW)
    reason = site_texts.NOT_RUN_REASONS[chosen.reason]
    await _not_run(update, context, profile, chosen.session_id, reason, typed=False)


@button(NotRunTyped, Role.COORDINATOR)
async def not_run_typed(
    update: Update, context: BotContext, profile: Profile, chosen: NotRunTyped
) -> None:
    services = context.services
    about = {"session_id": chosen.session_id}
    if await flows.still_open(update, context, profile.telegram_id, NOT_RUN_FLOW, about) is None:
        return
    view = await siteday.managed_session(
        services.db, actor_telegram_id=profile.telegram_id, session_id=chosen.session_id
    )
    await flows.wait_for_text(
        context, profile.telegram_id, NOT_RUN_FLOW, "reason", {"session_id": view.session_id}
    )
    await show(
        update,
        site_texts.ask_not_run_reason(view, services.settings.timezone),
        flows.cancel_keyboard(NOT_RUN_FLOW),
    )


async def on_not_run_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    draft = await drafts.load(
        context.services.db, telegram_id=profile.telegram_id, flow=NOT_RUN_FLOW
    )
    if draft is None:
        return
    if not text.strip():
        await say(update, site_texts.not_run_reason_empty())
        return
    await flows.finish(context, profile.telegram_id, NOT_RUN_FLOW)
    await _not_run(update, context, profile, int(draft.data["session_id"]), text, typed=True)


async def _not_run(
    update: Update,
    context: BotContext,
    profile: Profile,
    session_id: int,
    reason: str,
    *,
    typed: bool,
) -> None:
    services = context.services
    try:
        view = await siteday.mark_not_run(
            services.db,
            actor_telegram_id=profile.telegram_id,
            session_id=session_id,
            reason=reason,
            typed=typed,
            now=services.now(),
        )
        note = site_texts.not_run_saved(view)
    except CannotMarkNotRun as refused:
        view = await siteday.managed_session(
            services.db, actor_telegram_id=profile.telegram_id, session_id=session_id
        )
        note = site_texts.not_run_refused(refused.why)
    await _show_day_of(update, context, profile, view, note)


# --- coverage: asking for cover (the list of gaps is handlers/coverage.py) -----------------


@button(RequestCover, Role.COORDINATOR)
async def request_cover(
    update: Update, context: BotContext, profile: Profile, chosen: RequestCover
) -> None:
    await _ask_cover(update, context, profile, chosen.job_id, rota.CoverAudience.HOME)


async def _ask_cover(
    update: Update,
    context: BotContext,
    profile: Profile,
    job_id: int,
    audience: rota.CoverAudience,
) -> None:
    services = context.services
    view, job = await siteday.managed_job(
        services.db, actor_telegram_id=profile.telegram_id, job_id=job_id
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
            audience=audience,
        )
        if asked == 0 and audience is rota.CoverAudience.HOME:
            await _offer_wider_cover(update, context, profile, view, job)
            return
        note = site_texts.cover_asked(view, job, asked, audience)
    await _show_card(update, context, view, note)


async def _offer_wider_cover(
    update: Update, context: BotContext, profile: Profile, view: SessionView, job: JobView
) -> None:
    """Nobody to ask near the location: offer the next best audiences, with their sizes."""
    counts = await rota.cover_audiences(
        context.services.db,
        actor_telegram_id=profile.telegram_id,
        job_id=job.job_id,
        now=context.services.now(),
    )
    recent, everyone = counts[rota.CoverAudience.RECENT], counts[rota.CoverAudience.ALL]
    rows: list[Row] = []
    if recent > 0:
        rows.append(
            [
                (
                    site_texts.cover_recent_button(recent),
                    RequestWiderCover(job.job_id, rota.CoverAudience.RECENT),
                )
            ]
        )
    if everyone > recent:
        rows.append(
            [
                (
                    site_texts.cover_everyone_button(everyone),
                    RequestWiderCover(job.job_id, rota.CoverAudience.ALL),
                )
            ]
        )
    rows.append([(site_texts.back_to_session_button(), OpenSessionAdmin(view.session_id))])
    text = site_texts.cover_nobody_near(view, job, recent, everyone)
    if recent == 0 and everyone == 0:  # nobody to choose: no form to cancel either
        await show(update, text, keyboard(*rows))
        return
    # Choosing whom to ask is a form: /cancel or its Cancel ends it, and a choice tapped after
    # that asks nobody.
    await flows.begin(context, profile.telegram_id, COVER_FLOW, {"job_id": job.job_id})
    await show(update, text, flows.cancel_keyboard(COVER_FLOW, *rows))


@button(RequestWiderCover, Role.COORDINATOR)
async def request_wider_cover(
    update: Update, context: BotContext, profile: Profile, chosen: RequestWiderCover
) -> None:
    about = {"job_id": chosen.job_id}
    if await flows.still_open(update, context, profile.telegram_id, COVER_FLOW, about) is None:
        return
    await flows.finish(context, profile.telegram_id, COVER_FLOW)
    await _ask_cover(update, context, profile, chosen.job_id, chosen.audience)


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
        rows.append([(jobs_button(), EditJobs(view.session_id))])
        rows.append(
            [
                (site_texts.change_times_button(), AskTimes(view.session_id)),
                (site_texts.cancel_session_button(), AskCancelSession(view.session_id)),
            ]
        )
    elif not view.cancelled and view.not_run_reason is None:
        # Started: it can't change any more, but its counts, or that it did not run, can.
        started: list[tuple[str, object]] = [
            (site_texts.counts_button(view, tz, False), AskCounts(view.session_id))
        ]
        if not (view.meals_served or view.children_attended):
            started.append((site_texts.not_run_button(view, tz, False), AskNotRun(view.session_id)))
        rows.append(started)
    # (acting for people: begin) its rota, changed for people; a message to its team
    if not view.cancelled:
        rows.append([(TEAM_BUTTON, RotaTeam(view.session_id))])
        rows.append([(WRITE_BUTTON, WriteToTeam(view.session_id))])
    # (acting for people: end)
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
    told = await rota.who_is_told(
        services.db,
        actor_telegram_id=profile.telegram_id,
        session_id=view.session_id,
        moving=True,
    )
    await flows.wait_for_text(
        context, profile.telegram_id, TIMES_FLOW, "times", {"session_id": view.session_id}
    )
    await say(
        update,
        site_texts.ask_times(view, services.settings.timezone, told),
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
    told = await rota.who_is_told(
        services.db, actor_telegram_id=profile.telegram_id, session_id=view.session_id
    )
    await show(
        update,
        site_texts.confirm_cancel(view, services.settings.timezone, told),
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


def today_of(services: Services) -> date:
    return services.now().astimezone(services.settings.timezone).date()


def _open(view: SessionView, services: Services) -> bool:
    """Still to come and not cancelled: the only sessions worth changing or covering."""
    return not view.cancelled and view.starts_at > services.now()
