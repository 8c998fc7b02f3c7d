"""Broadcasts: /broadcast lets a coordinator write to many people at once.

Pick the audience (all volunteers, one location's volunteers, school contacts, everyone; a
site lead: the volunteers of their own locations), send the message (words, or a photo with a
caption; formatting kept), see it exactly as the recipients will with the number of people it
goes to, and confirm (or change the message, or the audience, first). Every copy goes
through the outbox; the confirmation card becomes the progress message, with a Stop button,
which the delivery engine edits after its sweeps (`report_progress`) and finally turns into
what became of every copy (tried again until Telegram takes it). The notice's renderer is here
too.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import Bot, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from handlers import (
    broadcast_texts,
    callbacks,
    choose,
    choose_texts,
    flows,
    people_texts,
    texts,
    typed,
)
from handlers.common import Row, button, command, keyboard, say, show
from handlers.context import BotContext, Services
from handlers.rendering import Rendered
from storage import broadcasts, directory, locations
from storage.broadcasts import BadPhoto, Composition, NobodyToSend, Progress, TooLong
from storage.models import Audience, Role
from storage.outbox import Outgoing
from storage.people import Profile

logger = logging.getLogger(__name__)

BROADCAST_FLOW = broadcasts.FLOW
AUDIENCE_LIST = "broadcast_location"  # one location's volunteers (handlers/choose.py)
NO_LOCATION = 0  # on an audience button that is not one location's volunteers


@callbacks.action("ba")
@dataclass(frozen=True)
class PickAudience:
    audience: Audience
    location_id: int  # NO_LOCATION unless the audience is one location's volunteers


@callbacks.action("bb")
@dataclass(frozen=True)
class AudienceLocations:
    offset: int


@callbacks.action("bc")
@dataclass(frozen=True)
class ChangeAudience:
    pass


@callbacks.action("bd")
@dataclass(frozen=True)
class SendBroadcast:
    token: int  # the preview's: a tap on an older preview (or a second tap) sends nothing


@callbacks.action("bf")
@dataclass(frozen=True)
class ChangeMessage:
    pass


@callbacks.action("bg")
@dataclass(frozen=True)
class StopBroadcast:
    broadcast_id: int


# --- composing -------------------------------------------------------------------------------


@command(Role.COORDINATOR)
async def broadcast_command(update: Update, context: BotContext, profile: Profile) -> None:
    # A new /broadcast starts afresh: a half-composed one is forgotten.
    await broadcasts.discard(context.services.db, actor_telegram_id=profile.telegram_id)
    await flows.begin(context, profile.telegram_id, BROADCAST_FLOW)
    await _audience_menu(update, context, profile)


@button(ChangeAudience, Role.COORDINATOR)
async def change_audience(
    update: Update, context: BotContext, profile: Profile, _asked: ChangeAudience
) -> None:
    if await _composing(update, context, profile):
        await _audience_menu(update, context, profile)


async def _composing(update: Update, context: BotContext, profile: Profile) -> bool:
    """True if this person's broadcast is still being composed (not cancelled, not sent)."""
    return await flows.still_open(update, context, profile.telegram_id, BROADCAST_FLOW) is not None


async def _audience_menu(update: Update, context: BotContext, profile: Profile) -> None:
    scope = await broadcasts.reach(context.services.db, actor_telegram_id=profile.telegram_id)
    if scope is not None:  # a site lead: their own locations' volunteers
        await _locations(update, context, profile, choose.View(kind=AUDIENCE_LIST, fresh=True))
        return
    await show(
        update,
        broadcast_texts.ask_audience(),
        keyboard(
            [("All volunteers", PickAudience(Audience.VOLUNTEERS, NO_LOCATION))],
            [("One location's volunteers", AudienceLocations(offset=0))],
            [("School contacts", PickAudience(Audience.SCHOOLS, NO_LOCATION))],
            [("Everyone", PickAudience(Audience.EVERYONE, NO_LOCATION))],
            flows.cancel_row(BROADCAST_FLOW),
        ),
    )


@button(AudienceLocations, Role.COORDINATOR)
async def audience_locations(
    update: Update, context: BotContext, profile: Profile, page: AudienceLocations
) -> None:
    await _locations(update, context, profile, choose.View(kind=AUDIENCE_LIST, offset=page.offset))


