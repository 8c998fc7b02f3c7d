"""The sign-up rush, measured: volunteers tap "Book" at a steady rate, and each tap is timed from
the moment it reaches the Bot API sandbox to the bot's answer (the callback answer, and the card
edited to show the booking).

    python -m benchmarks.taps                 # 20 taps a second for 60 s, then the ramp
    python -m benchmarks.taps --seconds 10    # a shorter run
    python -m benchmarks.taps --postgres postgresql://postgres@127.0.0.1:5432/postgres

The real bot (the whole Application, with its database, in this process) and a bare PTB bot (an
Application with one CallbackQueryHandler that answers and edits) take the same taps from the
same sandbox in the same run, in 10 s slices taken in turn: absolute times on a shared machine
are noise, their ratio is not.
A ramp then doubles the rate, in short steps, until the 95th percentile passes one second (in
two tries): the highest steady rate each bot keeps up with.

Every tap books a real place: 100 volunteers take turns, each booking the next session in turn
(the first 50 as servers, the others as cooks, 50 places each), so a volunteer's bookings grow
through the run as they would in a rush.

Every tap edits the volunteer's card, and Telegram allows about 30 messages a second in all: the
bot's sending lane counts edits in that limit, as PTB's own AIORateLimiter does, so a paced bot
answers at most about 30 taps a second however fast it is. The ramp therefore also runs PTB with
AIORateLimiter (the same limit kept by PTB), and the bot with its lane's overall limit lifted
("unpaced": what the machine allows, against the bare bot).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select
from telegram import Bot, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
)

from bot.config import (
    DEFAULT_OVERALL_PER_SECOND,
    Config,
    CoordinatorsConfig,
    DatabaseConfig,
    DeliveryConfig,
    ProgrammeConfig,
    ReferralsConfig,
)
from bot.harness import HARNESS_POLL_TIMEOUT, Clock, Rehearsal
from bot.sandbox import BotApiSandbox, SimUser
from handlers import callbacks
from handlers.volunteer import BookJob
from storage import locations, migrate, people, rota
from storage.crypto import new_key
from storage.db import Database
from storage.models import Booking, BookingStatus
from storage.rota import MAX_PLACES_PER_JOB, JobSpec, SessionPlan

POSTGRES_ENV = ("LUNCHBOT_BENCH_POSTGRES_URL", "LUNCHBOT_TEST_POSTGRES_URL")
COORDINATOR = 1001
FIRST_VOLUNTEER = 20_000
VOLUNTEERS = 2 * MAX_PLACES_PER_JOB  # half servers, half cooks: every tap books a place
JOBS = (
    JobSpec(job="server", places=MAX_PLACES_PER_JOB),
    JobSpec(job="cook", places=MAX_PLACES_PER_JOB),
)
FIRST_DAY = date(2026, 7, 6)  # a Monday after the rehearsal clock's 1 July
SESSIONS = 400  # weekdays from FIRST_DAY: 40,000 bookable places, more than any run takes
DRAIN_SECONDS = 10.0  # a tap still unanswered this long after the load ended is "behind"
TARGET_P95 = 1.0  # the ramp's bar: the highest rate whose 95th percentile stays under this
RAMP_START = 10.0
RAMP_TRIES = 2
SLICE_SECONDS = 10.0
POLL_SECONDS = 0.05
UNPACED_PER_SECOND = 1000  # the lane's overall limit lifted: the configuration's highest


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# --- timing taps -----------------------------------------------------------------------------


@dataclass
class Tap:
    chat_id: int
    query_id: str
    at: float


@dataclass(frozen=True)
class Figures:
    """One run at one rate: what the person waited, in seconds."""

    taps: int
    rate: float  # achieved
    answer: list[float]  # tap -> callback answer
    card: list[float]  # tap -> edited card
    behind: int  # not answered DRAIN_SECONDS after the load ended

    def p(self, which: list[float], q: float) -> float:
        """The q-th quantile, counting the taps still unanswered as waiting for ever."""
        ordered = sorted(which) + [math.inf] * self.behind
        if not ordered:
            return math.inf
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]

    @property
    def p95(self) -> float:
        """The slower of the two: the tap is done when the person sees both."""
        return max(self.p(self.answer, 0.95), self.p(self.card, 0.95))


class Load:
    """Taps from simulated volunteers into one sandbox, and their answers read back from the
    sandbox's record of the bot's calls."""

    def __init__(self, sandbox: BotApiSandbox, users: list[SimUser], data: Callable[[int], str]):
        self.sandbox = sandbox
        self.users = users
        self.data = data  # the callback data of the n-th tap
        self.sent = 0
        self.messages: dict[int, int] = {}  # chat -> the message whose button is tapped

    async def run(self, rate: float, seconds: float) -> Figures:
        taps: list[Tap] = []
        first_call = len(self.sandbox.calls)
        count = max(1, round(rate * seconds))
        start = time.monotonic()
        for k in range(count):
            delay = start + k / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            taps.append(await self._tap())
        ended = time.monotonic()
        achieved = count / max(ended - start, 1e-9) if count > 1 else rate
        for _ in range(round(DRAIN_SECONDS / POLL_SECONDS)):
            if self._all_answered(taps, first_call):
                break
            await asyncio.sleep(POLL_SECONDS)
        return self._figures(taps, first_call, achieved)

    async def settle(self) -> None:
        """Let a backlog from an overloaded step finish before the next step starts."""
        for _ in range(600):
            if not self.sandbox.pending_updates:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)

    async def _tap(self) -> Tap:
        n = self.sent
        self.sent += 1
        user = self.users[n % len(self.users)]
        # The sandbox numbers queries from this counter; the answer names the query.
        query_id = f"{user.id}{self.sandbox.world.next_query_id:06d}"
        await user.tap_data(self.data(n), message_id=self.messages[user.id])
        return Tap(chat_id=user.id, query_id=query_id, at=time.monotonic())

    def _calls(self, first_call: int) -> tuple[dict[str, float], dict[int, list[float]]]:
        answers: dict[str, float] = {}
        edits: dict[int, list[float]] = defaultdict(list)
        for call in self.sandbox.calls[first_call:]:
            if call.method == "answerCallbackQuery":
                answers.setdefault(str(call.params.get("callback_query_id")), call.at)
            elif call.method == "editMessageText" and call.chat_id is not None:
                edits[call.chat_id].append(call.at)
        return answers, edits

    def _all_answered(self, taps: list[Tap], first_call: int) -> bool:
        answers, edits = self._calls(first_call)
        return len(answers) >= len(taps) and sum(map(len, edits.values())) >= len(taps)

    def _figures(self, taps: list[Tap], first_call: int, rate: float) -> Figures:
        answers, edits = self._calls(first_call)
        answer, card, behind = [], [], 0
        per_chat: dict[int, list[Tap]] = defaultdict(list)
        for tap in taps:
            per_chat[tap.chat_id].append(tap)
        for chat_id, chat_taps in per_chat.items():
            # Each chat's updates are handled in order: its n-th edit answers its n-th tap.
            chat_edits = sorted(edits.get(chat_id, []))
            for n, tap in enumerate(chat_taps):
                answered = answers.get(tap.query_id)
                if answered is None or n >= len(chat_edits):
                    behind += 1
                    continue
                answer.append(max(0.0, answered - tap.at))
                card.append(max(0.0, chat_edits[n] - tap.at))
        return Figures(taps=len(taps), rate=rate, answer=answer, card=card, behind=behind)


# --- the bots --------------------------------------------------------------------------------


async def _bare_answer(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    if query.message is not None:
        await query.edit_message_text(f"Booked ({query.id})")


@contextlib.asynccontextmanager
async def bare_bot(*, limiter: bool = False) -> AsyncIterator[BotApiSandbox]:
    """The anchor: PTB with nothing of ours, polling its own sandbox the way the bot does
    (`limiter`: with PTB's own AIORateLimiter, which keeps Telegram's 30 a second)."""
    async with BotApiSandbox() as sandbox:
        builder = (
            ApplicationBuilder()
            .token(sandbox.token)
            .base_url(sandbox.base_url)
            .base_file_url(sandbox.base_file_url)
        )
        if limiter:
            builder = builder.rate_limiter(AIORateLimiter())
        application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        application.add_handler(CallbackQueryHandler(_bare_answer))
        async with application:
            updater = application.updater
            assert updater is not None
            await updater.start_polling(poll_interval=0.0, timeout=HARNESS_POLL_TIMEOUT)
            await application.start()
            try:
                yield sandbox
            finally:
                await updater.stop()
                await application.stop()


async def _open_chats(send: Callable[[int], Awaitable[int]], load: Load) -> None:
    """Each volunteer's chat gets a message from the bot to tap on (and to be edited)."""
    for user in load.users:
        load.messages[user.id] = await send(user.id)


