"""Several instances on one PostgreSQL database, for real: three `lunchbot run --webhook`
processes behind a reverse proxy (the sandbox delivers updates to them in turn), and the one that
runs the clock is killed with SIGKILL in the middle of a broadcast and a burst of taps.

What must hold: another instance takes the clock over; every update is answered, and only the
ones in hand at the kill can be answered twice; every person gets one copy of the broadcast, and
only those in flight at the kill can get two; the digest goes out once; no second at Telegram
holds more than its limit across the three.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from bot.delivery import CONCURRENT_SENDS
from bot.sandbox import ApiCall, BotApiSandbox, RateLimits, SimUser
from bot.updates import DEFAULT_CONCURRENCY
from handlers import callbacks
from handlers.volunteer import BookJob
from storage import inbox, migrate, outbox, people
from storage.db import Database
from storage.models import Booking, InboxStatus, NoticeStatus
from tests.conftest import RACHEL
from tests.e2e.processes import BotProcess, eventually, free_port, until, write_config
from tests.e2e.test_delivery import busiest_second
from tests.e2e.test_no_update_lost import seed
from tests.support import (
    SKIP_POSTGRES,
    create_postgres_database,
    drop_postgres_database,
    postgres_admin_url,
)

SECRET = "a-webhook-secret_for-tests"
INSTANCES = 3
TELEGRAM = RateLimits(overall_per_second=30, per_chat_per_second=1, per_group_per_minute=20)
AUDIENCE = range(20_001, 20_301)  # 300 people: ten seconds of broadcast at Telegram's 30/s
TAPPERS = range(3001, 3013)  # the volunteers `seed` registers, with a place each to book
GROUP = -100_500
WORDS = "Lunch is on at every site tomorrow, 11:30 to 13:30. Thank you all!"
LONDON = ZoneInfo("Europe/London")
HELP = "What you can do"


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip(SKIP_POSTGRES)
    url, name = await create_postgres_database(admin_url)
    try:
        yield url
    finally:
        await drop_postgres_database(admin_url, name)


class Programme:
    """The three instances, the sandbox in front of them, and the database they share."""

    def __init__(self, sandbox: BotApiSandbox, folder: Path, database_url: str) -> None:
        self.sandbox = sandbox
        self.ports = [free_port() for _ in range(INSTANCES)]
        # The digest was due two minutes ago: the first instance to run the clock sends it.
        due = datetime.now(UTC).astimezone(LONDON) - timedelta(minutes=2)
        celebrations = (
            f"\n[celebrations]\nchats = [{GROUP}]\n"
            f'digest_day = "{due.strftime("%A").lower()}"\ndigest_at = "{due:%H:%M}"\n'
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LUNCHBOT_", "TELEGRAM"))}
        env |= {"TELEGRAM_BOT_TOKEN": sandbox.token, "LUNCHBOT_WEBHOOK_SECRET": SECRET}
        self.bots = []
        for number, port in enumerate(self.ports, start=1):
            home = folder / f"instance-{number}"
            home.mkdir()
            write_config(
                home,
                sandbox=sandbox,
                database_url=database_url,
                port=port,
                webhook_port=self.ports[0],  # the proxy's public address, the same for all
                more=celebrations,
            )
            self.bots.append(BotProcess(home, webhook=True, env=env))
        sandbox.route_webhook([f"http://127.0.0.1:{port}/telegram" for port in self.ports])

    async def start(self) -> None:
        for bot in self.bots:
            await bot.start()
        async with httpx.AsyncClient() as client:
            for bot, port in zip(self.bots, self.ports, strict=True):
                await eventually(lambda p=port: _ready(client, p), "every instance ready", bot)

    async def clock_holders(self) -> list[int]:
        """The instances (by index) whose /metrics say they run the clock now."""
        holders = []
        async with httpx.AsyncClient() as client:
            for index, (bot, port) in enumerate(zip(self.bots, self.ports, strict=True)):
                if bot.process is None or bot.process.returncode is not None:
                    continue
                figures = await client.get(f"http://127.0.0.1:{port}/metrics")
                if "lunchbot_clock_holder 1.0" in figures.text:
                    holders.append(index)
        return holders

    async def stop(self) -> None:
        for bot in self.bots:
            await bot.stop()

    def log(self) -> str:
        return "\n".join(bot.log() for bot in self.bots)


async def _ready(client: httpx.AsyncClient, port: int) -> bool:
    try:
        return (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


async def _answered(user: SimUser, label: str, bot: BotProcess) -> None:
    await until(lambda: any(label in m.labels() for m in user.bot_messages[-2:]), label, bot)


def _help(user: SimUser) -> int | None:
    """The bot's answer to /help (its buttons are what the volunteer taps), if it came."""
    return next((m.message_id for m in user.bot_messages if HELP in m.text), None)


def _copies(calls: list[ApiCall]) -> Counter[int]:
    return Counter(
        c.chat_id
        for c in calls
        if c.method == "sendMessage" and c.ok and c.chat_id != RACHEL and WORDS in c.params["text"]
    )


