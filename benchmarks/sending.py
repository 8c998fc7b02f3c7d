"""Sending under Telegram's strict limits, on the project's Bot API sandbox.

(a) A broadcast to N people: the bot (outbox, delivery engine, one sending lane) against PTB's own
    AIORateLimiter sending N messages on the same sandbox, and against the floor N/30 s.
(b) While that broadcast runs, people write to the bot a few times a second: how fast their
    answers come (p95), how many are lost, how many are refused with 429; the same for the bare
    PTB bot with AIORateLimiter answering them during its own N sends.
(c) M reminders due in one minute: the bot against the floor M/30 s (and AIORateLimiter's M).

The sandbox refuses with 429 what goes over 30 messages a second in all, one a second to one
person, 20 a minute to a group; every 429 is counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from telegram import Update
from telegram.ext import AIORateLimiter, ApplicationBuilder, CommandHandler, ContextTypes

from bot.config import Config, CoordinatorsConfig, DatabaseConfig, ProgrammeConfig
from bot.harness import Clock, Rehearsal
from bot.runtime import drainer_of
from bot.sandbox import ApiCall, BotApiSandbox, RateLimits, SimUser
from storage import locations, outbox, people, rota
from storage.models import NoticeStatus
from storage.rota import JobSpec, SessionPlan

TELEGRAM = RateLimits(overall_per_second=30, per_chat_per_second=1, per_group_per_minute=20)
TELEGRAM_RATE = 30
COORDINATOR = 1001
FIRST_PERSON = 100_000
HEADING = "📣 Holiday Lunch Club"
WORDS = "Lunch is on at noon tomorrow, and we need drivers!"
SETTLE_SECONDS = 30.0  # how long answers may still come after the sends are over
POLL_STEP = 0.05
IDLE_WRITERS = 40

logger = logging.getLogger(__name__)


@dataclass
class Sending:
    """What one run sent, as the sandbox saw it."""

    label: str
    messages: int
    seconds: float
    refused_429: int
    reply_latencies: list[float] = field(default_factory=list)
    writers: int = 0
    replies_lost: int = 0
    replies_refused_429: int = 0

    @property
    def floor(self) -> float:
        return self.messages / TELEGRAM_RATE

    @property
    def p95(self) -> float:
        return percentile(self.reply_latencies, 0.95)

    @property
    def p50(self) -> float:
        return percentile(self.reply_latencies, 0.50)


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def bench_config(url: str) -> Config:
    return Config(
        database=DatabaseConfig(url=url),
        programme=ProgrammeConfig(name="Holiday Lunch Club"),
        coordinators=CoordinatorsConfig(telegram_ids=frozenset({COORDINATOR})),
    )


def _sqlite(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"


def is_copy(call: ApiCall) -> bool:
    """One copy of the broadcast (the coordinator's preview and card are not sent this way)."""
    return call.method == "sendMessage" and WORDS in str(call.params.get("text", ""))


class Writers:
    """People who write /help to the bot at `per_second`, one after another, until stopped."""

    def __init__(self, users: list[SimUser], per_second: float) -> None:
        self._users = users
        self._gap = 1 / per_second
        self.sent_at: dict[int, float] = {}
        self._stop = asyncio.Event()

    async def run(self) -> None:
        for user in self._users:
            if self._stop.is_set():
                return
            self.sent_at[user.id] = time.monotonic()
            await user.send("/help")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._gap)

    def stop(self) -> None:
        self._stop.set()

    def answered(self, calls: list[ApiCall]) -> dict[int, float]:
        """Each writer's first answer: how long after they wrote it reached the sandbox."""
        latencies: dict[int, float] = {}
        for call in calls:
            chat = call.chat_id
            if (
                call.method == "sendMessage"
                and call.ok
                and chat in self.sent_at
                and chat not in latencies
                and not is_copy(call)
                and call.at >= self.sent_at[chat]
            ):
                latencies[chat] = call.at - self.sent_at[chat]
        return latencies

    def refused(self, calls: list[ApiCall]) -> int:
        return sum(
            1 for c in calls if c.error_code == 429 and c.chat_id in self.sent_at and not is_copy(c)
        )

    async def wait_answered(self, calls: Callable[[], list[ApiCall]]) -> None:
        # The sandbox keeps a record, not events: it is read again every POLL_STEP.
        for _ in range(int(SETTLE_SECONDS / POLL_STEP)):
            if len(self.answered(calls())) == len(self.sent_at):
                return
            await asyncio.sleep(POLL_STEP)


