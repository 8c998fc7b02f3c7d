"""The delivery engine against a sandbox that enforces Telegram's flood limits and fails on
purpose: every message ends in one recorded state, no second goes over the configured rate,
and a crash in the middle of a sweep loses nothing and repeats at most what was in flight."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import date, time

from bot.app import delivery_of
from bot.config import Config, DeliveryConfig
from bot.delivery import CONCURRENT_SENDS
from bot.harness import Clock, Rehearsal
from bot.sandbox import ApiCall, RateLimits
from storage import locations, outbox, people, rota
from storage.models import NoticeStatus
from storage.outbox import CLAIM_TIMEOUT
from storage.rota import JobSpec, SessionPlan
from tests.conftest import RACHEL

RATE = 100  # messages a second, both the engine's setting and the sandbox's limit
FIRST_VOLUNTEER = 10_000


async def volunteers_asked_for_cover(bot: Rehearsal, count: int) -> None:
    """`count` volunteers at St Mark's, each with a cover request queued for them."""
    db, now = bot.services.db, bot.services.now()
    coordinators = frozenset({RACHEL})
    await people.register(
        db, telegram_id=RACHEL, name="Rachel", now=now, coordinator_ids=coordinators
    )
    location = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=now)
    for telegram_id in range(FIRST_VOLUNTEER, FIRST_VOLUNTEER + count):
        await people.register(
            db,
            telegram_id=telegram_id,
            name=f"Volunteer {telegram_id}",
            now=now,
            coordinator_ids=coordinators,
        )
        await locations.toggle_home(db, telegram_id=telegram_id, location_id=location.location_id)
        bot.user(telegram_id, f"Volunteer {telegram_id}")
    plan = SessionPlan(
        location_id=location.location_id,
        first_day=date(2026, 7, 28),
        last_day=date(2026, 7, 28),
        weekdays=frozenset({1}),
        start=time(11, 30),
        end=time(13, 30),
        jobs=(JobSpec(job="driver", places=1),),
    )
    await rota.create_sessions(
        db, actor_telegram_id=RACHEL, plan=plan, tz=bot.services.settings.timezone, now=now
    )
    session = (await rota.coverage(db, actor_telegram_id=RACHEL, now=now, days=60))[0]
    asked = await rota.request_cover(
        db, actor_telegram_id=RACHEL, job_id=session.jobs[0].job_id, now=now
    )
    assert asked == count


def sent(calls: list[ApiCall]) -> list[ApiCall]:
    return [c for c in calls if c.method == "sendMessage" and c.ok]


def busiest_second(calls: list[ApiCall]) -> int:
    """The most sends in any one-second window (sliding, not aligned to clock seconds)."""
    times = sorted(c.at for c in calls)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - 1:
            start += 1
        most = max(most, end - start + 1)
    return most


async def test_five_hundred_messages_under_flood_limits_and_failures_all_end_recorded(
    config: Config, clock: Clock
) -> None:
    paced = dataclasses.replace(config, delivery=DeliveryConfig(overall_per_second=RATE))
    limits = RateLimits(overall_per_second=RATE, per_chat_per_second=1)
    async with Rehearsal(paced, clock=clock, limits=limits) as bot:
        await volunteers_asked_for_cover(bot, 500)
        volunteers = range(FIRST_VOLUNTEER, FIRST_VOLUNTEER + 500)
        blocked, gone = list(volunteers)[:20], list(volunteers)[20:30]
        for telegram_id in blocked:
            bot.sandbox.block(telegram_id)
        for telegram_id in gone:
            bot.sandbox.forget_chat(telegram_id)
        bot.sandbox.inject_failure(
            "sendMessage",
            error_code=429,
            retry_after=1,
            times=3,
            description="Too Many Requests: retry after 1",
        )
        bot.sandbox.inject_failure(
            "sendMessage", error_code=502, times=5, description="Bad Gateway"
        )

        await bot.deliver()
        clock.advance(minutes=1)  # the five 502s were put back, ten seconds later
        await bot.deliver()

        counts = await outbox.counts(bot.services.db)
        assert counts == {NoticeStatus.SENT: 470, NoticeStatus.BLOCKED: 20, NoticeStatus.GONE: 10}
        calls = bot.sandbox.calls
        assert busiest_second(sent(calls)) <= RATE
        refused = Counter(c.error_code for c in calls if c.method == "sendMessage" and not c.ok)
        assert refused == {403: 20, 400: 10, 429: 3, 502: 5}  # no 429 that we caused
        assert Counter(c.chat_id for c in sent(calls)).most_common(1)[0][1] == 1
        for telegram_id in blocked[:3]:
            profile = await people.profile(bot.services.db, telegram_id)
            assert profile is not None
            assert not profile.active


