"""Applying the Alembic migrations from inside the bot (start-up and `lunchbot db upgrade`)."""

from __future__ import annotations

from pathlib import Path

import asyncpg  # type: ignore[import-untyped]  # (no stubs; only its exceptions are used)
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError

from storage.db import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# An application-chosen 64-bit key ("lunchmig") for PostgreSQL's advisory lock.
MIGRATION_LOCK = 0x6C75_6E63_686D_6967
REASON_MAX = 200


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


class DatabaseUnavailable(Exception):
    """The database could not be opened or migrated; the message names it without password."""


async def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`; a database that cannot be reached raises
    DatabaseUnavailable with one line fit for the person running the bot."""
    try:
        await _run(url, lambda conn: command.upgrade(_alembic_config(conn), revision))
    except (SQLAlchemyError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        where = make_url(url).render_as_string(hide_password=True)
        raise DatabaseUnavailable(f"could not open the database {where}: {_why(exc, url)}") from exc


def _why(exc: BaseException, url: str) -> str:
    """One line: what is missing on the server and the command that makes it."""
    cause: BaseException = getattr(exc, "orig", None) or exc
    # SQLAlchemy wraps the driver's error once more ("<class 'asyncpg...'>: ..."): unwrap it.
    if isinstance(cause.__cause__, asyncpg.PostgresError):
        cause = cause.__cause__
    address = make_url(url)
    host, port = address.host, address.port
    user, name = address.username or "postgres", address.database or ""
    # The commands a PostgreSQL superuser (conventionally "postgres") runs on that server.
    server = (f" -h {host}" if host else "") + (f" -p {port}" if port else "") + " -U postgres"
    if isinstance(cause, asyncpg.InvalidCatalogNameError):
        owner = f" -O {user}" if user != "postgres" else ""
        return f'database "{name}" does not exist: create it with createdb{server}{owner} {name}'
    if isinstance(cause, asyncpg.InvalidAuthorizationSpecificationError) and "role" in str(cause):
        prompt = " --pwprompt" if address.password else ""
        return f'role "{user}" does not exist: create it with createuser{server}{prompt} {user}'
    if isinstance(cause, asyncpg.InsufficientPrivilegeError):
        return (
            f'role "{user}" may not create the tables ({cause}): make it the database\'s owner '
            f'with psql{server} -c \'ALTER DATABASE "{name}" OWNER TO "{user}"\''
        )
    if isinstance(cause, asyncpg.InvalidPasswordError):
        return f'the password of role "{user}" was refused: check the password in the URL'
    if isinstance(cause, ConnectionRefusedError) or "Connect call failed" in str(cause):
        return f"nothing answers at {host}:{port or 5432}: is PostgreSQL running there?"
    return (str(cause).splitlines() or [type(cause).__name__])[0][:REASON_MAX]


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


async def revision_of(database: Database) -> str | None:
    """The revision a database is at, through its own engine (a readiness check)."""
    async with database.engine.connect() as connection:
        return await connection.run_sync(
            lambda conn: MigrationContext.configure(conn).get_current_revision()
        )


def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


async def _run(url: str, step: object) -> None:
    # A connection of its own with foreign keys off on SQLite (see Database), committed whole.
    # On PostgreSQL, instances starting together take turns: the first migrates, the others
    # wait for it and then find nothing to do. (SQLite has one writer at a time anyway.)
    database = Database(url, foreign_keys=False)
    try:
        async with database.engine.begin() as connection:
            if not database.is_sqlite:
                await connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
            await connection.run_sync(step)  # type: ignore[arg-type]
    finally:
        await database.dispose()
