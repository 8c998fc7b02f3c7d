"""A copy of the SQLite database, taken while the bot runs.

SQLite's online backup API copies the pages as they are at one moment, even while the bot
writes: a plain file copy of a database in WAL mode can miss what is still in the -wal file, or
catch a page half-written. PostgreSQL has pg_dump for this (the README's production guide).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.db import SQLITE_FILE_MODE


class BackupRefused(Exception):
    """The backup cannot be made; the message says why and what to do (one line)."""


def backup_sqlite(url: str, target: Path) -> int:
    """Copy the SQLite database at `url` to `target`, a new file readable by its owner only
    (never one that exists: a backup is not overwritten by mistake). Returns its size."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        raise BackupRefused(
            "the database is PostgreSQL: back it up with pg_dump, for example "
            f"pg_dump -Fc -h {parsed.host or 'localhost'} -U {parsed.username or 'postgres'} "
            f"{parsed.database or 'lunchbot'} > lunchbot.dump"
        )
    source = parsed.database
    if not source or source == ":memory:" or not Path(source).is_file():
        raise BackupRefused(f"{source or 'the database'}: no such database file to back up")
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SQLITE_FILE_MODE)
    except FileExistsError:
        raise BackupRefused(f"{target} already exists: name a new file") from None
    except OSError as exc:
        raise BackupRefused(f"{target}: cannot be written ({exc.strerror})") from None
    os.close(descriptor)
    reading, writing = sqlite3.connect(source), sqlite3.connect(target)
    try:
        reading.backup(writing)
    finally:
        writing.close()
        reading.close()
    return target.stat().st_size
