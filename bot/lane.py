"""One sending lane: every message the bot sends or edits, direct replies and the outbox's
notices alike, passes one pacer that keeps Telegram's limits (overall, per chat, per group).

Direct replies go first; the outbox's notices yield to them, and broadcasts to both. A 429 pauses
the whole lane for ``retry_after``; a direct reply is then sent again (a few times at most) instead
of being lost, and the outbox's engine retries its own notices.

The pacer counts a send against Telegram's limits from the moment it is let go until one window
after its answer came back: Telegram counted it somewhere in between, so the next send that would
be one too many in any sliding second is held until that second is surely over, however late the
request left or however long it was on the way. The configured rate is therefore a ceiling that no
sliding second at Telegram crosses, and the real rate is that ceiling less only the round trip
(``rate / (1 + round trip)``), with no margin guessed for jitter.

The Pacer lives in one process, and is the whole lane on SQLite (one instance is the limit
there). On PostgreSQL each instance's Pacer sits in front of a lane shared through the database
(bot/shared_lane.py), so that several instances together keep the limits; the rate limiter below
only needs the `SendingLane` interface.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import itertools
import logging
import time
import warnings
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from enum import IntEnum
from typing import Any, Protocol

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from web import metrics

logger = logging.getLogger(__name__)

SECOND = 1.0
MINUTE = 60.0
# Only against rounding: the bound above needs no margin for jitter or for Telegram's clock.
MARGIN = 0.001
# A direct reply refused with 429 is sent again after the pause, this many times at most.
REPLY_RETRIES = 3
# Forget a chat's spacing once this many chats are remembered (they are long past it by then).
REMEMBERED_CHATS = 10_000
# The outbox's sends go two at a time at most, at no more than a quarter above the rate: a full
# second's slots then free two by two, not all at once a second later, so a direct reply finds
# one within a fifth of a second at worst. The quarter lets the outbox catch up after a slow
# moment, so the rate is kept. (The shared lane on PostgreSQL keeps the same rule.)
SMOOTH_BURST = 2
SMOOTH_RATIO = 1.25

ChatKey = int | str  # an id, or a channel's @username


class Priority(IntEnum):
    """Who goes first when several sends wait for the same slot (lower first)."""

    REPLY = 0  # a direct answer to someone who is using the bot now
    NOTICE = 1  # the outbox: an offer, a reminder, a notice to someone else
    BROADCAST = 2  # the outbox: one copy of a broadcast


# The priority of the Bot API calls made in the current task. Handlers never set it, so their
# calls are direct replies; the delivery engine sets it around its sends.
PRIORITY: contextvars.ContextVar[Priority] = contextvars.ContextVar(
    "lunchbot_send_priority", default=Priority.REPLY
)


@dataclass(frozen=True, kw_only=True)
class Pace:
    """Telegram's limits as the bot keeps them."""

    overall_per_second: int = 30
    per_chat_seconds: float = 1.0
    per_group_per_minute: int = 20
    max_attempts: int = 5


class SendingLane(Protocol):
    """What sending needs from a pacer: a slot per send, and a pause after a 429."""

    def slot(
        self, chat: ChatKey | None, *, priority: Priority
    ) -> contextlib.AbstractAsyncContextManager[None]: ...

    def pause(self, seconds: float) -> None: ...

    async def close(self) -> None: ...


@dataclass(order=True)
class _Waiter:
    priority: Priority
    seq: int
    chat: ChatKey | None = field(compare=False)
    granted: asyncio.Future[None] = field(compare=False)


@dataclass
class _Window:
    """Sends that count against one limit: those on the way, and those answered recently."""

    span: float
    capacity: int
    on_the_way: int = 0
    answered: deque[float] = field(default_factory=deque)

    def forget(self, now: float) -> None:
        while self.answered and self.answered[0] <= now - self.span:
            self.answered.popleft()

    def free_at(self, now: float) -> float:
        """When one more send fits (now, later, or `inf` until something on the way is answered)."""
        self.forget(now)
        over = self.on_the_way + len(self.answered) - self.capacity
        if over < 0:
            return now
        if over >= len(self.answered):
            return float("inf")
        return self.answered[over] + self.span


