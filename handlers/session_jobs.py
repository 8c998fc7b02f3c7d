"""A session's jobs and places, changed after it was planned, from its card (the site day's or
coverage's ⚙️ session, "✏️ Jobs and places"): a job's places changed, a job added or removed.

Fewer places than volunteers hold is refused, naming who would lose their place (the last to
book); the coordinator may then confirm moving them to the top of the waitlist (each is told,
once, through the outbox), keep the places, or send another number. More places are offered to
the waitlist first. A job with anyone on it is not removed. The rules, and the audit, are
storage's (storage/session_jobs.py).

Typing a number or a new job is a form (flow "session_jobs"): /cancel ends it, and the move to
the waitlist is confirmed only while the form that asked it is open, for the number it asked."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update

from handlers import callbacks, flows, jobs_texts, site_texts, siteday
from handlers.common import Row, button, keyboard, say, show
from handlers.context import BotContext
from handlers.planning import parse_jobs
from storage import drafts, session_jobs
from storage import siteday as site_storage
from storage.models import Role
from storage.people import Profile
from storage.rota import MAX_PLACES_PER_JOB, SessionView
from storage.text import whole_number

JOBS_FLOW = "session_jobs"


@callbacks.action("np")
@dataclass(frozen=True)
class AskPlaces:
    job_id: int


@callbacks.action("nm")
@dataclass(frozen=True)
class MoveToWaitlist:
    """Cut the job to `places`, moving the last booked to the waitlist (confirmed)."""

    job_id: int
    places: int


@callbacks.action("nr")
@dataclass(frozen=True)
class AskRemoveJob:
    job_id: int


@callbacks.action("nx")
@dataclass(frozen=True)
class RemoveJob:
    job_id: int


@callbacks.action("na")
@dataclass(frozen=True)
class AddJob:
    session_id: int


@button(siteday.EditJobs, Role.COORDINATOR)
async def edit_jobs(
    update: Update, context: BotContext, profile: Profile, opened: siteday.EditJobs
) -> None:
    # Back here from a question: the question is over.
    await flows.finish(context, profile.telegram_id, JOBS_FLOW)
    view = await site_storage.managed_session(
        context.services.db, actor_telegram_id=profile.telegram_id, session_id=opened.session_id
    )
    await _jobs(update, context, view)


async def _jobs(
    update: Update, context: BotContext, view: SessionView, note: str = "", *, fresh: bool = False
) -> None:
    """The session's jobs, each a button; in place of the screen tapped, or (after typing) as a
    new message."""
    services = context.services
    back: Row = [(site_texts.back_to_session_button(), siteday.OpenSessionAdmin(view.session_id))]
    if not _open(view, context):
        await show(update, site_texts.session_closed(), keyboard(back))
        return
    rows: list[Row] = [[(jobs_texts.job_button(job), AskPlaces(job.job_id))] for job in view.jobs]
    rows.append([(jobs_texts.add_job_button(), AddJob(view.session_id))])
    rows.append(back)
    text = jobs_texts.jobs(view, services.settings.timezone)
    if fresh:
        await say(update, f"{note}\n\n{text}" if note else text, keyboard(*rows))
    else:
        await show(update, text, keyboard(*rows), note=note)


# --- a job's places --------------------------------------------------------------------------


@button(AskPlaces, Role.COORDINATOR)
async def ask_places(
    update: Update, context: BotContext, profile: Profile, asked: AskPlaces
) -> None:
    view, job = await site_storage.managed_job(
        context.services.db, actor_telegram_id=profile.telegram_id, job_id=asked.job_id
    )
    if not _open(view, context):
        await _jobs(update, context, view)
        return
    about = {"job_id": job.job_id, "session_id": view.session_id}
    await flows.wait_for_text(context, profile.telegram_id, JOBS_FLOW, "places", about)
    await show(
        update,
        jobs_texts.ask_places(job),
        flows.cancel_keyboard(
            JOBS_FLOW,
            [(jobs_texts.remove_button(job), AskRemoveJob(job.job_id))],
            [(jobs_texts.back_to_jobs_button(), siteday.EditJobs(view.session_id))],
        ),
    )


async def on_jobs_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    draft = await drafts.load(context.services.db, telegram_id=profile.telegram_id, flow=JOBS_FLOW)
    if draft is None:
        return
    if draft.awaiting == "places":
        places = whole_number(text.strip(), MAX_PLACES_PER_JOB)
        if not places:
            await say(update, jobs_texts.places_invalid())
            return
        await _set_places(update, context, profile, int(draft.data["job_id"]), places)
    elif draft.awaiting == "new_job":
        await _add_job(update, context, profile, int(draft.data["session_id"]), text)


async def _set_places(
    update: Update, context: BotContext, profile: Profile, job_id: int, places: int
) -> None:
    services = context.services
    try:
        changed = await session_jobs.set_places(
            services.db,
            actor_telegram_id=profile.telegram_id,
            job_id=job_id,
            places=places,
            move_to_waitlist=False,
            now=services.now(),
            offer_window=services.settings.offer_window,
        )
    except session_jobs.WouldLoseTheirPlace as refused:
        view, job = await site_storage.managed_job(
            services.db, actor_telegram_id=profile.telegram_id, job_id=job_id
        )
        # Still asking: another number may be typed; the move is for this number only.
        about = {"job_id": job_id, "session_id": view.session_id, "places": places}
        await flows.wait_for_text(context, profile.telegram_id, JOBS_FLOW, "places", about)
        await say(
            update,
            jobs_texts.would_lose(job, places, refused.losing, refused.held),
            flows.cancel_keyboard(
                JOBS_FLOW,
                [(jobs_texts.move_button(refused.losing), MoveToWaitlist(job_id, places))],
                [(jobs_texts.keep_button(job.places), siteday.EditJobs(view.session_id))],
            ),
        )
        return
    await flows.finish(context, profile.telegram_id, JOBS_FLOW)
    view = await site_storage.managed_session(
        services.db, actor_telegram_id=profile.telegram_id, session_id=changed.session_id
    )
    await _jobs(update, context, view, jobs_texts.places_saved(changed), fresh=True)


@button(MoveToWaitlist, Role.COORDINATOR)
async def move_to_waitlist(
    update: Update, context: BotContext, profile: Profile, chosen: MoveToWaitlist
) -> None:
    about = {"job_id": chosen.job_id, "places": chosen.places}
    if await flows.still_open(update, context, profile.telegram_id, JOBS_FLOW, about) is None:
        return
    services = context.services
    changed = await session_jobs.set_places(
        services.db,
        actor_telegram_id=profile.telegram_id,
        job_id=chosen.job_id,
        places=chosen.places,
        move_to_waitlist=True,
        now=services.now(),
        offer_window=services.settings.offer_window,
    )
    await flows.finish(context, profile.telegram_id, JOBS_FLOW)
    view = await site_storage.managed_session(
        services.db, actor_telegram_id=profile.telegram_id, session_id=changed.session_id
    )
    note = jobs_texts.places_saved(changed) if changed.moved else jobs_texts.nothing_moved(changed)
    await _jobs(update, context, view, note)


# --- removing a job, adding one --------------------------------------------------------------


@button(AskRemoveJob, Role.COORDINATOR)
async def ask_remove_job(
    update: Update, context: BotContext, profile: Profile, asked: AskRemoveJob
) -> None:
    services = context.services
    await flows.finish(context, profile.telegram_id, JOBS_FLOW)
    view, job = await site_storage.managed_job(
        services.db, actor_telegram_id=profile.telegram_id, job_id=asked.job_id
    )
    back = (jobs_texts.back_to_jobs_button(), siteday.EditJobs(view.session_id))
    on_it = await session_jobs.holders(
        services.db, actor_telegram_id=profile.telegram_id, job_id=job.job_id
    )
    if on_it:
        await show(update, jobs_texts.in_use(job, on_it), keyboard([back]))
    elif len(view.jobs) == 1:
        await show(update, jobs_texts.last_job(), keyboard([back]))
    else:
        await show(
            update,
            jobs_texts.confirm_remove(job),
            keyboard([(jobs_texts.yes_remove_button(job), RemoveJob(job.job_id)), back]),
        )


@button(RemoveJob, Role.COORDINATOR)
async def remove_job(
    update: Update, context: BotContext, profile: Profile, chosen: RemoveJob
) -> None:
    services = context.services
    view, job = await site_storage.managed_job(
        services.db, actor_telegram_id=profile.telegram_id, job_id=chosen.job_id
    )
    back = (jobs_texts.back_to_jobs_button(), siteday.EditJobs(view.session_id))
    try:
        name = await session_jobs.remove_job(
            services.db,
            actor_telegram_id=profile.telegram_id,
            job_id=chosen.job_id,
            now=services.now(),
        )
    except session_jobs.JobInUse as in_use:  # someone booked it since the question
        await show(update, jobs_texts.in_use(job, in_use.people), keyboard([back]))
        return
    except session_jobs.LastJob:
        await show(update, jobs_texts.last_job(), keyboard([back]))
        return
    view = await site_storage.managed_session(
        services.db, actor_telegram_id=profile.telegram_id, session_id=view.session_id
    )
    await _jobs(update, context, view, jobs_texts.removed(name))


@button(AddJob, Role.COORDINATOR)
async def add_job(update: Update, context: BotContext, profile: Profile, asked: AddJob) -> None:
    view = await site_storage.managed_session(
        context.services.db, actor_telegram_id=profile.telegram_id, session_id=asked.session_id
    )
    if not _open(view, context):
        await _jobs(update, context, view)
        return
    about = {"session_id": view.session_id}
    await flows.wait_for_text(context, profile.telegram_id, JOBS_FLOW, "new_job", about)
    await show(
        update,
        jobs_texts.ask_new_job(),
        flows.cancel_keyboard(
            JOBS_FLOW, [(jobs_texts.back_to_jobs_button(), siteday.EditJobs(view.session_id))]
        ),
    )


async def _add_job(
    update: Update, context: BotContext, profile: Profile, session_id: int, text: str
) -> None:
    services = context.services
    typed = parse_jobs(text, services.settings.jobs)
    if typed is None or len(typed) != 1:
        await say(update, jobs_texts.new_job_invalid())
        return
    job = typed[0]
    try:
        await session_jobs.add_job(
            services.db,
            actor_telegram_id=profile.telegram_id,
            session_id=session_id,
            job=job,
            now=services.now(),
        )
    except session_jobs.JobTaken:
        await say(update, jobs_texts.job_taken(job.job))
        return
    except session_jobs.TooManyJobs:
        await flows.finish(context, profile.telegram_id, JOBS_FLOW)
        await say(update, jobs_texts.too_many_jobs())
        return
    await flows.finish(context, profile.telegram_id, JOBS_FLOW)
    view = await site_storage.managed_session(
        services.db, actor_telegram_id=profile.telegram_id, session_id=session_id
    )
    await _jobs(update, context, view, jobs_texts.job_added(job.job, job.places), fresh=True)


def _open(view: SessionView, context: BotContext) -> bool:
    return not view.cancelled and view.starts_at > context.services.now()
