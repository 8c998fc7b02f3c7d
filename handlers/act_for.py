"""A session's rota, changed by a coordinator for people: from the session's screen (/today,
/coverage), "👥 The rota" lists who holds each job and who waits, a page at a time. A
coordinator puts a volunteer on a job (found among thousands by typing part of the name), or
someone without Telegram by typing their name; takes someone off; moves them to another job,
or to another session here or at another location. The rules are a volunteer's own booking's
(storage.rota_for); every change is audited, and a volunteer on Telegram is told. "✉️ Write to
the team" sends one message to everyone on the session's rota through the broadcast path
(preview, confirm, outbox).

Every id on these buttons is re-checked against the coordinator's locations on the server: a
forged one is refused kindly, and changes nothing."""

from __future__ import annotations

from telegram import Update

from handlers import act_for_texts, broadcast, choose, choose_texts, flows, texts
from handlers.act_for_buttons import (
    AskForget,
    AskTakeOff,
    Forget,
    MoveJobs,
    MoveSessions,
    PutOn,
    PutOnByName,
    PutOnJobs,
    PutOnPeople,
    RotaMember,
    RotaTeam,
    TakeOff,
    WriteToTeam,
)
from handlers.common import Row, button, keyboard, pager, say, show
from handlers.context import BotContext, Services
from handlers.siteday import OpenSessionAdmin
from storage import drafts, people, rota_for, siteday
from storage.errors import NotFound
from storage.models import NAME_MAX, Role
from storage.people import NameProblem, Profile, clean_name
from storage.rota import SessionView
from storage.rota_for import Outcome, Result

NAME_FLOW = "rota_name"  # the name of someone without Telegram, typed
PEOPLE_LIST = "rota_people"  # whom to put on a job (handlers/choose.py)
PER_PAGE = 8  # people on a page of the rota, and sessions on a page to move to


# --- the rota --------------------------------------------------------------------------------


@button(RotaTeam, Role.COORDINATOR)
async def rota_team(
    update: Update, context: BotContext, profile: Profile, opened: RotaTeam
) -> None:
    await choose.leave(context, profile.telegram_id)
    await show_team(update, context, profile, opened.session_id, opened.offset)


async def show_team(
    update: Update,
    context: BotContext,
    profile: Profile,
    session_id: int,
    offset: int = 0,
    note: str = "",
    *,
    new_message: bool = False,
) -> None:
    services = context.services
    found = await rota_for.team(
        services.db, actor_telegram_id=profile.telegram_id, session_id=session_id
    )
    view, members = found.session, found.members
    if offset >= len(members):  # an old page button: fewer people on the rota now
        offset = 0
    page = members[offset : offset + PER_PAGE]
    tz = services.settings.timezone
    rows: list[Row] = []
    if _open(view, services):
        rows += [[(act_for_texts.member_button(m), RotaMember(m.booking_id))] for m in page]
        rows.append(
            pager(offset, len(members), PER_PAGE, lambda offset: RotaTeam(session_id, offset))
        )
        rows.append([(act_for_texts.PUT_ON, PutOnJobs(session_id))])
    else:
        rows.append(
            pager(offset, len(members), PER_PAGE, lambda offset: RotaTeam(session_id, offset))
        )
    if not view.cancelled:
        rows.append([(act_for_texts.WRITE, WriteToTeam(session_id))])
    rows.append([(act_for_texts.back_to_session(), OpenSessionAdmin(session_id))])
    text = act_for_texts.team(view, page, offset, len(members), tz)
    if new_message:
        await say(update, f"{note}\n\n{text}" if note else text, keyboard(*rows))
    else:
        await show(update, text, keyboard(*rows), note=note)


@button(RotaMember, Role.COORDINATOR)
async def rota_member(
    update: Update, context: BotContext, profile: Profile, opened: RotaMember
) -> None:
    await choose.leave(context, profile.telegram_id)
    found = await member_of(update, context, profile, opened.booking_id)
    if found is None or found.member is None:
        return
    held, view = found.member, found.session
    rows: list[Row] = []
    if _open(view, context.services):
        if len(view.jobs) > 1:
            rows.append([(act_for_texts.OTHER_JOB, MoveJobs(held.booking_id))])
        rows.append(
            [
                (
                    act_for_texts.OTHER_SESSION,
                    MoveSessions(held.booking_id, view.location_id, 0),
                )
            ]
        )
        rows.append([(act_for_texts.TAKE_OFF, AskTakeOff(held.booking_id))])
    if held.offline and not profile.scoped:  # (erasing is the programme's, not a site lead's)
        rows.append([(act_for_texts.FORGET, AskForget(held.booking_id))])
    rows.append([(act_for_texts.back_to_team(), RotaTeam(view.session_id))])
    text = act_for_texts.member(held, view, context.services.settings.timezone)
    await show(update, text, keyboard(*rows))


