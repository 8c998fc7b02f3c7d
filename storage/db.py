"""The database: one async engine, transactions that own their session.

SQLite is the embedded default (WAL so readers never wait for the writer, foreign keys on, a busy
timeout, and every transaction begun IMMEDIATE so two writers queue instead of failing halfway).
PostgreSQL, through asyncpg, runs the same code in production.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Insert, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 5_000
# The file holds names, phone numbers and sealed referrals: only its owner may read it. SQLite
# gives its -wal and -shm files the database file's permissions.
SQLITE_FILE_MODE = 0o600
_READ_ONLY = "lunchbot_read_only"


class Database:
    """The engine and its session factory. Creating one opens no connection."""

    def __init__(self, url: str, *, echo: bool = False, foreign_keys: bool = True) -> None:
        """`foreign_keys=False` is for migrations only: SQLite rebuilds a table to alter it,
        and dropping the old copy with foreign keys on would cascade into its children."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # hide_parameters: a database error's message would otherwise carry the statement's
        # values (names, phone numbers, what people typed) into whatever logs it.
        # pool_pre_ping finds a server connection that dropped; a SQLite file cannot drop, and
        # pinging it costs a round trip to its thread on every transaction.
        self.engine: AsyncEngine = create_async_engine(
            url, echo=echo, pool_pre_ping=not self.is_sqlite, hide_parameters=True
        )
        if self.is_sqlite:
            _tune_sqlite(self.engine, foreign_keys=foreign_keys, path=_sqlite_path(url))
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # A random key that lives only in this process's memory, never written anywhere: failed
        # invite links are counted under a keyed hash of the Telegram id made with it
        # (storage/invites.py), so those rows name nobody, now or after the process has gone.
        self.attempt_key = secrets.token_bytes(32)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A unit of work that only reads. On SQLite its transaction is deferred, so readers
        never queue behind a writer (WAL gives them a consistent snapshot)."""
        async with self.sessions() as session:
            await session.connection(execution_options={_READ_ONLY: True})
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_path(url: str) -> str | None:
    """The database file a SQLite URL names, or None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def _private_file(path: str) -> None:
    """Create the database file readable by its owner only, and tighten one made before."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, SQLITE_FILE_MODE)
    try:
        if os.fstat(descriptor).st_mode & 0o077:
            os.fchmod(descriptor, SQLITE_FILE_MODE)
    finally:
        os.close(descriptor)


def _tune_sqlite(engine: AsyncEngine, *, foreign_keys: bool, path: str | None) -> None:
    @event.listens_for(engine.sync_engine, "do_connect")
    def _before_connect(*_args: Any) -> None:
        # SQLite would create a missing file with the process's umask (usually 0644).
        if path is not None:
            _private_file(path)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted content is overwritten with zeros, not left in free space: a purged key
        # must not survive in the file (storage/keys.py). Set here, never left to how the
        # library was built.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A deferred transaction that later writes can fail with "database is locked" when
        # another writer got in first; taking the write lock up front makes writers queue.
        # Reads (Database.read) need no lock and begin deferred.
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def upsert(
    session: AsyncSession,
    model: type[Any],
    values: dict[str, Any] | list[dict[str, Any]] | None,
    *,
    key: Sequence[str],
    update: Sequence[str] = (),
) -> Insert:
    """INSERT ... ON CONFLICT (key) DO NOTHING, or DO UPDATE of the `update` columns (one row,
    or many): one statement, so two racing writers cannot both insert (PostgreSQL and SQLite).
    `values=None`: the rows are given to `execute` instead (an executemany, for thousands)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model) if values is None else insert(model).values(values)
    if update:
        return statement.on_conflict_do_update(
            index_elements=list(key), set_={name: statement.excluded[name] for name in update}
        )
    return statement.on_conflict_do_nothing(index_elements=list(key))


def rowcount(result: Any) -> int:
    """Rows changed by an UPDATE or DELETE (the async Result type does not declare it)."""
    count = getattr(result, "rowcount", 0)
    return int(count) if count and count > 0 else 0