class Pacer:
    """Hands out sending slots in priority order so that no limit is crossed at Telegram.

    `slot()` is a context manager around one request: entering waits for the slot, leaving
    records when the answer came back.
    """

    def __init__(self, pace: Pace, clock: Callable[[], float] = time.monotonic) -> None:
        self._pace = pace
        self._clock = clock
        self._overall = _Window(span=SECOND + MARGIN, capacity=pace.overall_per_second)
        # When the outbox's recent sends were let go (see SMOOTH_BURST).
        self._smooth = SMOOTH_BURST / (max(pace.overall_per_second, 1) * SMOOTH_RATIO)
        self._outbox_let_go: deque[float] = deque(maxlen=SMOOTH_BURST)
        self._groups: dict[ChatKey, _Window] = {}
        # A chat is free again from this moment (`inf` while a message to it is on the way).
        self._chat_free: dict[ChatKey, float] = {}
        self._paused_until = 0.0
        self._waiting: list[_Waiter] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    @contextlib.asynccontextmanager
    async def slot(self, chat: ChatKey | None, *, priority: Priority) -> AsyncIterator[None]:
        """Wait for a slot for one message to `chat` (None: no chat's spacing applies, as for an
        edit), send it inside the block; leaving the block records the answer."""
        await self._acquire(chat, priority)
        try:
            yield
        finally:
            self._release(chat)

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nobody sends until it is over."""
        metrics.TOO_MANY_REQUESTS.inc()
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self._dispatch()

    async def close(self) -> None:
        """Nothing to close: the pacer holds only memory."""

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def _acquire(self, chat: ChatKey | None, priority: Priority) -> None:
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, _Waiter(priority, next(self._seq), chat, granted))
        self._dispatch()
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release(chat)  # granted just as it was cancelled: give the slot back
            else:
                self._waiting = [w for w in self._waiting if w.granted is not granted]
                heapq.heapify(self._waiting)
            raise

    def _release(self, chat: ChatKey | None) -> None:
        now = self._clock()
        self._overall.on_the_way -= 1
        self._overall.answered.append(now)
        if chat is not None:
            self._chat_free[chat] = now + self._pace.per_chat_seconds + MARGIN
            group = self._groups.get(chat)
            if group is not None:
                group.on_the_way -= 1
                group.answered.append(now)
            if len(self._chat_free) > REMEMBERED_CHATS:
                self._forget_chats(now)
        self._dispatch()

    def _dispatch(self) -> None:
        """Let go every waiter that may go now, best first; set a timer for the next one."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        now = self._clock()
        wake = float("inf")  # inf: nothing to wait for but an answer (which dispatches again)
        if self._paused_until > now:
            wake = self._paused_until
        else:
            passed: list[_Waiter] = []
            while self._waiting:
                waiter = heapq.heappop(self._waiting)
                if waiter.granted.done():  # cancelled while waiting
                    continue
                overall_at = self._overall.free_at(now)
                if overall_at > now:  # full: everyone waits, and the best goes first
                    heapq.heappush(self._waiting, waiter)
                    wake = min(wake, overall_at)
                    break
                chat_at = max(self._chat_free_at(waiter.chat, now), self._smooth_at(waiter, now))
                if chat_at > now:  # this one must wait; someone else's message may go
                    passed.append(waiter)
                    wake = min(wake, chat_at)
                    continue
                self._take(waiter.chat)
                if waiter.priority is not Priority.REPLY:
                    self._outbox_let_go.append(now)
                waiter.granted.set_result(None)
            for waiter in passed:
                heapq.heappush(self._waiting, waiter)
        if self._waiting and wake < float("inf"):
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(max(wake - now, 0.0), self._dispatch)

    def _smooth_at(self, waiter: _Waiter, now: float) -> float:
        """When the outbox may send again without a burst (replies are never held by it)."""
        recent = self._outbox_let_go
        if waiter.priority is Priority.REPLY or len(recent) < SMOOTH_BURST:
            return now
        return max(now, recent[0] + self._smooth)

    def _chat_free_at(self, chat: ChatKey | None, now: float) -> float:
        if chat is None:
            return now
        free = max(self._chat_free.get(chat, now), now)
        if is_group(chat):
            window = self._groups.get(chat)
            if window is not None:
                free = max(free, window.free_at(now))
        return free

    def _take(self, chat: ChatKey | None) -> None:
        self._overall.on_the_way += 1
        if chat is None:
            return
        self._chat_free[chat] = float("inf")
        if is_group(chat):
            window = self._groups.setdefault(
                chat, _Window(span=MINUTE + MARGIN, capacity=self._pace.per_group_per_minute)
            )
            window.on_the_way += 1

    def _forget_chats(self, now: float) -> None:
        self._chat_free = {c: t for c, t in self._chat_free.items() if t > now}
        for chat, window in list(self._groups.items()):
            window.forget(now)
            if not window.answered and not window.on_the_way:
                del self._groups[chat]


def is_group(chat: ChatKey) -> bool:
    """Groups and channels have negative ids (or a channel's @username)."""
    return isinstance(chat, str) or chat < 0


class Endpoint(IntEnum):
    MESSAGE = 0  # a new message in a chat: every limit applies
    EDIT = 1  # a change to a message: counts in the overall limit only
    OTHER = 2  # not a message (answering a tap, getMe, setWebhook...): not paced


# Not messages, though their names say send.
_NOT_MESSAGES = frozenset({"sendChatAction"})
_MESSAGES = frozenset({"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"})


def endpoint_kind(endpoint: str) -> Endpoint:
    if endpoint in _MESSAGES or (endpoint.startswith("send") and endpoint not in _NOT_MESSAGES):
        return Endpoint.MESSAGE
    if endpoint.startswith("editMessage"):
        return Endpoint.EDIT
    return Endpoint.OTHER


class LaneRateLimiter(BaseRateLimiter[None]):
    """PTB's hook on every Bot API request (`ApplicationBuilder.rate_limiter`), on our lane."""

    def __init__(self, lane: SendingLane) -> None:
        self.lane = lane
        self.refused = 0  # 429s Telegram answered: should stay 0 while the lane keeps the limits

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """The bot shuts down: the lane records what it still holds and lets go of its
        connections."""
        await self.lane.close()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        kind = endpoint_kind(endpoint)
        if kind is Endpoint.OTHER:
            return await callback(*args, **kwargs)
        chat = _chat_key(data.get("chat_id")) if kind is Endpoint.MESSAGE else None
        priority = PRIORITY.get()
        retries = 0
        while True:
            async with self.lane.slot(chat, priority=priority):
                try:
                    return await callback(*args, **kwargs)
                except RetryAfter as exc:
                    self.refused += 1
                    seconds = retry_after_seconds(exc)
                    self.lane.pause(seconds)
                    # The outbox's engine retries its notices itself (and re-checks its claim).
                    if priority is not Priority.REPLY or retries >= REPLY_RETRIES:
                        raise
                    retries += 1
                    logger.warning(
                        "Telegram asked to wait %.0f s (429) on %s; the reply goes after it",
                        seconds,
                        endpoint,
                    )


def _chat_key(value: object) -> ChatKey | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value  # a channel's @username
    return None


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that retry_after will become a timedelta; both are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: object = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)  # type: ignore[arg-type]
