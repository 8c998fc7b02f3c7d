"""Two instances of the bot on one PostgreSQL database share Telegram's limits: the one running
a broadcast and the other, sending at the same time, together stay under 30 messages a second and
one a second to each person, and the other's answers do not queue behind the broadcast. The
sandbox enforces Telegram's strict limits and refuses with 429 what goes over them."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from bot.app import build_application
from bot.config import Config, DeliveryConfig, TelegramConfig
from bot.harness import Clock, Rehearsal
from bot.lane import PRIORITY, LaneRateLimiter, Priority
from bot.shared_lane import SharedLane
from handlers.context import BotApplication
from tests.conftest import RACHEL
from tests.e2e.test_broadcasts import compose, copies, volunteers
from tests.e2e.test_delivery import busiest_second
from tests.e2e.test_joining import register
from tests.e2e.test_lane import TELEGRAM, WAIT_STEP, answers, closest_two_in_one_chat, messages_sent

AUDIENCE = 150
NOTICES = 60  # sent by the second instance meanwhile, to other people
WRITERS = 10


async def test_two_instances_on_one_database_send_within_one_budget_and_answers_go_first(
    config: Config, clock: Clock
) -> None:
    if not config.database.url.startswith("postgresql"):
        pytest.skip("SQLite allows one instance: its own pacer is the whole lane")
    fast = dataclasses.replace(config, delivery=DeliveryConfig(overall_per_second=30))
    async with Rehearsal(fast, clock=clock, limits=TELEGRAM) as first:
        await register(first, RACHEL, "Rachel")
        audience = await volunteers(first, AUDIENCE)
        others = list(range(40_000, 40_000 + NOTICES))  # people the broadcast does not reach
        for telegram_id in others:
            first.user(telegram_id, "Someone")
        rachel = first.user(RACHEL, "Rachel")
        await compose(first, "All volunteers", "Lunch is on at noon!")
        sandbox = first.sandbox
        second = build_application(
            dataclasses.replace(
                fast,
                telegram=TelegramConfig(
                    api_base_url=sandbox.base_url,
                    api_file_url=sandbox.base_file_url,
                    token=sandbox.token,
                ),
            )
        )
        limiter = second.bot.rate_limiter
        assert isinstance(limiter, LaneRateLimiter)
        assert isinstance(limiter.lane, SharedLane)

        async with second:
            sending = asyncio.create_task(rachel.tap(f"📣 Send to {AUDIENCE} people"))
            for _ in range(600):  # at most 30 seconds, until the broadcast is under way
                if len(messages_sent(sandbox.calls)) >= 40 or sending.done():
                    break
                await asyncio.sleep(WAIT_STEP)
            first.sandbox.after_update = None
            # The second instance sends notices of its own, and answers people who write to it,
            # while people write to the first one too.
            notices = asyncio.create_task(_notices(second, others))
            writers = [first.user(telegram_id, "") for telegram_id in audience[::7][:WRITERS]]
            waits = []
            for writer in writers:
                await writer.send("/help")
                waits.append(await _answer(second, audience[-1 - len(waits)]))
                await asyncio.sleep(0.2)
            assert not sending.done(), "the broadcast should still be sending"
            await sending
            await notices
            await sandbox.wait_confirmed()
            await first.application.update_queue.join()

        calls = sandbox.calls
        assert [c for c in calls if c.error_code == 429] == []
        sends = messages_sent(calls)
        assert busiest_second(sends) <= 30
        assert closest_two_in_one_chat(sends) >= 1.0
        for writer in writers:
            assert len(answers(writer)) == 1
            assert len(copies(writer)) == 1
        assert len([c for c in sends if c.chat_id in others]) == NOTICES
        # The second instance's answers waited for a slot at most, not behind the broadcast
        # and its own notices (about 7 s of sending at 30 a second).
        assert max(waits) < 2.0, waits
        card = rachel.bot_messages[-1]
        assert card.text.startswith(f"✅ Broadcast finished: {AUDIENCE} people · {AUDIENCE} sent")


async def _notices(application: BotApplication, chats: list[int]) -> None:
    bot = application.bot
    token = PRIORITY.set(Priority.NOTICE)
    try:
        await asyncio.gather(*(bot.send_message(chat, "A reminder") for chat in chats))
    finally:
        PRIORITY.reset(token)


async def _answer(application: BotApplication, chat: int) -> float:
    """What a handler of the second instance does: answer someone (a person also in the
    broadcast, so that one person's spacing is kept across both instances)."""
    started = time.monotonic()
    await application.bot.send_message(chat, "Here is what I can do")
    return time.monotonic() - started
