"""Exactly one instance runs the clock: the election on a real PostgreSQL (and SQLite's one
instance), and instances migrating one database at the same moment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import leader
from bot.leader import AlreadyRunning, Election
from storage import migrate
from storage.db import Database
from tests.support import sqlite_url

SECONDS = 0.2  # how often the test's instances try and check (the bot's: 5 s)
WAIT_SECONDS = 20.0  # an upper bound for a slow machine, never a measurement


class Instance:
    """One instance's side of the election, with what it was told."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)
        self.events: list[str] = []

        async def gain() -> None:
            self.events.append("gain")

        async def lose() -> None:
            self.events.append("loss")

        self.election = Election(
            self.db, on_gain=gain, on_loss=lose, try_seconds=SECONDS, check_seconds=SECONDS
        )

    async def close(self) -> None:
        await self.election.stop()
        await self.db.dispose()


@pytest.fixture
async def instances(database_url: str) -> AsyncIterator[list[Instance]]:
    await migrate.upgrade(database_url)
    made = [Instance(database_url) for _ in range(3)]
    try:
        yield made
    finally:
        for instance in made:
            await instance.close()


async def _until(condition: Callable[[], bool]) -> None:
    """Wait for what the instances will do (polled: they act on their own timers)."""
    async with asyncio.timeout(WAIT_SECONDS):
        while not condition():  # noqa: ASYNC110 - nothing to wait on but the condition
            await asyncio.sleep(0.05)


async def test_one_instance_runs_the_clock_and_another_takes_over_when_it_dies(
    instances: list[Instance],
) -> None:
    if instances[0].db.is_sqlite:
        pytest.skip("SQLite has one instance, which always runs the clock (tested below)")
    for instance in instances:
        await instance.election.start()
    await asyncio.sleep(SECONDS * 5)  # time for a second leader to appear, were there one
    leaders = [i for i in instances if i.election.leading]
    assert len(leaders) == 1
    first = leaders[0]
    assert first.events == ["gain"]

    # Its database connection dies (as when the process is killed): the server lets the lock go.
    async with first.db.engine.connect() as connection:
        await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid::bigint = :high AND objid::bigint = :low AND granted AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"high": leader.CLOCK_LOCK >> 32, "low": leader.CLOCK_LOCK & 0xFFFFFFFF},
        )
    await _until(lambda: sum(i.election.leading for i in instances if i is not first) == 1)
    await _until(lambda: not first.election.leading)
    assert first.events == ["gain", "loss"]  # it noticed, and stopped its clock
    await asyncio.sleep(SECONDS * 5)
    assert sum(i.election.leading for i in instances) == 1

    # A clean stop hands over too.
    second = next(i for i in instances if i.election.leading)
    await second.election.stop()
    assert second.events == ["gain", "loss"]
    await _until(lambda: sum(i.election.leading for i in instances) == 1)


async def test_on_sqlite_the_one_instance_runs_the_clock_and_a_second_is_refused(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path)
    await migrate.upgrade(url)
    instance = Instance(url)
    try:
        await instance.election.start()
        assert instance.election.leading
        assert instance.events == ["gain"]
    finally:
        await instance.close()
    assert instance.events == ["gain", "loss"]

    with (
        leader.sole_instance(url),
        pytest.raises(AlreadyRunning, match=r"already running on .*lunchbot\.sqlite3"),
        leader.sole_instance(url),
    ):
        pass
    with leader.sole_instance(url):  # the first has stopped: the lock went with it
        pass
    with leader.sole_instance("sqlite+aiosqlite://"):  # in memory: nothing to share
        pass


async def test_instances_starting_together_migrate_the_database_once(database_url: str) -> None:
    await asyncio.gather(*(migrate.upgrade(database_url) for _ in range(4)))
    assert await migrate.current_revision(database_url) == migrate.head_revision()


async def test_on_postgresql_a_second_instance_that_polls_is_refused(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("on SQLite a second instance is refused before it starts (above)")
    first, second = Database(database_url), Database(database_url)
    try:
        async with leader.sole_poller(first):
            with pytest.raises(AlreadyRunning, match=r"polling Telegram .* --webhook"):
                async with leader.sole_poller(second):
                    pass
        async with leader.sole_poller(second):  # the first stopped polling
            pass
    finally:
        await first.dispose()
        await second.dispose()
