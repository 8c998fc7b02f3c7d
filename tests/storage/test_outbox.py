"""The outbox's own rules, against real SQLite and PostgreSQL: a bulk insert counts only what is
new, and single notices are claimed before a broadcast's thousands."""

from __future__ import annotations

from datetime import timedelta

from storage import outbox
from storage.db import Database
from tests.support import Clock

GROUP = -100_777


def _rows(
    clock: Clock, count: int, *, batch: str | None, first: int = 0
) -> list[dict[str, object]]:
    return [
        outbox.row(
            chat_id=GROUP - n,
            person_id=None,
            kind="broadcast" if batch else "milestone",
            payload={},
            dedupe_key=f"{batch or 'single'}:{n}",
            due_at=clock() - timedelta(minutes=5 if batch else 1),
            now=clock(),
            batch=batch,
        )
        for n in range(first, first + count)
    ]


async def test_a_bulk_insert_counts_only_the_new_rows(db: Database, clock: Clock) -> None:
    async with db.transaction() as session:
        assert await outbox.queue_rows(session, _rows(clock, 1200, batch="broadcast:1")) == 1200
    async with db.transaction() as session:
        again = _rows(clock, 1300, batch="broadcast:1", first=1000)  # 200 known, 1100 new
        assert await outbox.queue_rows(session, again) == 1100
    assert sum((await outbox.batch_counts(db, "broadcast:1")).values()) == 2300


async def test_single_notices_go_before_a_broadcast_due_earlier(db: Database, clock: Clock) -> None:
    async with db.transaction() as session:
        await outbox.queue_rows(session, _rows(clock, 50, batch="broadcast:2"))
        await outbox.queue_rows(session, _rows(clock, 2, batch=None))
    first = await outbox.claim_due(db, now=clock(), limit=3, by="one")
    assert [n.kind for n in first] == ["milestone", "milestone", "broadcast"]


async def test_a_pile_of_single_notices_leaves_half_of_each_claim_to_a_broadcast(
    db: Database, clock: Clock
) -> None:
    async with db.transaction() as session:
        await outbox.queue_rows(session, _rows(clock, 30, batch="broadcast:3"))
        await outbox.queue_rows(session, _rows(clock, 30, batch=None))
    claimed = await outbox.claim_due(db, now=clock(), limit=10, by="one")
    assert [n.kind for n in claimed] == ["milestone"] * 5 + ["broadcast"] * 5


async def test_a_heartbeat_keeps_claims_and_a_dead_instances_are_taken_over_after_the_timeout(
    db: Database, clock: Clock
) -> None:
    async with db.transaction() as session:
        await outbox.queue_rows(session, _rows(clock, 4, batch=None))
    alive = await outbox.claim_due(db, now=clock(), limit=2, by="alive")
    dead = await outbox.claim_due(db, now=clock(), limit=2, by="dead")
    assert len(alive) == len(dead) == 2

    # Most of a timeout later: the living instance renews; the dead one cannot.
    clock.advance(seconds=outbox.CLAIM_TIMEOUT.total_seconds() - 1)
    assert await outbox.renew(db, now=clock(), by="alive") == 2
    assert await outbox.claim_due(db, now=clock(), limit=10, by="new") == []

    clock.advance(seconds=2)  # the dead one's claims have gone unrenewed for the whole timeout
    taken = await outbox.claim_due(db, now=clock(), limit=10, by="new")
    assert sorted(n.notice_id for n in taken) == sorted(n.notice_id for n in dead)
    # Were the dead instance only slow, its send would now stop short: the claim is not its own.
    assert not await outbox.still_ours(db, dead[0], now=clock(), by="dead")
    assert await outbox.still_ours(db, taken[0], now=clock(), by="new")
    assert await outbox.still_ours(db, alive[0], now=clock(), by="alive")


async def test_a_lone_instance_at_start_puts_what_was_in_flight_back_at_once(
    db: Database, clock: Clock
) -> None:
    async with db.transaction() as session:
        await outbox.queue_rows(session, _rows(clock, 3, batch=None))
    await outbox.claim_due(db, now=clock(), limit=3, by="last run")
    assert await outbox.resume(db) == 3
    again = await outbox.claim_due(db, now=clock(), limit=3, by="this run")
    assert len(again) == 3