async def member_of(
    update: Update, context: BotContext, profile: Profile, booking_id: int
) -> Outcome | None:
    """Someone's place on a rota the coordinator runs; None (and said so) when they are no
    longer on it."""
    try:
        return await rota_for.member(
            context.services.db, actor_telegram_id=profile.telegram_id, booking_id=booking_id
        )
    except NotFound:
        await show(update, act_for_texts.already_off())
        return None


# --- taking off ------------------------------------------------------------------------------


@button(AskTakeOff, Role.COORDINATOR)
async def ask_take_off(
    update: Update, context: BotContext, profile: Profile, asked: AskTakeOff
) -> None:
    found = await member_of(update, context, profile, asked.booking_id)
    if found is None or found.member is None:
        return
    text = act_for_texts.ask_take_off(
        found.member, found.session, context.services.settings.timezone
    )
    await show(
        update,
        text,
        keyboard(
            [(act_for_texts.YES_TAKE_OFF, TakeOff(asked.booking_id))],
            [(act_for_texts.keep_button(), RotaMember(asked.booking_id))],
        ),
    )


@button(TakeOff, Role.COORDINATOR)
async def take_off(update: Update, context: BotContext, profile: Profile, chosen: TakeOff) -> None:
    services = context.services
    found = await member_of(update, context, profile, chosen.booking_id)
    if found is None or found.member is None:  # a second tap: the first took them off
        return
    outcome = await rota_for.take_off(
        services.db,
        actor_telegram_id=profile.telegram_id,
        booking_id=chosen.booking_id,
        now=services.now(),
        offer_window=services.settings.offer_window,
    )
    held = outcome.member or found.member
    await show_team(
        update, context, profile, outcome.session.session_id, note=act_for_texts.taken_off(held)
    )


# --- erasing someone without Telegram --------------------------------------------------------


@button(AskForget, Role.COORDINATOR)
async def ask_forget(
    update: Update, context: BotContext, profile: Profile, asked: AskForget
) -> None:
    found = await member_of(update, context, profile, asked.booking_id)
    if found is None or found.member is None or not found.member.offline:
        return
    await show(
        update,
        act_for_texts.ask_forget(found.member),
        keyboard(
            [(act_for_texts.YES_FORGET, Forget(asked.booking_id))],
            [(act_for_texts.keep_button(), RotaMember(asked.booking_id))],
        ),
    )


@button(Forget, Role.COORDINATOR)
async def forget(update: Update, context: BotContext, profile: Profile, chosen: Forget) -> None:
    """Erase a person without Telegram, as /people erases anyone on request (the person is
    read from the booking, never from the button: only someone without Telegram goes here)."""
    services = context.services
    found = await member_of(update, context, profile, chosen.booking_id)
    if found is None or found.member is None or not found.member.offline:
        return
    outcome = await people.erase(
        services.db,
        actor_telegram_id=profile.telegram_id,
        person_id=found.member.person_id,
        now=services.now(),
        offer_window=services.settings.offer_window,
    )
    await show_team(update, context, profile, found.session.session_id, note=texts.erased(outcome))


# --- putting someone on ----------------------------------------------------------------------


@button(PutOnJobs, Role.COORDINATOR)
async def put_on_jobs(
    update: Update, context: BotContext, profile: Profile, asked: PutOnJobs
) -> None:
    await choose.leave(context, profile.telegram_id)
    services = context.services
    view = await siteday.managed_session(
        services.db, actor_telegram_id=profile.telegram_id, session_id=asked.session_id
    )
    if not _open(view, services):
        await show_team(update, context, profile, view.session_id, note=_closed())
        return
    rows: list[Row] = [
        [(act_for_texts.job_button(job), PutOnPeople(job.job_id, 0))] for job in view.jobs
    ]
    rows.append([(act_for_texts.back_to_team(), RotaTeam(view.session_id))])
    await show(update, act_for_texts.ask_job(view, services.settings.timezone), keyboard(*rows))


@button(PutOnPeople, Role.COORDINATOR)
async def put_on_people(
    update: Update, context: BotContext, profile: Profile, page: PutOnPeople
) -> None:
    view = choose.View(kind=PEOPLE_LIST, args={"job_id": page.job_id}, offset=page.offset)
    await _people(update, context, profile, view)


