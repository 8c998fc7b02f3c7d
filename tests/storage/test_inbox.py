"""The inbox's rules, against real SQLite and PostgreSQL: a repeated delivery is stored once,
each chat's updates are handed over one at a time and in order while other chats' go alongside,
several drainers never take the same update, and a restart hands over what was in hand."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from storage import inbox
from storage.db import Database
from storage.models import InboxStatus
from tests.support import Clock

ANN, BEN = 5001, 5002


def message(update_id: int, chat_id: int, text: str = "hi") -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {"message_id": update_id, "chat": {"id": chat_id}, "text": text},
    }


def tap(update_id: int, user_id: int, chat_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": {"id": user_id},
            "message": {"message_id": 1, "chat": {"id": chat_id}},
            "data": "x",
        },
    }


def received(*updates: dict[str, Any]) -> list[inbox.Received]:
    described = [inbox.describe(u) for u in updates]
    assert all(d is not None for d in described)
    return [d for d in described if d is not None]


def test_an_update_belongs_to_its_chat() -> None:
    assert inbox.describe(message(7, ANN)) == inbox.Received(
        update_id=7, chat_key=ANN, kind="message", payload=message(7, ANN)
    )
    described = inbox.describe(tap(8, BEN, -100))
    assert described is not None
    assert (described.kind, described.chat_key) == ("callback_query", -100)
    inline = inbox.describe({"update_id": 9, "inline_query": {"id": "1", "from": {"id": BEN}}})
    assert inline is not None
    assert inline.chat_key == BEN
    assert inbox.describe({"message": {}}) is None
    assert inbox.describe({"update_id": True}) is None


async def test_a_repeated_delivery_is_stored_once(db: Database, clock: Clock) -> None:
    assert await inbox.store(db, received(message(1, ANN), message(2, BEN)), now=clock()) == 2
    assert await inbox.store(db, received(message(2, BEN), message(3, ANN)), now=clock()) == 1
    assert await inbox.statuses(db) == {
        1: InboxStatus.PENDING,
        2: InboxStatus.PENDING,
        3: InboxStatus.PENDING,
    }


async def test_each_chat_in_order_and_chats_alongside(db: Database, clock: Clock) -> None:
    await inbox.store(
        db,
        received(message(10, ANN, "a1"), message(11, BEN, "b1"), message(12, ANN, "a2")),
        now=clock(),
    )
    await inbox.store(db, received(message(13, BEN, "b2")), now=clock())
    first = await inbox.claim(db, now=clock(), limit=10)
    # The oldest of each chat; the rest wait for them.
    assert [r.update_id for r in first] == [10, 11]
    assert await inbox.claim(db, now=clock(), limit=10) == []
    await inbox.finish(db, 11, now=clock())
    assert [r.update_id for r in await inbox.claim(db, now=clock(), limit=10)] == [13]
    await inbox.finish(db, 10, now=clock(), failed=True)  # a failed one does not hold Ann up
    assert [r.update_id for r in await inbox.claim(db, now=clock(), limit=10)] == [12]
    assert (await inbox.backlog(db)).waiting == 2  # 12 and 13, being handled


async def test_a_busy_chat_is_skipped_and_the_limit_holds(db: Database, clock: Clock) -> None:
    await inbox.store(db, received(*(message(20 + n, 6000 + n) for n in range(5))), now=clock())
    assert [r.update_id for r in await inbox.claim(db, now=clock(), limit=2)] == [20, 21]
    busy = frozenset({6002})
    assert [r.update_id for r in await inbox.claim(db, now=clock(), limit=5, busy=busy)] == [
        23,
        24,
    ]


async def test_drainers_side_by_side_never_take_the_same_update(db: Database, clock: Clock) -> None:
    updates = [message(100 + n, 7000 + n % 40, f"m{n}") for n in range(400)]
    await inbox.store(db, received(*updates), now=clock())
    taken: list[int] = []
    order: dict[int, list[int]] = {}

    async def drainer() -> None:
        while True:
            claimed = await inbox.claim(db, now=clock(), limit=7)
            if not claimed:
                if (await inbox.backlog(db)).waiting == 0:
                    return
                await asyncio.sleep(0)
                continue
            for r in claimed:
                taken.append(r.update_id)
                order.setdefault(r.chat_key, []).append(r.update_id)
                await inbox.finish(db, r.update_id, now=clock())

    await asyncio.gather(*(drainer() for _ in range(4)))
    assert sorted(taken) == [u["update_id"] for u in updates]
    assert all(ids == sorted(ids) for ids in order.values())


async def test_a_restart_hands_over_what_was_in_hand(db: Database, clock: Clock) -> None:
    await inbox.store(db, received(message(30, ANN), message(31, ANN)), now=clock())
    assert [r.update_id for r in await inbox.claim(db, now=clock(), limit=5)] == [30]
    # The process dies here; the next start resumes update 30 before 31.
    assert await inbox.resume(db) == 1
    assert [r.update_id for r in await inbox.claim(db, now=clock(), limit=5)] == [30]
    # Another instance's claim that has gone quiet for too long is taken over.
    clock.advance(seconds=inbox.CLAIM_TIMEOUT.total_seconds() + 1)
    assert [r.update_id for r in await inbox.claim(db, now=clock(), limit=5)] == [30]


async def test_handled_updates_are_deleted_after_a_day(db: Database, clock: Clock) -> None:
    await inbox.store(db, received(message(40, ANN), message(41, BEN)), now=clock())
    await inbox.claim(db, now=clock(), limit=5)
    await inbox.finish(db, 40, now=clock())
    clock.advance(hours=23)
    assert await inbox.purge(db, now=clock()) == 0
    clock.advance(hours=2)
    assert await inbox.purge(db, now=clock()) == 1
    # What is not finished is never deleted.
    assert await inbox.statuses(db) == {41: InboxStatus.HANDLING}
    backlog = await inbox.backlog(db)
    assert backlog.waiting == 1
    assert backlog.oldest_received_at == clock() - timedelta(hours=25)


async def test_a_renewed_claim_stays_with_its_instance(db: Database, clock: Clock) -> None:
    await inbox.store(db, received(message(50, ANN)), now=clock())
    assert [r.update_id for r in await inbox.claim(db, now=clock(), limit=5)] == [50]
    for _ in range(4):  # a long handler, its claim renewed by the heartbeat
        clock.advance(seconds=inbox.HEARTBEAT.total_seconds())
        assert await inbox.renew(db, [50], now=clock()) == 1
        assert await inbox.claim(db, now=clock(), limit=5) == []
    # The instance dies: once the claim has not been renewed for CLAIM_TIMEOUT, another takes it.
    clock.advance(seconds=inbox.CLAIM_TIMEOUT.total_seconds() - 1)
    assert await inbox.claim(db, now=clock(), limit=5) == []
    clock.advance(seconds=2)
    assert [r.update_id for r in await inbox.claim(db, now=clock(), limit=5)] == [50]
