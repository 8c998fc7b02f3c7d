"""Coordinators plan the holiday: locations (/locations) and a period's sessions in one go
(/newsessions: where, which dates and weekdays, what time, which jobs, then a review)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from telegram import Update

from handlers import callbacks, choose, choose_texts, flows, rota_texts, site_texts, texts
from handlers.common import Row, button, command, keyboard, say, show
from handlers.context import BotContext
from handlers.siteday import parse_times
from storage import dates, drafts, locations, rota
from storage.errors import AlreadyDone, OutOfScope
from storage.locations import Field, LocationInfo
from storage.models import JOB_NAME_MAX, Role
from storage.people import Profile
from storage.rota import MAX_PLACES_PER_JOB, JobSpec, SessionPlan
from storage.rota_import import parse_date

LOCATION_NAME_FLOW = "location_new"
LOCATION_EDIT_FLOW = "location_edit"
PLAN_FLOW = "plan"
ARCHIVE_FLOW = "location_archive"
MAX_PLAN_DAYS = 120
MAX_JOBS = 8  # a session card shows one button per job
LOCATIONS_LIST = "locations"  # /locations (handlers/choose.py)
PLAN_WHERE_LIST = "plan_where"  # /newsessions's first step
DEFAULT_WEEKDAYS = (0, 1, 2, 3, 4)
# A job: a name of letters (spaces and hyphens inside), then its number of places.
_JOB = re.compile(r"\s*([^\W\d_](?:[^\W\d_]|[ -])*?)\s*(?:x|×|:)?\s*([0-9]{1,2})\s*")
_DMY_SPAN = re.compile(r"(\d{1,2}/\d{1,2}/\d{4})\s*(?:-|–|to)\s*(\d{1,2}/\d{1,2}/\d{4})", re.ASCII)


@callbacks.action("lo")
@dataclass(frozen=True)
class LocationsList:
    pass


@callbacks.action("lq")
@dataclass(frozen=True)
class LocationsPage:
    offset: int


@callbacks.action("lc")
@dataclass(frozen=True)
class LocationCard:
    location_id: int


@callbacks.action("ln")
@dataclass(frozen=True)
class NewLocation:
    pass


@callbacks.action("le")
@dataclass(frozen=True)
class EditLocation:
    location_id: int
    field: Field


@callbacks.action("la")
@dataclass(frozen=True)
class ArchiveLocation:
    location_id: int
    archived: bool


@callbacks.action("lx")
@dataclass(frozen=True)
class ArchiveAndCancel:
    """Archive a location after cancelling its sessions to come (everyone is told)."""

    location_id: int


@callbacks.action("wl")
@dataclass(frozen=True)
class PlanAt:
    location_id: int


@callbacks.action("wp")
@dataclass(frozen=True)
class PlanWherePage:
    offset: int


@callbacks.action("wd")
@dataclass(frozen=True)
class PlanWeekday:
    weekday: int


@callbacks.action("wn")
@dataclass(frozen=True)
class PlanWeekdaysDone:
    pass


@callbacks.action("wj")
@dataclass(frozen=True)
class PlanDefaultJobs:
    pass


@callbacks.action("wc")
@dataclass(frozen=True)
class PlanCreate:
    pass


# --- locations -------------------------------------------------------------------------------


@command(Role.COORDINATOR)
async def locations_command(update: Update, context: BotContext, profile: Profile) -> None:
    await _locations(update, context, profile, choose.View(kind=LOCATIONS_LIST, fresh=True))


@button(LocationsList, Role.COORDINATOR)
async def locations_list(
    update: Update, context: BotContext, profile: Profile, _opened: LocationsList
) -> None:
    await _locations(update, context, profile, choose.View(kind=LOCATIONS_LIST))


@button(LocationsPage, Role.COORDINATOR)
async def locations_page(
    update: Update, context: BotContext, profile: Profile, page: LocationsPage
) -> None:
    await _locations(update, context, profile, choose.View(kind=LOCATIONS_LIST, offset=page.offset))


@choose.listing(LOCATIONS_LIST, Role.COORDINATOR)
async def _locations(
    update: Update, context: BotContext, profile: Profile, view: choose.View, note: str = ""
) -> None:
    search = await choose.search_for(context, profile.telegram_id, view)
    found = await locations.find(
        context.services.db,
        actor_telegram_id=profile.telegram_id,
        search=search,
        offset=view.offset,
        limit=choose.PER_PAGE,
    )
    items: list[Row] = [
        [(choose_texts.label(loc.name), LocationCard(location_id=loc.location_id))]
        for loc in found.shown
    ]
    rows = choose.rows(found, items, lambda offset: LocationsPage(offset=offset), search, view.kind)
    if not profile.scoped:  # adding venues is the programme's call, not a site lead's
        rows.append([("➕ Add a location", NewLocation())])
    text = choose_texts.with_status(
        rota_texts.locations(found.shown, searched=bool(search)), found, search, choose.PER_PAGE
    )
    await choose.present(update, view, text, keyboard(*rows), note=note)


@button(LocationCard, Role.COORDINATOR)
async def location_card(
    update: Update, context: BotContext, profile: Profile, opened: LocationCard
) -> None:
    location = await locations.managed(
        context.services.db, actor_telegram_id=profile.telegram_id, location_id=opened.location_id
    )
    await choose.leave(context, profile.telegram_id)
    await _card(update, location)


async def _card(update: Update, location: LocationInfo, note: str = "") -> None:
    lid = location.location_id
    rows: list[Row] = [
        [
            ("✏️ Name", EditLocation(location_id=lid, field=Field.NAME)),
            ("✏️ Address", EditLocation(location_id=lid, field=Field.ADDRESS)),
        ],
        [
            ("✏️ Notes", EditLocation(location_id=lid, field=Field.NOTES)),
            ("✏️ Children a day", EditLocation(location_id=lid, field=Field.CAPACITY)),
        ],
        [
            (
                "Restore" if location.archived else "🗄 Archive",
                ArchiveLocation(location_id=lid, archived=not location.archived),
            )
        ],
        [("« All locations", LocationsList())],
    ]
    await show(update, rota_texts.location_card(location), keyboard(*rows), note=note)


@button(NewLocation, Role.COORDINATOR)
async def new_location(
    update: Update, context: BotContext, profile: Profile, _asked: NewLocation
) -> None:
    if profile.scoped:
        raise OutOfScope  # before asking for a name that would then be refused
    await flows.wait_for_text(context, profile.telegram_id, LOCATION_NAME_FLOW, "name")
    await say(
        update,
        rota_texts.ask_location_field(Field.NAME, None),
        flows.cancel_keyboard(LOCATION_NAME_FLOW),
    )


async def on_location_name_text(
    update: Update, context: BotContext, profile: Profile, text: str
) -> None:
    name = locations.clean_field(Field.NAME, text)
    if not isinstance(name, str) or not name:
        await say(update, rota_texts.location_field_invalid(Field.NAME))
        return
    services = context.services
    try:
        location = await locations.create(
            services.db, actor_telegram_id=profile.telegram_id, name=name, now=services.now()
        )
    except locations.NameTaken:
        await say(update, rota_texts.location_name_taken(name))
        return
    await flows.finish(context, profile.telegram_id, LOCATION_NAME_FLOW)
    await _card(update, location, rota_texts.location_created(location))


@button(EditLocation, Role.COORDINATOR)
async def edit_location(
    update: Update, context: BotContext, profile: Profile, chosen: EditLocation
) -> None:
    location = await locations.managed(
        context.services.db, actor_telegram_id=profile.telegram_id, location_id=chosen.location_id
    )
    await flows.wait_for_text(
        context,
        profile.telegram_id,
        LOCATION_EDIT_FLOW,
        chosen.field.value,
        {"location_id": chosen.location_id},
    )
    await say(
        update,
        rota_texts.ask_location_field(chosen.field, location),
        flows.cancel_keyboard(LOCATION_EDIT_FLOW),
    )


async def on_location_edit_text(
    update: Update, context: BotContext, profile: Profile, text: str
) -> None:
    services = context.services
    draft = await drafts.waiting_for_text(services.db, telegram_id=profile.telegram_id)
    if draft is None or draft.awaiting not in {f.value for f in Field}:
        return
    field = Field(draft.awaiting)
    value = locations.clean_field(field, text)
    if value is None:
        await say(update, rota_texts.location_field_invalid(field))
        return
    try:
        location = await locations.update_field(
            services.db,
            actor_telegram_id=profile.telegram_id,
            location_id=int(draft.data["location_id"]),
            field=field,
            value=value,
            now=services.now(),
        )
    except locations.NameTaken:
        await say(update, rota_texts.location_name_taken(str(value)))
        return
    await flows.finish(context, profile.telegram_id, LOCATION_EDIT_FLOW)
    await _card(update, location, rota_texts.location_saved())


@button(ArchiveLocation, Role.COORDINATOR)
async def archive_location(
    update: Update, context: BotContext, profile: Profile, chosen: ArchiveLocation
) -> None:
    services = context.services
    if chosen.archived:
        ahead, told = await rota.sessions_to_come(
            services.db,
            actor_telegram_id=profile.telegram_id,
            location_id=chosen.location_id,
            now=services.now(),
        )
        if ahead:  # who would be told, before anything is cancelled
            location = await locations.managed(
                services.db,
                actor_telegram_id=profile.telegram_id,
                location_id=chosen.location_id,
            )
            # A confirmation form: /cancel or its Cancel ends it, and the button tapped after
            # that cancels nothing.
            about = {"location_id": chosen.location_id}
            await flows.begin(context, profile.telegram_id, ARCHIVE_FLOW, about)
            await show(
                update,
                rota_texts.confirm_archive(location, ahead, site_texts.who_is_told(told)),
                flows.cancel_keyboard(
                    ARCHIVE_FLOW,
                    [
                        (
                            rota_texts.archive_and_cancel_button(ahead),
                            ArchiveAndCancel(location_id=chosen.location_id),
                        )
                    ],
                    [("« Back", LocationCard(location_id=chosen.location_id))],
                ),
            )
            return
    try:
        location = await locations.set_archived(
            services.db,
            actor_telegram_id=profile.telegram_id,
            location_id=chosen.location_id,
            archived=chosen.archived,
            now=services.now(),
        )
    except locations.StillPlanned as planned:
        await say(update, rota_texts.location_still_planned(planned.sessions, planned.families))
        return
    await _card(update, location, rota_texts.location_archived(location))


@button(ArchiveAndCancel, Role.COORDINATOR)
async def archive_and_cancel(
    update: Update, context: BotContext, profile: Profile, chosen: ArchiveAndCancel
) -> None:
    services = context.services
    about = {"location_id": chosen.location_id}
    if await flows.still_open(update, context, profile.telegram_id, ARCHIVE_FLOW, about) is None:
        return
    await flows.finish(context, profile.telegram_id, ARCHIVE_FLOW)
    try:
        told = await rota.archive_location(
            services.db,
            actor_telegram_id=profile.telegram_id,
            location_id=chosen.location_id,
            now=services.now(),
        )
        note = rota_texts.archived_and_cancelled(site_texts.told_line(told))
    except AlreadyDone:  # a double tap: the first one cancelled and told
        note = rota_texts.already_archived()
    location = await locations.managed(
        services.db, actor_telegram_id=profile.telegram_id, location_id=chosen.location_id
    )
    await _card(update, location, note)


# --- planning sessions -----------------------------------------------------------------------


@command(Role.COORDINATOR)
async def new_sessions(update: Update, context: BotContext, profile: Profile) -> None:
    run = await locations.find(
        context.services.db, actor_telegram_id=profile.telegram_id, search="", offset=0, limit=0
    )
    if not run.matching:
        await say(update, rota_texts.plan_no_locations())
        return
    # A new /newsessions starts afresh: a half-made plan is forgotten.
    await flows.begin(context, profile.telegram_id, PLAN_FLOW)
    await _where(update, context, profile, choose.View(kind=PLAN_WHERE_LIST, fresh=True))


@button(PlanWherePage, Role.COORDINATOR)
async def plan_where_page(
    update: Update, context: BotContext, profile: Profile, page: PlanWherePage
) -> None:
    await _where(update, context, profile, choose.View(kind=PLAN_WHERE_LIST, offset=page.offset))


@choose.listing(PLAN_WHERE_LIST, Role.COORDINATOR)
async def _where(update: Update, context: BotContext, profile: Profile, view: choose.View) -> None:
    if await flows.still_open(update, context, profile.telegram_id, PLAN_FLOW) is None:
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
        [(choose_texts.label(loc.name), PlanAt(location_id=loc.location_id))] for loc in found.shown
    ]
    rows = choose.rows(found, items, lambda offset: PlanWherePage(offset=offset), search, view.kind)
    text = choose_texts.with_status(rota_texts.plan_where(), found, search, choose.PER_PAGE)
    await choose.present(update, view, text, flows.cancel_keyboard(PLAN_FLOW, *rows))


@button(PlanAt, Role.COORDINATOR)
async def plan_at(update: Update, context: BotContext, profile: Profile, chosen: PlanAt) -> None:
    if await flows.still_open(update, context, profile.telegram_id, PLAN_FLOW) is None:
        return
    location = await locations.managed(
        context.services.db, actor_telegram_id=profile.telegram_id, location_id=chosen.location_id
    )
    if location.archived:
        await show(update, texts.stale_button())
        return
    await _save(
        context, profile, "dates", {"location_id": location.location_id, "location": location.name}
    )
    await show(update, rota_texts.plan_dates(location.name), flows.cancel_keyboard(PLAN_FLOW))


async def on_plan_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    draft = await drafts.load(context.services.db, telegram_id=profile.telegram_id, flow=PLAN_FLOW)
    if draft is None:
        return
    data = dict(draft.data)
    if draft.awaiting == "dates":
        await _plan_dates(update, context, profile, data, text)
    elif draft.awaiting == "times":
        await _plan_times(update, context, profile, data, text)
    elif draft.awaiting == "jobs":
        jobs = parse_jobs(text, context.services.settings.jobs)
        if jobs is None:
            await say(update, rota_texts.plan_jobs_invalid())
            return
        await _review(update, context, profile, data | {"jobs": _jobs_data(jobs)})


async def _plan_dates(
    update: Update, context: BotContext, profile: Profile, data: dict[str, Any], text: str
) -> None:
    span = parse_span(
        text, today=context.services.now().astimezone(context.services.settings.timezone).date()
    )
    if span is None:
        await say(update, rota_texts.plan_dates_invalid(MAX_PLAN_DAYS))
        return
    first, last = span
    present = _weekdays_in(first, last)
    weekdays = sorted(present & set(DEFAULT_WEEKDAYS)) or sorted(present)
    data |= {"first": first.isoformat(), "last": last.isoformat(), "weekdays": weekdays}
    await _save(context, profile, None, data)
    await _weekdays(update, data, fresh=True)


def _weekdays_in(first: date, last: date) -> set[int]:
    return {(first + timedelta(days=n)).weekday() for n in range(min((last - first).days + 1, 7))}


async def _weekdays(update: Update, data: dict[str, Any], *, fresh: bool = False) -> None:
    chosen = set(data["weekdays"])
    rows: list[Row] = [
        [
            (("✓ " if day in chosen else "") + rota_texts.WEEKDAYS[day], PlanWeekday(weekday=day))
            for day in days
        ]
        for days in ((0, 1, 2, 3), (4, 5, 6))
    ]
    rows.append([(texts.CONTINUE, PlanWeekdaysDone())])
    rows.append(flows.cancel_row(PLAN_FLOW))
    text = rota_texts.plan_weekdays(
        date.fromisoformat(data["first"]), date.fromisoformat(data["last"])
    )
    if fresh:
        await say(update, text, keyboard(*rows))
    else:
        await show(update, text, keyboard(*rows))


@button(PlanWeekday, Role.COORDINATOR)
async def plan_weekday(
    update: Update, context: BotContext, profile: Profile, chosen: PlanWeekday
) -> None:
    data = await _draft_data(update, context, profile, "weekdays")
    if data is None or not 0 <= chosen.weekday <= 6:
        return
    days = set(data["weekdays"]) ^ {chosen.weekday}
    data["weekdays"] = sorted(days)
    await _save(context, profile, None, data)
    await _weekdays(update, data)


@button(PlanWeekdaysDone, Role.COORDINATOR)
async def plan_weekdays_done(
    update: Update, context: BotContext, profile: Profile, _done: PlanWeekdaysDone
) -> None:
    data = await _draft_data(update, context, profile, "weekdays")
    if data is None:
        return
    if not data["weekdays"]:
        await _weekdays(update, data)
        await say(update, rota_texts.plan_no_weekdays())
        return
    await _save(context, profile, "times", data)
    await show(update, rota_texts.plan_times(), flows.cancel_keyboard(PLAN_FLOW))


async def _plan_times(
    update: Update, context: BotContext, profile: Profile, data: dict[str, Any], text: str
) -> None:
    times = parse_times(text)
    if times is None:
        await say(update, rota_texts.plan_times_invalid())
        return
    data |= {"start": times[0].strftime("%H:%M"), "end": times[1].strftime("%H:%M")}
    await _save(context, profile, "jobs", data)
    defaults = context.services.settings.jobs
    await say(
        update,
        rota_texts.plan_jobs(defaults),
        flows.cancel_keyboard(PLAN_FLOW, [("Use these", PlanDefaultJobs())]),
    )


@button(PlanDefaultJobs, Role.COORDINATOR)
async def plan_default_jobs(
    update: Update, context: BotContext, profile: Profile, _chosen: PlanDefaultJobs
) -> None:
    data = await _draft_data(update, context, profile, "start")
    if data is None:
        return
    await _review(
        update, context, profile, data | {"jobs": _jobs_data(context.services.settings.jobs)}
    )


async def _review(
    update: Update, context: BotContext, profile: Profile, data: dict[str, Any]
) -> None:
    # Still waiting for jobs: typing another list now changes the plan under review.
    await _save(context, profile, "jobs", data)
    plan = _plan(data)
    services = context.services
    count = len(rota.session_times(plan, services.settings.timezone, after=services.now()))
    if count == 0:
        await say(update, rota_texts.plan_empty())
        return
    if count > rota.MAX_SESSIONS_PER_PLAN:
        await say(update, rota_texts.plan_too_many(count, rota.MAX_SESSIONS_PER_PLAN))
        return
    await say(
        update,
        rota_texts.plan_review(plan, data["location"], count),
        keyboard([("✅ Create them", PlanCreate())], flows.cancel_row(PLAN_FLOW)),
    )


@button(PlanCreate, Role.COORDINATOR)
async def plan_create(
    update: Update, context: BotContext, profile: Profile, _chosen: PlanCreate
) -> None:
    services = context.services
    draft = await drafts.load(services.db, telegram_id=profile.telegram_id, flow=PLAN_FLOW)
    data = dict(draft.data) if draft is not None else {}
    if "created" in data:  # a double tap: the same answer again
        await show(
            update,
            rota_texts.plan_created(
                rota.Created(created=data["created"], existing=data["existing"]), data["location"]
            ),
        )
        return
    if await _draft_data(update, context, profile, "jobs") is None:
        return
    plan = _plan(data)
    try:
        created = await rota.create_sessions(
            services.db,
            actor_telegram_id=profile.telegram_id,
            plan=plan,
            tz=services.settings.timezone,
            now=services.now(),
        )
    except ValueError:
        await show(update, rota_texts.plan_empty())
        return
    # Kept, finished, so a second tap can repeat the answer.
    await drafts.save(
        services.db,
        telegram_id=profile.telegram_id,
        flow=PLAN_FLOW,
        awaiting=None,
        data=data | {"created": created.created, "existing": created.existing},
        now=services.now(),
        finished=True,
    )
    await show(update, rota_texts.plan_created(created, data["location"]))


# --- the plan's draft ------------------------------------------------------------------------


async def _save(
    context: BotContext, profile: Profile, awaiting: str | None, data: dict[str, Any]
) -> None:
    services = context.services
    await drafts.save(
        services.db,
        telegram_id=profile.telegram_id,
        flow=PLAN_FLOW,
        awaiting=awaiting,
        data=data,
        now=services.now(),
    )


async def _draft_data(
    update: Update, context: BotContext, profile: Profile, needs: str
) -> dict[str, Any] | None:
    """The plan so far, if it is open and has reached the step that has `needs` in it; else
    the screen says why nothing was done, and None."""
    draft = await flows.still_open(update, context, profile.telegram_id, PLAN_FLOW)
    if draft is None:
        return None
    if needs not in draft.data:
        await show(update, rota_texts.plan_expired())
        return None
    return dict(draft.data)


def _plan(data: dict[str, Any]) -> SessionPlan:
    return SessionPlan(
        location_id=int(data["location_id"]),
        first_day=date.fromisoformat(data["first"]),
        last_day=date.fromisoformat(data["last"]),
        weekdays=frozenset(int(day) for day in data["weekdays"]),
        start=time.fromisoformat(data["start"]),
        end=time.fromisoformat(data["end"]),
        jobs=tuple(
            JobSpec(job=str(j["job"]), places=int(j["places"]), needs_check=bool(j["needs_check"]))
            for j in data["jobs"]
        ),
    )


def _jobs_data(jobs: tuple[JobSpec, ...]) -> list[dict[str, Any]]:
    return [{"job": j.job, "places": j.places, "needs_check": j.needs_check} for j in jobs]


# --- parsing what coordinators type ----------------------------------------------------------


def parse_span(text: str, *, today: date) -> tuple[date, date] | None:
    """'27/07/2026 - 28/08/2026', '2026-07-27 to 2026-08-28', or one date; not in the past,
    not beyond a year ahead (storage.dates.PLANNING), at most MAX_PLAN_DAYS long."""
    joined = _DMY_SPAN.fullmatch(text.strip())  # 28/07/2026-31/07/2026, without spaces
    parts = (
        list(joined.groups())
        if joined
        else [p for p in re.split(r"\s+(?:-|–|to)\s+|\s*–\s*", text.strip()) if p]
    )
    days = [parse_date(part) for part in parts]
    if not 1 <= len(days) <= 2 or any(day is None for day in days):
        return None
    first, last = days[0], days[-1]
    if (
        first is None
        or last is None
        or last < first
        or not dates.PLANNING.holds(today, first, last)
        or (last - first > timedelta(days=MAX_PLAN_DAYS))
    ):
        return None
    return first, last


def parse_jobs(text: str, defaults: tuple[JobSpec, ...]) -> tuple[JobSpec, ...] | None:
    """'cook 2, server 3, driver 1' (also 'cook x2' or 'cook: 2'). A job named in config
    keeps its safeguarding rule."""
    checks = {job.job: job.needs_check for job in defaults}
    jobs: dict[str, JobSpec] = {}
    parts = text.split(",")
    if len(parts) > MAX_JOBS:
        return None
    for part in parts:
        match = _JOB.fullmatch(part)
        if match is None:
            return None
        name, places = match.group(1).strip().lower(), int(match.group(2))
        if (
            not name
            or len(name) > JOB_NAME_MAX
            or not 1 <= places <= MAX_PLACES_PER_JOB
            or (name in jobs)
        ):
            return None
        jobs[name] = JobSpec(job=name, places=places, needs_check=checks.get(name, False))
    return tuple(jobs.values()) or None