@choose.listing(AUDIENCE_LIST, Role.COORDINATOR)
async def _locations(
    update: Update, context: BotContext, profile: Profile, view: choose.View
) -> None:
    if not await _composing(update, context, profile):
        return
    db = context.services.db
    site_lead = await broadcasts.reach(db, actor_telegram_id=profile.telegram_id) is not None
    search = await choose.search_for(context, profile.telegram_id, view)
    found = await locations.find(
        db,
        actor_telegram_id=profile.telegram_id,
        search=search,
        offset=view.offset,
        limit=choose.PER_PAGE,
    )
    items: list[Row] = [
        [(choose_texts.label(loc.name), PickAudience(Audience.LOCATION, loc.location_id))]
        for loc in found.shown
    ]
    rows = choose.rows(
        found, items, lambda offset: AudienceLocations(offset=offset), search, view.kind
    )
    if not site_lead:
        rows.append([("« Back", ChangeAudience())])
    rows.append(flows.cancel_row(BROADCAST_FLOW))
    text = choose_texts.with_status(
        broadcast_texts.ask_location(bool(found.matching or search), site_lead),
        found,
        search,
        choose.PER_PAGE,
    )
    await choose.present(update, view, text, keyboard(*rows))


async def to_people(
    update: Update, context: BotContext, profile: Profile, chosen: directory.Selection
) -> None:
    """ "Message these people" in /people: a new broadcast, to whom the list picks out (counted
    again, as they are now, on its preview and when it is sent)."""
    services = context.services
    await broadcasts.discard(services.db, actor_telegram_id=profile.telegram_id)
    await flows.begin(context, profile.telegram_id, BROADCAST_FLOW)
    composition = await broadcasts.choose_audience(
        services.db,
        actor_telegram_id=profile.telegram_id,
        audience=Audience.PEOPLE,
        location_id=None,
        now=services.now(),
        people=chosen,
    )
    await say(
        update,
        broadcast_texts.ask_message(_audience(composition, services.settings.timezone)),
        flows.cancel_keyboard(BROADCAST_FLOW),
    )


async def to_session(
    update: Update, context: BotContext, profile: Profile, session_id: int, note: str = ""
) -> None:
    """ "✉️ Write to the team" on a session's screen: a new broadcast, to everyone on its rota
    (counted again, as they are then, on its preview and when it is sent). `note`: said below
    the question (whom the message can't reach)."""
    services = context.services
    await broadcasts.discard(services.db, actor_telegram_id=profile.telegram_id)
    await flows.begin(context, profile.telegram_id, BROADCAST_FLOW)
    composition = await broadcasts.choose_audience(
        services.db,
        actor_telegram_id=profile.telegram_id,
        audience=Audience.SESSION,
        location_id=None,
        now=services.now(),
        session_id=session_id,
    )
    asked = broadcast_texts.ask_message(_audience(composition, services.settings.timezone))
    await say(
        update, f"{asked}\n\n{note}" if note else asked, flows.cancel_keyboard(BROADCAST_FLOW)
    )


@button(PickAudience, Role.COORDINATOR)
async def pick_audience(
    update: Update, context: BotContext, profile: Profile, picked: PickAudience
) -> None:
    if picked.audience in (Audience.PEOPLE, Audience.SESSION):  # (picked on their own screens)
        await show(update, texts.stale_button())
        return
    if not await _composing(update, context, profile):
        return
    services = context.services
    composition = await broadcasts.choose_audience(
        services.db,
        actor_telegram_id=profile.telegram_id,
        audience=picked.audience,
        location_id=picked.location_id or None,
        now=services.now(),
    )
    if composition.text is None:  # the draft now waits for the message
        await show(
            update,
            broadcast_texts.ask_message(_audience(composition, services.settings.timezone)),
            flows.cancel_keyboard(BROADCAST_FLOW),
        )
        return
    await show(update, *_confirmation(composition, services.settings.timezone))


