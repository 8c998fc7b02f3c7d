"""Data keys: what makes a purge final.

Each referral's sealed details (needs, note, a decline's reason) are sealed with a random key
of its own, its data key. The data key is kept in `data_keys`, itself sealed ("wrapped") by
the programme's key from the environment. A half-filled referral form has its data key from
the first answer on, and the referral takes it over when it is sent, so the form's answers
and the referral share one key.

At purge the sealed fields are cleared and the data key row is deleted. Old copies of the
sealed fields may survive anywhere (PostgreSQL's dead row versions, SQLite's WAL, a backup):
without the data key none of them opens. The data key itself must not survive either, so
after a purge `erase_destroyed` makes the engine drop the deleted key rows physically:

- SQLite: every connection runs with `PRAGMA secure_delete=ON` (storage/db.py), which zeroes
  deleted content in the database file, and the WAL is checkpointed and truncated, so its
  older page images are gone too.
- PostgreSQL: `VACUUM FULL data_keys` rewrites the (small) table into a new file holding only
  live rows; the old file is deleted. A plain VACUUM would only mark the dead rows' space free.
  VACUUM FULL still copies a deleted row some older snapshot could see, so it waits first
  until no transaction or snapshot from before the delete is left (_outlive_older_snapshots).

What neither engine can erase: copies outside the database files (a backup or WAL archive
taken before the purge; PostgreSQL's WAL segments until they are recycled). Those still hold
the wrapped key, which the programme key opens; so backups must not outlive the retention
period, or the programme key must be rotated (`lunchbot keys rotate`) and the old one dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.crypto import Cipher, SealError, new_key
from storage.db import Database, upsert
from storage.models import DataKey, Draft, Referral

logger = logging.getLogger(__name__)

# A form's key is made as the form starts, a moment before its draft is saved: a key this
# young without a draft is not an orphan yet.
ORPHAN_AFTER = timedelta(hours=1)
# How long the purge waits for sessions holding a snapshot from before it (see
# _outlive_older_snapshots), and how often it looks.
SNAPSHOT_WAIT_SECONDS = 60.0
SNAPSHOT_POLL_SECONDS = 0.2


async def create(session: AsyncSession, cipher: Cipher, now: datetime) -> tuple[int, Cipher]:
    """A new data key, wrapped by the programme key: (its id, a cipher that seals with it)."""
    raw = new_key()
    wrapped = cipher.seal(raw)
    assert wrapped is not None
    key = DataKey(wrapped=wrapped, created_at=now)
    session.add(key)
    await session.flush()
    return key.id, cipher.sealing_with(raw)


async def for_form(
    session: AsyncSession, cipher: Cipher, *, telegram_id: int, now: datetime
) -> tuple[int, Cipher]:
    """The data key of the referral form this person is filling in, made on first use."""
    raw = new_key()
    wrapped = cipher.seal(raw)
    await session.execute(
        upsert(
            session,
            DataKey,
            {"wrapped": wrapped, "form_of": telegram_id, "created_at": now},
            key=["form_of"],
        )
    )
    key = (await session.scalars(select(DataKey).where(DataKey.form_of == telegram_id))).one()
    return key.id, _unwrapped(cipher, key)


async def take_form_key(
    session: AsyncSession, cipher: Cipher, *, telegram_id: int, now: datetime
) -> tuple[int, Cipher]:
    """The form's key, handed to the referral being sent from it (or a new key, for a
    referral made without the form)."""
    key = (
        await session.scalars(
            select(DataKey).where(DataKey.form_of == telegram_id).with_for_update()
        )
    ).one_or_none()
    if key is None:
        return await create(session, cipher, now)
    key.form_of = None
    return key.id, _unwrapped(cipher, key)


async def of_referrals(
    session: AsyncSession, cipher: Cipher, referrals: Iterable[Referral]
) -> dict[int, Cipher]:
    """For each referral (by id), the cipher that opens its sealed fields: its data key, or
    the programme key for details sealed before data keys."""
    rows = list(referrals)
    wanted = {r.key_id for r in rows if r.key_id is not None}
    found = (
        {k.id: k for k in (await session.scalars(select(DataKey).where(DataKey.id.in_(wanted))))}
        if wanted
        else {}
    )
    result = {}
    for referral in rows:
        if referral.key_id is None:
            result[referral.id] = cipher
        elif referral.key_id in found:
            result[referral.id] = _unwrapped(cipher, found[referral.key_id])
        else:
            raise SealError("the referral's data key is gone")
    return result


async def of_referral(session: AsyncSession, cipher: Cipher, referral: Referral) -> Cipher:
    return (await of_referrals(session, cipher, [referral]))[referral.id]


async def destroy(session: AsyncSession, key_ids: Iterable[int]) -> int:
    ids = sorted(set(key_ids))
    if not ids:
        return 0
    await session.execute(delete(DataKey).where(DataKey.id.in_(ids)))
    return len(ids)


async def orphans(session: AsyncSession, now: datetime, form_flow: str) -> list[int]:
    """Keys nothing uses any more: no referral holds them, and no form is being filled in by
    the person a form key was made for (a form cancelled or forgotten)."""
    used = select(Referral.key_id).where(Referral.key_id.is_not(None))
    filling = select(Draft.telegram_id).where(Draft.flow == form_flow, Draft.awaiting.is_not(None))
    query = select(DataKey.id).where(
        DataKey.id.not_in(used),
        DataKey.created_at < now - ORPHAN_AFTER,
        (DataKey.form_of.is_(None)) | DataKey.form_of.not_in(filling),
    )
    return list((await session.scalars(query)).all())


async def rewrap_all(session: AsyncSession, cipher: Cipher) -> int:
    """Wrap every data key again with the first programme key (after adding a new one)."""
    rows = (await session.scalars(select(DataKey))).all()
    for key in rows:
        resealed = cipher.reseal(key.wrapped)
        assert resealed is not None
        key.wrapped = resealed
    return len(rows)


async def mark(session: AsyncSession) -> int | None:
    """Inside the transaction that deletes keys, on PostgreSQL: its transaction id, for
    `erase_destroyed` to wait until no snapshot older than it is left."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return int(await session.scalar(text("SELECT txid_current()")) or 0)


