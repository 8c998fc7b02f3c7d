"""getUpdates as Telegram serves it: long polling, offsets that confirm, one poller at a time."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest
from telegram import Bot
from telegram.error import Conflict

from bot.sandbox import BotApiSandbox


def exactly(message: str) -> str:
    """A pytest.raises pattern for the whole message, taken literally."""
    return f"^{re.escape(message)}$"


# Far longer than any of these tests should take: a poll that honours it would fail the test.
LONG_POLL_SECONDS = 30


async def test_a_long_poll_returns_as_soon_as_a_user_writes(
    bot: Bot, sandbox: BotApiSandbox, wait_until
) -> None:
    ann = sandbox.user(1, "Ann")
    poll = asyncio.create_task(bot.get_updates(timeout=LONG_POLL_SECONDS))
    await wait_until(lambda: sandbox.polling)
    started = time.monotonic()
    update_id = await ann.send("/start hello")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1
    assert [update.update_id for update in updates] == [update_id]
    message = updates[0].message
    assert message is not None
    assert message.text == "/start hello"
    assert message.from_user is not None
    assert (message.from_user.id, message.from_user.first_name) == (1, "Ann")
    assert message.chat.type == "private"
    assert message.parse_entities() == {message.entities[0]: "/start"}
    assert message.entities[0].type == "bot_command"


async def test_a_long_poll_honours_its_timeout(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=0.2) == ()
    assert 0.15 < time.monotonic() - started < 1


async def test_updates_stay_until_a_higher_offset_confirms_them(
    bot: Bot, sandbox: BotApiSandbox
) -> None:
    ann = sandbox.user(1, "Ann")
    first = await ann.send("one")
    second = await ann.send("two")
    assert [u.update_id for u in await bot.get_updates()] == [first, second]
    # Not confirmed by being delivered: asked again, they come again.
    assert [u.update_id for u in await bot.get_updates()] == [first, second]
    assert [u.update_id for u in await bot.get_updates(limit=1)] == [first]
    assert [u.update_id for u in await bot.get_updates(offset=second)] == [second]
    assert [u["update_id"] for u in sandbox.pending_updates] == [second]
    with pytest.raises(TimeoutError, match=rf"\[{second}\]"):
        await sandbox.wait_confirmed(timeout=0.05)
    assert await bot.get_updates(offset=second + 1) == ()
    await sandbox.wait_confirmed(timeout=0.05)


async def test_wait_confirmed_returns_when_the_bot_moves_its_offset(
    bot: Bot, sandbox: BotApiSandbox
) -> None:
    ann = sandbox.user(1, "Ann")
    update_id = await ann.send("hi")
    waiting = asyncio.create_task(sandbox.wait_confirmed(timeout=5))
    await asyncio.sleep(0)
    assert not waiting.done()
    await bot.get_updates(offset=update_id + 1)
    await asyncio.wait_for(waiting, 1)


async def test_a_new_poll_ends_the_earlier_one_with_conflict(
    sandbox: BotApiSandbox, bot: Bot, wait_until
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=LONG_POLL_SECONDS))
    await wait_until(lambda: sandbox.polling)
    async with Bot(sandbox.token, base_url=sandbox.base_url) as other_instance:
        assert await other_instance.get_updates() == ()
    with pytest.raises(Conflict, match=exactly("Conflict: terminated by other getUpdates request")):
        await asyncio.wait_for(poll, 2)


async def test_stop_returns_promptly_with_a_poll_pending(wait_until) -> None:
    sandbox = BotApiSandbox()
    await sandbox.start()
    async with httpx.AsyncClient(timeout=LONG_POLL_SECONDS + 5) as client:
        poll = asyncio.create_task(
            client.post(
                f"{sandbox.base_url}{sandbox.token}/getUpdates",
                data={"timeout": str(LONG_POLL_SECONDS)},
            )
        )
        await wait_until(lambda: sandbox.polling)
        started = time.monotonic()
        await sandbox.stop()
        assert time.monotonic() - started < 1
        response = await asyncio.wait_for(poll, 2)
    assert response.json() == {"ok": True, "result": []}


async def test_a_client_that_hangs_up_frees_the_poll(sandbox: BotApiSandbox, wait_until) -> None:
    async with httpx.AsyncClient(timeout=LONG_POLL_SECONDS) as client:
        poll = asyncio.create_task(
            client.post(
                f"{sandbox.base_url}{sandbox.token}/getUpdates",
                data={"timeout": str(LONG_POLL_SECONDS)},
            )
        )
        await wait_until(lambda: sandbox.polling)
        poll.cancel()
        with pytest.raises(asyncio.CancelledError):
            await poll
    await wait_until(lambda: not sandbox.polling)


async def test_several_sandboxes_start_and_stop_in_one_process() -> None:
    ports = set()
    for _ in range(3):
        async with BotApiSandbox() as sandbox:
            ports.add(sandbox.port)
            async with Bot(sandbox.token, base_url=sandbox.base_url) as bot:
                me = await bot.get_me()
                assert (me.id, me.username, me.is_bot) == (123456, "HolidayLunchBot", True)
    assert all(ports)


async def test_requests_may_be_form_json_or_query(sandbox: BotApiSandbox) -> None:
    ann = sandbox.user(7, "Ann")
    url = f"{sandbox.base_url}{sandbox.token}/sendMessage"
    async with httpx.AsyncClient() as client:
        form = await client.post(url, data={"chat_id": "7", "text": "form"})
        body = await client.post(url, json={"chat_id": 7, "text": "json"})
        query = await client.get(url, params={"chat_id": "7", "text": "query"})
    assert [r.json()["result"]["text"] for r in (form, body, query)] == ["form", "json", "query"]
    assert [m.message_id for m in ann.bot_messages] == [1, 2, 3]
    assert [call.params for call in sandbox.calls] == [
        {"chat_id": 7, "text": "form"},
        {"chat_id": 7, "text": "json"},
        {"chat_id": 7, "text": "query"},
    ]
    assert all(call.chat_id == 7 and call.ok for call in sandbox.calls)