async def on_broadcast_text(
    update: Update, context: BotContext, profile: Profile, text: str
) -> None:
    """The message to send: words, or a photo with its caption."""
    message = update.effective_message
    if message is None:
        return
    photo = message.photo[-1].file_id if message.photo else None
    # The formatting moved with the text the router has cleaned (it refused what cannot be).
    html = typed.formatted(message)
    limit = broadcasts.too_long(text, photo=photo is not None)
    if limit is not None:
        await say(update, broadcast_texts.too_long(len(text), limit, photo is not None))
        return
    services = context.services
    # The preview first, exactly as the recipients will see it: if Telegram refuses it, it
    # would refuse every copy, so the coordinator is asked again and nothing is kept.
    try:
        await _send(update, broadcast_texts.message(services.settings.programme_name, html), photo)
    except BadRequest as exc:
        logger.info("broadcast preview refused by Telegram: %s", exc.message)
        await say(update, broadcast_texts.refused(exc.message))
        return
    try:
        composition = await broadcasts.compose(
            services.db,
            actor_telegram_id=profile.telegram_id,
            text_html=html,
            plain_text=text,
            photo_file_id=photo,
            now=services.now(),
        )
    except TooLong as exc:
        await say(update, broadcast_texts.too_long(exc.length, exc.limit, photo is not None))
        return
    except BadPhoto:
        await say(update, broadcast_texts.bad_photo())
        return
    await say(update, *_confirmation(composition, services.settings.timezone))


async def _send(update: Update, text: str, photo: str | None) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    if photo is None:
        await chat.send_message(text)
    else:
        await chat.send_photo(photo, caption=text)


def _confirmation(composition: Composition, tz: ZoneInfo) -> tuple[str, InlineKeyboardMarkup]:
    rows: list[Row] = []
    if composition.recipients > 0:
        rows.append(
            [
                (
                    broadcast_texts.send_button(composition.recipients),
                    SendBroadcast(token=composition.token),
                )
            ]
        )
    rows.append([(broadcast_texts.CHANGE_MESSAGE, ChangeMessage())])
    rows.append([("Change audience", ChangeAudience())])
    rows.append(flows.cancel_row(BROADCAST_FLOW))
    audience = _audience(composition, tz)
    if composition.without_sender:
        audience = broadcast_texts.not_you(audience)
    return broadcast_texts.confirm(composition.recipients, audience), keyboard(*rows)


def _audience(composition: Composition, tz: ZoneInfo) -> str:
    if composition.session_starts_at is not None:
        return broadcast_texts.team(composition.location_name, composition.session_starts_at, tz)
    if composition.people is not None:
        return people_texts.audience(composition.people, composition.location_name)
    return broadcast_texts.audience_name(composition.audience, composition.location_name)


@button(ChangeMessage, Role.COORDINATOR)
async def change_message(
    update: Update, context: BotContext, profile: Profile, _asked: ChangeMessage
) -> None:
    """After the preview: the message is asked for again, for the same audience."""
    if not await _composing(update, context, profile):
        return
    composition = await broadcasts.rewrite(
        context.services.db, actor_telegram_id=profile.telegram_id, now=context.services.now()
    )
    await show(
        update,
        broadcast_texts.ask_message(_audience(composition, context.services.settings.timezone)),
        flows.cancel_keyboard(BROADCAST_FLOW),
    )


# --- sending ---------------------------------------------------------------------------------


@button(SendBroadcast, Role.COORDINATOR)
async def send_broadcast(
    update: Update, context: BotContext, profile: Profile, confirmed: SendBroadcast
) -> None:
    query, services = update.callback_query, context.services
    card = query.message if query is not None else None
    if not isinstance(card, Message):
        return
    try:
        started = await broadcasts.start(
            services.db,
            actor_telegram_id=profile.telegram_id,
            token=confirmed.token,
            chat_id=card.chat.id,
            message_id=card.message_id,  # the card becomes the progress message
            now=services.now(),
        )
    except NobodyToSend:
        await say(update, broadcast_texts.nobody())
        return
    if started is None:  # a second tap, a repeated update, or an old preview
        await say(update, broadcast_texts.already_sent())
        return
    await show(
        update,
        broadcast_texts.progress(started.progress, None),
        _stop_button(started.broadcast_id),
    )
    await broadcasts.shown(services.db, started.broadcast_id, now=services.now())


@button(StopBroadcast, Role.COORDINATOR)
async def stop_broadcast(
    update: Update, context: BotContext, profile: Profile, asked: StopBroadcast
) -> None:
    """The copies not yet sent are not sent; the final figures follow after the next sweep."""
    services = context.services
    stopped = await broadcasts.stop(
        services.db,
        actor_telegram_id=profile.telegram_id,
        broadcast_id=asked.broadcast_id,
        now=services.now(),
    )
    if stopped == 0:  # too late (all sent or being sent), or a second tap
        await say(update, broadcast_texts.nothing_to_stop())
        return
    # A new message: the progress message is the sweep's alone to edit, so that no edit made
    # here can land after the final figures and hide them.
    await say(update, broadcast_texts.stopped(stopped))