async def test_three_instances_survive_the_death_of_the_one_that_runs_the_clock(
    postgres_url: str, tmp_path: Path
) -> None:
    await migrate.upgrade(postgres_url)
    db = Database(postgres_url)
    job_id = await seed(db)
    now = datetime.now(UTC)
    for telegram_id in AUDIENCE:
        await people.register(
            db,
            telegram_id=telegram_id,
            name=f"P{telegram_id}",
            now=now,
            coordinator_ids=frozenset(),
        )
    book = callbacks.encode(BookJob(job_id=job_id, waitlist=False))
    async with BotApiSandbox(limits=TELEGRAM) as sandbox:
        group = sandbox.group(GROUP, "Lunch volunteers")
        audience = [sandbox.user(i, f"P{i}") for i in AUDIENCE]
        tappers = [sandbox.user(i, f"V{i}") for i in TAPPERS]
        programme = Programme(sandbox, tmp_path, postgres_url)
        first = programme.bots[0]
        try:
            await programme.start()
            await until(lambda: sandbox.webhook_url is not None, "setWebhook", first)
            holders = await programme.clock_holders()
            assert len(holders) == 1, programme.log()[-4000:]
            holder = programme.bots[holders[0]]

            # Rachel broadcasts to everyone, through whichever instances her updates reach.
            rachel = sandbox.user(RACHEL, "Rachel")
            await rachel.send("/broadcast")
            await _answered(rachel, "All volunteers", first)
            await rachel.tap("All volunteers")
            await until(lambda: len(rachel.bot_messages) >= 2, "the words asked for", first)
            await rachel.send(WORDS)
            everyone = len(AUDIENCE) + len(TAPPERS)
            send = f"📣 Send to {everyone:,} people"
            await _answered(rachel, send, first)
            await rachel.tap(send)
            await until(
                lambda: len(_copies(sandbox.calls)) >= 60, "the broadcast under way", holder
            )

            # The burst: each volunteer asks for help and books, twice over; the clock's holder
            # dies in the middle of it.
            sent = [await user.send("/help") for user in tappers]
            await until(lambda: all(map(_help, tappers)), "answers to /help", first)
            helped = {user.id: _help(user) for user in tappers}  # Book turns it into a card
            sent += [await user.tap_data(book, message_id=helped[user.id]) for user in tappers]
            holder.kill()
            await holder.wait()
            copies_at_kill = len(_copies(sandbox.calls))
            sent += [await user.tap_data(book, message_id=helped[user.id]) for user in tappers]

            # Another takes the clock over, and everything is finished.
            await eventually(
                lambda: _one_new_holder(programme, holders[0]), "a new clock holder", first
            )
            await eventually(lambda: _all_handled(db, sent), "every update handled", first)
            await eventually(lambda: _all_sent(db), "the broadcast and the digest sent", first)
            await until(lambda: all(u.callback_answers for u in tappers), "taps answered", first)
            calls = sandbox.calls
        finally:
            await programme.stop()

    try:
        # The kill came in the middle of the broadcast.
        assert copies_at_kill < len(AUDIENCE) + len(TAPPERS)
        # Every person got the broadcast; only those in flight at the kill could get two.
        copies = _copies(calls)
        assert set(copies) == set(AUDIENCE) | set(TAPPERS)
        assert sum(n - 1 for n in copies.values()) <= CONCURRENT_SENDS
        # Every update answered; only those in hand at the kill could be answered twice.
        helps = Counter(
            c.chat_id for c in calls if c.method == "sendMessage" and HELP in c.params["text"]
        )
        assert all(helps[u.id] >= 1 for u in tappers), helps
        assert sum(n - 1 for n in helps.values()) <= DEFAULT_CONCURRENCY
        answers = sum(len(u.callback_answers) for u in tappers)
        assert 2 * len(tappers) <= answers <= 2 * len(tappers) + DEFAULT_CONCURRENCY
        async with db.read() as session:
            places = (
                await session.execute(
                    select(Booking.person_id, func.count())
                    .where(Booking.job_id == job_id)
                    .group_by(Booking.person_id)
                )
            ).all()
        assert len(places) == len(tappers)
        assert {count for _, count in places} == {1}  # two taps each, one place each
        # The digest went out once, in the group (and once to Rachel).
        assert len([m for m in group.bot_messages if "the week to" in m.text]) == 1
        # No second over Telegram's limit across the three, and no 429 at all.
        sends = [c for c in calls if c.ok and c.method.startswith("send")]
        assert busiest_second(sends) <= TELEGRAM.overall_per_second
        assert [c for c in calls if c.error_code == 429] == []
        assert WORDS in audience[0].bot_messages[-1].text
    finally:
        await db.dispose()


async def _one_new_holder(programme: Programme, old: int) -> bool:
    holders = await programme.clock_holders()
    return len(holders) == 1 and holders[0] != old


async def _all_handled(db: Database, sent: list[int]) -> bool:
    stored = await inbox.statuses(db)
    return all(stored.get(u) == InboxStatus.HANDLED for u in sent)


async def _all_sent(db: Database) -> bool:
    counts = await outbox.counts(db)
    return not counts.get(NoticeStatus.PENDING) and not counts.get(NoticeStatus.SENDING)
