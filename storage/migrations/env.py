"""Alembic's entry point. The bot passes its own connection (see storage/migrate.py); the
alembic command line, used by developers to write migrations, gets a URL with `-x url=...`."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite alters a table by rebuilding it; batch mode writes migrations that way.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    database = Database(url, foreign_keys=False)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await database.dispose()


_connection = context.config.attributes.get("connection")
if _connection is not None:
    _run(_connection)
else:
    _url = context.get_x_argument(as_dictionary=True).get("url")
    if not _url:
        raise SystemExit("give the database with: alembic -x url=sqlite:///file.sqlite3 ...")
    asyncio.run(_run_from_url(_url.replace("sqlite://", "sqlite+aiosqlite://", 1)))
