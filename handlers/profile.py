"""A person's own view: /help, /whoami, /name and /cancel."""

from __future__ import annotations

from telegram import Update

from handlers import flows, menu, texts
from handlers.common import args_text, command, say
from handlers.context import BotContext
from storage import drafts, people
from storage.people import NameProblem, Profile

RENAME_FLOW = "rename"


async def help_command(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None:
        return
    profile = await people.profile(context.services.db, user.id)
    await drafts.leave_list(context.services.db, telegram_id=user.id)  # as every command does
    await say(update, texts.help_text(menu.commands_for(profile), registered=profile is not None))


async def whoami(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None:
        return
    profile = await people.profile(context.services.db, user.id)
    await drafts.leave_list(context.services.db, telegram_id=user.id)  # as every command does
    await say(update, texts.whoami(profile, user.id))


@command()
async def name(update: Update, context: BotContext, profile: Profile) -> None:
    typed = args_text(context)
    if typed:
        await _rename(update, context, typed)
        return
    await flows.wait_for_text(context, profile.telegram_id, RENAME_FLOW, "name")
    await say(update, texts.ask_name(profile.display_name), flows.cancel_keyboard(RENAME_FLOW))


async def on_name_text(update: Update, context: BotContext, _profile: Profile, text: str) -> None:
    await _rename(update, context, text)


async def _rename(update: Update, context: BotContext, typed: str) -> None:
    user = update.effective_user
    if user is None:
        return
    cleaned = people.clean_name(typed)
    if cleaned is NameProblem.EMPTY:
        await say(update, texts.name_empty())
        return
    if cleaned is NameProblem.TOO_LONG:
        await say(update, texts.name_too_long())
        return
    services = context.services
    profile = await people.rename(
        services.db, telegram_id=user.id, name=str(cleaned), now=services.now()
    )
    await drafts.discard(services.db, telegram_id=user.id, flow=RENAME_FLOW)
    await say(update, texts.name_saved(profile))


async def cancel(update: Update, context: BotContext) -> None:
    await flows.cancel_command(update, context)
