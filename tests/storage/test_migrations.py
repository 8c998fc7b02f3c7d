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


async def test_placements_made_before_sessions_were_named_are_linked_to_their_lunches(
    database_url: str,
) -> None:
    """0006: a family placed Tue & Thu 28 Jul-27 Aug at a location with lunch on Tue 28 and
    Wed 29 July is linked to the Tuesday's lunch only (no lunch runs on its other days)."""
    await migrate.upgrade(database_url, "0005")
    database = Database(database_url)
    at = "2026-06-01 09:00:00"
    try:
        async with database.transaction() as session:
            for statement in (
                f"INSERT INTO schools (id, name, created_at) VALUES (1, 'Hillside', '{at}')",
                "INSERT INTO locations (id, name, address, notes, daily_child_capacity, "
                f"created_at) VALUES (1, 'St Mark''s', '', '', 0, '{at}')",
                "INSERT INTO lunch_sessions (id, location_id, starts_at, ends_at, status, "
                "created_at) VALUES (1, 1, '2026-07-28 10:30:00', '2026-07-28 12:30:00', "
                f"'scheduled', '{at}'), (2, 1, '2026-07-29 10:30:00', '2026-07-29 12:30:00', "
                f"'scheduled', '{at}')",
                "INSERT INTO referrals (id, school_id, reference, children, age_bands, "
                "preferred_location_ids, first_day, last_day, weekdays, consent, status, "
                "location_id, placed_from, placed_to, placed_weekdays, version, created_at) "
                "VALUES (1, 1, 'HS-014', 2, '[\"Year 2\", \"Year 5\"]', '[]', '2026-07-28', "
                "'2026-08-27', '[1, 3]', true, 'placed', 1, '2026-07-28', '2026-08-27', "
                f"'[1, 3]', 1, '{at}')",
            ):
                await session.execute(text(statement))
    finally:
        await database.dispose()
    await migrate.upgrade(database_url)
    database = Database(database_url)
    try:
        async with database.read() as session:
            rows = (
                await session.execute(
                    text("SELECT referral_id, session_id, day FROM placement_days")
                )
            ).all()
    finally:
        await database.dispose()
    assert [(r, s, str(d)) for r, s, d in rows] == [(1, 1, "2026-07-28")]
