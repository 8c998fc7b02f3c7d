"""Whatever goes wrong, the person gets a kind answer and the team gets one log line."""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Update
from telegram.error import Forbidden, NetworkError, TelegramError

from handlers import callbacks, flows, texts
from handlers.common import audit_refusal, say
from handlers.context import BotContext
from storage import people
from storage.crypto import SealError
from storage.errors import (
    AlreadyDone,
    Closed,
    NotFound,
    NotRegistered,
    NotYours,
    OutOfScope,
    PermissionDenied,
)

logger = logging.getLogger(__name__)


async def welcome_back(update: Update, context: BotContext) -> None:
    """Runs before every handler (group -1): a person who had blocked the bot and now writes to
    it again can be sent messages again. The profile read for this is kept for the handler
    that follows, so an update reads its person once."""
    user = update.effective_user
    if (
        user is not None
        and update.effective_chat is not None
        and (update.effective_chat.type == "private")
    ):
        db = context.services.db
        profile = await people.profile(db, user.id)
        if profile is not None and not profile.active:
            await people.mark_active(db, telegram_id=user.id)
            profile = await people.profile(db, user.id)
        context.keep_profile(user.id, profile)


async def unknown_command(update: Update, _context: BotContext) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    await say(update, texts.unknown_command(message.text.split(maxsplit=1)[0][:64]))


async def unreadable(update: Update, _context: BotContext) -> None:
    """A file, sticker, voice note, video...: the bot reads words and photos only."""
    await say(update, texts.unreadable())


async def stale_button(update: Update, _context: BotContext) -> None:
    """Any button no handler claimed: forged, from an old version, or no longer valid."""
    query = update.callback_query
    if query is not None:
        logger.info(
            "stale or forged button %r in update %s",
            str(query.data).split(callbacks.SEPARATOR)[0][:16],
            update.update_id,
        )
        await query.answer(texts.stale_button())


async def group_command(update: Update, context: BotContext) -> None:
    """Commands belong in a private chat: group members would see each other's answers."""
    await say(update, texts.private_only(context.bot.username))


# Refusals from storage: an answer for the person and an INFO line, not an error. A refused
# answer to a form also closes the form, so the person is not stuck in it.
_REFUSALS: dict[type[Exception], Callable[[], str]] = {
    NotYours: texts.not_yours,
    OutOfScope: texts.out_of_scope,
    NotFound: texts.not_found,
    Closed: texts.closed,
    AlreadyDone: texts.already_done,
}


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    if not isinstance(update, Update):
        # No person is waiting for an answer: a polling hiccup or a job.
        if isinstance(error, NetworkError):
            logger.warning("Bot API unreachable for now: %s", error)
        else:
            logger.error("error outside an update", exc_info=error)
        return
    if isinstance(error, NotRegistered):
        await _tell(update, texts.not_registered())
        return
    if isinstance(error, PermissionDenied):
        logger.info("refused in update %s: needs %s", update.update_id, error.needed)
        await audit_refusal(update, context, f"needs {error.needed.value}")
        await _tell(update, texts.not_allowed(error.needed))
        return
    refusal = next((text for kind, text in _REFUSALS.items() if isinstance(error, kind)), None)
    if refusal is not None:
        logger.info("refused %s: %s", describe(update), type(error).__name__)
        if isinstance(error, NotYours | OutOfScope):
            await audit_refusal(
                update,
                context,
                type(error).__name__,
                error.subject if isinstance(error, NotYours) else None,
            )
        if update.callback_query is None and update.effective_user is not None:
            await flows.cancel_waiting(context, update.effective_user.id)
        await _tell(update, refusal())
        return
    if isinstance(error, SealError):
        logger.error(
            "referral details could not be opened in %s: the encryption key is not "
            "the one they were sealed with (check LUNCHBOT_ENCRYPTION_KEY and "
            "LUNCHBOT_OLD_ENCRYPTION_KEYS)",
            describe(update),
        )
        await _tell(update, texts.sealed_unavailable())
        return
    if isinstance(error, Forbidden):
        # They blocked the bot while we were answering: send them nothing more until they write.
        user = update.effective_user
        if user is not None:
            await people.mark_inactive(context.services.db, telegram_id=user.id)
        logger.info("person in update %s has blocked the bot", update.update_id)
        return
    logger.error("error handling %s", describe(update), exc_info=error)
    await _tell(update, texts.internal_error())


def describe(update: Update) -> str:
    """Enough to find the update again, and no message text (it may hold personal data)."""
    kind = "button" if update.callback_query else "message" if update.message else "update"
    chat = update.effective_chat.id if update.effective_chat else None
    user = update.effective_user.id if update.effective_user else None
    return f"{kind} update {update.update_id} (chat {chat}, user {user})"


async def _tell(update: Update, text: str) -> None:
    # Buttons answer their query before doing anything that can fail, so only a message is sent.
    try:
        await say(update, text)
    except TelegramError as exc:
        logger.warning("could not tell the person in update %s: %s", update.update_id, exc)
