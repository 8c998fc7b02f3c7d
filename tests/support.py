"""Test helpers that are not fixtures: a movable clock and fresh databases."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bot.harness import Clock

__all__ = ["Clock"]

POSTGRES_ENV = "LUNCHBOT_TEST_POSTGRES_URL"
SKIP_POSTGRES = f"{POSTGRES_ENV} is not set: the PostgreSQL variant is skipped (.ci/run sets it)"
_counter = itertools.count()


def sqlite_url(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'lunchbot.sqlite3'}"


def postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


async def create_postgres_database(admin_url: str) -> tuple[str, str]:
    """A new, empty database on the test server: (its asyncpg URL, its name)."""
    name = f"lunchbot_test_{os.getpid()}_{next(_counter)}"
    connection = await asyncpg.connect(_plain(admin_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False), name


async def drop_postgres_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(_plain(admin_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