@choose.listing(PEOPLE_LIST, Role.COORDINATOR)
async def _people(update: Update, context: BotContext, profile: Profile, view: choose.View) -> None:
    services = context.services
    job_id = int(view.args.get("job_id", 0))
    session, job = await siteday.managed_job(
        services.db, actor_telegram_id=profile.telegram_id, job_id=job_id
    )
    search = await choose.search_for(context, profile.telegram_id, view)
    found = await rota_for.candidates(
        services.db,
        actor_telegram_id=profile.telegram_id,
        session_id=session.session_id,
        search=search,
        offset=view.offset,
        limit=choose.PER_PAGE,
        now=services.now(),
    )
    items: list[Row] = [
        [
            (
                choose_texts.label(act_for_texts.candidate_button(person)),
                PutOn(job_id, person.person_id, waitlist=False),
            )
        ]
        for person in found.shown
    ]
    rows = choose.rows(found, items, lambda offset: PutOnPeople(job_id, offset), search, view.kind)
    rows.append([(act_for_texts.BY_NAME, PutOnByName(job_id))])
    rows.append([(act_for_texts.back(), PutOnJobs(session.session_id))])
    text = choose_texts.with_status(
        act_for_texts.ask_person(session, job, services.settings.timezone),
        found,
        search,
        choose.PER_PAGE,
    )
    await choose.present(update, view, text, keyboard(*rows))


@button(PutOn, Role.COORDINATOR)
async def put_on(update: Update, context: BotContext, profile: Profile, chosen: PutOn) -> None:
    await choose.leave(context, profile.telegram_id)
    services = context.services
    outcome = await rota_for.put_on(
        services.db,
        actor_telegram_id=profile.telegram_id,
        job_id=chosen.job_id,
        person_id=chosen.person_id,
        now=services.now(),
        waitlist=chosen.waitlist,
    )
    job = outcome.session.job(chosen.job_id)
    # Full: a volunteer on Telegram can wait for a place, if the coordinator says so.
    if outcome.result is Result.FULL and job is not None and not outcome.offline:
        await show(
            update,
            act_for_texts.ask_waitlist(outcome.name, job),
            keyboard(
                [(act_for_texts.WAITLIST, PutOn(chosen.job_id, chosen.person_id, True))],
                [(act_for_texts.back(), PutOnJobs(outcome.session.session_id))],
            ),
        )
        return
    note = act_for_texts.put_on(
        outcome.result, outcome.name, outcome.offline, act_for_texts.job_name(job)
    )
    await show_team(update, context, profile, outcome.session.session_id, note=note)


@button(PutOnByName, Role.COORDINATOR)
async def put_on_by_name(
    update: Update, context: BotContext, profile: Profile, chosen: PutOnByName
) -> None:
    services = context.services
    view, job = await siteday.managed_job(
        services.db, actor_telegram_id=profile.telegram_id, job_id=chosen.job_id
    )
    if not _open(view, services):
        await show_team(update, context, profile, view.session_id, note=_closed())
        return
    await flows.wait_for_text(
        context, profile.telegram_id, NAME_FLOW, "name", {"job_id": job.job_id}
    )
    await show(
        update,
        act_for_texts.ask_name(job, view, services.settings.timezone),
        flows.cancel_keyboard(NAME_FLOW),
    )


async def on_name_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    """The name of someone without Telegram, to put on the job the draft names."""
    services = context.services
    draft = await drafts.load(services.db, telegram_id=profile.telegram_id, flow=NAME_FLOW)
    if draft is None:
        return
    name = clean_name(text)
    if isinstance(name, NameProblem):
        await say(update, act_for_texts.name_invalid(NAME_MAX))
        return
    outcome = await rota_for.put_on_by_name(
        services.db,
        actor_telegram_id=profile.telegram_id,
        job_id=int(draft.data["job_id"]),
        name=name,
        now=services.now(),
    )
    if outcome.result is Result.NAME_TAKEN:
        await say(update, act_for_texts.name_taken(name))
        return
    await flows.finish(context, profile.telegram_id, NAME_FLOW)
    job = act_for_texts.job_name(outcome.session.job(int(draft.data["job_id"])))
    note = act_for_texts.put_on(outcome.result, name, True, job)
    await show_team(
        update, context, profile, outcome.session.session_id, note=note, new_message=True
    )


# --- writing to the team ---------------------------------------------------------------------


@button(WriteToTeam, Role.COORDINATOR)
async def write_to_team(
    update: Update, context: BotContext, profile: Profile, chosen: WriteToTeam
) -> None:
    view = await siteday.managed_session(
        context.services.db, actor_telegram_id=profile.telegram_id, session_id=chosen.session_id
    )
    if view.cancelled:
        await show(update, texts.stale_button())
        return
    # The message reaches only those on Telegram: the coordinator is told whom to phone, as a
    # bulk cancel names them.
    found = await rota_for.team(
        context.services.db, actor_telegram_id=profile.telegram_id, session_id=view.session_id
    )
    offline = sorted({member.name for member in found.members if member.offline})
    note = act_for_texts.team_offline(offline)
    await broadcast.to_session(update, context, profile, view.session_id, note=note)


# --- shared ----------------------------------------------------------------------------------


def _open(view: SessionView, services: Services) -> bool:
    """A rota that can still change: the session is to come, and not cancelled."""
    return not view.cancelled and view.starts_at > services.now()


def _closed() -> str:
    return act_for_texts.put_on(Result.CLOSED, "", False, "")
