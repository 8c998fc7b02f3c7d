"""The bot and the Bot API sandbox running together in one process: for `lunchbot demo`, the
tests and the benchmarks. The bot talks to the sandbox over real HTTP, exactly as to Telegram.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from types import TracebackType

from bot.app import build_application, delivery_of, services_of
from bot.config import Config, TelegramConfig
from bot.runtime import drainer_of, plan, polling, purge
from bot.sandbox import BotApiSandbox, RateLimits, SimGroup, SimUser
from handlers.context import BotApplication, Services, utc_now
from storage import rota

# Short long-polls keep shutdown quick; the sandbox answers a waiting poll at once anyway.
HARNESS_POLL_TIMEOUT = 1


SUMMER = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # a July morning, before the holiday


class Clock:
    """The time the bot believes it is, moved on by a test or the demo's script."""

    def __init__(self, start: datetime = SUMMER) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Rehearsal:
    """`async with Rehearsal(config) as r:` starts both; people act with r.user(...)."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime] = utc_now,
        limits: RateLimits | None = None,
    ) -> None:
        self.sandbox = BotApiSandbox(limits=limits)
        self._config = config
        self._clock = clock
        self._stack = AsyncExitStack()
        self._bot: AsyncExitStack | None = None
        self._application: BotApplication | None = None

    @property
    def application(self) -> BotApplication:
        if self._application is None:
            raise RuntimeError("the rehearsal has not started")
        return self._application

    @property
    def services(self) -> Services:
        return services_of(self.application)

    async def __aenter__(self) -> Rehearsal:
        await self.sandbox.start()
        self._stack.push_async_callback(self.sandbox.stop)
        try:
            await self._start_bot()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.sandbox.after_update = None
        await self._stack.aclose()

    async def restart(self) -> None:
        """Stop the bot and start a new one on the same database and sandbox, as a process
        restart would (nothing in memory survives; the people and their chats do)."""
        self.sandbox.after_update = None
        if self._bot is not None:
            await self._bot.aclose()
        await self._start_bot()

    async def _start_bot(self) -> None:
        config = dataclasses.replace(
            self._config,
            telegram=TelegramConfig(
                api_base_url=self.sandbox.base_url,
                api_file_url=self.sandbox.base_file_url,
                token=self.sandbox.token,
            ),
        )
        self._bot = AsyncExitStack()
        self._stack.push_async_callback(self._bot.aclose)
        self._application = build_application(config, clock=self._clock)
        await self._bot.enter_async_context(
            # No scheduled jobs: the script moves the clock and calls deliver() itself, so
            # nothing arrives between a step and what the step checks.
            polling(
                self._application,
                poll_timeout=HARNESS_POLL_TIMEOUT,
                sweep_seconds=None,
                concurrency=self._config.updates.concurrency,
            )
        )
        self.sandbox.after_update = self.settle

    async def settle(self) -> None:
        """Wait until the bot has fetched and stored every update sent so far (the inbox), its
        handlers have run, and it sent what that queued for other people (an offer, a notice)."""
        await self.sandbox.wait_confirmed()
        await drainer_of(self.application).join()
        await delivery_of(self.application).sweep()

    async def deliver(self) -> int:
        """What the scheduled jobs would do at the clock's time: pass on expired offers, plan
        reminders and alerts, and send everything due."""
        services = self.services
        await rota.expire_offers(
            services.db, now=services.now(), offer_window=services.settings.offer_window
        )
        await plan(services)
        await purge(services)
        return await delivery_of(self.application).sweep()

    def user(self, user_id: int, first_name: str, last_name: str | None = None) -> SimUser:
        return self.sandbox.user(user_id, first_name, last_name=last_name)

    def group(self, chat_id: int, title: str) -> SimGroup:
        return self.sandbox.group(chat_id, title)
