"""The delivery engine: sends what the outbox holds when it is due, and records how it ended.

Every notice ends in one recorded state: sent; blocked (403: the person blocked the bot, who is
then marked inactive); gone (400: no such chat); skipped (no longer true when due); or failed
after MAX_ATTEMPTS. A 429 waits `retry_after` and tries again; network trouble and server
errors retry with a growing delay. A group that became a supergroup is followed to its new id.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from handlers import notices
from handlers.context import BotApplication, Services
from storage import outbox, people
from storage.models import NoticeStatus
from storage.outbox import Outgoing

logger = logging.getLogger(__name__)

BATCH = 50
MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(seconds=10)


class DeliveryEngine:
    def __init__(self, application: BotApplication, services: Services) -> None:
        self._application = application
        self._services = services
        # One sweep at a time in this process: the scheduler's and a test's never interleave.
        self._lock = asyncio.Lock()

    async def sweep(self) -> int:
        """Send every notice due now, batch by batch; returns how many were handled."""
        handled = 0
        async with self._lock:
            while True:
                due = await outbox.claim_due(
                    self._services.db, now=self._services.now(), limit=BATCH
                )
                for notice in due:
                    await self._deliver(notice)
                handled += len(due)
                if len(due) < BATCH:
                    return handled

    async def _deliver(self, notice: Outgoing) -> None:
        db, now = self._services.db, self._services.now()
        try:
            rendered = await notices.render(self._services, notice)
        except Exception:
            logger.exception("could not render notice %s (%s)", notice.notice_id, notice.kind)
            await outbox.finish(
                db, notice.notice_id, NoticeStatus.FAILED, now=now, error="could not render"
            )
            return
        if rendered is None:
            await outbox.finish(db, notice.notice_id, NoticeStatus.SKIPPED, now=now)
            return
        try:
            await self._application.bot.send_message(
                notice.chat_id, rendered.text, reply_markup=rendered.markup
            )
        except Forbidden as exc:
            await outbox.finish(
                db, notice.notice_id, NoticeStatus.BLOCKED, now=now, error=exc.message
            )
            await people.mark_inactive(db, telegram_id=notice.chat_id)
        except ChatMigrated as exc:
            await outbox.move_chat(db, old_chat_id=notice.chat_id, new_chat_id=exc.new_chat_id)
            await outbox.retry_at(db, notice.notice_id, due_at=now, error="chat migrated")
        except RetryAfter as exc:
            await outbox.retry_at(
                db,
                notice.notice_id,
                due_at=now + _seconds(exc.retry_after),
                error="429 too many requests",
            )
        except BadRequest as exc:
            gone = "chat not found" in exc.message.lower()
            await outbox.finish(
                db,
                notice.notice_id,
                NoticeStatus.GONE if gone else NoticeStatus.FAILED,
                now=now,
                error=exc.message,
            )
            if not gone:
                logger.error(
                    "Telegram refused notice %s (%s): %s",
                    notice.notice_id,
                    notice.kind,
                    exc.message,
                )
        except NetworkError as exc:
            if notice.attempts >= MAX_ATTEMPTS:
                await outbox.finish(
                    db, notice.notice_id, NoticeStatus.FAILED, now=now, error=str(exc)
                )
                logger.error(
                    "gave up on notice %s after %s attempts: %s",
                    notice.notice_id,
                    notice.attempts,
                    exc,
                )
            else:
                delay = FIRST_RETRY * 2 ** (notice.attempts - 1)
                await outbox.retry_at(db, notice.notice_id, due_at=now + delay, error=str(exc))
        else:
            await outbox.finish(db, notice.notice_id, NoticeStatus.SENT, now=now)


def _seconds(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    return timedelta(seconds=float(value))  # type: ignore[arg-type]
