"""Starting and stopping the bot: migrations, start-up sync, polling, and a clean shutdown."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Job

from bot.app import delivery_of, services_of
from bot.config import ConfigError
from bot.leader import Election, sole_poller
from bot.updates import DEFAULT_CONCURRENCY, Drainer, OutageLog, Poller, note_failure
from handlers import menu
from handlers.context import BotApplication, BotContext, Services
from storage import celebrations, drafts, inbox, invites, migrate, outbox, people, referrals, rota
from storage import schedule as schedule_db
from web.server import Site, WebServer

__all__ = ["OutageLog", "plan", "polling", "prepare", "purge", "schedule", "webhook"]

logger = logging.getLogger(__name__)

# Long-poll length: Telegram holds the request until an update arrives or this many seconds pass.
POLL_TIMEOUT_SECONDS = 30
OFFER_SWEEP_SECONDS = 60
PLAN_SECONDS = 60  # reminders and alerts are planned a minute ahead at worst
PURGE_SECONDS = 60 * 60  # retention is counted in days; hourly is on time
MISFIRE_GRACE_SECONDS = 60
DRAINER_KEY = "drainer"
# Telegram opens at most this many connections at once to a webhook (its default is 40).
WEBHOOK_CONNECTIONS = 40


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
    await inbox.purge(services.db, now=now)


async def _expire_offers(context: BotContext) -> None:
    services = context.services
    await rota.expire_offers(
        services.db, now=services.now(), offer_window=services.settings.offer_window
    )


def schedule(application: BotApplication, *, sweep_seconds: float) -> list[Job[BotContext]]:
    """The clock: APScheduler, via PTB's JobQueue, wakes the sweeps. The schedule itself lives
    in the database, so these repeating jobs are all it holds, and a restart loses nothing.
    A sweep that starts late still runs (misfire grace), and a backlog runs once, not N times."""
    jobs = application.job_queue
    if jobs is None:
        raise RuntimeError("the application was built without a job queue")
    options = {"misfire_grace_time": MISFIRE_GRACE_SECONDS, "coalesce": True, "max_instances": 1}
    engine = delivery_of(application)
    engine.resume()

    async def sweep_outbox(_context: BotContext) -> None:
        await engine.sweep()

    return [
        jobs.run_repeating(
            sweep_outbox, interval=sweep_seconds, first=1, name="outbox", job_kwargs=options
        ),
        jobs.run_repeating(
            _plan, interval=PLAN_SECONDS, first=2, name="plan-reminders", job_kwargs=options
        ),
        jobs.run_repeating(
            _purge_referrals,
            interval=PURGE_SECONDS,
            first=30,
            name="purge-referrals",
            job_kwargs=options,
        ),
        jobs.run_repeating(
            _expire_offers,
            interval=OFFER_SWEEP_SECONDS,
            first=5,
            name="expire-offers",
            job_kwargs=options,
        ),
    ]


def _election(application: BotApplication, *, sweep_seconds: float) -> Election:
    """The clock turns in this instance only while it wins the election (bot/leader.py)."""
    running: list[Job[BotContext]] = []

    async def gain() -> None:
        running.extend(schedule(application, sweep_seconds=sweep_seconds))

    async def lose() -> None:
        for job in running:
            job.schedule_removal()
        running.clear()
        # A sweep in progress hands back what it has not sent; the new leader sends it.
        delivery_of(application).stop()

    return Election(services_of(application).db, on_gain=gain, on_loss=lose)


async def prepare(application: BotApplication) -> None:
    """Bring the database up to date and the bot's menus in line with config."""
    services = services_of(application)
    await migrate.upgrade(services.db.url)
    await people.sync_config_coordinators(
        services.db, coordinator_ids=services.settings.coordinator_ids, now=services.now()
    )
    await menu.publish_default(application.bot)


def drainer_of(application: BotApplication) -> Drainer:
    drainer: Drainer = application.bot_data[DRAINER_KEY]
    return drainer


async def _resume(services: Services) -> None:
    """Alone, what was being handled or sent when the last run ended is taken up again now
    (beside other instances, a dead one's claims are taken over once they are not renewed)."""
    resumed = await inbox.resume(services.db)
    if resumed:
        logger.info("%s updates left unfinished by the last run are handled again", resumed)
    resent = await outbox.resume(services.db)
    if resent:
        logger.info("%s messages left in flight by the last run go back in the queue", resent)


