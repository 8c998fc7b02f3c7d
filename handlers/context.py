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
from storage.people import Profile
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


@dataclass(frozen=True, kw_only=True)
class KeptProfile:
    """The person as read at the start of an update (None: not registered)."""

    telegram_id: int
    profile: Profile | None


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's context with typed access to the services instead of string keys."""

    # One context serves every handler of one update: the person read before them all
    # (handlers.errors.welcome_back) is handed to the first that asks (handlers.common.acting),
    # instead of being read again.
    _kept: KeptProfile | None = None

    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data[SERVICES_KEY]
        return services

    def keep_profile(self, telegram_id: int, profile: Profile | None) -> None:
        self._kept = KeptProfile(telegram_id=telegram_id, profile=profile)

    def take_profile(self, telegram_id: int) -> KeptProfile | None:
        """The profile kept for this person in this update, once (a handler that changes the
        person and asks again reads it afresh); None when none was kept."""
        kept, self._kept = self._kept, None
        return kept if kept is not None and kept.telegram_id == telegram_id else None


BotApplication = Application[
    ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]
