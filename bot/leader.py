"""Which instance runs the clock (the planner, the sweeps, expiry, purge, digests) and the sender.

Any number of instances can answer updates, but the clock must turn in one place: two senders
would race for the same broadcast, and two planners would do the same work twice. On PostgreSQL
the instances hold an election through an advisory lock: whoever holds `CLOCK_LOCK` runs the
clock. The lock belongs to one database connection, kept open for as long as this instance
leads: when the process dies (SIGKILL, power loss, OOM), its connection closes, PostgreSQL lets
the lock go, and another instance, which tries every `TRY_SECONDS`, takes it over. The leader
checks its connection every `CHECK_SECONDS` and steps down as soon as it cannot reach the
database (the lock may be someone else's by then).

For the few seconds in which an old leader has not yet noticed that it lost its connection and a
new one has started, two clocks may turn: nothing in them depends on being alone. The planner's
rows have unique keys, the outbox's claims skip rows another instance holds, and a claim names
its holder, so the old sender cannot send what the new one took.

On SQLite there is one instance (`sole_instance` refuses a second), and it always runs the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database
from web import metrics

logger = logging.getLogger(__name__)

# An application-chosen 64-bit key ("lunchclk"); PostgreSQL advisory locks are per database.
CLOCK_LOCK = 0x6C75_6E63_6863_6C6B
# Held by the one instance that polls Telegram ("lunchpol").
POLL_LOCK = 0x6C75_6E63_6870_6F6C
TRY_SECONDS = 5.0
CHECK_SECONDS = 5.0

Step = Callable[[], Awaitable[None]]


class AlreadyRunning(Exception):
    """Another instance of the bot holds the SQLite database: one line for the operator."""


class Election:
    """Runs `on_gain` when this instance becomes the one that runs the clock and `on_loss` when
    it stops being it (or stops). On SQLite it leads from the start."""

    def __init__(
        self,
        db: Database,
        *,
        on_gain: Step,
        on_loss: Step,
        try_seconds: float = TRY_SECONDS,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self._db = db
        self._on_gain = on_gain
        self._on_loss = on_loss
        self._try_seconds = try_seconds
        self._check_seconds = check_seconds
        self._connection: AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self.leading = False

    async def start(self) -> None:
        """Lead now if nobody else does (so a lone instance's clock turns at once), and keep
        trying or checking in the background."""
        await self._turn()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="election")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._step_down()

    async def _run(self) -> None:
        failing = False  # the log says so once an outage, not every few seconds
        while True:
            await asyncio.sleep(self._check_seconds if self.leading else self._try_seconds)
            try:
                await self._turn()
            except Exception as exc:
                if not failing:
                    logger.warning(
                        "cannot reach the database to see who runs the clock (%s); will keep "
                        "trying",
                        type(exc).__name__,
                    )
                failing = True
            else:
                if failing:
                    logger.info("the database answers again: the election goes on")
                failing = False

    async def _turn(self) -> None:
        if self._db.is_sqlite:
            if not self.leading:
                await self._gain()
        elif self.leading:
            if not await self._still_held():
                logger.warning("lost the database connection that holds the clock; stepping down")
                await self._step_down()
        elif await self._try_lock():
            await self._gain()

    async def _try_lock(self) -> bool:
        connection = await self._db.engine.connect()
        try:
            held = await connection.scalar(select(func.pg_try_advisory_lock(CLOCK_LOCK)))
            await connection.commit()  # the lock is the session's: it outlives the transaction
        except BaseException:
            await _drop(connection)
            raise
        if not held:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def _still_held(self) -> bool:
        connection = self._connection
        if connection is None:
            return False
        try:
            async with asyncio.timeout(self._check_seconds):
                await connection.scalar(select(1))
                await connection.commit()
        except Exception:  # the server, the network or the connection is gone
            return False
        return True

    async def _gain(self) -> None:
        self.leading = True
        metrics.CLOCK_HOLDER.set(1)
        logger.info("this instance runs the clock and sends the outbox")
        await self._on_gain()

    async def _step_down(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await _drop(connection)  # closing it lets the lock go
        if self.leading:
            self.leading = False
            metrics.CLOCK_HOLDER.set(0)
            await self._on_loss()


async def _drop(connection: AsyncConnection) -> None:
    """Close a connection for good (not back to the pool: its session may hold the lock)."""
    with contextlib.suppress(Exception):
        await connection.invalidate()
    with contextlib.suppress(Exception):
        await connection.close()


@contextlib.asynccontextmanager
async def sole_poller(db: Database) -> AsyncIterator[None]:
    """On PostgreSQL, polling is for one instance only (Telegram answers a second poller with
    409, and the first would find its updates in hand taken up again): a second one stops at
    once with one line. Several instances take updates by webhook instead."""
    if db.is_sqlite:  # sole_instance has seen to it
        yield
        return
    connection = await db.engine.connect()
    try:
        held = await connection.scalar(select(func.pg_try_advisory_lock(POLL_LOCK)))
        await connection.commit()
        if not held:
            raise AlreadyRunning(
                "another instance of the bot is polling Telegram with this database; only one "
                "can: stop it first, or run every instance with --webhook"
            )
        yield
    finally:
        await _drop(connection)


@contextlib.contextmanager
def sole_instance(url: str) -> Iterator[None]:
    """On a SQLite file, hold a lock beside it for as long as the bot runs, so that a second
    instance on the same file stops at once with one line (two would each send the outbox and
    each poll Telegram). The lock is the kernel's: it goes with the process, however it ends."""
    database = make_url(url).database
    if not url.startswith("sqlite") or not database or database == ":memory:":
        yield
        return
    path = Path(f"{database}.lock")
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(descriptor, 32).decode(errors="replace").strip() or "unknown"
            raise AlreadyRunning(
                f"the bot is already running on {database} (process {holder}); SQLite allows "
                "one instance at a time: stop that one first, or use PostgreSQL to run several"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(descriptor)  # lets the lock go (the file stays: removing it would race)
