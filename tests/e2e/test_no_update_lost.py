"""No update lost: a real `lunchbot run` process, killed with SIGKILL in the middle of a burst of
messages and taps from many people, and started again. Every update is handled, each person's
in the order they sent them, and a double tap books one place.

The sandbox runs in the test's event loop; the bot is a separate process pointed at it by its
config, as it would be pointed at Telegram."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from bot.harness import Rehearsal
from bot.sandbox import BotApiSandbox, SimUser
from handlers import callbacks
from handlers.volunteer import BookJob
from storage import inbox, locations, migrate, people, rota
from storage.db import Database
from storage.models import Booking, InboxStatus
from storage.rota import JobSpec, SessionPlan
from tests.conftest import RACHEL
from tests.e2e.processes import (
    WAIT_SECONDS,
    BotProcess,
    eventually,
    free_port,
    until,
    write_config,
)
from tests.support import sqlite_url

SECRET = "a-webhook-secret_for-tests"
VOLUNTEERS = range(3001, 3013)  # twelve people
NAMES_EACH = 6  # each renames themselves 1..6: the order shows in the name they end with
NOBODY: frozenset[int] = frozenset()


async def all_handled(db: Database, sent: list[int]) -> bool:
    stored = await inbox.statuses(db)
    return all(stored.get(u) in {InboxStatus.HANDLED, InboxStatus.FAILED} for u in sent)


async def seed(db: Database) -> int:
    """A lunch session a month ahead with a server's place for everyone, and the volunteers
    registered; returns the server job's id."""
    now = datetime.now(UTC)
    tz = ZoneInfo("Europe/London")
    await people.register(
        db, telegram_id=RACHEL, name="Rachel", now=now, coordinator_ids=frozenset({RACHEL})
    )
    for telegram_id in VOLUNTEERS:
        await people.register(
            db,
            telegram_id=telegram_id,
            name=f"V{telegram_id}",
            now=now,
            coordinator_ids=frozenset(),
        )
    place = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=now)
    day = (now + timedelta(days=30)).astimezone(tz).date()
    plan = SessionPlan(
        location_id=place.location_id,
        first_day=day,
        last_day=day,
        weekdays=frozenset({day.weekday()}),
        start=time(11, 30),
        end=time(13, 30),
        jobs=(JobSpec(job="server", places=len(VOLUNTEERS) + 5),),
    )
    await rota.create_sessions(db, actor_telegram_id=RACHEL, plan=plan, tz=tz, now=now)
    session = (
        await rota.sessions_on(
            db, actor_telegram_id=RACHEL, location_id=place.location_id, day=day, tz=tz
        )
    )[0].session
    return session.jobs[0].job_id


async def act(users: list[SimUser], steps: list[str], tap: str) -> list[int]:
    """Each step by every person in turn (a tap's callback data, or a message): the update ids."""
    sent: list[int] = []
    for step in steps:
        # Taps are on the answer to /help, so that no answer to a rename is edited away.
        sent.extend(
            [
                await (
                    u.tap_data(step, message_id=u.bot_messages[0].message_id)
                    if step == tap
                    else u.send(step)
                )
                for u in users
            ]
        )
    return sent


RENAMED = re.compile(r"Done: coordinators now see you as (.+)\.")


def renames(user: SimUser) -> list[str]:
    """The names the bot confirmed, in the order it confirmed them."""
    found = (RENAMED.match(m.text) for m in user.bot_messages)
    return [match.group(1) for match in found if match is not None]


