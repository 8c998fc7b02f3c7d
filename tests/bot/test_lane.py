"""The sending lane's pacer on its own, with a clock the test moves: who goes first, and what
counts against Telegram's limits."""

from __future__ import annotations

import asyncio
import contextlib

from bot.lane import Endpoint, Pace, Pacer, Priority, endpoint_kind


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_when_the_second_is_full_a_reply_goes_before_the_broadcast_copies_waiting() -> None:
    clock = Clock()
    pacer = Pacer(Pace(overall_per_second=2), clock=clock)
    order: list[str] = []
    gone = asyncio.Event()

    async def send(name: str, chat: int, priority: Priority) -> None:
        async with pacer.slot(chat, priority=priority):
            order.append(name)
            await gone.wait()

    first = [asyncio.create_task(send(f"copy {n}", n, Priority.BROADCAST)) for n in (1, 2)]
    await _settle()
    assert order == ["copy 1", "copy 2"]  # the second is full now
    waiting = [asyncio.create_task(send(f"copy {n}", n, Priority.BROADCAST)) for n in (3, 4)]
    await _settle()
    waiting.append(asyncio.create_task(send("reply", 9, Priority.REPLY)))
    await _settle()
    assert order == ["copy 1", "copy 2"]

    gone.set()  # both answered; a second later the window has room again
    await asyncio.gather(*first)
    clock.now += 1.5
    pacer.pause(0)  # wakes the pacer at the moved clock
    await _settle()
    assert order == ["copy 1", "copy 2", "reply", "copy 3"]
    clock.now += 1.5
    pacer.pause(0)
    await asyncio.gather(*waiting)
    assert order[-1] == "copy 4"


async def test_a_send_counts_until_a_second_after_its_answer_not_from_when_it_left() -> None:
    clock = Clock()
    pacer = Pacer(Pace(overall_per_second=1), clock=clock)
    answered = asyncio.Event()
    went: list[int] = []

    async def send(chat: int) -> None:
        async with pacer.slot(chat, priority=Priority.NOTICE):
            went.append(chat)
            if chat == 1:
                await answered.wait()

    slow = asyncio.create_task(send(1))
    await _settle()
    clock.now += 5  # long on the way: Telegram may count it only now
    nxt = asyncio.create_task(send(2))
    await _settle()
    assert went == [1]  # still on the way: it holds the second
    answered.set()
    await slow
    clock.now += 0.5
    pacer.pause(0)
    await _settle()
    assert went == [1]  # answered half a second ago
    clock.now += 0.6
    pacer.pause(0)
    await nxt
    assert went == [1, 2]


async def test_one_person_gets_one_message_a_second_and_others_go_meanwhile() -> None:
    clock = Clock()
    pacer = Pacer(Pace(overall_per_second=30, per_chat_seconds=1.0), clock=clock)
    went: list[str] = []

    async def send(name: str, chat: int) -> None:
        async with pacer.slot(chat, priority=Priority.REPLY):
            went.append(name)

    await send("to Sam", 7)
    later = asyncio.create_task(send("to Sam again", 7))
    await _settle()
    await send("to Priya", 8)
    assert went == ["to Sam", "to Priya"]
    clock.now += 1.1
    pacer.pause(0)
    await later
    assert went == ["to Sam", "to Priya", "to Sam again"]


async def test_a_persons_own_answer_does_not_wait_behind_their_queued_notices() -> None:
    clock = Clock()
    pacer = Pacer(Pace(overall_per_second=30, per_chat_seconds=1.0), clock=clock)
    went: list[str] = []

    async def send(name: str, priority: Priority) -> None:
        async with pacer.slot(7, priority=priority):
            went.append(name)

    await send("reminder", Priority.NOTICE)
    queued = [
        asyncio.create_task(send("offer", Priority.NOTICE)),
        asyncio.create_task(send("broadcast copy", Priority.BROADCAST)),
    ]
    await _settle()
    answer = asyncio.create_task(send("answer", Priority.REPLY))
    await _settle()
    for _ in range(3):  # a second at a time, one message each
        clock.now += 1.1
        pacer.pause(0)
        await _settle()
    await asyncio.gather(answer, *queued)
    assert went == ["reminder", "answer", "offer", "broadcast copy"]


async def test_a_cancelled_wait_gives_nothing_away() -> None:
    clock = Clock()
    pacer = Pacer(Pace(overall_per_second=1), clock=clock)
    async with pacer.slot(1, priority=Priority.NOTICE):
        pass
    waiter = asyncio.create_task(pacer.slot(2, priority=Priority.NOTICE).__aenter__())
    await _settle()
    waiter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiter
    assert pacer.waiting == 0


def test_only_messages_and_edits_are_paced() -> None:
    assert endpoint_kind("sendMessage") is Endpoint.MESSAGE
    assert endpoint_kind("sendPhoto") is Endpoint.MESSAGE
    assert endpoint_kind("sendDocument") is Endpoint.MESSAGE
    assert endpoint_kind("copyMessage") is Endpoint.MESSAGE
    assert endpoint_kind("editMessageText") is Endpoint.EDIT
    assert endpoint_kind("editMessageReplyMarkup") is Endpoint.EDIT
    for other in ("answerCallbackQuery", "sendChatAction", "getMe", "deleteMessage"):
        assert endpoint_kind(other) is Endpoint.OTHER


async def test_the_outbox_goes_two_at_a_time_so_a_reply_never_finds_a_second_it_filled() -> None:
    clock = Clock()
    pacer = Pacer(Pace(overall_per_second=30), clock=clock)
    order: list[str] = []

    async def send(name: str, chat: int, priority: Priority) -> None:
        async with pacer.slot(chat, priority=priority):
            order.append(name)

    copies = [asyncio.create_task(send(f"copy {n}", n, Priority.BROADCAST)) for n in range(10)]
    await _settle()
    assert order == ["copy 0", "copy 1"]  # not thirty at once: the second keeps its room
    reply = asyncio.create_task(send("reply", 99, Priority.REPLY))
    await _settle()
    assert order[-1] == "reply"  # a reply is never held back by the outbox's pace
    for _ in range(4):
        clock.now += 2 / (30 * 1.25) + 1e-6  # two more each time, a quarter above the rate
        pacer.pause(0)
        await _settle()
    assert len(order) == 2 + 1 + 8
    await asyncio.gather(reply, *copies)
