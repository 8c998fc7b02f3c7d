"""Fixtures: a fresh database on each engine, and the bot running against the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import (
    Config,
    CoordinatorsConfig,
    DatabaseConfig,
    DeliveryConfig,
    ProgrammeConfig,
    ReferralsConfig,
)
from storage import migrate
from storage.crypto import new_key
from storage.db import Database
from tests.support import (
    SKIP_POSTGRES,
    Clock,
    create_postgres_database,
    drop_postgres_database,
    postgres_admin_url,
    sqlite_url,
)

RACHEL = 1001  # the bootstrap coordinator in config
TEST_KEY = new_key()  # the sealing key of this test run


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of each engine, made for this test and dropped after it."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip(SKIP_POSTGRES)
    url, name = await create_postgres_database(admin_url)
    try:
        yield url
    finally:
        await drop_postgres_database(admin_url, name)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    await migrate.upgrade(database_url)
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def config(database_url: str) -> Config:
    return Config(
        database=DatabaseConfig(url=database_url),
        programme=ProgrammeConfig(name="Holiday Lunch Club"),
        coordinators=CoordinatorsConfig(telegram_ids=frozenset({RACHEL})),
        referrals=ReferralsConfig(keys=(TEST_KEY,)),
        # The sandbox enforces no per-chat limit unless a test sets one; spacing a person's
        # replies a second apart would only slow every story down. Pacing is tested where the
        # sandbox enforces Telegram's limits (test_lane, test_delivery, test_broadcasts).
        delivery=DeliveryConfig(per_chat_seconds=0),
    )
