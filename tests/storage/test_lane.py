"""The shared lane's ledger (PostgreSQL only): which sends `lane_grant()` lets go, and how long
it says the others must wait. Two ledgers are two instances."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from storage import migrate
from storage.lane import Ledger, Limits, Request
from tests.support import (
    SKIP_POSTGRES,
    create_postgres_database,
    drop_postgres_database,
    postgres_admin_url,
)

LIMITS = Limits(
    capacity=4,
    span=1.0,
    chat_gap=1.0,
    group_capacity=2,
    group_span=60.0,
    lease=5.0,
    reserve=1,
    recent=30.0,
    smooth=0.0,
    burst=4,
)


def person(n: int, *, reply: bool = False) -> Request:
    return Request(chat=str(n), group=False, reply=reply)


@pytest.fixture
async def ledgers() -> AsyncIterator[tuple[Ledger, Ledger]]:
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip(SKIP_POSTGRES)
    url, name = await create_postgres_database(admin_url)
    first, second = Ledger(url), Ledger(url)
    try:
        await migrate.upgrade(url)
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()
        await drop_postgres_database(admin_url, name)


async def test_the_overall_limit_counts_every_instances_sends_and_edits(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = ledgers
    edit = Request(chat=None, group=False, reply=True)
    assert (await first.grant([person(1), edit], LIMITS)).wait is None
    granted = await second.grant([person(2), person(3), person(4)], LIMITS)

    assert [g is not None for g in granted.ids] == [True, True, False]
    assert granted.wait is not None
    # Those on the way leave a second after their answer: not sooner than a second from now.
    assert 0.9 < granted.wait <= 1.0


async def test_one_chat_gets_one_message_a_second_whichever_instance_sends_it(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = ledgers
    (sent,) = (await first.grant([person(7)], LIMITS)).ids
    assert sent is not None
    await first.answered([(sent, 0.0)])

    held = await second.grant([person(7, reply=True), person(8)], LIMITS)

    assert held.ids[0] is None  # a second after the answer, not before
    assert held.ids[1] is not None  # someone else's message goes meanwhile
    assert held.wait is not None
    assert 0.9 < held.wait <= 1.0


async def test_a_group_gets_its_minutes_share_across_instances(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = ledgers
    group = Request(chat="-100", group=True, reply=False)
    spaced = dataclasses.replace(LIMITS, chat_gap=0.0)
    (one,) = (await first.grant([group], spaced)).ids
    (two,) = (await second.grant([group], spaced)).ids
    assert one is not None
    assert two is not None
    await first.answered([(one, 0.0)])
    await second.answered([(two, 0.0)])

    held = await first.grant([group], spaced)

    assert held.ids == [None]
    assert held.wait is not None
    assert 55 < held.wait <= 60


async def test_a_reply_that_found_the_second_full_keeps_a_slot_from_the_outbox(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = ledgers
    # Nobody wrote yet: the outbox may take the whole second.
    assert None not in (await first.grant([person(n) for n in range(4)], LIMITS)).ids
    assert (await second.grant([person(5, reply=True)], LIMITS)).ids == [None]  # it waits

    # One more slot (a wider second, as if one had freed): a reply's, not the outbox's.
    wider = dataclasses.replace(LIMITS, capacity=5)
    outbox = await first.grant([person(6)], wider)
    reply = await second.grant([person(7, reply=True)], wider)

    assert outbox.ids == [None]
    assert reply.ids[0] is not None


async def test_the_outboxs_sends_are_spread_over_the_second(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    first, _ = ledgers
    smooth = dataclasses.replace(LIMITS, smooth=0.25, burst=2, reserve=0)

    granted = await first.grant([person(1), person(2), person(3, reply=True), person(4)], smooth)

    # Two of the outbox's go in this quarter of a second; a reply is not held back.
    assert [g is not None for g in granted.ids] == [True, True, True, False]
    assert granted.wait is not None
    assert 0.2 < granted.wait <= 0.25


async def test_a_pause_holds_every_instance(ledgers: tuple[Ledger, Ledger]) -> None:
    first, second = ledgers
    await first.pause(3)

    held = await second.grant([person(1, reply=True)], LIMITS)

    assert held.ids == [None]
    assert held.wait is not None
    assert 2.5 < held.wait <= 3


async def test_a_send_whose_answer_never_came_counts_until_its_lease_ends(
    ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = ledgers
    short = dataclasses.replace(LIMITS, capacity=1, reserve=0, lease=0.3)
    assert None not in (await first.grant([person(1)], short)).ids  # and then it died

    held = await second.grant([person(2)], short)

    assert held.ids == [None]
    assert held.wait is not None
    assert held.wait <= 0.3  # its lease ends before a second would
