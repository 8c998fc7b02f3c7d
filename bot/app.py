"""The composition root: the one place that builds the Application and registers handlers.

Handler order matters within a group: PTB runs the first handler whose filters match. Specific
commands and buttons come first; after them the catch-alls (typed answers, unknown commands,
stale buttons), so nothing reaches a person unanswered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.config import Config
from handlers import coordination, errors, flows, menu, profile, start
from handlers.callbacks import matches
from handlers.common import Handler
from handlers.context import SERVICES_KEY, BotApplication, BotContext, Services, Settings, utc_now
from storage.db import Database
from storage.models import Role

# Edited messages are not commands again: only new messages count.
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
GROUPS = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE


def build_application(config: Config, *, clock: Callable[[], datetime] = utc_now) -> BotApplication:
    """An Application wired to the config's Bot API server and database; nothing started."""
    builder = (
        ApplicationBuilder()
        .token(config.telegram.require_token())
        .context_types(ContextTypes(context=BotContext))
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=config.programme.tz))
    )
    if config.telegram.api_base_url:
        builder = builder.base_url(config.telegram.api_base_url).base_file_url(
            config.telegram.api_file_url or _file_url(config.telegram.api_base_url)
        )
    application: BotApplication = builder.build()
    application.bot_data[SERVICES_KEY] = Services(
        db=Database(config.database.url),
        settings=Settings(
            programme_name=config.programme.name,
            timezone=config.programme.tz,
            coordinator_ids=config.coordinators.telegram_ids,
            invite_valid_for=timedelta(hours=config.invites.expire_hours),
        ),
        clock=clock,
    )
    _register_handlers(application)
    return application


def services_of(application: BotApplication) -> Services:
    services: Services = application.bot_data[SERVICES_KEY]
    return services


def _file_url(base_url: str) -> str:
    # A Bot API server serves files beside its methods: .../bot<token> and .../file/bot<token>.
    head, sep, tail = base_url.rstrip("/").rpartition("/bot")
    return f"{head}/file/bot{tail}" if sep else base_url


def _register_handlers(app: BotApplication) -> None:
    def command(name: str, callback: Handler) -> None:
        app.add_handler(CommandHandler(name, callback, filters=PRIVATE))

    def button(action: type[object], callback: Handler) -> None:
        app.add_handler(CallbackQueryHandler(callback, pattern=matches(action)))

    # Everyone, registered or not.
    command("start", start.start)
    button(start.PrivacyAnswer, start.privacy_answer)
    command("help", profile.help_command)
    command("whoami", profile.whoami)
    command("name", profile.name)
    command("cancel", profile.cancel)

    # Coordinators (each handler re-checks the role; so does storage).
    command("invite", coordination.invite)
    button(coordination.InviteRole, coordination.invite_role)
    button(coordination.InviteSchool, coordination.invite_school)
    button(coordination.InviteNewSchool, coordination.invite_new_school)
    command("people", coordination.people_command)
    button(coordination.PeoplePage, coordination.people_page)
    button(coordination.PersonCard, coordination.person_card)
    button(coordination.AskRemoveRole, coordination.ask_remove_role)
    button(coordination.RemoveRole, coordination.remove_role)

    # Catch-alls, last.
    app.add_handler(
        MessageHandler(
            PRIVATE & filters.TEXT & ~filters.COMMAND,
            flows.text_router(
                {
                    profile.RENAME_FLOW: flows.TextRoute(profile.on_name_text),
                    coordination.INVITE_SCHOOL_FLOW: flows.TextRoute(
                        coordination.on_school_name_text, Role.COORDINATOR
                    ),
                }
            ),
        )
    )
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, errors.unknown_command))
    app.add_handler(
        CommandHandler([c for c, _, _ in menu.COMMANDS], errors.group_command, filters=GROUPS)
    )
    app.add_handler(CallbackQueryHandler(errors.stale_button))
    app.add_error_handler(errors.on_error)
