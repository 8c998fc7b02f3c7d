"""Flood control: 429 with retry_after from sliding windows, switchable while running."""

from __future__ import annotations

import asyncio
import datetime as dtm

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from bot.sandbox import BotApiSandbox, RateLimits
from bot.sandbox.ratelimit import FloodControl


async def test_per_chat_limit_refuses_the_second_send_in_a_second(
    bot: Bot, sandbox: BotApiSandbox
) -> None:
    ann, bo = sandbox.user(1, "Ann"), sandbox.user(2, "Bo")
    sandbox.limits.per_chat_per_second = 1
    await bot.send_message(ann.id, "one")
    await bot.send_message(bo.id, "another chat is fine")
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(ann.id, "two")
    assert flood.value.retry_after == dtm.timedelta(seconds=1)
    refused = sandbox.calls[-1]
    assert (refused.method, refused.ok, refused.error_code, refused.chat_id) == (
        "sendMessage",
        False,
        429,
        ann.id,
    )
    assert [m.text for m in ann.bot_messages] == ["one"]
    sandbox.limits.per_chat_per_second = None
    await bot.send_message(ann.id, "limits off")


async def test_overall_limit_counts_every_chat_and_every_kind_of_send(
    bot: Bot, sandbox: BotApiSandbox
) -> None:
    sandbox.limits = RateLimits(overall_per_second=3)
    users = [sandbox.user(n, f"U{n}") for n in range(1, 5)]
    await bot.send_message(users[0].id, "a")
    await bot.send_document(users[1].id, b"doc", filename="a.txt")
    await bot.send_message(users[2].id, "c")
    with pytest.raises(RetryAfter):
        await bot.send_message(users[3].id, "d")
    # Edits are not sends.
    await bot.edit_message_text("a2", users[0].id, 1)
    sandbox.limits = RateLimits()
    await bot.send_message(users[3].id, "d")


async def test_group_limit_is_per_minute(bot: Bot, sandbox: BotApiSandbox) -> None:
    group = sandbox.group(-5, "Crew")
    sandbox.limits.per_group_per_minute = 2
    await bot.send_message(group.id, "1")
    await bot.send_message(group.id, "2")
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(group.id, "3")
    assert dtm.timedelta(seconds=59) <= flood.value.retry_after <= dtm.timedelta(seconds=60)
    ann = sandbox.user(1, "Ann")
    await bot.send_message(ann.id, "private chats are not groups")


async def test_the_window_slides(bot: Bot, sandbox: BotApiSandbox) -> None:
    ann = sandbox.user(1, "Ann")
    sandbox.limits.per_chat_per_second = 20
    for n in range(20):
        await bot.send_message(ann.id, str(n))
    with pytest.raises(RetryAfter):
        await bot.send_message(ann.id, "too many")
    await asyncio.sleep(1.05)
    await bot.send_message(ann.id, "a second later")


def test_sliding_windows_in_detail() -> None:
    flood = FloodControl()
    limits = RateLimits(overall_per_second=2, per_group_per_minute=3)
    for at in (0.0, 0.5):
        assert flood.retry_after(limits, 1, False, at) == 0
        flood.record(limits, 1, False, at)
    assert flood.retry_after(limits, 2, False, 0.9) == 1
    assert flood.retry_after(limits, 2, False, 1.01) == 0  # the send at 0.0 left the window
    for at in (10.0, 20.0, 30.0):
        flood.record(limits, -7, True, at)
    assert flood.retry_after(limits, -7, True, 40.0) == 30  # the send at 10.0 leaves at 70.0
    assert flood.retry_after(limits, -7, True, 70.5) == 0
    slow = RateLimits(per_chat_per_second=0.5)  # one send per two seconds
    flood.record(slow, 9, False, 100.0)
    assert flood.retry_after(slow, 9, False, 100.5) == 2
    assert flood.retry_after(slow, 9, False, 102.1) == 0
