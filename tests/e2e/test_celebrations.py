"""Milestones and the weekly digest, through the bot: a seeded week of lunches at two
locations, the digest with its chart in the celebrations group and for the coordinators,
exactly once across a restart, and its preview.

The week is set up through storage (its screens are tested elsewhere)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time

import pytest

from bot.config import Config
from bot.harness import Rehearsal
from bot.sandbox import SimMessage
from bot.sandbox.html import parse_html
from handlers import celebration_texts
from storage import invites, locations, outbox, rota, wins
from storage.celebrations import CelebrationPolicy
from storage.impact import Figures
from storage.models import NoticeStatus
from storage.rota import JobSpec, SessionPlan
from storage.wins import ApprovedWin
from tests.conftest import RACHEL
from tests.e2e.test_joining import register
from tests.support import Clock

GROUP = -1001234500
SAM, JO = 3201, 3202
MONDAY = date(2026, 7, 27)
# Monday to Thursday at each location: (meals served, children fed).
COUNTS = {
    "St Mark's": [(38, 31), (40, 33), (41, 30), (39, 29)],
    "Riverside": [(25, 20), (0, 0), (30, 24), (27, 22)],
}
FRIDAY_FOUR = datetime(2026, 7, 31, 15, 0, tzinfo=UTC)  # 16:00 in London


@pytest.fixture
async def bot(config: Config, clock: Clock) -> AsyncIterator[Rehearsal]:
    celebrating = dataclasses.replace(
        config,
        celebrations=CelebrationPolicy(
            chats=(GROUP,), meals=(100, 200), children=(10_000,), shifts=(1_000,), personal=(1, 2)
        ),
    )
    async with Rehearsal(celebrating, clock=clock) as rehearsal:
        yield rehearsal


async def _week(bot: Rehearsal, clock: Clock) -> None:
    """Two locations' Monday-Thursday lunches, counted; Sam worked two of them, Jo one; and
    Hillside Primary joined on the Wednesday."""
    db, tz = bot.services.db, bot.services.settings.timezone
    await register(bot, RACHEL, "Rachel")
    for telegram_id, name in ((SAM, "Sam"), (JO, "Jo")):
        await register(bot, telegram_id, name)
    job_of: dict[tuple[str, int], int] = {}
    for name in COUNTS:
        location = await locations.create(db, actor_telegram_id=RACHEL, name=name, now=clock())
        plan = SessionPlan(
            location_id=location.location_id,
            first_day=MONDAY,
            last_day=date(2026, 7, 30),
            weekdays=frozenset({0, 1, 2, 3}),
            start=time(11, 30),
            end=time(13, 30),
            jobs=(JobSpec(job="server", places=3),),
        )
        await rota.create_sessions(db, actor_telegram_id=RACHEL, plan=plan, tz=tz, now=clock())
        for day in range(4):
            (site,) = await rota.sessions_on(
                db,
                actor_telegram_id=RACHEL,
                location_id=location.location_id,
                day=date(2026, 7, 27 + day),
                tz=tz,
            )
            job_of[name, day] = site.session.jobs[0].job_id
    shifts = [(SAM, "St Mark's", 0), (SAM, "St Mark's", 1), (JO, "Riverside", 2)]
    booked = []
    for who, name, day in shifts:
        outcome = await rota.book(
            db, telegram_id=who, job_id=job_of[name, day], now=clock(), waitlist=False
        )
        assert outcome.booking is not None
        booked.append(outcome.booking)
    clock.now = datetime(2026, 7, 29, 9, 0, tzinfo=UTC)
    await invites.add_school(
        db, actor_telegram_id=RACHEL, name="Hillside Primary", area=None, now=clock()
    )
    clock.now = datetime(2026, 7, 30, 14, 0, tzinfo=UTC)  # Thursday, after lunch
    for booking in booked:
        await rota.mark_attendance(
            db, actor_telegram_id=RACHEL, booking_id=booking.booking_id, attended=True, now=clock()
        )
    for name, days in COUNTS.items():
        for day, (meals, children) in enumerate(days):
            view = await rota.session_of_job(db, job_of[name, day])
            assert view is not None
            await rota.record_counts(
                db,
                actor_telegram_id=RACHEL,
                session_id=view.session_id,
                meals=meals,
                children=children,
                now=clock(),
            )


def _photos(messages: list[SimMessage]) -> list[SimMessage]:
    return [m for m in messages if m.photo is not None]


async def test_the_digest_reaches_the_group_and_the_coordinators_once_with_its_chart(
    bot: Rehearsal, clock: Clock
) -> None:
    await _week(bot, clock)
    group, rachel = bot.group(GROUP, "Celebrations"), bot.user(RACHEL, "Rachel")
    clock.now = FRIDAY_FOUR
    await bot.deliver()

    (digest,) = _photos(group.bot_messages)
    for line in (
        "the week to Fri 31 Jul",
        "Meals served: 240",  # 158 at St Mark's, 82 at Riverside
        "Children fed (attendances): 189",
        # Riverside's Tuesday was counted as 0 meals and 0 children, nobody marked as came:
        # nothing happened, so it did not run.
        "Sessions run: 7",
        "Volunteer shifts: 3",
        "Volunteer hours: 6",
        "1 new partner school: Hillside Primary",
        "No wins shared this week",
    ):
        assert line in digest.text, (line, digest.text)
    assert digest.photo is not None and digest.photo.startswith(b"\x89PNG")
    (for_rachel,) = _photos(rachel.bot_messages)
    assert for_rachel.text == digest.text

    # 240 meals passed 100 and 200 together: one celebration, of the 200th.
    milestones = [m.text for m in group.bot_messages if "meals served!" in m.text]
    assert milestones == [milestones[0]] and "200 meals served!" in milestones[0]
    sam = bot.user(SAM, "Sam")
    assert "your 2nd lunch session" in sam.last.text
    assert "first lunch session" in bot.user(JO, "Jo").last.text

    await bot.restart()
    clock.advance(hours=2)
    await bot.deliver()
    assert len(_photos(group.bot_messages)) == 1
    assert len(_photos(rachel.bot_messages)) == 1
    assert len([m for m in group.bot_messages if "meals served!" in m.text]) == 1


async def test_a_coordinator_previews_the_digest_and_a_volunteer_cannot(
    bot: Rehearsal, clock: Clock
) -> None:
    await _week(bot, clock)
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/digest")
    (preview,) = _photos(rachel.bot_messages)
    assert "Meals served: 240" in preview.text
    assert "preview" in rachel.last.text
    assert "Friday at 16:00 to 1 celebration chat and 1 coordinator" in rachel.last.text

    sam = bot.user(SAM, "Sam")
    await sam.send("/digest")
    assert not _photos(sam.bot_messages)
    assert "coordinator" in sam.last.text


async def test_a_group_learns_its_chat_id_for_the_config(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    group = bot.group(-1009876, "Lunch club friends")
    await group.send(bot.user(RACHEL, "Rachel"), "/chatid")
    assert "-1009876" in group.last.text
    assert "celebrations" in group.last.text


async def test_a_group_the_bot_left_is_logged_and_the_coordinators_still_get_the_digest(
    bot: Rehearsal, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    await _week(bot, clock)
    bot.group(GROUP, "Celebrations")
    bot.sandbox.forget_chat(GROUP)
    clock.now = FRIDAY_FOUR
    with caplog.at_level(logging.WARNING, logger="bot.delivery"):
        await bot.deliver()
    assert len(_photos(bot.user(RACHEL, "Rachel").bot_messages)) == 1
    lost = [
        r.getMessage() for r in caplog.records if f"cannot post in chat {GROUP}" in r.getMessage()
    ]
    assert lost and all("celebrations.chats" in line for line in lost)
    counts = await outbox.counts(bot.services.db)
    assert counts.get(NoticeStatus.GONE, 0) == len(lost)


def test_a_crowded_week_still_fits_one_caption_and_stays_valid_html() -> None:
    figures = Figures(
        sessions=224,
        meals_served=12_345,
        children_fed=9_876,
        unique_families=1_234,
        volunteer_shifts=1_500,
        volunteer_minutes=1_500 * 120,
        referrals={},
    )
    crowded = [
        ApprovedWin(
            win_id=n,
            text="Fish & chips <3 " * 60,
            credit="Ann & Bo <the cooks>" if n % 2 else None,
            has_photo=False,
            approved_at=datetime(2026, 7, 30, 12, 0, tzinfo=UTC),
        )
        for n in range(40)
    ]
    schools = [f"St Anne & St Agnes <Primary> {n}" for n in range(30)]
    caption = celebration_texts.digest(
        "Lunch & Learn <Club>", date(2026, 7, 25), date(2026, 7, 31), figures, crowded, schools
    )
    parsed = parse_html(caption)  # Telegram's rules: raises on broken HTML
    assert len(caption) <= 1024
    assert "Meals served: 12,345" in parsed.text
    assert "…and" in parsed.text and "more wins" in parsed.text


async def _approved_win(bot: Rehearsal, clock: Clock, text: str) -> None:
    db = bot.services.db
    nonce = await wins.keep_preview(db, telegram_id=SAM, text=text, photo_file_id=None, now=clock())
    shared = await wins.submit(db, telegram_id=SAM, nonce=nonce, anonymous=False, now=clock())
    assert shared.win is not None
    await wins.approve(
        db, telegram_id=RACHEL, win_id=shared.win.win_id, version=0, chats=(GROUP,), now=clock()
    )


async def test_a_win_approved_after_the_digest_is_in_the_next_one_and_in_its_preview(
    bot: Rehearsal, clock: Clock
) -> None:
    await _week(bot, clock)
    group, rachel = bot.group(GROUP, "Celebrations"), bot.user(RACHEL, "Rachel")
    clock.now = datetime(2026, 7, 31, 14, 0, tzinfo=UTC)  # Friday 15:00
    await _approved_win(bot, clock, "Ben tried peas")
    clock.now = FRIDAY_FOUR
    await bot.deliver()
    clock.now = datetime(2026, 7, 31, 16, 0, tzinfo=UTC)  # Friday 17:00: after this digest
    await _approved_win(bot, clock, "Mia said thank you to the cooks")

    await rachel.send("/digest")  # Monday's preview is of the digest to come
    clock.now = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)
    await rachel.send("/digest")
    preview = _photos(rachel.bot_messages)[-1]
    assert "the week to Mon 3 Aug" in preview.text
    assert "Mia said thank you" in preview.text and "Ben tried peas" not in preview.text

    clock.now = datetime(2026, 8, 7, 15, 0, tzinfo=UTC)
    await bot.deliver()
    first, second = _photos(group.bot_messages)
    assert "Ben tried peas" in first.text and "Mia said" not in first.text
    assert "Mia said thank you" in second.text and "Ben tried peas" not in second.text
    assert "the week to Fri 7 Aug" in second.text


async def test_the_coordinators_copy_asks_for_missing_counts_and_the_groups_does_not(
    bot: Rehearsal, clock: Clock
) -> None:
    await _week(bot, clock)
    db = bot.services.db
    (st_marks,) = [
        place
        for place in await locations.managed_by(db, actor_telegram_id=RACHEL)
        if place.name == "St Mark's"
    ]
    friday = SessionPlan(
        location_id=st_marks.location_id,
        first_day=date(2026, 7, 31),
        last_day=date(2026, 7, 31),
        weekdays=frozenset({4}),
        start=time(11, 30),
        end=time(13, 30),
        jobs=(JobSpec(job="server", places=3),),
    )
    await rota.create_sessions(
        db, actor_telegram_id=RACHEL, plan=friday, tz=bot.services.settings.timezone, now=clock()
    )
    group, rachel = bot.group(GROUP, "Celebrations"), bot.user(RACHEL, "Rachel")
    clock.now = FRIDAY_FOUR
    await bot.deliver()
    (for_group,) = _photos(group.bot_messages)
    (for_rachel,) = _photos(rachel.bot_messages)
    assert "Sessions run: 7" in for_group.text  # Friday's, with nothing recorded, is not counted
    assert (
        "📝 Sessions without counts: 1 (record it with /today, or mark it as did not run)"
    ) in for_rachel.text
    assert "without counts" not in for_group.text


async def test_the_preview_after_the_digest_went_out_shows_that_digest(
    bot: Rehearsal, clock: Clock
) -> None:
    await _week(bot, clock)
    rachel = bot.user(RACHEL, "Rachel")
    clock.now = datetime(2026, 7, 31, 16, 0, tzinfo=UTC)  # Friday 17:00: the digest went out
    await rachel.send("/digest")
    (preview,) = _photos(rachel.bot_messages)
    assert "the week to Fri 31 Jul" in preview.text
    assert "Meals served: 240" in preview.text