async def erase_destroyed(db: Database, *, deleted_by: int | None = None) -> None:
    """Make the engine drop deleted key rows (and older page images) for good; run after the
    transaction that deleted them (`deleted_by`, from `mark`) has committed. Cheap (the key
    table is small), so every purge runs it: one that could not finish is finished by the
    next. See the module's notes for what it covers."""
    if db.is_sqlite:
        # Outside any transaction (SQLAlchemy would begin one), on the driver itself.
        async with db.engine.connect() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            assert raw is not None
            cursor = await raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = (await cursor.fetchone() or (0,))[0]
            await cursor.close()
        if busy:
            # A reader still holds an older snapshot; the next purge run truncates the WAL.
            logger.warning("the WAL could not be truncated after a purge: a reader was busy")
        return
    async with db.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        if deleted_by is not None:
            await _outlive_older_snapshots(autocommit, deleted_by)
        file = text("SELECT pg_relation_filenode('data_keys')")
        before = await autocommit.scalar(file)
        await autocommit.execute(text("VACUUM FULL data_keys"))
        if await autocommit.scalar(file) == before:
            # VACUUM skips, with only a warning, a table the user does not own.
            logger.error(
                "data_keys was not rewritten after a purge: the database user the bot connects "
                "as must own it (purged keys stay in its file until it is)"
            )


async def _outlive_older_snapshots(connection: AsyncConnection, deleted_by: int) -> None:
    """VACUUM FULL keeps a deleted row that some snapshot could still see. Its horizon is held
    back by any transaction still running that began before the delete, in any database of
    the server (every new snapshot, VACUUM's own included, then starts from it), and by any
    snapshot taken before the delete in this database (an autovacuum's ANALYZE, a long
    report). Wait, a little, until neither is left; after that no new snapshot can be older."""
    older = text(
        "SELECT txid_snapshot_xmin(txid_current_snapshot()) <= :deleted_by OR EXISTS ("
        " SELECT 1 FROM pg_stat_activity"
        " WHERE (datname = current_database() OR datname IS NULL)"
        " AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL"
        # backend_xmin at or before the deleting transaction (both ages count back from the
        # same next transaction id).
        " AND age(backend_xmin) >= age((:deleted_by % 4294967296)::text::xid))"
    )
    waited = 0.0
    while await connection.scalar(older, {"deleted_by": deleted_by}):
        if waited >= SNAPSHOT_WAIT_SECONDS:
            logger.warning(
                "a session kept an old snapshot for %ss: purged keys may stay in data_keys "
                "until the next purge run",
                SNAPSHOT_WAIT_SECONDS,
            )
            return
        await asyncio.sleep(SNAPSHOT_POLL_SECONDS)
        waited += SNAPSHOT_POLL_SECONDS


def _unwrapped(cipher: Cipher, key: DataKey) -> Cipher:
    raw = cipher.open(key.wrapped)
    assert raw is not None
    return cipher.sealing_with(raw)