def chosen(sandbox_users: list[SimUser], count: int) -> list[SimUser]:
    """The same people each run (a seeded choice, not a secret)."""
    seeded = random.Random(11)  # noqa: S311
    return seeded.sample(sandbox_users, min(count, len(sandbox_users)))


def _writers(sandbox_users: list[SimUser], count: int, per_second: float) -> Writers:
    return Writers(chosen(sandbox_users, count), per_second)


async def register(bot: Rehearsal, count: int) -> list[SimUser]:
    db, now = bot.services.db, bot.services.now()
    users = []
    for telegram_id in range(FIRST_PERSON, FIRST_PERSON + count):
        await people.register(
            db,
            telegram_id=telegram_id,
            name=f"Volunteer {telegram_id}",
            now=now,
            coordinator_ids=frozenset({COORDINATOR}),
        )
        users.append(bot.user(telegram_id, f"Volunteer {telegram_id}"))
    return users


async def drain(bot: Rehearsal) -> None:
    """What the scheduled sweeps would do: send what is due until nothing is left."""
    while True:
        await bot.deliver()
        counts = await outbox.counts(bot.services.db)
        if not counts.get(NoticeStatus.PENDING) and not counts.get(NoticeStatus.SENDING):
            return


async def our_broadcast(recipients: int, writers_per_second: float) -> Sending:
    """(a) and (b) for the bot: a coordinator broadcasts through Telegram while people write."""
    with tempfile.TemporaryDirectory() as folder:
        async with Rehearsal(
            bench_config(_sqlite(Path(folder))), clock=Clock(), limits=TELEGRAM
        ) as bot:
            coordinator = bot.user(COORDINATOR, "Rachel")
            await coordinator.send("/start")
            await coordinator.tap("✅ I agree")
            audience = await register(bot, recipients)
            await coordinator.send("/broadcast")
            await coordinator.tap("All volunteers")
            await coordinator.send(WORDS)
            label = f"📣 Send to {recipients:,} people"
            assert label in coordinator.last.labels(), coordinator.last.labels()

            # From here on the bot is driven as in production: updates as they come, and the
            # outbox swept (by the clock's job, here by _drain) while people write.
            bot.sandbox.after_update = None
            before = len(bot.sandbox.calls)
            await coordinator.tap(label)
            await bot.sandbox.wait_confirmed()  # the tap is stored in the inbox
            await drainer_of(bot.application).join()  # the tap handled: its copies queued
            started = time.monotonic()
            writers = _writers(audience, math.ceil(recipients / 10), writers_per_second)
            writing = asyncio.create_task(writers.run())
            await drain(bot)
            writers.stop()
            await writing
            await writers.wait_answered(lambda: bot.sandbox.calls)
            calls = bot.sandbox.calls[before:]
            return _sending("bot (one lane)", calls, started, writers)


def _sending(label: str, calls: list[ApiCall], started: float, writers: Writers) -> Sending:
    copies = [c for c in calls if c.method == "sendMessage" and c.ok and is_copy(c)]
    latencies = writers.answered(calls)
    return Sending(
        label=label,
        messages=len(copies),
        seconds=max((c.at for c in copies), default=started) - started,
        refused_429=sum(1 for c in calls if c.error_code == 429 and is_copy(c)),
        reply_latencies=list(latencies.values()),
        writers=len(writers.sent_at),
        replies_lost=len(writers.sent_at) - len(latencies),
        replies_refused_429=writers.refused(calls),
    )


HELP_TEXT = "Here is what I can do: /sessions, /mysessions, /profile."


async def _bare_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(HELP_TEXT)


