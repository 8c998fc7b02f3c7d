"""One sending lane: direct replies and the outbox's messages pass one pacer under Telegram's
limits, replies first. The sandbox enforces Telegram's strict limits (30 a second in all, one a
second to a person, 20 a minute to a group) and refuses with 429 what goes over them."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections import defaultdict

from bot.config import Config, DeliveryConfig
from bot.harness import Clock, Rehearsal
from bot.sandbox import ApiCall, RateLimits, SimUser
from tests.conftest import RACHEL
from tests.e2e.test_broadcasts import HEADING, compose, copies, volunteers
from tests.e2e.test_delivery import busiest_second
from tests.e2e.test_joining import register

TELEGRAM = RateLimits(overall_per_second=30, per_chat_per_second=1, per_group_per_minute=20)
AUDIENCE = 240
WRITERS = 24
WAIT_STEP = 0.05


def messages_sent(calls: list[ApiCall]) -> list[ApiCall]:
    return [c for c in calls if c.method.startswith("send") and c.ok]


def closest_two_in_one_chat(calls: list[ApiCall]) -> float:
    """The shortest time between two messages the sandbox took in the same chat."""
    by_chat: defaultdict[int | None, list[float]] = defaultdict(list)
    for call in calls:
        by_chat[call.chat_id].append(call.at)
    gaps = [b - a for times in by_chat.values() for a, b in itertools.pairwise(times)]
    return min(gaps, default=float("inf"))


def answers(user: SimUser) -> list[str]:
    """What the bot said to `user`, broadcast copies aside."""
    return [m.text for m in user.bot_messages if not m.text.startswith(HEADING)]


async def test_people_who_write_during_a_broadcast_all_get_their_answers_and_no_429(
    config: Config, clock: Clock
) -> None:
    # The bot sends as fast as Telegram allows: the broadcast and the replies share it.
    fast = dataclasses.replace(config, delivery=DeliveryConfig(overall_per_second=30))
    async with Rehearsal(fast, clock=clock, limits=TELEGRAM) as bot:
        await register(bot, RACHEL, "Rachel")
        audience = await volunteers(bot, AUDIENCE)
        rachel = bot.user(RACHEL, "Rachel")
        # The preview and its card go to one chat in the same second: both arrive.
        _preview, card = await compose(bot, "All volunteers", "Lunch is on at noon!")
        assert card.labels()[0] == f"📣 Send to {AUDIENCE} people"

        sending = asyncio.create_task(rachel.tap(f"📣 Send to {AUDIENCE} people"))
        for _ in range(600):  # at most 30 seconds, until the broadcast is under way
            if len(messages_sent(bot.sandbox.calls)) >= 40 or sending.done():
                break
            await asyncio.sleep(WAIT_STEP)
        # From now on people's messages are not waited for one by one: they write while it runs.
        bot.sandbox.after_update = None
        writers = [bot.user(telegram_id, "") for telegram_id in audience[::10][:WRITERS]]
        for writer in writers:
            await writer.send("/help")
            await asyncio.sleep(0.2)  # five people a second
        assert not sending.done(), "the broadcast should still be sending"
        await sending
        await bot.sandbox.wait_confirmed()  # and the last of them are answered
        await bot.application.update_queue.join()

        for writer in writers:  # each got the answer, and their copy of the broadcast
            assert len(answers(writer)) == 1
            assert "/sessions" in answers(writer)[0]
            assert len(copies(writer)) == 1
        calls = bot.sandbox.calls
        assert [c for c in calls if c.error_code == 429] == []
        sends = messages_sent(calls)
        assert busiest_second(sends) <= 30
        assert closest_two_in_one_chat(sends) >= 1.0
        assert card.text.startswith(f"✅ Broadcast finished: {AUDIENCE} people · {AUDIENCE} sent")


async def test_a_reply_refused_with_429_is_sent_after_the_wait(config: Config) -> None:
    paced = dataclasses.replace(config, delivery=DeliveryConfig())  # Telegram's spacing too
    async with Rehearsal(paced, limits=TELEGRAM) as bot:
        await register(bot, RACHEL, "Rachel")
        rachel = bot.user(RACHEL, "Rachel")
        before, seen = len(bot.sandbox.calls), len(rachel.bot_messages)
        bot.sandbox.inject_failure(
            "sendMessage",
            RACHEL,
            error_code=429,
            retry_after=1,
            description="Too Many Requests: retry after 1",
        )

        await rachel.send("/help")

        (answer,) = rachel.bot_messages[seen:]
        assert "/broadcast" in answer.text
        sends = [c for c in bot.sandbox.calls[before:] if c.method == "sendMessage"]
        assert [c.error_code for c in sends] == [429, None]
