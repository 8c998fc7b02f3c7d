"""The delivery engine: sends what the outbox holds when it is due, paced under Telegram's
limits, and records how each message ended.

Every notice ends in one recorded state: sent; blocked (403: the person blocked the bot, who is
then marked inactive and sent nothing more); gone (400: no such chat); skipped (no longer true
when due); or failed (refused by Telegram, or still failing after `max_attempts`). A 429 pauses
all sending for `retry_after`, then the same message is tried again; network trouble and server
errors put it back in the queue with a growing delay; a group that became a supergroup is
followed to its new id.

Pacing is the sending lane's (bot/lane.py), shared with the direct replies of handlers: the engine
marks its sends as notices or broadcast copies, which yield to replies. A chat's messages go out
in order; different chats in parallel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta

from telegram import InputFile
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.lane import PRIORITY, Pace, Priority
from handlers import broadcast, notices
from handlers.context import BotApplication, Services
from storage import outbox, people, rota
from storage.models import NoticeStatus
from storage.outbox import Outgoing

logger = logging.getLogger(__name__)

BATCH = 100
PER_CHAT_IN_BATCH = 3
CONCURRENT_SENDS = 8
MAX_RETRY_AFTER_WAITS = 5
FIRST_RETRY = timedelta(seconds=10)

__all__ = ["CONCURRENT_SENDS", "DeliveryEngine", "Pace"]


def instance_name() -> str:
    """This process among the bot's instances: its claims in the outbox carry this name."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class DeliveryEngine:
    def __init__(self, application: BotApplication, services: Services, pace: Pace) -> None:
        self._application = application
        self._services = services
        self._pace = pace
        self.instance = instance_name()
        # Claim only what can go out in a few seconds: a claim is a lease, and a long batch
        # would outlive it. Not much less either: sending pauses while the next batch is claimed.
        self._batch = min(BATCH, pace.overall_per_second * 4)
        self._stopping = False
        # One sweep at a time in this process: the scheduler's and a test's never interleave.
        self._lock = asyncio.Lock()

    def stop(self) -> None:
        """Shutting down (or no longer the instance that sends): finish the sends in flight,
        hand the rest back, claim nothing more until `resume`."""
        self._stopping = True

    def resume(self) -> None:
        """This instance sends again (it has become the one that runs the clock)."""
        self._stopping = False

    async def sweep(self) -> int:
        """Send every notice due now, batch by batch; returns how many were handled."""
        handled = 0
        async with self._lock, self._heartbeat():
            while not self._stopping:
                due = await outbox.claim_due(
                    self._services.db, now=self._services.now(), limit=self._batch, by=self.instance
                )
                await self._send_all(due)
                handled += len(due)
                await self._report_progress()
                if len(due) < self._batch:
                    break
        return handled

    @contextlib.asynccontextmanager
    async def _heartbeat(self) -> AsyncIterator[None]:
        """While a sweep holds claims, renew them every HEARTBEAT: a claim that goes unrenewed
        for CLAIM_TIMEOUT is another instance's to take (this one must have died)."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(outbox.HEARTBEAT.total_seconds())
                try:
                    await outbox.renew(
                        self._services.db, now=self._services.now(), by=self.instance
                    )
                except Exception:
                    logger.exception("cannot renew the outbox's claims (will keep trying)")

        task = asyncio.get_running_loop().create_task(beat(), name="outbox-heartbeat")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _report_progress(self) -> None:
        """Broadcasts' progress messages follow the sweep (and a finished one says so)."""
        if self._stopping:
            return
        token = PRIORITY.set(Priority.NOTICE)  # the coordinator's card yields to replies
        try:
            await broadcast.report_progress(
                self._application.bot, self._services, per_second=self._pace.overall_per_second
            )
        except Exception:
            logger.exception("could not report the progress of broadcasts")
        finally:
            PRIORITY.reset(token)

    async def _send_all(self, due: list[Outgoing]) -> None:
        by_chat: defaultdict[int, list[Outgoing]] = defaultdict(list)
        for notice in due:
            by_chat[notice.chat_id].append(notice)
        # A chat with many messages waits its turn (they are spaced a second apart or more);
        # it must not hold up everyone else's in this batch.
        later = [n.notice_id for queue in by_chat.values() for n in queue[PER_CHAT_IN_BATCH:]]
        await outbox.release(self._services.db, later)
        gate = asyncio.Semaphore(CONCURRENT_SENDS)

        async def one_chat(queue: list[Outgoing]) -> None:
            for index, notice in enumerate(queue):
                if self._stopping:
                    await outbox.release(self._services.db, [n.notice_id for n in queue[index:]])
                    return
                await self._deliver(notice, gate)

        await asyncio.gather(*(one_chat(queue[:PER_CHAT_IN_BATCH]) for queue in by_chat.values()))

    async def _deliver(self, notice: Outgoing, gate: asyncio.Semaphore) -> None:
        db, now = self._services.db, self._services.now()
        if not notice.active:
            await outbox.finish(
                db,
                notice.notice_id,
                NoticeStatus.BLOCKED,
                now=now,
                error="the person has blocked the bot",
            )
            return
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
        if isinstance(rendered, notices.Later):
            await outbox.retry_at(
                db, notice.notice_id, due_at=rendered.due_at, error=rendered.why, attempt=False
            )
            return
        for _ in range(MAX_RETRY_AFTER_WAITS):
            # The gate covers the send and its record, so at most CONCURRENT_SENDS messages are
            # ever sent but not yet recorded: all that a crash could make us send again. The
            # lane's slot is taken inside it (in the send), so the pacer counts a send when it
            # really leaves.
            async with gate:
                if not await outbox.still_ours(
                    db, notice, now=self._services.now(), by=self.instance
                ):
                    logger.warning("notice %s was taken over by another instance", notice.notice_id)
                    return
                try:
                    await self._send(notice, rendered)
                except RetryAfter:
                    continue  # the lane waits out the pause for everyone before the next try
                except TelegramError as exc:
                    await self._failed(notice, exc)
                    return
                except Exception:
                    logger.exception("sending notice %s (%s) failed", notice.notice_id, notice.kind)
                    await outbox.finish(
                        db,
                        notice.notice_id,
                        NoticeStatus.FAILED,
                        now=self._services.now(),
                        error="internal error",
                    )
                    return
                await outbox.finish(
                    db, notice.notice_id, NoticeStatus.SENT, now=self._services.now()
                )
                return
        await outbox.retry_at(
            db,
            notice.notice_id,
            due_at=now + FIRST_RETRY,
            error="429 too many requests, again and again",
        )

    async def _send(self, notice: Outgoing, rendered: notices.Rendered) -> None:
        bot, chat_id = self._application.bot, notice.chat_id
        # Direct replies go before notices, and notices before a broadcast's copies.
        token = PRIORITY.set(Priority.BROADCAST if notice.batched else Priority.NOTICE)
        try:
            if rendered.edit_message_id is not None:
                await bot.edit_message_text(
                    rendered.text, chat_id=chat_id, message_id=rendered.edit_message_id
                )
            elif rendered.document is not None:
                await bot.send_document(
                    chat_id,
                    InputFile(rendered.document.data, filename=rendered.document.filename),
                    caption=rendered.text,
                    reply_markup=rendered.markup,
                )
            elif rendered.photo is None:
                await bot.send_message(chat_id, rendered.text, reply_markup=rendered.markup)
            else:
                await bot.send_photo(
                    chat_id, rendered.photo, caption=rendered.text, reply_markup=rendered.markup
                )
        finally:
            PRIORITY.reset(token)

    async def _failed(self, notice: Outgoing, exc: TelegramError) -> None:
        db, now = self._services.db, self._services.now()
        if isinstance(exc, Forbidden):
            await outbox.finish(
                db, notice.notice_id, NoticeStatus.BLOCKED, now=now, error=exc.message
            )
            await people.mark_inactive(db, telegram_id=notice.chat_id)
            _chat_lost(notice, exc)
            if notice.kind == "offer":  # they cannot answer: the place goes to the next
                await rota.pass_on(
                    db,
                    booking_id=int(notice.payload["booking_id"]),
                    now=now,
                    offer_window=self._services.settings.offer_window,
                )
        elif isinstance(exc, ChatMigrated):
            await outbox.move_chat(db, old_chat_id=notice.chat_id, new_chat_id=exc.new_chat_id)
            await outbox.retry_at(db, notice.notice_id, due_at=now, error="chat migrated")
        elif isinstance(exc, BadRequest) and "edit_message_id" in notice.payload:
            # An earlier message that cannot be edited (deleted, or too old to): nothing to do.
            await outbox.finish(
                db, notice.notice_id, NoticeStatus.SKIPPED, now=now, error=exc.message
            )
        elif isinstance(exc, BadRequest):
            gone = "chat not found" in exc.message.lower()
            await outbox.finish(
                db,
                notice.notice_id,
                NoticeStatus.GONE if gone else NoticeStatus.FAILED,
                now=now,
                error=exc.message,
            )
            if gone:
                _chat_lost(notice, exc)
            else:
                logger.error(
                    "Telegram refused notice %s (%s): %s",
                    notice.notice_id,
                    notice.kind,
                    exc.message,
                )
        elif isinstance(exc, NetworkError) and notice.attempts < self._pace.max_attempts:
            delay = FIRST_RETRY * 2 ** (notice.attempts - 1)
            await outbox.retry_at(db, notice.notice_id, due_at=now + delay, error=str(exc))
        else:
            await outbox.finish(db, notice.notice_id, NoticeStatus.FAILED, now=now, error=str(exc))
            logger.error(
                "gave up on notice %s (%s) after %s attempts: %s",
                notice.notice_id,
                notice.kind,
                notice.attempts,
                exc,
            )


def _chat_lost(notice: Outgoing, exc: TelegramError) -> None:
    """A celebration chat (a group or channel, nobody's own chat) the bot cannot post in any
    more needs someone to act: it is logged for them, once for each notice lost."""
    if notice.person_id is None:
        logger.warning(
            "cannot post in chat %s (%s): %s; add the bot back, or remove the chat from "
            "celebrations.chats in the config",
            notice.chat_id,
            notice.kind,
            exc.message,
        )
