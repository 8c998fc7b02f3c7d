"""The sign-up rush: volunteers tap Book at a steady rate; how long until the button is answered
and the card shows the booking. The real bot (through the inbox and its drainer), one update at
a time and several chats at once, against a bare PTB bot on the same sandbox in the same run.

    .venv/bin/python -m benchmarks.taps [--rate 20] [--seconds 30]    (or: make bench-taps)

Absolute times on a shared machine are noise; the ratios printed at the end are the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes

from bot.config import Config, CoordinatorsConfig, DatabaseConfig, UpdatesConfig
from bot.harness import Rehearsal
from bot.sandbox import BotApiSandbox, SimUser
from handlers import callbacks
from handlers.volunteer import BookJob
from storage import locations, migrate, people, rota
from storage.db import Database
from storage.rota import JobSpec, SessionPlan

COORDINATOR = 1001
FIRST_VOLUNTEER = 100_000
SETTLE_SECONDS = 10.0  # the measure: still unanswered this long after the load ended


@dataclasses.dataclass
class Result:
    name: str
    acks: list[float]
    unanswered: int

    def p(self, values: list[float], q: int) -> float:
        if not values:
            return float("nan")
        return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0]

    def line(self) -> str:
        return (
            f"{self.name:<24} button answered: p50 {self.p(self.acks, 50):7.1f} ms, "
            f"p95 {self.p(self.acks, 95):7.1f} ms; unanswered {SETTLE_SECONDS:g} s after the "
            f"load: {self.unanswered}"
        )


async def seed(url: str, count: int) -> int:
    """A session a month ahead with a place for everyone, and `count` volunteers."""
    await migrate.upgrade(url)
    db = Database(url)
    now = datetime.now(UTC)
    tz = ZoneInfo("Europe/London")
    try:
        await people.register(
            db,
            telegram_id=COORDINATOR,
            name="Rachel",
            now=now,
            coordinator_ids=frozenset({COORDINATOR}),
        )
        for n in range(count):
            await people.register(
                db,
                telegram_id=FIRST_VOLUNTEER + n,
                name=f"V{n}",
                now=now,
                coordinator_ids=frozenset(),
            )
        place = await locations.create(db, actor_telegram_id=COORDINATOR, name="Hall", now=now)
        day = (now + timedelta(days=30)).astimezone(tz).date()
        plan = SessionPlan(
            location_id=place.location_id,
            first_day=day,
            last_day=day,
            weekdays=frozenset({day.weekday()}),
            start=datetime.min.time().replace(hour=11, minute=30),
            end=datetime.min.time().replace(hour=13, minute=30),
            jobs=(JobSpec(job="server", places=50),),
        )
        await rota.create_sessions(db, actor_telegram_id=COORDINATOR, plan=plan, tz=tz, now=now)
        view = (
            await rota.sessions_on(
                db, actor_telegram_id=COORDINATOR, location_id=place.location_id, day=day, tz=tz
            )
        )[0].session
        return view.jobs[0].job_id
    finally:
        await db.dispose()


async def load(sandbox: BotApiSandbox, users: list[SimUser], data: str, *, rate: float) -> Result:
    """One tap per person, `rate` a second; then wait SETTLE_SECONDS for the stragglers."""
    sent: dict[str, tuple[float, int]] = {}  # callback query id -> (sent at, chat)
    start = time.monotonic()
    for n, user in enumerate(users):
        await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
        update_id = await user.tap_data(data, message_id=user.bot_messages[0].message_id)
        query = sandbox.world.pending[update_id]["callback_query"]["id"]
        sent[query] = (time.monotonic(), user.id)
    await asyncio.sleep(SETTLE_SECONDS)
    acks = []
    for call in sandbox.calls:
        if call.method == "answerCallbackQuery" and call.ok:
            was = sent.pop(str(call.params.get("callback_query_id")), None)
            if was is not None:
                acks.append(call.at - was[0])
    return Result("", acks, unanswered=len(sent))


async def the_bot(url: str, rate: float, seconds: float, concurrency: int) -> Result:
    job_id = await seed(url, int(rate * seconds))
    config = Config(
        database=DatabaseConfig(url=url),
        coordinators=CoordinatorsConfig(telegram_ids=frozenset({COORDINATOR})),
        updates=UpdatesConfig(concurrency=concurrency),
    )
    async with Rehearsal(config) as bot:
        users = [bot.user(FIRST_VOLUNTEER + n, f"V{n}") for n in range(int(rate * seconds))]
        for user in users:
            await user.send("/help")
        bot.sandbox.after_update = None  # from now on the people do not wait for the bot
        result = await load(bot.sandbox, users, callbacks.encode(BookJob(job_id, False)), rate=rate)
    result.name = f"lunchbot, {concurrency} at once"
    return result


async def bare_ptb(rate: float, seconds: float) -> Result:
    """PTB's own polling and a handler that answers the tap and edits the card."""

    async def on_tap(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text("Booked")

    async with BotApiSandbox() as sandbox:
        users = [sandbox.user(FIRST_VOLUNTEER + n, f"V{n}") for n in range(int(rate * seconds))]
        application = ApplicationBuilder().token(sandbox.token).base_url(sandbox.base_url).build()
        application.add_handler(CallbackQueryHandler(on_tap))
        async with application:
            for user in users:
                await application.bot.send_message(user.id, "card")
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=1)
            await application.start()
            try:
                result = await load(sandbox, users, "book", rate=rate)
            finally:
                await application.updater.stop()
                await application.stop()
    result.name = "bare PTB"
    return result


async def main(rate: float, seconds: float) -> None:
    runs: list[tuple[str, Callable[[str], Awaitable[Result]]]] = [
        ("one", lambda url: the_bot(url, rate, seconds, 1)),
        ("eight", lambda url: the_bot(url, rate, seconds, 8)),
    ]
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for name, run in runs:
            results.append(await run(f"sqlite+aiosqlite:///{Path(folder) / name}.sqlite3"))
    results.append(await bare_ptb(rate, seconds))
    print(f"{int(rate * seconds)} Book taps at {rate:g}/s")  # noqa: T201
    for result in results:
        print(result.line())  # noqa: T201
    bare = results[-1]
    for result in results[:-1]:
        ratio = result.p(result.acks, 95) / bare.p(bare.acks, 95)
        print(f"{result.name}: button answered p95 {ratio:.1f}x the bare PTB bot's")  # noqa: T201


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.rate, args.seconds))