async def ptb_broadcast(
    recipients: int, writers_per_second: float, *, broadcast: bool = True
) -> Sending:
    """The anchor: a bare PTB bot with AIORateLimiter sends `recipients` messages at once (as its
    documentation suggests) while answering the same people writing /help."""
    sandbox = BotApiSandbox(limits=TELEGRAM)
    await sandbox.start()
    try:
        application = (
            ApplicationBuilder()
            .token(sandbox.token)
            .base_url(sandbox.base_url)
            # Retries, so that a 429 does not simply lose the message.
            .rate_limiter(AIORateLimiter(max_retries=5))
            .build()
        )
        application.add_handler(CommandHandler("help", _bare_help))
        users = [
            sandbox.user(telegram_id, f"Volunteer {telegram_id}")
            for telegram_id in range(FIRST_PERSON, FIRST_PERSON + recipients)
        ]
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=1)
            text = f"{HEADING}\n\n{WORDS}"
            started = time.monotonic()
            writers = _writers(users, math.ceil(recipients / 10), writers_per_second)
            writing = asyncio.create_task(writers.run())
            if broadcast:
                await asyncio.gather(
                    *(application.bot.send_message(user.id, text) for user in users),
                    return_exceptions=True,
                )
                writers.stop()
            await writing
            await writers.wait_answered(lambda: sandbox.calls)
            await application.updater.stop()
            await application.stop()
        return _sending("PTB AIORateLimiter", sandbox.calls, started, writers)
    finally:
        await sandbox.stop()


async def ptb_idle_replies(writers: int, writers_per_second: float) -> Sending:
    """The anchor for answers: the bare PTB bot answering people writing, with nothing else to
    send (what an answer costs on this machine and sandbox, with no broadcast in the way)."""
    return await ptb_broadcast(writers * 10, writers_per_second, broadcast=False)


