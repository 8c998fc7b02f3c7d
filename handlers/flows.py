"""Typed answers: when a form waits for text, the person's next message goes to its flow.

The waiting state is a draft row in the database, not process memory, so a restart or another
instance continues the form where it was.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from telegram import Update

from handlers import texts
from handlers.common import Handler, acting, say
from handlers.context import BotContext
from storage import drafts
from storage.models import Role
from storage.people import Profile
from storage.text import Refused, typed

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
