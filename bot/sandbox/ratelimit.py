"""Telegram's flood control on sends, as sliding windows over the sends that went through."""

from __future__ import annotations

import math
from collections import deque

from bot.sandbox.models import RateLimits

SECOND = 1.0
MINUTE = 60.0


def _window(rate: float, base_span: float) -> tuple[int, float]:
    """How many sends fit in how long, for ``rate`` sends per ``base_span`` seconds.

    A rate below one per window widens the window instead (0.5/s is one send per two seconds).
    """
    capacity = math.floor(rate)
    if capacity >= 1:
        return capacity, base_span
    return 1, base_span / rate


def _retry_after(history: deque[float], rate: float | None, base_span: float, now: float) -> int:
    """Seconds until one more send fits; 0 when it fits now."""
    if rate is None:
        return 0
    if rate <= 0:
        return math.ceil(base_span)
    capacity, span = _window(rate, base_span)
    # Walk back from the newest send: the capacity-th newest one still in the window must leave
    # it before another send fits.
    for counted, at in enumerate(reversed(history), start=1):
        if at <= now - span:
            return 0
        if counted == capacity:
            return max(1, math.ceil(at + span - now))
    return 0


class FloodControl:
    """Remembers recent sends overall, per chat and per group, and says when a send must wait."""

    def __init__(self) -> None:
        self._overall: deque[float] = deque()
        self._per_chat: dict[int, deque[float]] = {}
        self._per_group: dict[int, deque[float]] = {}

    def retry_after(self, limits: RateLimits, chat_id: int, is_group: bool, now: float) -> int:
        """0 when a send to ``chat_id`` may go now, else whole seconds to wait (at least 1)."""
        waits = [
            _retry_after(self._overall, limits.overall_per_second, SECOND, now),
            _retry_after(
                self._per_chat.get(chat_id, deque()), limits.per_chat_per_second, SECOND, now
            ),
        ]
        if is_group:
            waits.append(
                _retry_after(
                    self._per_group.get(chat_id, deque()),
                    limits.per_group_per_minute,
                    MINUTE,
                    now,
                )
            )
        return max(waits)

    def record(self, limits: RateLimits, chat_id: int, is_group: bool, now: float) -> None:
        keep = self._memory(limits)
        self._add(self._overall, now, keep)
        self._add(self._per_chat.setdefault(chat_id, deque()), now, keep)
        if is_group:
            self._add(self._per_group.setdefault(chat_id, deque()), now, keep)
        if len(self._per_chat) > len(self._overall):
            self._forget_idle(now - keep)

    def move_chat(self, old_id: int, new_id: int) -> None:
        for table in (self._per_chat, self._per_group):
            if old_id in table:
                table[new_id] = table.pop(old_id)

    @staticmethod
    def _memory(limits: RateLimits) -> float:
        """How far back sends matter: a minute, or longer when a slow rate widens a window."""
        spans = [MINUTE]
        for rate, base in (
            (limits.overall_per_second, SECOND),
            (limits.per_chat_per_second, SECOND),
            (limits.per_group_per_minute, MINUTE),
        ):
            if rate is not None and rate > 0:
                spans.append(_window(rate, base)[1])
        return max(spans)

    @staticmethod
    def _add(history: deque[float], now: float, keep: float) -> None:
        history.append(now)
        while history and history[0] <= now - keep:
            history.popleft()

    def _forget_idle(self, horizon: float) -> None:
        for table in (self._per_chat, self._per_group):
            idle = [chat_id for chat_id, history in table.items() if history[-1] <= horizon]
            for chat_id in idle:
                del table[chat_id]
