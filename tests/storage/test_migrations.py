"""Migrations: every step goes up, down and up again, and the result matches the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage import migrate
from storage.db import Database
from storage.models import Base


def _revisions() -> list[str]:
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def test_every_migration_upgrades_downgrades_and_upgrades_again(database_url: str) -> None:
    previous = "base"
    for revision in _revisions():
        await migrate.upgrade(database_url, revision)
        await migrate.downgrade(database_url, previous)
        await migrate.upgrade(database_url, revision)
        assert await migrate.current_revision(database_url) == revision
        previous = revision
    assert previous == migrate.head_revision()


async def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    await migrate.upgrade(database_url)
    database = Database(database_url)

    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    try:
        async with database.engine.connect() as connection:
            diff = await connection.run_sync(differences)
    finally:
        await database.dispose()
    assert diff == []


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(db: Database) -> None:
    if not db.is_sqlite:
        return
    async with db.transaction() as session:
        journal = await session.scalar(text("PRAGMA journal_mode"))
        foreign_keys = await session.scalar(text("PRAGMA foreign_keys"))
        busy = await session.scalar(text("PRAGMA busy_timeout"))
    assert (journal, foreign_keys, busy) == ("wal", 1, 5000)
