"""What every handler can reach: the database, the settings, and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackContext, ExtBot

from storage.celebrations import CelebrationPolicy
from storage.crypto import Cipher
from storage.db import Database
from storage.rota import JobSpec
from storage.schedule import OfferWindow, Policy

SERVICES_KEY = "services"


@dataclass(frozen=True, kw_only=True)
class Settings:
    programme_name: str
    timezone: ZoneInfo
    coordinator_ids: frozenset[int]
    invite_valid_for: timedelta
    offer_hold: timedelta  # how long a freed place is held for the first on the waitlist
    jobs: tuple[JobSpec, ...]  # the default jobs of a new session, from config
    schedule: Policy  # reminders, quiet hours and alerts
    referral_retention: timedelta = timedelta(days=60)
    referral_daily_limit: int = 10
    # Celebration chats, the digest's time, milestone thresholds.
    celebrations: CelebrationPolicy = field(default_factory=CelebrationPolicy)
    # A broadcast's progress message is edited at most this often.
    broadcast_progress_every: timedelta = timedelta(seconds=5)

    @property
    def late_window(self) -> timedelta:
        return self.schedule.late_window

    @property
    def offer_window(self) -> OfferWindow:
        """The hold, in waking hours: the quiet hours are the schedule's."""
        return OfferWindow(length=self.offer_hold, quiet=self.schedule)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class Services:
    db: Database
    settings: Settings
    # Injected so that tests can move time forward (an invite's expiry, a reminder's due time).
    clock: Callable[[], datetime] = utc_now
    # None when no encryption key is configured: referrals are then switched off.
    cipher: Cipher | None = None

    def now(self) -> datetime:
        return self.clock()


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's context with typed access to the services instead of string keys."""

    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data[SERVICES_KEY]
        return services


BotApplication = Application[
    ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]
