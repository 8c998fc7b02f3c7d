"""Fixtures for the sandbox's own tests: a running sandbox and a PTB Bot pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from telegram import Bot

from bot.sandbox import BotApiSandbox

WAIT_STEP_SECONDS = 0.005


@pytest.fixture
async def sandbox() -> AsyncIterator[BotApiSandbox]:
    box = BotApiSandbox()
    await box.start()
    try:
        yield box
    finally:
        await box.stop()


@pytest.fixture
async def bot(sandbox: BotApiSandbox) -> AsyncIterator[Bot]:
    async with Bot(
        sandbox.token, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url
    ) as telegram_bot:
        yield telegram_bot


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns when RetryAfter.retry_after is read as an int; opt in to timedelta instead.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


Waiter = Callable[[Callable[[], bool]], Awaitable[None]]


@pytest.fixture
def wait_until() -> Waiter:
    """Poll a condition until it holds (the bot under test works concurrently)."""

    async def wait(condition: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        # The bot changes state in its own tasks; there is no event to await, so poll briefly.
        async with asyncio.timeout(timeout):
            while not condition():  # noqa: ASYNC110
                await asyncio.sleep(WAIT_STEP_SECONDS)

    return wait