def _volunteers(sandbox: BotApiSandbox) -> list[SimUser]:
    return [sandbox.user(FIRST_VOLUNTEER + n, f"Volunteer {n}") for n in range(VOLUNTEERS)]


@dataclass
class Engine:
    name: str
    urls: list[str]  # fresh databases, one for each bot run on this engine


@contextlib.asynccontextmanager
async def engines(postgres: str | None, copies: int = 2) -> AsyncIterator[list[Engine]]:
    """Fresh SQLite files, and fresh PostgreSQL databases when a server is given."""
    with tempfile.TemporaryDirectory() as folder:
        files = [Path(folder) / f"bench{n}.sqlite3" for n in range(copies)]
        found = [Engine("SQLite", [f"sqlite+aiosqlite:///{file}" for file in files])]
        made: list[str] = []
        try:
            if postgres:
                from tests.support import create_postgres_database  # noqa: PLC0415 - only with PG

                urls = []
                for _ in range(copies):
                    url, name = await create_postgres_database(postgres)
                    urls.append(url)
                    made.append(name)
                found.append(Engine("PostgreSQL", urls))
            yield found
        finally:
            if postgres and made:
                from tests.support import drop_postgres_database  # noqa: PLC0415

                for name in made:
                    await drop_postgres_database(postgres, name)


