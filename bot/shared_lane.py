"""One sending lane shared by every instance on PostgreSQL: Telegram's limits are the bot's, not
each process's, so N instances together send no more than one would.

Each instance keeps its own `Pacer` (bot/lane.py) in front, for the order of its own sends
(replies, then notices, then broadcast copies) and its own chats' spacing. A send let go by it
then asks the database for a grant, and counts against the limits of all instances from that
grant until a window after its answer, as the Pacer counts it in one process:

- **Grants.** `lane_grant()` (migration 0011) takes an advisory lock (`storage.lane.LANE_LOCK`),
  reads the grants of the last seconds (`lane_grants`), lets go, in order, those of a batch that
  fit (overall, the chat's spacing, the group's minute) and records them: one statement, one
  round trip. Those that do not fit come back with the time until one could (a lower bound),
  and the instance sleeps till then. It asks again sooner only when a send of its own joins the
  queue: an idle lane asks nothing at all.
- **One asker per instance.** The sends waiting in an instance queue for one broker task that
  asks for the best few of them at once, so a full second costs one round trip per grant, not
  one per waiting send per freed slot.
- **Answers** are recorded in batches by one task, with how long ago each came back; the
  database counts the send until a window after that moment by its own clock (instances' clocks
  never meet). Two round trips per send at most, neither under the lock for long.
- **Smooth.** The outbox's sends go two at a time at most, at a quarter above the rate, so the
  slots of a full second free two by two rather than all together a second later.
- **Replies first across instances.** When a direct reply finds the second nearly full, it marks
  the lane; for the next few seconds notices and broadcast copies, on every instance, leave
  `RESERVE` sends of each second free, so a reply on one instance waits at most for the next
  freed slot, never behind another instance's broadcast. Nobody writing, the outbox has the
  whole budget.
- **A 429** seen by any instance pauses its own Pacer at once and, through `lane_state`, every
  other instance at its next ask.
- **A dead instance** (SIGKILL) records no answers: each of its grants stops counting when its
  `LEASE` ends, 5 s after it was granted. A live send still unanswered by then stops counting
  too (PTB gives up reading an answer after 5 s): the price of a dead instance holding nothing.
- **The database unreachable** (or slow to answer): the instance paces itself alone with its
  Pacer and says so in the log, rather than holding every reply; it looks for the database
  every few seconds in the background and shares the lane again once it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.lane import MARGIN, MINUTE, SECOND, ChatKey, Pace, Pacer, Priority, is_group
from storage.lane import Grants, Ledger, Limits, Request

logger = logging.getLogger(__name__)

# A send whose answer was never recorded stops counting this long after its grant.
LEASE = 5.0
# Sends of each second the outbox leaves free while direct replies compete, and for how long
# after the last one did. One is enough: a freed slot goes to a waiting reply before any copy.
RESERVE = 1
RECENT = 2.0
# The outbox's sends go two at a time at most, at no more than a quarter above the rate: a full
# second's slots then free two by two, not all at once a second later, so a reply finds one
# within a fifth of a second at worst (the second fills in four fifths of it). The quarter lets
# the outbox catch up after a slow moment, so the rate is kept.
SMOOTH_BURST = 2
SMOOTH_RATIO = 1.25
# The best this many waiting sends are asked for at once.
BATCH = 16
# While the database cannot be reached, this instance paces alone and looks for it this often.
OFFLINE_SECONDS = 5.0


@dataclass(order=True)
class _Asking:
    priority: Priority
    seq: int
    chat: ChatKey | None = field(compare=False)
    granted: asyncio.Future[int | None] = field(compare=False)


class SharedLane:
    """A `SendingLane` whose limits hold across every instance on one PostgreSQL database."""

    def __init__(
        self,
        pace: Pace,
        ledger: Ledger,
        *,
        lease: float = LEASE,
        reserve: int = RESERVE,
        recent: float = RECENT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.local = Pacer(pace, clock)
        self.ledger = ledger
        self.limits = Limits(
            capacity=pace.overall_per_second,
            span=SECOND + MARGIN,
            chat_gap=pace.per_chat_seconds + MARGIN if pace.per_chat_seconds > 0 else 0.0,
            group_capacity=pace.per_group_per_minute,
            group_span=MINUTE + MARGIN,
            lease=lease,
            reserve=max(0, min(reserve, pace.overall_per_second - 1)),
            recent=recent,
            **_smoothing(pace.overall_per_second),
        )
        self._clock = clock
        self._asking: list[_Asking] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._broker: asyncio.Task[None] | None = None
        self._answers: list[tuple[int, float]] = []
        self._recorder: asyncio.Task[None] | None = None
        self._pauses: set[asyncio.Task[None]] = set()
        # Set while the database cannot be reached: it looks for the database in the background
        # while this instance paces itself alone.
        self._probe: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def slot(self, chat: ChatKey | None, *, priority: Priority) -> AsyncIterator[None]:
        async with self.local.slot(chat, priority=priority):
            grant = await self._grant(chat, priority)
            try:
                yield
            finally:
                if grant is not None:
                    self._answered(grant)

    def pause(self, seconds: float) -> None:
        """Telegram said 429: this instance stops now, the others at their next ask."""
        self.local.pause(seconds)
        task = asyncio.get_running_loop().create_task(self._pause_everyone(seconds))
        self._pauses.add(task)
        task.add_done_callback(self._pauses.discard)

    async def settle(self) -> None:
        """Wait until every answer and pause seen so far is in the database."""
        while self._pauses or (self._recorder is not None and not self._recorder.done()):
            await asyncio.gather(*self._pauses, return_exceptions=True)
            if self._recorder is not None:
                await asyncio.gather(self._recorder, return_exceptions=True)

    async def close(self) -> None:
        await self.settle()
        if self._broker is not None:
            self._broker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._broker
            self._broker = None
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
            self._probe = None
        for asking in self._asking:  # nobody is left to ask for them: they pace locally
            if not asking.granted.done():
                asking.granted.set_result(None)
        self._asking.clear()
        self._wake = asyncio.Event()  # the next start may be in another event loop
        await self.ledger.dispose()

    async def _grant(self, chat: ChatKey | None, priority: Priority) -> int | None:
        """A grant from the database (its id), or None while this instance paces alone."""
        if self._probe is not None:
            return None
        granted: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._asking, _Asking(priority, next(self._seq), chat, granted))
        self._wake.set()
        if self._broker is None or self._broker.done():
            self._broker = asyncio.get_running_loop().create_task(self._ask())
        try:
            return await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                grant = granted.result()
                if grant is not None:  # granted just as it was cancelled: give it back
                    self._answered(grant)
            raise

    async def _ask(self) -> None:
        """The broker: asks for the best waiting sends until none is left waiting."""
        while True:
            self._wake.clear()
            batch = self._best(BATCH)
            if not batch:
                return
            try:
                grants = await self.ledger.grant(
                    [_request(a.chat, a.priority) for a in batch], self.limits
                )
            except Exception as exc:  # any failure: pace alone, never stop sending
                self._go_alone(batch, exc)
                return
            if self._hand_out(batch, grants):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), _sleep(grants.wait))

    def _best(self, count: int) -> list[_Asking]:
        """Up to `count` waiting sends, best first, taken off the queue."""
        batch: list[_Asking] = []
        while self._asking and len(batch) < count:
            asking = heapq.heappop(self._asking)
            if not asking.granted.done():  # cancelled while waiting
                batch.append(asking)
        return batch

    def _hand_out(self, batch: list[_Asking], grants: Grants) -> bool:
        """Resolve the granted, queue the held again; True if any is held."""
        held = False
        for asking, grant in zip(batch, grants.ids, strict=True):
            if grant is None:
                heapq.heappush(self._asking, asking)
                held = True
            elif asking.granted.done():  # cancelled while asked for: give the grant back
                self._answered(grant)
            else:
                asking.granted.set_result(grant)
        return held

    def _go_alone(self, batch: list[_Asking], exc: Exception) -> None:
        logger.warning(
            "the shared sending lane cannot reach the database (%s); this instance paces itself "
            "alone until it can",
            type(exc).__name__,
        )
        for asking in [*batch, *self._asking]:
            if not asking.granted.done():
                asking.granted.set_result(None)
        self._asking.clear()
        if self._probe is None:
            self._probe = asyncio.get_running_loop().create_task(self._until_reachable())

    async def _until_reachable(self) -> None:
        """Every few seconds, one short statement, until the database answers again."""
        for _ in itertools.count():
            await asyncio.sleep(OFFLINE_SECONDS)
            if await self._reachable():
                break
        logger.warning("the shared sending lane reaches the database again")
        self._probe = None

    async def _reachable(self) -> bool:
        try:
            await self.ledger.ping()
        except Exception:  # still unreachable: the warning was given once
            return False
        return True

    def _answered(self, grant: int) -> None:
        self._answers.append((grant, self._clock()))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.get_running_loop().create_task(self._record())

    async def _record(self) -> None:
        """Write the answers seen so far, in one statement, until none is left."""
        while self._answers:
            answers, self._answers = self._answers, []
            now = self._clock()
            try:
                await self.ledger.answered([(grant, now - at) for grant, at in answers])
            except Exception as exc:  # the grants then count until their lease
                logger.warning(
                    "could not record %s answers in the shared sending lane (%s)",
                    len(answers),
                    type(exc).__name__,
                )

    async def _pause_everyone(self, seconds: float) -> None:
        try:
            await self.ledger.pause(seconds)
        except Exception as exc:  # this instance is paused all the same
            logger.warning(
                "could not pause the other instances after a 429 (%s)", type(exc).__name__
            )


def _request(chat: ChatKey | None, priority: Priority) -> Request:
    return Request(
        chat=None if chat is None else str(chat),
        group=chat is not None and is_group(chat),
        reply=priority is Priority.REPLY,
    )


def _smoothing(per_second: int) -> dict[str, Any]:
    return {"smooth": SMOOTH_BURST / (max(per_second, 1) * SMOOTH_RATIO), "burst": SMOOTH_BURST}


def _sleep(wait: float | None) -> float:
    """How long the broker sleeps for a held send (a moment past the bound it was given)."""
    return (wait if wait is not None else SECOND) + MARGIN
