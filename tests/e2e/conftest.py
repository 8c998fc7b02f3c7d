"""The bot running for real: the Application polls the sandbox over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.config import Config
from bot.harness import Rehearsal
from tests.support import Clock


@pytest.fixture
async def bot(config: Config, clock: Clock) -> AsyncIterator[Rehearsal]:
    async with Rehearsal(config, clock=clock) as rehearsal:
        yield rehearsal