@asynccontextmanager
async def _running(
    application: BotApplication, *, sweep_seconds: float | None, concurrency: int, alone: bool
) -> AsyncIterator[Drainer]:
    """The application started, with the drainer handing it what the inbox holds. `alone`:
    no other instance can be draining the inbox (polling; or SQLite)."""
    services = services_of(application)
    try:
        async with application:  # initialize(): getMe checks the token and the server
            await prepare(application)
            if alone:
                await _resume(services)
            application.add_error_handler(note_failure)
            drainer = Drainer(application, services.db, clock=services.now, concurrency=concurrency)
            application.bot_data[DRAINER_KEY] = drainer
            # None: whoever runs the bot turns the clock (the tests and the demo do).
            election = (
                None
                if sweep_seconds is None
                else _election(application, sweep_seconds=sweep_seconds)
            )
            await application.start()
            drainer.start()
            if election is not None:
                await election.start()
            try:
                yield drainer
            finally:
                if election is not None:
                    await election.stop()
                await drainer.stop()
                # A sweep in progress hands back what it has not sent, so stopping takes
                # seconds, not the whole backlog; the next start sends the rest.
                delivery_of(application).stop()
                await application.stop()
    finally:
        await services.db.dispose()


@asynccontextmanager
async def polling(
    application: BotApplication,
    *,
    poll_timeout: int = POLL_TIMEOUT_SECONDS,
    sweep_seconds: float | None,
    concurrency: int = DEFAULT_CONCURRENCY,
    listen: str = "127.0.0.1",
    port: int | None = None,
) -> AsyncIterator[BotApplication]:
    """The bot running in this event loop, fetching updates with getUpdates, till the end.
    With a `port`, the HTTP server answers /healthz, /readyz and /metrics too."""
    services = services_of(application)
    # Only one process can poll (Telegram answers a second one with 409).
    async with (
        sole_poller(services.db),
        _running(
            application, sweep_seconds=sweep_seconds, concurrency=concurrency, alone=True
        ) as drainer,
    ):
        # A webhook left set by an earlier run would make getUpdates fail with 409.
        await application.bot.delete_webhook(drop_pending_updates=False)
        server = None
        if port is not None:
            server = WebServer(Site(db=services.db, clock=services.now))
            await _listen(server, listen, port)
        poller = Poller(application, services.db, drainer, clock=services.now, timeout=poll_timeout)
        poller.start()
        logger.info("bot @%s is running (polling)", application.bot.username)
        try:
            yield application
        finally:
            await poller.stop()
            if server is not None:
                await server.stop()


@asynccontextmanager
async def webhook(
    application: BotApplication,
    *,
    url: str,
    secret: str,
    listen: str,
    port: int,
    sweep_seconds: float | None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> AsyncIterator[WebServer]:
    """The bot running with Telegram posting updates to `url`, which a reverse proxy passes to
    this server at `listen:port` (the same path)."""
    services = services_of(application)
    async with _running(
        application,
        sweep_seconds=sweep_seconds,
        concurrency=concurrency,
        alone=services.db.is_sqlite,
    ) as drainer:
        server = WebServer(
            Site(
                db=services.db,
                clock=services.now,
                webhook_path=urlsplit(url).path or "/",
                secret=secret,
                on_stored=drainer.wake,
            )
        )
        await _listen(server, listen, port)  # before setWebhook: the first post finds it
        try:
            try:
                await application.bot.set_webhook(
                    url,
                    secret_token=secret,
                    allowed_updates=Update.ALL_TYPES,
                    drop_pending_updates=False,  # updates sent while the bot was down count
                    max_connections=WEBHOOK_CONNECTIONS,
                )
            except BadRequest as exc:
                raise ConfigError(
                    f"server.webhook_url: Telegram refused it ({exc.message}); it must be a "
                    "public https:// address on port 443, 80, 88 or 8443"
                ) from None
            logger.info("bot @%s is running (webhook)", application.bot.username)
            yield server
        finally:
            await server.stop()


async def _listen(server: WebServer, listen: str, port: int) -> None:
    try:
        await server.start(listen, port)
    except OSError as exc:
        raise ConfigError(
            f"server.listen / server.port: cannot listen on {listen}:{port} "
            f"({exc.strerror or exc}); is another program using that port?"
        ) from None
