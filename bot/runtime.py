"""Starting and stopping the bot: migrations, start-up sync, polling, and a clean shutdown."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Update
from telegram.error import TelegramError

from bot.app import delivery_of, services_of
from handlers import menu
from handlers.context import BotApplication, BotContext, Services
from storage import celebrations, drafts, invites, migrate, people, referrals, rota
from storage import schedule as schedule_db

logger = logging.getLogger(__name__)

# Long-poll length: Telegram holds the request until an update arrives or this many seconds pass.
POLL_TIMEOUT_SECONDS = 30
OFFER_SWEEP_SECONDS = 60
PLAN_SECONDS = 60  # reminders and alerts are planned a minute ahead at worst
PURGE_SECONDS = 60 * 60  # retention is counted in days; hourly is on time
OUTAGE_LOG_SECONDS = 60
MISFIRE_GRACE_SECONDS = 60


class OutageLog:
    """While the Bot API is unreachable PTB retries every second or so; log the first failure
    and then one line a minute, not a traceback a second."""

    def __init__(self) -> None:
        self._last: float | None = None

    def error(self, error: TelegramError) -> None:
        now = time.monotonic()
        if self._last is None or now - self._last >= OUTAGE_LOG_SECONDS:
            logger.warning("cannot fetch updates (will keep trying): %s", error)
            self._last = now


async def _plan(context: BotContext) -> None:
    await plan(context.services)


async def plan(services: Services) -> None:
    """Reminders, alerts, milestones and digests: every notice now known becomes an outbox row."""
    now, settings = services.now(), services.settings
    await schedule_db.plan(services.db, now=now, policy=settings.schedule)
    await celebrations.plan(
        services.db, now=now, policy=settings.celebrations, tz=settings.timezone
    )


async def _purge_referrals(context: BotContext) -> None:
    await purge(context.services)


async def purge(services: Services) -> None:
    """Retention: referral details past their time, and forms abandoned half-filled."""
    now = services.now()
    await referrals.purge_expired(
        services.db, now=now, retention=services.settings.referral_retention
    )
    await drafts.expire(services.db, older_than=now - drafts.ABANDONED_AFTER)
    await invites.forget_attempts(services.db, now=now)


async def _expire_offers(context: BotContext) -> None:
    services = context.services
    await rota.expire_offers(
        services.db, now=services.now(), offer_window=services.settings.offer_window
    )


def schedule(application: BotApplication, *, sweep_seconds: float) -> None:
    """The clock: APScheduler, via PTB's JobQueue, wakes the sweeps. The schedule itself lives
    in the database, so these two repeating jobs are all it holds, and a restart loses nothing.
    A sweep that starts late still runs (misfire grace), and a backlog runs once, not N times."""
    jobs = application.job_queue
    if jobs is None:
        raise RuntimeError("the application was built without a job queue")
    options = {"misfire_grace_time": MISFIRE_GRACE_SECONDS, "coalesce": True, "max_instances": 1}
    engine = delivery_of(application)

    async def sweep_outbox(_context: BotContext) -> None:
        await engine.sweep()

    jobs.run_repeating(
        sweep_outbox, interval=sweep_seconds, first=1, name="outbox", job_kwargs=options
    )
    jobs.run_repeating(
        _plan, interval=PLAN_SECONDS, first=2, name="plan-reminders", job_kwargs=options
    )
    jobs.run_repeating(
        _purge_referrals,
        interval=PURGE_SECONDS,
        first=30,
        name="purge-referrals",
        job_kwargs=options,
    )
    jobs.run_repeating(
        _expire_offers,
        interval=OFFER_SWEEP_SECONDS,
        first=5,
        name="expire-offers",
        job_kwargs=options,
    )


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
    application: BotApplication,
    *,
    poll_timeout: int = POLL_TIMEOUT_SECONDS,
    sweep_seconds: float | None,
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
                error_callback=OutageLog().error,
                poll_interval=0.0,
                timeout=poll_timeout,
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=False,  # updates sent while the bot was down still count
            )
            if sweep_seconds is not None:  # None: whoever runs the bot turns the clock
                schedule(application, sweep_seconds=sweep_seconds)
            await application.start()
            logger.info("bot @%s is running", application.bot.username)
            try:
                yield application
            finally:
                # A sweep in progress hands back what it has not sent, so stopping takes
                # seconds, not the whole backlog; the next start sends the rest.
                delivery_of(application).stop()
                await updater.stop()
                await application.stop()
    finally:
        await services.db.dispose()
