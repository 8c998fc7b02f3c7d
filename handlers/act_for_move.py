"""Moving someone on a session's rota to another job, or to another session here or at another
location (handlers/act_for.py shows the rota and the person): into a free place only, under the
rules of a volunteer's own booking (storage.rota_for.move). The place they leave passes down its
waitlist; a volunteer on Telegram is told once, of both."""

from __future__ import annotations

from telegram import Update

from handlers import act_for_texts, choose, choose_texts
from handlers.act_for import PER_PAGE, member_of, show_team
from handlers.act_for_buttons import (
    MoveJobs,
    MoveLocations,
    MoveSessionJobs,
    MoveSessions,
    MoveTo,
    RotaMember,
)
from handlers.common import Row, button, keyboard, pager, show
from handlers.context import BotContext
from storage import locations, rota_for, siteday
from storage.models import Role
from storage.people import Profile
from storage.rota_for import Result

MOVE_PLACES_LIST = "rota_move_places"  # the location to move someone to (handlers/choose.py)


# --- moving ----------------------------------------------------------------------------------


@button(MoveJobs, Role.COORDINATOR)
async def move_jobs(update: Update, context: BotContext, profile: Profile, asked: MoveJobs) -> None:
    found = await member_of(update, context, profile, asked.booking_id)
    if found is None or found.member is None:
        return
    held, view = found.member, found.session
    rows: list[Row] = [
        [(act_for_texts.job_button(job), MoveTo(held.booking_id, job.job_id))]
        for job in view.jobs
        if job.job_id != held.job_id
    ]
    rows.append([(act_for_texts.back(), RotaMember(held.booking_id))])
    text = act_for_texts.ask_other_job(held) if len(view.jobs) > 1 else act_for_texts.no_other_job()
    await show(update, text, keyboard(*rows))


@button(MoveSessions, Role.COORDINATOR)
async def move_sessions(
    update: Update, context: BotContext, profile: Profile, asked: MoveSessions
) -> None:
    await choose.leave(context, profile.telegram_id)
    found = await member_of(update, context, profile, asked.booking_id)
    if found is None or found.member is None:
        return
    services = context.services
    location = await locations.managed(
        services.db, actor_telegram_id=profile.telegram_id, location_id=asked.location_id
    )
    page = await rota_for.sessions_for(
        services.db,
        actor_telegram_id=profile.telegram_id,
        location_id=asked.location_id,
        now=services.now(),
        offset=asked.offset,
        limit=PER_PAGE,
    )
    tz = services.settings.timezone
    held = found.member
    rows: list[Row] = [
        [
            (
                act_for_texts.session_button(choice, tz),
                MoveSessionJobs(held.booking_id, choice.session_id),
            )
        ]
        for choice in page.shown
        if choice.session_id != found.session.session_id
    ]
    rows.append(
        pager(
            page.offset,
            page.matching,
            PER_PAGE,
            lambda offset: MoveSessions(held.booking_id, asked.location_id, offset),
        )
    )
    rows.append([(act_for_texts.OTHER_LOCATION, MoveLocations(held.booking_id, 0))])
    rows.append([(act_for_texts.back(), RotaMember(held.booking_id))])
    others = page.matching - (1 if found.session.location_id == asked.location_id else 0)
    text = (
        act_for_texts.ask_other_session(held, location.name)
        if others > 0
        else act_for_texts.no_sessions(location.name)
    )
    await show(update, text, keyboard(*rows))


@button(MoveLocations, Role.COORDINATOR)
async def move_locations(
    update: Update, context: BotContext, profile: Profile, asked: MoveLocations
) -> None:
    view = choose.View(
        kind=MOVE_PLACES_LIST, args={"booking_id": asked.booking_id}, offset=asked.offset
    )
    await _move_places(update, context, profile, view)


@choose.listing(MOVE_PLACES_LIST, Role.COORDINATOR)
async def _move_places(
    update: Update, context: BotContext, profile: Profile, view: choose.View
) -> None:
    booking_id = int(view.args.get("booking_id", 0))
    found = await member_of(update, context, profile, booking_id)
    if found is None or found.member is None:
        return
    search = await choose.search_for(context, profile.telegram_id, view)
    places = await locations.find(
        context.services.db,
        actor_telegram_id=profile.telegram_id,
        search=search,
        offset=view.offset,
        limit=choose.PER_PAGE,
    )
    items: list[Row] = [
        [(choose_texts.label(loc.name), MoveSessions(booking_id, loc.location_id, 0))]
        for loc in places.shown
    ]
    rows = choose.rows(
        places, items, lambda offset: MoveLocations(booking_id, offset), search, view.kind
    )
    rows.append([(act_for_texts.back(), RotaMember(booking_id))])
    text = choose_texts.with_status(
        act_for_texts.ask_other_location(found.member), places, search, choose.PER_PAGE
    )
    await choose.present(update, view, text, keyboard(*rows))


@button(MoveSessionJobs, Role.COORDINATOR)
async def move_session_jobs(
    update: Update, context: BotContext, profile: Profile, asked: MoveSessionJobs
) -> None:
    services = context.services
    found = await member_of(update, context, profile, asked.booking_id)
    if found is None or found.member is None:
        return
    target = await siteday.managed_session(
        services.db, actor_telegram_id=profile.telegram_id, session_id=asked.session_id
    )
    held = found.member
    rows: list[Row] = [
        [(act_for_texts.job_button(job), MoveTo(held.booking_id, job.job_id))]
        for job in target.jobs
    ]
    rows.append([(act_for_texts.back(), MoveSessions(held.booking_id, target.location_id, 0))])
    tz = services.settings.timezone
    await show(update, act_for_texts.ask_target_job(held, target, tz), keyboard(*rows))


@button(MoveTo, Role.COORDINATOR)
async def move_to(update: Update, context: BotContext, profile: Profile, chosen: MoveTo) -> None:
    services = context.services
    found = await member_of(update, context, profile, chosen.booking_id)
    if found is None or found.member is None:
        return
    outcome = await rota_for.move(
        services.db,
        actor_telegram_id=profile.telegram_id,
        booking_id=chosen.booking_id,
        to_job_id=chosen.job_id,
        now=services.now(),
        offer_window=services.settings.offer_window,
    )
    if outcome.result is Result.BOOKED and outcome.member is not None:
        tz = services.settings.timezone
        note = act_for_texts.moved(outcome.member, outcome.session, tz)
        await show_team(update, context, profile, outcome.session.session_id, note=note)
        return
    job = act_for_texts.job_name(outcome.session.job(chosen.job_id))
    note = act_for_texts.put_on(outcome.result, outcome.name, outcome.offline, job)
    await show_team(update, context, profile, found.session.session_id, note=note)
