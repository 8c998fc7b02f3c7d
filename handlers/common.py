"""Shared plumbing for handlers: who is acting, buttons, and replying in place."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from handlers import callbacks, texts
from handlers.context import BotContext
from storage import audit, drafts, people
from storage.models import Role
from storage.people import Profile
from storage.text import Refused, typed

logger = logging.getLogger(__name__)

Row = Sequence[tuple[str, object]]
_A = TypeVar("_A")
CommandFn = Callable[[Update, BotContext, Profile], Awaitable[None]]
ButtonFn = Callable[[Update, BotContext, Profile, _A], Awaitable[None]]
Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


def pager(
    offset: int, total: int, size: int, page: Callable[..., object]
) -> list[tuple[str, object]]:
    """◀ / ▶ buttons for a list shown `size` at a time; `page(offset=...)` makes the action."""
    nav: list[tuple[str, object]] = []
    if offset > 0:
        nav.append(("◀ Previous", page(offset=max(0, offset - size))))
    if offset + size < total:
        nav.append(("Next ▶", page(offset=offset + size)))
    return nav


def keyboard(*rows: Row) -> InlineKeyboardMarkup:
    """Inline buttons from (label, action) pairs; actions go through the callback codec."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=callbacks.encode(act)) for label, act in row]
            for row in rows
            if row
        ]
    )


async def show(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None, *, note: str = ""
) -> Message | None:
    """Answer a command with a new message, or a button by editing the message it was on.
    A `note` (what just happened) goes above the screen. Returns the message it is on."""
    if note:
        text = f"{note}\n\n{text}"
    query = update.callback_query
    # A photo's or a file's caption can't become a screen of text: below it, a new message.
    if query is not None and isinstance(query.message, Message) and query.message.text is not None:
        try:
            await query.message.edit_text(text, reply_markup=markup)
        except BadRequest as exc:
            # A double tap renders the same screen twice; Telegram refuses the second edit.
            if "not modified" not in exc.message:
                raise
        return query.message
    return await say(update, text, markup)


async def say(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send a new message to the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=markup)


def command(role: Role | None = None) -> Callable[[CommandFn], Handler]:
    """A command for registered people (holding `role`, when given)."""

    def wrap(fn: CommandFn) -> Handler:
        @functools.wraps(fn)
        async def handler(update: Update, context: BotContext) -> None:
            try:  # a command's words pass the same cleaning rule as typed answers
                typed(" ".join(context.args or []))
            except Refused as refused:
                await say(update, texts.typed_refused(refused.problem))
                return
            profile = await acting(update, context, role)
            if profile is not None:
                # Another screen: the list shown before no longer hears what is typed (a
                # command that shows a list marks it as heard again).
                await drafts.leave_list(context.services.db, telegram_id=profile.telegram_id)
                await fn(update, context, profile)

        return handler

    return wrap


def button(action: type[_A], role: Role | None = None) -> Callable[[ButtonFn[_A]], Handler]:
    """A button handler: decodes its action, answers the query once, checks the role."""

    def wrap(fn: ButtonFn[_A]) -> Handler:
        @functools.wraps(fn)
        async def handler(update: Update, context: BotContext) -> None:
            query = update.callback_query
            if query is None:
                return
            decoded = callbacks.decode(query.data)
            if not isinstance(decoded, action) or not in_own_chat(update):
                await query.answer(texts.stale_button())
                return
            await query.answer()
            profile = await acting(update, context, role)
            if profile is not None:
                await fn(update, context, profile, decoded)

        return handler

    return wrap


def in_own_chat(update: Update) -> bool:
    """A button on a message in the tapper's own private chat with the bot. Anything else is a
    forged tap (a button answers on the message it is on, and a group would see the answer)."""
    query, user = update.callback_query, update.effective_user
    message = query.message if query is not None else None
    return (
        message is not None
        and user is not None
        and message.chat.type == "private"
        and message.chat.id == user.id
    )


async def acting(update: Update, context: BotContext, role: Role | None) -> Profile | None:
    user = update.effective_user
    if user is None:
        return None
    kept = context.take_profile(user.id)
    profile = kept.profile if kept else await people.profile(context.services.db, user.id)
    if profile is None:
        await say(update, texts.not_registered())
        return None
    if role is not None and not profile.has(role):
        logger.info("refused %s to person %s: needs %s", what(update), profile.person_id, role)
        await audit_refusal(update, context, f"needs {role.value}")
        await say(update, texts.not_allowed(role))
        return None
    return profile


async def audit_refusal(
    update: Update, context: BotContext, reason: str, subject: tuple[str, int] | None = None
) -> None:
    """Every refused attempt is written to the audit log (who, what, when)."""
    user = update.effective_user
    if user is not None:
        await audit.refused(
            context.services.db,
            telegram_id=user.id,
            reason=reason,
            subject=subject,
            what=what(update),
            now=context.services.now(),
        )


def what(update: Update) -> str:
    """What was tried, without the words typed: the command or the button's kind."""
    if update.callback_query is not None:
        return f"button {str(update.callback_query.data).split(callbacks.SEPARATOR)[0]!r}"
    message = update.effective_message
    text = message.text if message is not None and message.text else ""
    return f"command {text.split(maxsplit=1)[0][:32]!r}" if text.startswith("/") else "message"


def args_text(context: BotContext) -> str:
    """The words after a command, as one line, cleaned (`command` has refused what
    cannot be)."""
    try:
        return typed(" ".join(context.args or []))
    except Refused:
        return ""