async def our_reminders(count: int) -> Sending:
    """(c) `count` volunteers booked for sessions tomorrow: their reminders fall due together."""
    places = 50
    start = datetime(2026, 7, 28, 10, 30, tzinfo=UTC)  # 11:30 in London
    clock = Clock(start - timedelta(days=2))
    with tempfile.TemporaryDirectory() as folder:
        async with Rehearsal(
            bench_config(_sqlite(Path(folder))), clock=clock, limits=TELEGRAM
        ) as bot:
            db = bot.services.db
            coordinator = bot.user(COORDINATOR, "Rachel")
            await coordinator.send("/start")
            await coordinator.tap("✅ I agree")
            await register(bot, count)
            tz = bot.services.settings.timezone
            for index in range(math.ceil(count / places)):
                location = await locations.create(
                    db, actor_telegram_id=COORDINATOR, name=f"Club {index}", now=clock.now
                )
                plan = SessionPlan(
                    location_id=location.location_id,
                    first_day=date(2026, 7, 28),
                    last_day=date(2026, 7, 28),
                    weekdays=frozenset({1}),
                    start=clock_time(11, 30),
                    end=clock_time(13, 30),
                    jobs=(JobSpec(job="server", places=places),),
                )
                await rota.create_sessions(
                    db, actor_telegram_id=COORDINATOR, plan=plan, tz=tz, now=clock.now
                )
            sessions = await rota.coverage(db, actor_telegram_id=COORDINATOR, now=clock.now, days=7)
            jobs = [view.jobs[0].job_id for view in sessions]
            for offset in range(count):
                await rota.book(
                    db,
                    telegram_id=FIRST_PERSON + offset,
                    job_id=jobs[offset // places],
                    now=clock.now,
                    waitlist=False,
                )
            logger.info("booked %s volunteers", count)
            await drain(bot)  # booking confirmations and the like: not part of the figure
            bot.sandbox.after_update = None
            clock.now = start - timedelta(hours=24)  # the first reminder of each is due now
            before = len(bot.sandbox.calls)
            started = time.monotonic()
            await drain(bot)
            calls = bot.sandbox.calls[before:]
            sends = [c for c in calls if c.method == "sendMessage" and c.ok]
            return Sending(
                label="bot (one lane)",
                messages=len(sends),
                seconds=max(c.at for c in sends) - started,
                refused_429=sum(1 for c in calls if c.error_code == 429),
            )


async def ptb_broadcast_quiet(count: int) -> Sending:
    """The anchor for (c): AIORateLimiter sending `count` messages, nobody writing."""
    result = await ptb_broadcast(count, writers_per_second=1e-6)
    result.reply_latencies, result.writers, result.replies_lost = [], 0, 0
    return result


def ratio(value: float, anchor: float) -> str:
    if not anchor or math.isnan(value) or math.isnan(anchor):
        return "n/a"
    share = value / anchor
    return f"{share:.2f}x" if share >= 0.1 else f"1/{anchor / value:.0f}"


def _replies(label: str, run: Sending) -> str:
    return (
        f"| {label} | {run.writers} | {run.p50 * 1000:.0f} ms | {run.p95 * 1000:.0f} ms | "
        f"{run.replies_lost} | {run.replies_refused_429} |"
    )


def report(
    ours: Sending,
    anchor: Sending,
    idle: Sending,
    reminders: Sending | None,
    anchor_reminders: Sending | None,
) -> str:
    lines = [
        f"## Sending under Telegram's strict limits ({TELEGRAM_RATE}/s in all, 1/s per person)",
        "",
        f"(a) Broadcast to {ours.messages} people, people writing to the bot meanwhile",
        "",
        "| | time | 429s | vs floor N/30 | vs AIORateLimiter |",
        "|---|---|---|---|---|",
        f"| bot (one lane) | {ours.seconds:.1f} s | {ours.refused_429} | "
        f"{ratio(ours.seconds, ours.floor)} | {ratio(ours.seconds, anchor.seconds)} |",
        f"| PTB AIORateLimiter | {anchor.seconds:.1f} s | {anchor.refused_429} | "
        f"{ratio(anchor.seconds, anchor.floor)} | 1.00x |",
        f"| floor N/30 | {ours.floor:.1f} s | | 1.00x | |",
        "",
        f"Floor counting the replies too ((N + replies)/30): "
        f"{(ours.messages + ours.writers) / TELEGRAM_RATE:.1f} s; the bot is at "
        f"{ratio(ours.seconds, (ours.messages + ours.writers) / TELEGRAM_RATE)} of it.",
        "",
        "(b) Direct replies while it runs",
        "",
        "| | people who wrote | p50 answer | p95 answer | lost | 429s on replies |",
        "|---|---|---|---|---|---|",
        _replies("bot (one lane), during its broadcast", ours),
        _replies("PTB AIORateLimiter, during its broadcast", anchor),
        _replies("bare PTB bot, nothing else to send", idle),
        "",
        f"p95 answer: bot during its broadcast / PTB during its broadcast "
        f"{ratio(ours.p95, anchor.p95)}; / bare PTB bot with nothing to send "
        f"{ratio(ours.p95, idle.p95)}.",
    ]
    if reminders is not None:
        lines += [
            "",
            f"(c) {reminders.messages} reminders due in one minute",
            "",
            "| | time | 429s | vs floor M/30 | vs AIORateLimiter |",
            "|---|---|---|---|---|",
            f"| bot (one lane) | {reminders.seconds:.1f} s | {reminders.refused_429} | "
            f"{ratio(reminders.seconds, reminders.floor)} | "
            + (
                ratio(reminders.seconds, anchor_reminders.seconds)
                if anchor_reminders is not None
                else "not run"
            )
            + " |",
        ]
        if anchor_reminders is not None:
            lines.append(
                f"| PTB AIORateLimiter | {anchor_reminders.seconds:.1f} s | "
                f"{anchor_reminders.refused_429} | "
                f"{ratio(anchor_reminders.seconds, anchor_reminders.floor)} | 1.00x |"
            )
        lines.append(f"| floor M/30 | {reminders.floor:.1f} s | | 1.00x | |")
    return "\n".join(lines)


async def run(
    *,
    recipients: int,
    reminders: int,
    writers_per_second: float,
    anchor_reminders: bool,
    progress: Callable[[str], None] = print,
) -> str:
    progress(f"(a, b) the bot broadcasts to {recipients} people …")
    ours = await our_broadcast(recipients, writers_per_second)
    progress(f"        {ours.seconds:.1f} s, {ours.refused_429} 429s")
    progress(f"(a, b) PTB's AIORateLimiter sends {recipients} messages …")
    anchor = await ptb_broadcast(recipients, writers_per_second)
    progress(f"        {anchor.seconds:.1f} s, {anchor.refused_429} 429s")
    progress("(b) the bare PTB bot answers people writing, with nothing else to send …")
    idle = await ptb_idle_replies(IDLE_WRITERS, writers_per_second)
    progress(f"        p95 {idle.p95 * 1000:.0f} ms")
    due = anchor_due = None
    if reminders:
        progress(f"(c) {reminders} reminders due together …")
        due = await our_reminders(reminders)
        progress(f"        {due.seconds:.1f} s, {due.refused_429} 429s")
        if anchor_reminders:
            progress(f"(c) PTB's AIORateLimiter sends {reminders} messages …")
            anchor_due = await ptb_broadcast_quiet(reminders)
    return report(ours, anchor, idle, due, anchor_due)
