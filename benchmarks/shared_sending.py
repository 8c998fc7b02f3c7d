"""Two instances of the bot on one PostgreSQL database, sharing Telegram's limits (the shared
sending lane, bot/shared_lane.py), on the same strict sandbox as benchmarks/sending.py:

(d) The first instance broadcasts to N people; the second is running but nobody writes: the
    broadcast against the floor N/30 s, and against one instance pacing itself alone with the
    in-process pacer on the same database (what sharing the lane through it costs).
(e) The same broadcast while people write: people in the broadcast write to the first instance
    (answered by its handlers, as in sending.py), and the second instance answers as many other
    people, at the same pace, as its handlers would: how fast each instance's answers go out
    (p95), how many 429s, and the busiest second at the sandbox across both.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from benchmarks.sending import (
    COORDINATOR,
    TELEGRAM,
    TELEGRAM_RATE,
    WORDS,
    Writers,
    bench_config,
    chosen,
    drain,
    is_copy,
    percentile,
    ratio,
    register,
)
from bot.app import build_application
from bot.config import TelegramConfig
from bot.harness import Clock, Rehearsal
from bot.lane import LaneRateLimiter, Pace, Pacer
from bot.sandbox import ApiCall, SimUser
from handlers.context import BotApplication
from tests.support import create_postgres_database, drop_postgres_database

HELP = "Here is what I can do: /sessions, /mysessions, /profile."
ANSWERED = 900_000  # the people the second instance answers: not in the broadcast


@dataclass
class Shared:
    """What one run of two instances sent, as the sandbox saw it."""

    messages: int
    seconds: float
    refused_429: int
    busiest_second: int
    first_answers: list[float] = field(default_factory=list)
    first_lost: int = 0
    second_answers: list[float] = field(default_factory=list)
    second_lost: int = 0

    @property
    def floor(self) -> float:
        return self.messages / TELEGRAM_RATE

    @property
    def floor_with_answers(self) -> float:
        answers = len(self.first_answers) + len(self.second_answers)
        return (self.messages + answers) / TELEGRAM_RATE


class Answerer:
    """The second instance answering people at `per_second`, as its handlers would: each answer
    is timed from the moment it is asked for until the sandbox took it."""

    def __init__(self, application: BotApplication, users: list[SimUser], per_second: float):
        self._application = application
        self._users = users
        self._gap = 1 / per_second
        self.asked_at: dict[int, float] = {}
        self._stop = asyncio.Event()
        self._sends: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        for user in self._users:
            if self._stop.is_set():
                break
            self.asked_at[user.id] = time.monotonic()
            task = asyncio.get_running_loop().create_task(self._answer(user.id))
            self._sends.add(task)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._gap)
        await asyncio.gather(*self._sends, return_exceptions=True)

    async def _answer(self, chat: int) -> None:
        await self._application.bot.send_message(chat, HELP)

    def stop(self) -> None:
        self._stop.set()

    def answered(self, calls: list[ApiCall]) -> dict[int, float]:
        latencies: dict[int, float] = {}
        for call in calls:
            chat = call.chat_id
            if (
                call.ok
                and chat in self.asked_at
                and chat not in latencies
                and HELP in str(call.params.get("text", ""))
                and call.at >= self.asked_at[chat]
            ):
                latencies[chat] = call.at - self.asked_at[chat]
        return latencies


@contextlib.asynccontextmanager
async def _two_instances(server: str) -> AsyncIterator[tuple[Rehearsal, BotApplication]]:
    """The first instance (polling the sandbox, as in sending.py) and a second one built the
    same way on the same database and sandbox (it sends; updates all go to the first)."""
    url, name = await create_postgres_database(server)
    try:
        async with Rehearsal(bench_config(url), clock=Clock(), limits=TELEGRAM) as first:
            second = build_application(
                dataclasses.replace(
                    bench_config(url),
                    telegram=TelegramConfig(
                        api_base_url=first.sandbox.base_url,
                        api_file_url=first.sandbox.base_file_url,
                        token=first.sandbox.token,
                    ),
                )
            )
            async with second:
                yield first, second
    finally:
        await drop_postgres_database(server, name)


async def shared_broadcast(
    server: str, recipients: int, writers_per_second: float, *, alone: bool = False
) -> Shared:
    """(e) when `writers_per_second` > 0, else (d); `alone`: the anchor of (d), one instance
    with its in-process pacer only (what one instance had before the lane was shared)."""
    async with _two_instances(server) as (first, second):
        if alone:
            await _pace_alone(first)
        coordinator = first.user(COORDINATOR, "Rachel")
        await coordinator.send("/start")
        await coordinator.tap("✅ I agree")
        audience = await register(first, recipients)
        await coordinator.send("/broadcast")
        await coordinator.tap("All volunteers")
        await coordinator.send(WORDS)
        label = f"📣 Send to {recipients:,} people"
        first.sandbox.after_update = None
        before = len(first.sandbox.calls)
        await coordinator.tap(label)
        await first.sandbox.wait_confirmed()
        await first.application.update_queue.join()
        started = time.monotonic()
        writers = answerer = None
        if writers_per_second > 0:
            # Half the writers are people who got the broadcast and write to the first instance
            # (as in sending.py); the second instance answers as many others, people who are not
            # in the broadcast, so that its figure is the lane's wait and no person's own second.
            count = math.ceil(recipients / 20)
            writers = Writers(chosen(audience, count), writers_per_second / 2)
            others = [first.user(ANSWERED + n, "Someone") for n in range(count)]
            answerer = Answerer(second, others, writers_per_second / 2)
        async with _running(writers, answerer):
            await drain(first)
        if writers is not None:
            await writers.wait_answered(lambda: first.sandbox.calls)
        calls = first.sandbox.calls[before:]
        copies = [c for c in calls if c.ok and is_copy(c)]
        result = Shared(
            messages=len(copies),
            seconds=max((c.at for c in copies), default=started) - started,
            refused_429=sum(1 for c in calls if c.error_code == 429),
            busiest_second=_busiest_second([c for c in calls if c.ok and _is_send(c)]),
        )
        if writers is not None and answerer is not None:
            first_answers = writers.answered(calls)
            second_answers = answerer.answered(calls)
            result.first_answers = list(first_answers.values())
            result.first_lost = len(writers.sent_at) - len(first_answers)
            result.second_answers = list(second_answers.values())
            result.second_lost = len(answerer.asked_at) - len(second_answers)
        return result


async def _pace_alone(bot: Rehearsal) -> None:
    limiter = bot.application.bot.rate_limiter
    assert isinstance(limiter, LaneRateLimiter)
    await limiter.lane.close()
    delivery = bench_config("").delivery
    limiter.lane = Pacer(
        Pace(
            overall_per_second=delivery.overall_per_second,
            per_chat_seconds=delivery.per_chat_seconds,
            per_group_per_minute=delivery.per_group_per_minute,
        )
    )


@contextlib.asynccontextmanager
async def _running(writers: Writers | None, answerer: Answerer | None) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(w.run()) for w in (writers, answerer) if w is not None]
    try:
        yield
    finally:
        for w in (writers, answerer):
            if w is not None:
                w.stop()
        await asyncio.gather(*tasks)


def _is_send(call: ApiCall) -> bool:
    return call.method.startswith("send")


def _busiest_second(calls: list[ApiCall]) -> int:
    """The most sends in any one-second window (sliding)."""
    times = sorted(c.at for c in calls)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - 1:
            start += 1
        most = max(most, end - start + 1)
    return most


def report(anchor: Shared, quiet: Shared, busy: Shared) -> str:
    def answers(label: str, values: list[float], lost: int) -> str:
        return (
            f"| {label} | {len(values) + lost} | {percentile(values, 0.5) * 1000:.0f} ms | "
            f"{percentile(values, 0.95) * 1000:.0f} ms | {lost} |"
        )

    def row(label: str, run: Shared, with_answers: bool = False) -> str:
        return (
            f"| {label} | {run.seconds:.1f} s | {run.refused_429} | {run.busiest_second} | "
            f"{ratio(run.seconds, run.floor)} | {ratio(run.seconds, anchor.seconds)} | "
            + (ratio(run.seconds, run.floor_with_answers) if with_answers else "")
            + " |"
        )

    return "\n".join(
        [
            f"## Two instances on one PostgreSQL database ({TELEGRAM_RATE}/s in all, shared)",
            "",
            f"(d, e) Broadcast to {quiet.messages} people from the first instance",
            "",
            "| | time | 429s | busiest second | vs floor N/30 | vs one instance alone "
            "| vs floor (N + answers)/30 |",
            "|---|---|---|---|---|---|---|",
            row("one instance, its own pacer only (anchor)", anchor),
            row("two instances sharing the lane, nobody writing", quiet),
            row("two instances sharing the lane, people writing", busy, with_answers=True),
            f"| floor N/30 | {quiet.floor:.1f} s | | | 1.00x | | |",
            "",
            "(e) Answers while it runs",
            "",
            "| | people | p50 answer | p95 answer | lost |",
            "|---|---|---|---|---|",
            answers(
                "first instance (the one broadcasting), people in the broadcast",
                busy.first_answers,
                busy.first_lost,
            ),
            answers("second instance, other people", busy.second_answers, busy.second_lost),
        ]
    )


async def run(
    server: str,
    *,
    recipients: int,
    writers_per_second: float,
    say: Callable[[str], None] = print,
) -> str:
    say(f"(d) one instance on PostgreSQL, its own pacer only: {recipients} people …")
    anchor = await shared_broadcast(server, recipients, 0, alone=True)
    say(f"        {anchor.seconds:.1f} s, {anchor.refused_429} 429s")
    say("(d) two instances sharing the lane, nobody writing …")
    quiet = await shared_broadcast(server, recipients, 0)
    say(f"        {quiet.seconds:.1f} s, {quiet.refused_429} 429s")
    say("(e) the same broadcast, people writing to both instances …")
    busy = await shared_broadcast(server, recipients, writers_per_second)
    say(
        f"        {busy.seconds:.1f} s, {busy.refused_429} 429s, answers p95 "
        f"{percentile(busy.first_answers, 0.95) * 1000:.0f} / "
        f"{percentile(busy.second_answers, 0.95) * 1000:.0f} ms"
    )
    return report(anchor, quiet, busy)