def collapse(values: list[str]) -> list[str]:
    """At least once: the update in hand at the kill may be handled again, right after."""
    return [v for i, v in enumerate(values) if i == 0 or values[i - 1] != v]


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_a_killed_bot_loses_no_update_and_applies_none_twice(
    database_url: str, tmp_path: Path, webhook: bool
) -> None:
    await migrate.upgrade(database_url)
    db = Database(database_url)
    job_id = await seed(db)
    tap = callbacks.encode(BookJob(job_id=job_id, waitlist=False))
    port = free_port()
    async with BotApiSandbox() as sandbox:
        write_config(tmp_path, sandbox=sandbox, database_url=database_url, port=port)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LUNCHBOT_", "TELEGRAM"))}
        env |= {"TELEGRAM_BOT_TOKEN": sandbox.token, "LUNCHBOT_WEBHOOK_SECRET": SECRET}
        bot = BotProcess(tmp_path, webhook=webhook, env=env)
        try:
            await bot.start()
            if webhook:
                await until(lambda: sandbox.webhook_url is not None, "setWebhook", bot)
            else:
                await until(lambda: sandbox.polling, "the first long poll", bot)
            users = [sandbox.user(i, f"V{i}") for i in VOLUNTEERS]
            for user in users:
                await user.send("/help")
            await until(lambda: all(u.bot_messages for u in users), "answers to /help", bot)

            # The burst: each person renames themselves six times and taps Book twice.
            steps = [f"/name N{k}" for k in range(1, NAMES_EACH + 1)]
            steps[1:1] = [tap]
            steps[5:5] = [tap]  # a second tap on Book, after the kill
            half = len(steps) // 2
            sent = await act(users, steps[:half], tap)
            # Kill it once it has begun on the burst, with most of it still to do.
            await until(lambda: any(renames(u) for u in users), "the first rename", bot)
            bot.kill()
            await bot.wait()
            unfinished = (await inbox.backlog(db)).waiting
            sent += await act(users, steps[half:], tap)

            await bot.start()
            await eventually(lambda: all_handled(db, sent), "every update handled", bot)
            await until(
                lambda: all(collapse(renames(u))[-1:] == [f"N{NAMES_EACH}"] for u in users),
                "the last renames",
                bot,
            )
            stored = await inbox.statuses(db)
            # Polling serves health and metrics too, as its config names a port.
            async with httpx.AsyncClient() as client:
                health = await client.get(f"http://127.0.0.1:{port}/healthz")
                ready = await client.get(f"http://127.0.0.1:{port}/readyz")
                figures = await client.get(f"http://127.0.0.1:{port}/metrics")
        finally:
            await bot.stop()

    try:
        # The kill came in the middle: updates were stored and not yet handled.
        assert unfinished > 0
        # 0 lost: every update was stored once and handled, and every person's renames were
        # answered in the order they were sent.
        assert [u for u in sent if stored.get(u) != InboxStatus.HANDLED] == []
        for user in users:
            assert collapse(renames(user)) == [f"N{k}" for k in range(1, NAMES_EACH + 1)]
            profile = await people.profile(db, user.id)
            assert profile is not None
            assert profile.display_name == f"N{NAMES_EACH}"
        # 0 applied twice: two taps on Book each, one place each.
        async with db.read() as session:
            per_person = (
                await session.execute(
                    select(Booking.person_id, func.count())
                    .where(Booking.job_id == job_id)
                    .group_by(Booking.person_id)
                )
            ).all()
        assert len(per_person) == len(VOLUNTEERS)
        assert {count for _, count in per_person} == {1}
        assert health.status_code == 200
        assert ready.status_code == 200, ready.text
        assert 'lunchbot_updates_handled_total{kind="message",outcome="ok"}' in figures.text
        assert 'lunchbot_updates_handled_total{kind="callback_query",outcome="ok"}' in figures.text
        assert "lunchbot_inbox_backlog 0.0" in figures.text
    finally:
        await db.dispose()


async def test_while_the_bot_api_is_down_the_log_says_so_once_and_nothing_is_lost(
    bot: Rehearsal, caplog: pytest.LogCaptureFixture
) -> None:
    ann = bot.user(5001, "Ann")
    await ann.send("/help")
    port = bot.sandbox.port
    caplog.set_level(logging.WARNING, logger="bot.updates")
    await bot.sandbox.stop()
    await asyncio.sleep(3)  # a few failed polls, a second apart
    await bot.sandbox.start(port=port)
    await ann.send("/help")
    outages = [r for r in caplog.records if "cannot fetch updates" in r.getMessage()]
    assert len(outages) == 1
    assert len([m for m in ann.bot_messages if "What you can do" in m.text]) == 2


async def test_a_webhook_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with BotApiSandbox() as sandbox:
            write_config(tmp_path, sandbox=sandbox, database_url=sqlite_url(tmp_path), port=port)
            env = {k: v for k, v in os.environ.items() if not k.startswith("LUNCHBOT_")}
            env |= {"TELEGRAM_BOT_TOKEN": sandbox.token, "LUNCHBOT_WEBHOOK_SECRET": SECRET}
            bot = BotProcess(tmp_path, webhook=True, env=env)
            await bot.start()
            assert await asyncio.wait_for(bot.wait(), WAIT_SECONDS) == 2
            assert sandbox.webhook_url is None
    last = bot.log().strip().splitlines()[-1]
    assert last.startswith(
        f"lunchbot: server.listen / server.port: cannot listen on 127.0.0.1:{port}"
    )
    assert "Traceback" not in bot.log()
