"""The sending lane shared by several instances on one PostgreSQL database: each lane here is
one instance's (its own Pacer, its own connections), sending through PTB to the sandbox, which
refuses with 429 whatever goes over Telegram's limits."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack
from typing import Any

import pytest
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bot.lane import PRIORITY, LaneRateLimiter, Pace, Priority
from bot.sandbox import ApiCall, BotApiSandbox, RateLimits
from bot.shared_lane import SharedLane
from storage import migrate
from storage.lane import Ledger, Limits, Request
from tests.e2e.test_delivery import busiest_second
from tests.e2e.test_lane import closest_two_in_one_chat, messages_sent
from tests.support import (
    SKIP_POSTGRES,
    create_postgres_database,
    drop_postgres_database,
    postgres_admin_url,
)

RATE = 10  # a slower Telegram than the real one: the same rules, in fewer messages
TELEGRAM = RateLimits(overall_per_second=RATE, per_chat_per_second=1, per_group_per_minute=20)
PACE = Pace(overall_per_second=RATE)
FIRST_PERSON = 5000


@pytest.fixture
async def postgres() -> AsyncIterator[str]:
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip(SKIP_POSTGRES)
    url, name = await create_postgres_database(admin_url)
    try:
        await migrate.upgrade(url)
        yield url
    finally:
        await drop_postgres_database(admin_url, name)


@pytest.fixture
async def sandbox() -> AsyncIterator[BotApiSandbox]:
    box = BotApiSandbox(limits=TELEGRAM)
    await box.start()
    for person in range(FIRST_PERSON, FIRST_PERSON + 100):
        box.user(person, f"Person {person}")
    try:
        yield box
    finally:
        await box.stop()


class Instances:
    """Bots, each with a shared lane of its own, as separate processes would have."""

    def __init__(self, sandbox: BotApiSandbox, url: str) -> None:
        self._sandbox = sandbox
        self._url = url
        self._stack = AsyncExitStack()

    async def start(self, *, lease: float | None = None) -> tuple[ExtBot[None], SharedLane]:
        extra: dict[str, Any] = {} if lease is None else {"lease": lease}
        lane = SharedLane(PACE, Ledger(self._url), **extra)
        bot: ExtBot[None] = ExtBot(
            self._sandbox.token,
            base_url=self._sandbox.base_url,
            base_file_url=self._sandbox.base_file_url,
            rate_limiter=LaneRateLimiter(lane),
        )
        await self._stack.enter_async_context(bot)
        return bot, lane

    async def stop(self) -> None:
        await self._stack.aclose()


@pytest.fixture
async def instances(sandbox: BotApiSandbox, postgres: str) -> AsyncIterator[Instances]:
    running = Instances(sandbox, postgres)
    try:
        yield running
    finally:
        await running.stop()


async def send(bot: ExtBot[None], chat: int, text: str, priority: Priority) -> float:
    """Send as the outbox (a notice, a broadcast copy) or a handler (a reply) would; returns
    how long it took, waiting included."""
    token = PRIORITY.set(priority)
    started = time.monotonic()
    try:
        await bot.send_message(chat, text)
    finally:
        PRIORITY.reset(token)
    return time.monotonic() - started


def people(count: int, first: int = FIRST_PERSON) -> list[int]:
    return list(range(first, first + count))


async def test_three_instances_sending_at_once_keep_one_budget_and_each_persons_spacing(
    instances: Instances, sandbox: BotApiSandbox
) -> None:
    bots = [(await instances.start())[0] for _ in range(3)]
    everyone = people(15)

    # Each instance sends one message to each of the same fifteen people, all at once.
    await asyncio.gather(
        *(
            send(bot, person, f"from instance {n}", Priority.BROADCAST)
            for n, bot in enumerate(bots)
            for person in everyone
        )
    )

    sends = messages_sent(sandbox.calls)
    assert [c for c in sandbox.calls if c.error_code == 429] == []
    assert len(sends) == 45
    assert busiest_second(sends) <= RATE
    assert closest_two_in_one_chat(sends) >= 1.0
    for person in everyone:
        assert len(sandbox.chat_messages(person)) == 3


async def test_a_reply_on_one_instance_goes_before_anothers_broadcast(
    instances: Instances, sandbox: BotApiSandbox
) -> None:
    sender, _ = await instances.start()
    answering, _ = await instances.start()
    audience, writers = people(50), people(5, first=FIRST_PERSON + 60)

    broadcast = asyncio.gather(
        *(send(sender, person, "Lunch is on!", Priority.BROADCAST) for person in audience)
    )
    for _ in range(500):  # at most 10 s, until it has filled two seconds
        if len(messages_sent(sandbox.calls)) >= 2 * RATE:
            break
        await asyncio.sleep(0.02)
    waits = []
    for writer in writers:  # five people write to the other instance meanwhile
        waits.append(await send(answering, writer, "Here is what I can do", Priority.REPLY))
        await asyncio.sleep(0.3)
    assert len(messages_sent(sandbox.calls)) < len(audience), "the broadcast should still run"
    await broadcast

    sends = messages_sent(sandbox.calls)
    assert [c for c in sandbox.calls if c.error_code == 429] == []
    assert busiest_second(sends) <= RATE
    # Each answer waited for a slot of the second at most, not behind the 30 copies left (3 s).
    assert max(waits) < 1.0, waits
    last_copy = max(c.at for c in sends if c.chat_id in audience)
    assert all(c.at < last_copy for c in sends if c.chat_id in writers)


async def test_a_429_seen_by_one_instance_pauses_the_others(
    instances: Instances, sandbox: BotApiSandbox
) -> None:
    first, first_lane = await instances.start()
    second, _ = await instances.start()
    sam, priya = people(2)
    sandbox.inject_failure(
        "sendMessage", sam, error_code=429, retry_after=2, description="Too Many Requests"
    )

    with pytest.raises(RetryAfter):  # the outbox retries its own notices
        await send(first, sam, "Your reminder", Priority.NOTICE)
    await first_lane.settle()  # the pause is in the database
    await send(second, priya, "Here is what I can do", Priority.REPLY)

    refused, answered = _only(sandbox.calls, sam), _only(sandbox.calls, priya)
    assert refused.error_code == 429
    assert answered.ok
    assert answered.at >= refused.at + 2


async def test_a_dead_instances_sends_stop_counting_when_their_lease_ends(
    instances: Instances, sandbox: BotApiSandbox, postgres: str
) -> None:
    lease = 1.5
    # An instance took the whole second and was killed before any answer came back.
    dead = Ledger(postgres)
    limits = Limits(
        capacity=RATE,
        span=1.0,
        chat_gap=1.0,
        group_capacity=20,
        group_span=60.0,
        lease=lease,
        reserve=0,
        recent=0.0,
        smooth=0.0,
        burst=RATE,
    )
    grants = await dead.grant([Request(str(n), False, False) for n in range(RATE)], limits)
    taken = time.monotonic()
    await dead.dispose()
    assert None not in grants.ids
    alive, _ = await instances.start(lease=lease)
    since = time.monotonic() - taken

    waited = await send(alive, people(1)[0], "Here is what I can do", Priority.REPLY)

    assert waited >= lease - since - 0.1  # it was held by the dead instance's sends
    assert waited < lease + 3  # and not much longer than their lease
    assert [c for c in sandbox.calls if c.error_code == 429] == []


async def test_without_the_database_an_instance_paces_itself_alone_and_says_so(
    sandbox: BotApiSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = "postgresql+asyncpg://lunchbot:secret@127.0.0.1:1/lunchbot"
    lane = SharedLane(PACE, Ledger(nowhere))
    async with ExtBot(
        sandbox.token, base_url=sandbox.base_url, rate_limiter=LaneRateLimiter(lane)
    ) as bot:
        with caplog.at_level(logging.WARNING, logger="bot.shared_lane"):
            await _within(send(bot, people(1)[0], "Here is what I can do", Priority.REPLY))
            await _within(send(bot, people(2)[1], "And to you", Priority.REPLY))

    assert len(messages_sent(sandbox.calls)) == 2
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.shared_lane"]
    assert len(warnings) == 1
    assert "cannot reach the database" in warnings[0]
    assert "secret" not in warnings[0]


def _only(calls: list[ApiCall], chat: int) -> ApiCall:
    (call,) = [c for c in calls if c.chat_id == chat]
    return call


async def _within(step: Awaitable[float], seconds: float = 10) -> float:
    return await asyncio.wait_for(step, seconds)