def _stop_button(broadcast_id: int) -> InlineKeyboardMarkup:
    return keyboard([(broadcast_texts.STOP, StopBroadcast(broadcast_id))])


# --- what the recipients get -----------------------------------------------------------------


async def render_notice(services: Services, notice: Outgoing) -> Rendered | None:
    found = await broadcasts.message(services.db, int(notice.payload["broadcast_id"]))
    if found is None:
        return None
    return Rendered(
        broadcast_texts.message(services.settings.programme_name, found.text),
        None,
        found.photo_file_id,
    )


# --- progress --------------------------------------------------------------------------------


async def report_progress(bot: Bot, services: Services, *, per_second: float) -> None:
    """After a sweep of the delivery engine: bring each broadcast's progress message up to
    date (at most every `broadcast_progress_every`), and show the final figures of those done
    before closing them: if Telegram does not take that edit (429, a timeout, the network),
    the broadcast stays open and a later sweep tries again. Counted from the outbox, so a
    restarted bot carries on. Never waits on Telegram: a 429 puts the next edit off."""
    db, now = services.db, services.now()
    every = services.settings.broadcast_progress_every
    for state in await broadcasts.sending(db):
        if state.complete:
            if not broadcasts.may_finish(state, now=now):
                continue  # its progress message is only just being shown
            final = await broadcasts.claim_final(db, state.broadcast_id, now=now, every=every)
            if final is None:  # shown just now by another sweep, or a failed try waits
                continue
            if await _edit(bot, services, final, broadcast_texts.finished(final), None):
                await broadcasts.close(db, state.broadcast_id, now=now)
            continue
        if await broadcasts.claim_progress_edit(db, state.broadcast_id, now=now, every=every):
            rate = await broadcasts.rate(db, state.broadcast_id, now=now, per_second=per_second)
            await _edit(
                bot,
                services,
                state,
                broadcast_texts.progress(state, state.seconds_left(rate)),
                None if state.stopped else _stop_button(state.broadcast_id),
            )


async def _edit(
    bot: Bot, services: Services, state: Progress, text: str, markup: InlineKeyboardMarkup | None
) -> bool:
    """Show `text` in the progress message (a new one if it can't be edited); True if it is
    shown."""
    if state.message_id is not None:
        try:
            await bot.edit_message_text(
                text, chat_id=state.chat_id, message_id=state.message_id, reply_markup=markup
            )
        except BadRequest as exc:
            if "not modified" in exc.message:
                return True
            # Deleted, most likely: say it in a new message, which is edited from now on.
            logger.warning(
                "progress message of broadcast %s can't be edited (%s): sending a new one",
                state.broadcast_id,
                exc.message,
            )
        except TelegramError as exc:
            return await _not_shown(services, state, exc)
        else:
            return True
    try:
        sent = await bot.send_message(state.chat_id, text, reply_markup=markup)
    except TelegramError as exc:
        return await _not_shown(services, state, exc)
    await broadcasts.moved(services.db, state.broadcast_id, message_id=sent.message_id)
    return True


async def _not_shown(services: Services, state: Progress, exc: TelegramError) -> bool:
    """The progress could not be shown. If it never can be (the coordinator blocked the bot,
    their chat is gone), say so once and count it as shown, so the broadcast can close; else a
    later sweep tries again. True: count it as shown."""
    if isinstance(exc, Forbidden | BadRequest):
        logger.warning(
            "progress of broadcast %s cannot be shown to its sender (%s): closing it without",
            state.broadcast_id,
            exc.message,
        )
        return True
    await _not_now(services, state, exc)
    return False


async def _not_now(services: Services, state: Progress, exc: TelegramError) -> None:
    """The progress could not be shown: a later sweep tries again (after Telegram's wait)."""
    logger.warning("could not show the progress of broadcast %s: %s", state.broadcast_id, exc)
    if isinstance(exc, RetryAfter):
        await broadcasts.put_off(
            services.db,
            state.broadcast_id,
            until=services.now() + _retry_after(exc),
            every=services.settings.broadcast_progress_every,
        )


def _retry_after(exc: RetryAfter) -> timedelta:
    with warnings.catch_warnings():
        # PTB 22 warns that retry_after will become a timedelta; both are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: object = exc.retry_after
    if isinstance(value, timedelta):
        return value
    return timedelta(seconds=float(value))  # type: ignore[arg-type]
