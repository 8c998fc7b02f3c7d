"""Updates in: fetched (polling) or received (webhook, web/server.py), stored in the inbox, then
handed to the handlers by the drainer, in order per chat and several chats at once.

This replaces PTB's Updater, which confirms an update to Telegram as soon as it is in memory:
a crash then lost every update fetched and not yet handled. Here an update is confirmed only
once it is in the database (storage/inbox.py), and a restart hands over what was not handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.warnings import PTBUserWarning

from handlers.context import BotApplication, BotContext
from storage import inbox
from storage.db import Database
from web import metrics

logger = logging.getLogger(__name__)
# The poller asks for getUpdates through do_api_request on purpose (see Poller._fetch); PTB
# suggests its own method whenever one exists.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)

DEFAULT_CONCURRENCY = 8
IDLE_CHECK_SECONDS = 5.0  # also look for claims left by a dead instance now and then
STOP_WAIT_SECONDS = 10.0
RETRY_FETCH_SECONDS = 1.0
# A long poll's answer may come this long after its own timeout before it is given up and asked
# again (PTB's get_updates allows its connection's read timeout, 5 s by default).
POLL_READ_MARGIN_SECONDS = 5.0
OUTAGE_LOG_SECONDS = 60


class _Outcome:
    failed = False


_OUTCOME: contextvars.ContextVar[_Outcome | None] = contextvars.ContextVar(
    "update_outcome", default=None
)


async def note_failure(_update: object, _context: BotContext) -> None:
    """An error handler (registered beside handlers/errors.on_error): the update in hand failed.
    It runs in the task that handles the update, so the drainer reads it after process_update."""
    outcome = _OUTCOME.get()
    if outcome is not None:
        outcome.failed = True


class Drainer:
    """Hands stored updates to `application.process_update`: one at a time per chat, up to
    `concurrency` chats at once, and marks each finished after its handlers ran."""

    def __init__(
        self,
        application: BotApplication,
        db: Database,
        *,
        clock: Callable[[], datetime],
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self._application = application
        self._db = db
        self._clock = clock
        self._concurrency = max(1, concurrency)
        self._busy: dict[int, asyncio.Task[None]] = {}  # chat_key -> its update being handled
        self._in_hand: dict[int, int] = {}  # chat_key -> the update_id being handled
        self._renewed = time.monotonic()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._asked = 0  # wake() calls so far: idle only if none came during an empty claim

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="inbox-drainer")

    def wake(self) -> None:
        """Something was stored or finished: look again now."""
        self._asked += 1
        self._idle.clear()
        self._wake.set()

    async def join(self) -> None:
        """Wait until everything stored so far has been handled (the test harness's settle)."""
        self.wake()
        await self._idle.wait()

    async def stop(self) -> None:
        """Stop claiming; let the handlers in progress finish (for a while). What is left
        unfinished stays in the inbox and is handed over at the next start."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        running = list(self._busy.values())
        if running:
            await asyncio.wait(running, timeout=STOP_WAIT_SECONDS)
        for task in running:
            task.cancel()

    async def _run(self) -> None:
        while not self._stopping:
            asked = self._asked
            self._wake.clear()
            try:
                claimed = await inbox.claim(
                    self._db,
                    now=self._clock(),
                    limit=self._concurrency - len(self._busy),
                    busy=frozenset(self._busy),
                )
            except Exception:
                logger.exception("cannot read the inbox (will keep trying)")
                claimed = []
                await asyncio.sleep(RETRY_FETCH_SECONDS)
            for received in claimed:
                task = asyncio.get_running_loop().create_task(self._handle(received))
                self._busy[received.chat_key] = task
                self._in_hand[received.chat_key] = received.update_id
            await self._heartbeat()
            if not claimed and not self._busy and asked == self._asked:
                self._idle.set()
            if claimed and len(self._busy) < self._concurrency:
                continue  # there may be more for other chats
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE_CHECK_SECONDS)

    async def _heartbeat(self) -> None:
        """Renew the claims of what is in hand, so that no other instance takes them over."""
        if time.monotonic() - self._renewed < inbox.HEARTBEAT.total_seconds():
            return
        self._renewed = time.monotonic()
        try:
            await inbox.renew(self._db, list(self._in_hand.values()), now=self._clock())
        except Exception:
            logger.exception("cannot renew the claims of updates in hand (will keep trying)")

    async def _handle(self, received: inbox.Received) -> None:
        started = time.perf_counter()
        outcome = _Outcome()
        _OUTCOME.set(outcome)
        failed = False
        try:
            update = Update.de_json(received.payload, self._application.bot)
            await self._application.process_update(update)
        except asyncio.CancelledError:
            # Stopped in the middle: left as it is, to be handed over at the next start.
            self._busy.pop(received.chat_key, None)
            self._in_hand.pop(received.chat_key, None)
            raise
        except Exception:
            # process_update hands handler errors to the error handlers; what reaches here is
            # an update that could not even be read.
            logger.exception("update %s could not be handled", received.update_id)
            failed = True
        try:
            await inbox.finish(self._db, received.update_id, now=self._clock(), failed=failed)
        except Exception:
            # Left claimed: after the claim's timeout it is handled again (idempotently).
            logger.exception("could not mark update %s handled", received.update_id)
        finally:
            self._busy.pop(received.chat_key, None)
            self._in_hand.pop(received.chat_key, None)
            self.wake()
        metrics.UPDATES_HANDLED.labels(
            kind=received.kind, outcome="error" if failed or outcome.failed else "ok"
        ).inc()
        metrics.HANDLING_SECONDS.labels(kind=received.kind).observe(time.perf_counter() - started)


async def receive(
    db: Database, updates: list[inbox.Received], *, now: datetime, source: str
) -> int:
    added = await inbox.store(db, updates, now=now)
    metrics.UPDATES_RECEIVED.labels(source=source).inc(added)
    return added


class OutageLog:
    """While the Bot API is unreachable the poller retries every second; log the first failure
    and then one line a minute, not a traceback a second."""

    def __init__(self) -> None:
        self._last: float | None = None

    def error(self, error: TelegramError) -> None:
        now = time.monotonic()
        if self._last is None or now - self._last >= OUTAGE_LOG_SECONDS:
            logger.warning("cannot fetch updates (will keep trying): %s", error)
            self._last = now


class Poller:
    """getUpdates(offset, timeout) -> store the batch in one transaction -> only then ask with
    offset = last + 1, which is what confirms the batch to Telegram."""

    def __init__(
        self,
        application: BotApplication,
        db: Database,
        drainer: Drainer,
        *,
        clock: Callable[[], datetime],
        timeout: int,
    ) -> None:
        self._application = application
        self._db = db
        self._drainer = drainer
        self._clock = clock
        self._timeout = timeout
        self._offset: int | None = None
        self._task: asyncio.Task[None] | None = None
        self.outages = OutageLog()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._offset is not None:
            # Confirm what is stored, so the next start is not sent it again (harmless if it
            # were: a repeat is stored once).
            with contextlib.suppress(TelegramError):
                await self._application.bot.get_updates(offset=self._offset, timeout=0, limit=1)

    async def _fetch(self) -> list[dict[str, Any]]:
        """getUpdates, as Telegram's JSON: stored as it came, and read into PTB's objects once,
        by the drainer (`get_updates` would read them here too, only to be written back)."""
        batch = await self._application.bot.do_api_request(
            "getUpdates",
            api_kwargs={
                "offset": self._offset,
                "timeout": self._timeout,
                "allowed_updates": Update.ALL_TYPES,
            },
            read_timeout=self._timeout + POLL_READ_MARGIN_SECONDS,
        )
        return [update for update in batch or () if isinstance(update, dict)]

    async def _run(self) -> None:
        while True:
            try:
                batch = await self._fetch()
            except TelegramError as exc:
                self.outages.error(exc)
                await asyncio.sleep(RETRY_FETCH_SECONDS)
                continue
            if not batch:
                continue
            described = [inbox.describe(update) for update in batch]
            received = [r for r in described if r is not None]
            while True:
                try:
                    await receive(self._db, received, now=self._clock(), source="polling")
                    break
                except Exception:
                    # Not stored, so not confirmed: keep trying before asking for more.
                    logger.exception("cannot store updates (will keep trying)")
                    await asyncio.sleep(RETRY_FETCH_SECONDS)
            ids = [u["update_id"] for u in batch if isinstance(u.get("update_id"), int)]
            if ids:
                self._offset = max(ids) + 1
            self._drainer.wake()
