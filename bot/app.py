"""The composition root: the one place that builds the Application and registers handlers.

Handler order matters within a group: PTB runs the first handler whose filters match. Specific
commands and buttons come first; after them the catch-alls (typed answers, unknown commands,
stale buttons), so nothing reaches a person unanswered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import logs
from bot.config import Config
from bot.delivery import DeliveryEngine
from handlers import coordination, errors, flows, menu, profile, start, volunteer
from handlers.callbacks import matches
from handlers.common import Handler
from handlers.context import SERVICES_KEY, BotApplication, BotContext, Services, Settings, utc_now
from storage.db import Database
from storage.models import Role
from storage.rota import JobSpec

DELIVERY_KEY = "delivery"
# Edited messages are not commands again: only new messages count.
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
GROUPS = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE


def build_application(config: Config, *, clock: Callable[[], datetime] = utc_now) -> BotApplication:
    """An Application wired to the config's Bot API server and database; nothing started."""
    logs.quiet_libraries()
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
    services = Services(
        db=Database(config.database.url),
        settings=Settings(
            programme_name=config.programme.name,
            timezone=config.programme.tz,
            coordinator_ids=config.coordinators.telegram_ids,
            invite_valid_for=timedelta(hours=config.invites.expire_hours),
            offer_window=timedelta(minutes=config.rota.offer_minutes),
            jobs=tuple(
                JobSpec(job=j.name, places=j.places, needs_check=j.needs_check)
                for j in config.rota.jobs
            ),
        ),
        clock=clock,
    )
    application.bot_data[SERVICES_KEY] = services
    application.bot_data[DELIVERY_KEY] = DeliveryEngine(application, services)
    _register_handlers(application)
    return application


def services_of(application: BotApplication) -> Services:
    services: Services = application.bot_data[SERVICES_KEY]
    return services


def delivery_of(application: BotApplication) -> DeliveryEngine:
    engine: DeliveryEngine = application.bot_data[DELIVERY_KEY]
    return engine


def _file_url(base_url: str) -> str:
    # A Bot API server serves files beside its methods: .../bot<token> and .../file/bot<token>.
    head, sep, tail = base_url.rstrip("/").rpartition("/bot")
    return f"{head}/file/bot{tail}" if sep else base_url


def _register_handlers(app: BotApplication) -> None:
    def command(name: str, callback: Handler) -> None:
        app.add_handler(CommandHandler(name, callback, filters=PRIVATE))

    def button(action: type[object], callback: Handler) -> None:
        app.add_handler(CallbackQueryHandler(callback, pattern=matches(action)))

    # Before everything (group -1): someone who had blocked the bot and writes again is back.
    app.add_handler(TypeHandler(Update, errors.welcome_back), group=-1)

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

    # Volunteers: sessions, bookings, offers, calendar, profile.
    command("sessions", volunteer.sessions_command)
    button(volunteer.SessionsPage, volunteer.sessions_page)
    button(volunteer.OpenSession, volunteer.open_session)
    button(volunteer.BookJob, volunteer.book_job)
    command("mysessions", volunteer.my_sessions_command)
    button(volunteer.MyBookings, volunteer.my_sessions)
    button(volunteer.AskCancelBooking, volunteer.ask_cancel)
    button(volunteer.CancelBooking, volunteer.cancel_booking)
    button(volunteer.OfferAnswer, volunteer.offer_answer)
    button(volunteer.CalendarFile, volunteer.calendar_file)
    command("profile", volunteer.profile_command)
    button(volunteer.ToggleHome, volunteer.toggle_home)
    button(volunteer.AskPhone, volunteer.ask_phone)
    button(volunteer.RemovePhone, volunteer.remove_phone)

    # Site leads and coordinators: the day, coverage, changing or cancelling a session.
    # (site day section: begin)
    # (site day section: end)

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
