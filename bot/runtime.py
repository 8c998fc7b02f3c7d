"""Starting and stopping the bot: migrations, start-up sync, polling, and a clean shutdown."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Update

from bot.app import services_of
from handlers import menu
from handlers.context import BotApplication
from storage import migrate, people

logger = logging.getLogger(__name__)

# Long-poll length: Telegram holds the request until an update arrives or this many seconds pass.
POLL_TIMEOUT_SECONDS = 30


async def prepare(application: BotApplication) -> None:
    """Bring the database up to date and the bot's menus in line with config."""
    services = services_of(application)
    await migrate.upgrade(services.db.url)
    await people.sync_config_coordinators(
        services.db, coordinator_ids=services.settings.coordinator_ids, now=services.now()
    )
    await menu.publish_default(application.bot)


@asynccontextmanager
async def polling(
    application: BotApplication, *, poll_timeout: int = POLL_TIMEOUT_SECONDS
) -> AsyncIterator[BotApplication]:
    """The bot running in this event loop, fetching updates with getUpdates, till the end."""
    services = services_of(application)
    try:
        async with application:  # initialize(): getMe checks the token and the server
            await prepare(application)
            updater = application.updater
            if updater is None:
                raise RuntimeError("the application was built without an updater")
            await updater.start_polling(
                poll_interval=0.0,
                timeout=poll_timeout,
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=False,  # updates sent while the bot was down still count
            )
            await application.start()
            logger.info("bot @%s is running", application.bot.username)
            try:
                yield application
            finally:
                await updater.stop()
                await application.stop()
    finally:
        await services.db.dispose()