async def test_a_crash_mid_sweep_loses_nothing_and_repeats_only_what_was_in_flight(
    config: Config, clock: Clock
) -> None:
    paced = dataclasses.replace(config, delivery=DeliveryConfig(overall_per_second=RATE))
    async with Rehearsal(paced, clock=clock) as bot:
        await volunteers_asked_for_cover(bot, 200)
        sweep = asyncio.create_task(delivery_of(bot.application).sweep())
        for _ in range(1000):  # at most ten seconds
            if len(sent(bot.sandbox.calls)) >= 60:
                break
            await asyncio.sleep(0.01)
        sweep.cancel()  # the process dies here, mid-batch
        await asyncio.gather(sweep, return_exceptions=True)

        clock.advance(seconds=CLAIM_TIMEOUT.total_seconds() + 1)  # a new instance takes over
        await bot.deliver()

        counts = await outbox.counts(bot.services.db)
        assert counts == {NoticeStatus.SENT: 200}
        per_chat = Counter(c.chat_id for c in sent(bot.sandbox.calls))
        assert len(per_chat) == 200  # nobody lost
        repeated = sum(times - 1 for times in per_chat.values())
        assert repeated <= CONCURRENT_SENDS


async def test_stopping_mid_sweep_hands_the_rest_back_and_the_next_start_sends_it(
    config: Config, clock: Clock
) -> None:
    async with Rehearsal(config, clock=clock) as bot:
        await volunteers_asked_for_cover(bot, 120)
        engine = delivery_of(bot.application)
        sweep = asyncio.create_task(engine.sweep())
        for _ in range(1000):  # at most ten seconds
            if len(sent(bot.sandbox.calls)) >= 20:
                break
            await asyncio.sleep(0.01)
        engine.stop()  # SIGTERM: the bot is shutting down
        await sweep
        counts = await outbox.counts(bot.services.db)
        assert NoticeStatus.SENDING not in counts  # nothing left claimed for five minutes
        assert counts[NoticeStatus.PENDING] > 0

        await bot.restart()
        await bot.deliver()
        assert await outbox.counts(bot.services.db) == {NoticeStatus.SENT: 120}
        assert len(sent(bot.sandbox.calls)) == 120


async def test_after_a_429_the_same_sweep_sends_the_message_while_time_moves_on(
    config: Config, clock: Clock
) -> None:
    """A 429 pauses sending; the retry must still know the claim is its own (it renewed it just
    before the first try), not leave the message stranded until the claim lapses."""
    async with Rehearsal(config, clock=clock) as bot:
        await volunteers_asked_for_cover(bot, 1)
        bot.sandbox.inject_failure(
            "sendMessage",
            error_code=429,
            retry_after=1,
            times=3,
            description="Too Many Requests: retry after 1",
        )
        sweep = asyncio.create_task(delivery_of(bot.application).sweep())
        while not sweep.done():  # the programme's clock moves on while the bot waits
            clock.advance(seconds=1)
            await asyncio.sleep(0.1)
        await sweep

        assert await outbox.counts(bot.services.db) == {NoticeStatus.SENT: 1}
        refused = [c.error_code for c in bot.sandbox.calls if c.method == "sendMessage"]
        assert refused == [429, 429, 429, None]
