"""Coordinators plan a holiday (/newsessions): where (the one location they run, several ticked
in the long list, or all of them), which dates and weekdays, what time, which jobs; then a
review of what each location makes of the plan (sessions already there, cancelled, at the same
time as another lunch, a location archived meanwhile: storage/rota_plan.py) and one tap that
creates it all in one transaction, answered with what was made and what was left out.

It is a form (flow "plan"): its draft holds each answer, so a restart carries on, /cancel ends
it at any step, and a button of a closed plan changes nothing. A repeated tap on Create gets
the same answer again and creates nothing twice."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from telegram import Update

from handlers import callbacks, choose, choose_texts, flows, plan_texts, rota_texts, texts
from handlers.common import Row, button, command, keyboard, say, show
from handlers.context import BotContext
from handlers.siteday import parse_times
from storage import dates, drafts, locations, rota_plan
from storage.models import JOB_NAME_MAX, Role
from storage.people import Profile
from storage.rota import MAX_PLACES_PER_JOB, JobSpec
from storage.rota_import import parse_date
from storage.rota_plan import Plan

PLAN_FLOW = "plan"
MAX_PLAN_DAYS = 120
MAX_JOBS = 8  # a session card shows one button per job
PLAN_WHERE_LIST = "plan_where"  # /newsessions's first step (handlers/choose.py)
DEFAULT_WEEKDAYS = (0, 1, 2, 3, 4)
# A job: a name of letters (spaces and hyphens inside), then its number of places.
_JOB = re.compile(r"\s*([^\W\d_](?:[^\W\d_]|[ -])*?)\s*(?:x|×|:)?\s*([0-9]{1,2})\s*")
_DMY_SPAN = re.compile(r"(\d{1,2}/\d{1,2}/\d{4})\s*(?:-|–|to)\s*(\d{1,2}/\d{1,2}/\d{4})", re.ASCII)


@callbacks.action("wp")
@dataclass(frozen=True)
class PlanWherePage:
    offset: int


@callbacks.action("wa")
@dataclass(frozen=True)
class PlanEverywhere:
    """Every location the coordinator runs (those open when the plan is reviewed)."""


@callbacks.action("wg")
@dataclass(frozen=True)
class PlanChosen:
    """The locations ticked so far."""


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


# --- where -----------------------------------------------------------------------------------


@command(Role.COORDINATOR)
async def new_sessions(update: Update, context: BotContext, profile: Profile) -> None:
    run = await locations.find(
        context.services.db, actor_telegram_id=profile.telegram_id, search="", offset=0, limit=1
    )
    if not run.matching:
        await say(update, plan_texts.no_locations())
        return
    # A new /newsessions starts afresh: a half-made plan is forgotten.
    if run.matching == 1:  # the one location they run: nothing to choose
        only = run.shown[0]
        data = {choose.CHOSEN: [only.location_id], "everywhere": False}
        await flows.begin(context, profile.telegram_id, PLAN_FLOW, data)
        await _ask_dates(update, context, profile, data, [only.name], fresh=True)
        return
    await flows.begin(context, profile.telegram_id, PLAN_FLOW, {choose.CHOSEN: []})
    await _where(update, context, profile, choose.View(kind=PLAN_WHERE_LIST, fresh=True))


@button(PlanWherePage, Role.COORDINATOR)
async def plan_where_page(
    update: Update, context: BotContext, profile: Profile, page: PlanWherePage
) -> None:
    await _where(update, context, profile, choose.View(kind=PLAN_WHERE_LIST, offset=page.offset))


@choose.listing(PLAN_WHERE_LIST, Role.COORDINATOR, choose.Picks(PLAN_FLOW, choose.open_location))
async def _where(update: Update, context: BotContext, profile: Profile, view: choose.View) -> None:
    draft = await flows.still_open(update, context, profile.telegram_id, PLAN_FLOW)
    if draft is None:
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
    picked = await _picked(context, draft.data)
    rows = choose.pick_rows(
        found,
        [(place.location_id, place.name) for place in found.shown],
        {place.location_id for place in picked},
        lambda offset: PlanWherePage(offset=offset),
        search,
        view.kind,
        everything=(
            plan_texts.all_button(everywhere.matching, whole_programme=not profile.scoped),
            PlanEverywhere(),
        ),
        done=(choose_texts.continue_button(len(picked)), PlanChosen()),
    )
    text = choose_texts.with_status(
        plan_texts.where([place.name for place in picked]), found, search, choose.PER_PAGE
    )
    await choose.present(update, view, text, flows.cancel_keyboard(PLAN_FLOW, *rows))


@button(PlanEverywhere, Role.COORDINATOR)
async def plan_everywhere(
    update: Update, context: BotContext, profile: Profile, _chosen: PlanEverywhere
) -> None:
    draft = await flows.still_open(update, context, profile.telegram_id, PLAN_FLOW)
    if draft is None:
        return
    run = await locations.managed_by(context.services.db, actor_telegram_id=profile.telegram_id)
    if not run:
        await flows.finish(context, profile.telegram_id, PLAN_FLOW)
        await show(update, plan_texts.no_locations())
        return
    data = draft.data | {"everywhere": True}
    await _ask_dates(update, context, profile, data, [place.name for place in run], everywhere=True)


@button(PlanChosen, Role.COORDINATOR)
async def plan_chosen(
    update: Update, context: BotContext, profile: Profile, _chosen: PlanChosen
) -> None:
    draft = await flows.still_open(update, context, profile.telegram_id, PLAN_FLOW)
    if draft is None:
        return
    picked = await _picked(context, draft.data)
    if not picked:  # nothing ticked (a forged tap, or all archived meanwhile): the list again
        await _where(update, context, profile, choose.View(kind=PLAN_WHERE_LIST))
        return
    data = draft.data | {
        choose.CHOSEN: [place.location_id for place in picked],
        "everywhere": False,
    }
    await _ask_dates(update, context, profile, data, [place.name for place in picked])


async def _picked(context: BotContext, data: dict[str, Any]) -> list[locations.LocationInfo]:
    """The open locations ticked so far, by name."""
    ticked = await locations.some(context.services.db, choose.chosen(data))
    return [place for place in ticked if not place.archived]


async def _ask_dates(
    update: Update,
    context: BotContext,
    profile: Profile,
    data: dict[str, Any],
    chosen: list[str],
    *,
    everywhere: bool = False,
    fresh: bool = False,
) -> None:
    """Where is settled: the dates are typed next (not a search of the list any more)."""
    await _save(context, profile, "dates", data)
    text = plan_texts.dates(plan_texts.at(chosen, everywhere=everywhere))
    if fresh:
        await say(update, text, flows.cancel_keyboard(PLAN_FLOW))
    else:
        await show(update, text, flows.cancel_keyboard(PLAN_FLOW))


# --- when, and which jobs --------------------------------------------------------------------


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
            await say(update, plan_texts.jobs_invalid())
            return
        await _review(update, context, profile, data | {"jobs": _jobs_data(jobs)})


async def _plan_dates(
    update: Update, context: BotContext, profile: Profile, data: dict[str, Any], text: str
) -> None:
    span = parse_span(
        text, today=context.services.now().astimezone(context.services.settings.timezone).date()
    )
    if span is None:
        await say(update, plan_texts.dates_invalid(MAX_PLAN_DAYS))
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
    text = plan_texts.weekdays(date.fromisoformat(data["first"]), date.fromisoformat(data["last"]))
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
        await say(update, plan_texts.no_weekdays())
        return
    await _save(context, profile, "times", data)
    await show(update, plan_texts.times(), flows.cancel_keyboard(PLAN_FLOW))


async def _plan_times(
    update: Update, context: BotContext, profile: Profile, data: dict[str, Any], text: str
) -> None:
    times = parse_times(text)
    if times is None:
        await say(update, plan_texts.times_invalid())
        return
    data |= {"start": times[0].strftime("%H:%M"), "end": times[1].strftime("%H:%M")}
    await _save(context, profile, "jobs", data)
    defaults = context.services.settings.jobs
    await say(
        update,
        plan_texts.jobs(defaults),
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


# --- the review, and creating it all ---------------------------------------------------------


async def _review(
    update: Update, context: BotContext, profile: Profile, data: dict[str, Any]
) -> None:
    """What each location makes of the plan. Still waiting for jobs: typing another list now
    changes the plan under review."""
    services = context.services
    if data.get("everywhere"):
        run = await locations.managed_by(services.db, actor_telegram_id=profile.telegram_id)
        ids = [place.location_id for place in run]
    else:
        ids = choose.chosen(data)
    data |= {"ids": ids}
    await _save(context, profile, "jobs", data)
    plan = _plan(data)
    per_location = len(rota_plan.times_of(plan, services.settings.timezone, services.now()))
    if per_location == 0 or not ids:
        await say(update, plan_texts.empty() if ids else plan_texts.no_longer_open())
        return
    if per_location * len(ids) > rota_plan.MAX_SESSIONS:
        await say(update, plan_texts.too_many(per_location * len(ids), rota_plan.MAX_SESSIONS))
        return
    outlook = await rota_plan.review(
        services.db,
        actor_telegram_id=profile.telegram_id,
        plan=plan,
        tz=services.settings.timezone,
        now=services.now(),
    )
    if outlook.new == 0:  # nothing to create: the plan is over
        await flows.finish(context, profile.telegram_id, PLAN_FLOW)
        await say(update, plan_texts.nothing_new(outlook))
        return
    await say(
        update,
        plan_texts.review(plan, outlook),
        keyboard([("✅ Create them", PlanCreate())], flows.cancel_row(PLAN_FLOW)),
    )


@button(PlanCreate, Role.COORDINATOR)
async def plan_create(
    update: Update, context: BotContext, profile: Profile, _chosen: PlanCreate
) -> None:
    services = context.services
    draft = await drafts.load(services.db, telegram_id=profile.telegram_id, flow=PLAN_FLOW)
    if draft is not None and "answer" in draft.data:  # a double tap: the same answer again
        await show(update, str(draft.data["answer"]))
        return
    data = await _draft_data(update, context, profile, "ids")
    if data is None:
        return
    try:
        outlook = await rota_plan.create(
            services.db,
            actor_telegram_id=profile.telegram_id,
            plan=_plan(data),
            tz=services.settings.timezone,
            now=services.now(),
        )
    except ValueError:  # begun since the review, or every day left out
        await flows.finish(context, profile.telegram_id, PLAN_FLOW)
        await show(update, plan_texts.empty())
        return
    answer = plan_texts.created(outlook)
    # Kept, finished, so a second tap can repeat the answer.
    await drafts.save(
        services.db,
        telegram_id=profile.telegram_id,
        flow=PLAN_FLOW,
        awaiting=None,
        data=data | {"answer": answer},
        now=services.now(),
        finished=True,
    )
    await show(update, answer)


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
        await show(update, plan_texts.expired())
        return None
    return dict(draft.data)


def _plan(data: dict[str, Any]) -> Plan:
    return Plan(
        location_ids=tuple(int(i) for i in data.get("ids", [])),
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
