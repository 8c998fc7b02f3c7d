"""Applying the Alembic migrations from inside the bot (start-up and `lunchbot db upgrade`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.db import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    await _run(url, lambda conn: command.upgrade(_alembic_config(conn), revision))


async def downgrade(url: str, revision: str) -> None:
    await _run(url, lambda conn: command.downgrade(_alembic_config(conn), revision))


async def current_revision(url: str) -> str | None:
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            return await connection.run_sync(
                lambda conn: MigrationContext.configure(conn).get_current_revision()
            )
    finally:
        await database.dispose()


def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


async def _run(url: str, step: object) -> None:
    # A connection of its own with foreign keys off on SQLite (see Database), committed whole.
    database = Database(url, foreign_keys=False)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(step)  # type: ignore[arg-type]
    finally:
        await database.dispose()