async def _seed(db: Database, clock: Clock, tz: ZoneInfo) -> list[list[int]]:
    """A coordinator, a location, SESSIONS weekday lunches and the volunteers; returns each
    session's job ids, soonest first."""
    await people.register(
        db,
        telegram_id=COORDINATOR,
        name="Rachel",
        now=clock(),
        coordinator_ids=frozenset({COORDINATOR}),
    )
    location = await locations.create(
        db, actor_telegram_id=COORDINATOR, name="St Mark's church hall", now=clock()
    )
    last_day = FIRST_DAY + timedelta(days=SESSIONS // 5 * 7 - 3)
    plan = SessionPlan(
        location_id=location.location_id,
        first_day=FIRST_DAY,
        last_day=last_day,
        weekdays=frozenset(range(5)),
        start=clock_time(11, 30),
        end=clock_time(13, 30),
        jobs=JOBS,
    )
    await rota.create_sessions(db, actor_telegram_id=COORDINATOR, plan=plan, tz=tz, now=clock())
    for n in range(VOLUNTEERS):
        await people.register(
            db,
            telegram_id=FIRST_VOLUNTEER + n,
            name=f"Volunteer {n}",
            now=clock(),
            coordinator_ids=frozenset({COORDINATOR}),
        )
    page = await rota.upcoming(db, telegram_id=COORDINATOR, now=clock(), offset=0, limit=SESSIONS)
    return [[job.job_id for job in view.jobs] for view in page.sessions]


def _booking_data(sessions: list[list[int]]) -> Callable[[int], str]:
    """The n-th tap: volunteer n % 100 books the next session, as a server or a cook."""

    def data(n: int) -> str:
        volunteer, session = n % VOLUNTEERS, n // VOLUNTEERS
        job = sessions[session][0 if volunteer < VOLUNTEERS // 2 else 1]
        return callbacks.encode(BookJob(job_id=job, waitlist=False))

    return data


@contextlib.contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    steady: Figures
    ceiling: float
    cpu_ms: float  # process CPU per tap in the steady run (bot, sandbox and load together)
    statements: float | None = None
    begins: float | None = None


@dataclass
class Contender:
    """A bot under load: its name, the taps for it, and its database (None: the bare bot).
    `steady`: it takes part in the steady run (else only in the ramp)."""

    name: str
    load: Load
    db: Database | None = None
    steady: bool = True
    figures: list[Figures] = field(default_factory=list)
    cpu: float = 0.0
    sent: list[str] = field(default_factory=list)

    async def slice(self, rate: float, seconds: float) -> None:
        """One slice of the steady run: only this bot is tapped meanwhile."""
        cpu = time.process_time()
        with contextlib.ExitStack() as stack:
            sent = stack.enter_context(counting(self.db)) if self.db is not None else []
            self.figures.append(await self.load.run(rate, seconds))
        self.cpu += time.process_time() - cpu
        self.sent += sent
        await self.load.settle()

    def result(self, ceiling: float) -> Result:
        steady = Figures(
            taps=sum(f.taps for f in self.figures),
            rate=min((f.rate for f in self.figures), default=0.0),
            answer=[x for f in self.figures for x in f.answer],
            card=[x for f in self.figures for x in f.card],
            behind=sum(f.behind for f in self.figures),
        )
        taps = max(steady.taps, 1)
        statements = begins = None
        if self.db is not None:
            begins = sum(s.startswith("BEGIN") for s in self.sent) / taps
            statements = len(self.sent) / taps - begins
        return Result(self.name, steady, ceiling, self.cpu * 1000 / taps, statements, begins)


async def ramp(load: Load, step_seconds: float) -> float:
    """The highest rate (doubling from RAMP_START, then one step between the last that held
    and the first that did not) whose taps' 95th percentile stays under TARGET_P95."""
    held, rate = 0.0, RAMP_START
    failed: float | None = None
    while failed is None:
        if await holds(load, rate, step_seconds):
            held, rate = rate, rate * 2
        else:
            failed = rate
    between = (held + failed) / 2 if held else failed / 2
    return max(held, between) if await holds(load, between, step_seconds) else held


async def holds(load: Load, rate: float, step_seconds: float) -> bool:
    """Whether the bot keeps up with `rate`: in one of two tries, so that another process's
    burst on a shared machine does not set the ceiling (both bots get the same second try)."""
    for _ in range(RAMP_TRIES):
        figures = await load.run(rate, step_seconds)
        await load.settle()
        say(f"    ramp {rate:6.0f}/s: p95 {_ms(figures.p95)}, behind {figures.behind}")
        if figures.p95 < TARGET_P95:
            return True
    return False


@contextlib.asynccontextmanager
async def real_bot(engine: Engine, *, paced: bool = True) -> AsyncIterator[Contender]:
    """The bot, whole. `paced=False` lifts its sending lane's overall limit (Telegram's 30 a
    second, which counts the edit of every tap's card): what the machine allows instead."""
    url = engine.urls[0 if paced else 1]
    await migrate.upgrade(url)
    config = Config(
        delivery=DeliveryConfig(
            overall_per_second=DEFAULT_OVERALL_PER_SECOND if paced else UNPACED_PER_SECOND
        ),
        database=DatabaseConfig(url=url),
        programme=ProgrammeConfig(name="Holiday Lunch Club"),
        coordinators=CoordinatorsConfig(telegram_ids=frozenset({COORDINATOR})),
        referrals=ReferralsConfig(keys=(new_key(),)),
    )
    clock = Clock()
    async with Rehearsal(config, clock=clock) as rehearsal:
        rehearsal.sandbox.after_update = None  # taps arrive at their own pace, not one by one
        db = rehearsal.services.db
        sessions = await _seed(db, clock, config.programme.tz)
        load = Load(rehearsal.sandbox, _volunteers(rehearsal.sandbox), _booking_data(sessions))
        bot = rehearsal.application.bot

        async def send(chat_id: int) -> int:
            return (await bot.send_message(chat_id, "Sessions")).message_id

        await _open_chats(send, load)
        if paced:
            yield Contender(f"lunchbot, {engine.name}", load, db)
        else:
            yield Contender(f"lunchbot, {engine.name}, unpaced", load, db, steady=False)
        async with db.read() as session:
            booked = await session.scalar(
                select(func.count())
                .select_from(Booking)
                .where(Booking.status == BookingStatus.BOOKED)
            )
        # Every tap must have booked a place: a benchmark of refusals would flatter the bot.
        name = engine.name if paced else f"{engine.name}, unpaced"
        say(f"  {name}: {booked} places booked by {load.sent} taps")


@contextlib.asynccontextmanager
async def bare(*, limiter: bool = False) -> AsyncIterator[Contender]:
    async with bare_bot(limiter=limiter) as sandbox:
        load = Load(sandbox, _volunteers(sandbox), lambda n: f"bj:{n}")
        async with Bot(sandbox.token, base_url=sandbox.base_url) as sender:

            async def send(chat_id: int) -> int:
                return (await sender.send_message(chat_id, "Sessions")).message_id

            await _open_chats(send, load)
        if limiter:
            yield Contender("PTB + AIORateLimiter", load, steady=False)
        else:
            yield Contender("bare PTB bot", load)


async def run(
    contenders: list[Contender], rate: float, seconds: float, step_seconds: float
) -> list[Result]:
    """The steady run in slices, each bot in turn (so a busy minute on a shared machine falls
    on all of them alike), then each bot's ramp."""
    slices = max(1, round(seconds / SLICE_SECONDS))
    say(f"Steady: {rate:.0f} taps/s for {seconds:.0f} s, in {slices} slices taken in turn")
    for _ in range(slices):
        for contender in contenders:
            if contender.steady:
                await contender.slice(rate, seconds / slices)
    results = []
    for contender in contenders:
        say(f"Ramp: {contender.name}")
        results.append(contender.result(await ramp(contender.load, step_seconds)))
    return results


def _ms(seconds: float) -> str:
    return "   -   " if math.isinf(seconds) else f"{seconds * 1000:6.1f} ms"


def report(results: list[Result], rate: float, seconds: float) -> None:
    anchor = results[0]
    say()
    say(f"Booking taps at {rate:.0f}/s for {seconds:.0f} s (time from the tap to the bot's answer)")
    say(
        f"  {'':30} {'answer p50':>11} {'answer p95':>11} {'card p50':>11} {'card p95':>11}"
        f" {'behind':>7} {'x bare p95':>10} {'CPU/tap':>9} {'SQL/tap':>8}"
    )
    for r in results:
        f = r.steady
        if not f.taps:
            continue  # ramp only
        ratio = f.p95 / anchor.steady.p95 if math.isfinite(f.p95) else math.inf
        sql = "" if r.statements is None else f"{r.statements:.1f}+{r.begins:.0f}"
        say(
            f"  {r.name:30} {_ms(f.p(f.answer, 0.5)):>11} {_ms(f.p(f.answer, 0.95)):>11}"
            f" {_ms(f.p(f.card, 0.5)):>11} {_ms(f.p(f.card, 0.95)):>11} {f.behind:>7}"
            f" {ratio:>9.1f}x {r.cpu_ms:>6.1f} ms {sql:>8}"
        )
    say()
    say(f"Highest steady tap rate with p95 under {TARGET_P95:.0f} s (ramp from {RAMP_START:.0f}/s)")
    for r in results:
        share = r.ceiling / anchor.ceiling if anchor.ceiling else 0.0
        say(f"  {r.name:30} {r.ceiling:6.0f}/s   {share:.2f}x the bare bot's")
    say()
    say("SQL/tap: statements per booking tap, + BEGINs (SQLite opens each transaction with one).")
    say("CPU/tap: this process's CPU (bot, sandbox and load generator) per tap.")
    say("Every tap edits its card: Telegram's 30 messages a second, which PTB's AIORateLimiter")
    say("and the bot's lane both count edits in, caps a paced bot at 30 taps a second; 'unpaced'")
    say("lifts the lane's limit to show what the machine allows.")


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=20.0, help="steady taps a second")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the steady run")
    parser.add_argument("--step", type=float, default=5.0, help="seconds per ramp step")
    parser.add_argument(
        "--postgres",
        default=next((os.environ[k] for k in POSTGRES_ENV if os.environ.get(k)), None),
        help=f"a PostgreSQL server URL to make a scratch database on (default: ${POSTGRES_ENV[0]})",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    async with engines(args.postgres) as found, contextlib.AsyncExitStack() as bots:
        contenders = [await bots.enter_async_context(bare())]
        contenders.append(await bots.enter_async_context(bare(limiter=True)))
        for engine in found:
            contenders.append(await bots.enter_async_context(real_bot(engine)))
            contenders.append(await bots.enter_async_context(real_bot(engine, paced=False)))
        results = await run(contenders, args.rate, args.seconds, args.step)
    if not args.postgres:
        say(f"(no PostgreSQL: pass --postgres or set ${POSTGRES_ENV[0]})")
    report(results, args.rate, args.seconds)


if __name__ == "__main__":
    asyncio.run(main())
