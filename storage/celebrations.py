"""Celebrations: milestones crossed and the weekly digest, planned into the outbox.

Like reminders, they are planned by the clock every minute from what the database holds, and
each becomes a notice with a dedupe key: a milestone is celebrated once ever, a digest once per
period, however often the planner runs and across restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, kw_only=True)
class CelebrationPolicy:
    # Groups or channels (their chat ids) where approved wins, milestones and digests appear.
    chats: tuple[int, ...] = ()
    digest_weekday: int = 4  # Monday is 0: Friday
    digest_at: time = time(16, 0)
    meals: tuple[int, ...] = (100, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000)
    children: tuple[int, ...] = (100, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000)
    shifts: tuple[int, ...] = (50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000)
    personal: tuple[int, ...] = (1, 10, 25, 50, 100, 250)
