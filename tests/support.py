"""Test helpers that are not fixtures: a movable clock, fresh databases and invited people."""

from __future__ import annotations

import itertools
import os
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bot.harness import Clock
from storage import invites, locations, people
from storage.db import Database
from storage.models import Role
from storage.people import Registration

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


async def register_by_invite(
    db: Database,
    now: datetime,
    *,
    telegram_id: int,
    name: str,
    role: Role,
    by: int,
    school_name: str | None = None,
) -> Registration:
    """`by` invites a newcomer to `role` (a school contact names their school); they accept."""
    made = await invites.create(
        db,
        actor_telegram_id=by,
        role=role,
        school_name=school_name,
        now=now,
        valid_for=timedelta(days=1),
    )
    return await people.register(
        db,
        telegram_id=telegram_id,
        name=name,
        now=now,
        coordinator_ids=frozenset(),
        invite_hash=invites.hash_token(made.token),
    )


async def promote_to_coordinator(
    db: Database,
    now: datetime,
    telegram_id: int,
    *,
    by: int,
    scope: frozenset[int] | None = None,
    valid_for: timedelta = timedelta(days=1),
) -> int:
    """`by` invites a registered person to be a coordinator, who follows the link; with `scope`
    they are then limited to those locations (a site lead). Returns their person id."""
    invite = await invites.create(
        db, actor_telegram_id=by, role=Role.COORDINATOR, now=now, valid_for=valid_for
    )
    await people.join_by_invite(
        db, telegram_id=telegram_id, invite_hash=invites.hash_token(invite.token), now=now
    )
    profile = await people.profile(db, telegram_id)
    assert profile is not None
    if scope is not None:
        await locations.set_scope(
            db, actor_telegram_id=by, person_id=profile.person_id, location_ids=scope, now=now
        )
    return profile.person_id
