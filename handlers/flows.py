"""Multi-step forms: their drafts, their Cancel button and /cancel, and typed answers (when a
form waits for text, the person's next message goes to its flow).

The state is a draft row in the database, not process memory, so a restart or another instance
continues the form where it was. Every form has one, from its first screen to its last, whether
the step waits for words or for a button: so /cancel (or the form's own ✖ Cancel button) ends it
at any step, and a button of a form that is closed changes nothing and says so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update

from handlers import callbacks, texts
from handlers.common import Handler, Row, acting, button, keyboard, say, show
from handlers.context import BotContext
from storage import drafts
from storage.drafts import DraftState
from storage.models import Role
from storage.people import Profile
from storage.text import Refused, typed

CANCEL = "✖ Cancel"


@callbacks.action("cx")
@dataclass(frozen=True)
class CancelForm:
    """The Cancel button every step of a form carries: it closes that form (and no other)."""

    flow: str


TextFn = Callable[[Update, BotContext, Profile, str], Awaitable[None]]


@dataclass(frozen=True)
class TextRoute:
    handle: TextFn
    role: Role | None = None  # re-checked on every answer: a role can be lost mid-form
    # The answer may be a photo (its caption is the text; the handler reads the photo itself).
    photos: bool = False


async def wait_for_text(
    context: BotContext,
    telegram_id: int,
    flow: str,
    field: str,
    data: dict[str, Any] | None = None,
) -> None:
    services = context.services
    await drafts.save(
        services.db,
        telegram_id=telegram_id,
        flow=flow,
        awaiting=field,
        data=data or {},
        now=services.now(),
    )


async def finish(context: BotContext, telegram_id: int, flow: str) -> None:
    """The form is done: forget its draft."""
    await drafts.discard(context.services.db, telegram_id=telegram_id, flow=flow)


async def begin(
    context: BotContext, telegram_id: int, flow: str, data: dict[str, Any] | None = None
) -> None:
    """A form starts on a screen of buttons: its draft (replacing any earlier one of the same
    flow) is what /cancel closes and what its buttons check is still open."""
    services = context.services
    await drafts.save(
        services.db,
        telegram_id=telegram_id,
        flow=flow,
        awaiting=None,
        data=data or {},
        now=services.now(),
    )


async def still_open(
    update: Update,
    context: BotContext,
    telegram_id: int,
    flow: str,
    about: Mapping[str, object] | None = None,
) -> DraftState | None:
    """The form's draft, if the form is open; else (cancelled, finished, or never started here)
    the screen says so kindly, and None: the tap changes nothing. With `about`, the open form
    must be the one about those things (a tap on the screen of an earlier form of the same
    kind, since replaced, finds its form closed)."""
    db = context.services.db
    draft = await drafts.load(db, telegram_id=telegram_id, flow=flow)
    if (
        draft is None
        or draft.finished
        or any(draft.data.get(key) != value for key, value in (about or {}).items())
    ):
        await drafts.leave_list(db, telegram_id=telegram_id)  # a list of it hears no more
        await _closed(update, flow)
        return None
    return draft


async def _closed(update: Update, flow: str) -> None:
    """Say the form is closed: in place of the screen tapped, or (a photo, a file: no text to
    replace) in a new message."""
    query = update.callback_query
    tapped = query.message if query is not None else None
    if isinstance(tapped, Message) and tapped.text is not None:
        await show(update, texts.form_closed(flow))
    else:
        await say(update, texts.form_closed(flow))


def cancel_row(flow: str) -> Row:
    """The row with the form's own Cancel button, for the bottom of each of its screens."""
    return [(CANCEL, CancelForm(flow=flow))]


def cancel_keyboard(flow: str, *rows: Row) -> InlineKeyboardMarkup:
    """A step's buttons (if any), with the form's Cancel button under them."""
    return keyboard(*rows, cancel_row(flow))


def with_cancel(markup: InlineKeyboardMarkup | None, flow: str) -> InlineKeyboardMarkup:
    """A step's keyboard as it is, with the form's Cancel button added under it."""
    rows = list(markup.inline_keyboard) if markup is not None else []
    return InlineKeyboardMarkup([*rows, *keyboard(cancel_row(flow)).inline_keyboard])


async def cancel_all(context: BotContext, telegram_id: int) -> list[str]:
    """Close every form the person has open, at whatever step; the flows closed."""
    return await drafts.close_all(context.services.db, telegram_id=telegram_id)


async def cancel_command(update: Update, context: BotContext) -> None:
    """/cancel: whatever form the person is in, at whichever step, ends, and they are told
    which."""
    user = update.effective_user
    if user is None:
        return
    closed = await cancel_all(context, user.id)
    await say(update, texts.forms_cancelled(closed) if closed else texts.nothing_to_cancel())


@button(CancelForm)
async def cancel_form(
    update: Update, context: BotContext, profile: Profile, chosen: CancelForm
) -> None:
    db = context.services.db
    draft = await drafts.load(db, telegram_id=profile.telegram_id, flow=chosen.flow)
    if draft is None or draft.finished:
        await _closed(update, chosen.flow)
        return
    await drafts.discard(db, telegram_id=profile.telegram_id, flow=chosen.flow)
    await drafts.leave_list(db, telegram_id=profile.telegram_id)  # its list, if one was shown
    await show(update, texts.forms_cancelled([chosen.flow]))


async def cancel_waiting(context: BotContext, telegram_id: int) -> bool:
    db = context.services.db
    draft = await drafts.waiting_for_text(db, telegram_id=telegram_id)
    if draft is None:
        return False
    return await drafts.discard(db, telegram_id=telegram_id, flow=draft.flow)


def text_router(routes: Mapping[str, TextRoute]) -> Handler:
    """A handler for plain text (or a photo) in a private chat, dispatching on the waiting
    draft."""

    async def route(update: Update, context: BotContext) -> None:
        user, message = update.effective_user, update.effective_message
        if user is None or message is None:
            return
        text = message.text if message.text is not None else message.caption or ""
        if message.text is None and not message.photo:
            return
        try:
            text = typed(text)  # the one cleaning rule, before anything is read or stored
        except Refused as refused:
            await say(update, texts.typed_refused(refused.problem))
            return
        draft = await drafts.waiting_for_text(context.services.db, telegram_id=user.id)
        route = routes.get(draft.flow) if draft is not None else None
        if draft is None or route is None:
            await say(update, texts.free_text())
            return
        if message.photo and not route.photos:
            await say(update, texts.text_please())
            return
        profile = await acting(update, context, route.role)
        if profile is None:
            await drafts.discard(context.services.db, telegram_id=user.id, flow=draft.flow)
            return
        await route.handle(update, context, profile, text)

    return route
