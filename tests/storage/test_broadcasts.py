"""Broadcasts against real SQLite and PostgreSQL: who is in each audience, a broadcast starts
once however often Send arrives, one notice per recipient, and progress counted from them."""

from __future__ import annotations

import asyncio
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from storage import audit, broadcasts, locations, outbox, people, rota
from storage.broadcasts import Composition, NobodyToSend, TooLong
from storage.db import Database
from storage.errors import NotFound, NotYours, OutOfScope, PermissionDenied
from storage.models import (
    BROADCAST_CAPTION_MAX,
    BROADCAST_TEXT_MAX,
    Audience,
    BroadcastStatus,
    Notice,
    NoticeStatus,
    Role,
)
from storage.rota import JobSpec, SessionPlan, SessionView
from tests.support import Clock, promote_to_coordinator, register_by_invite

RACHEL, PRIYA, OKAFOR = 1001, 1002, 2001
ST_MARKS_VOLUNTEERS = (3001, 3002, 3003)
RIVERSIDE_VOLUNTEERS = (3004, 3005)
GONE_QUIET = 3006  # a volunteer who blocked the bot
EVERY = timedelta(seconds=5)
LONDON = ZoneInfo("Europe/London")


async def _register(db: Database, clock: Clock, *ids: int) -> None:
    """Registered volunteers (Rachel a coordinator too), a few at a time."""
    gate = asyncio.Semaphore(10)

    async def one(telegram_id: int) -> None:
        async with gate:
            await people.register(
                db,
                telegram_id=telegram_id,
                name=f"Person {telegram_id}",
                now=clock(),
                coordinator_ids=frozenset({RACHEL}),
            )

    await asyncio.gather(*(one(telegram_id) for telegram_id in ids))


async def _programme(db: Database, clock: Clock) -> tuple[int, int]:
    """Rachel; St Mark's with three volunteers and Priya, its site lead; Riverside with two;
    Mr Okafor, a school contact; one volunteer who blocked the bot."""
    await _register(db, clock, RACHEL, *ST_MARKS_VOLUNTEERS, *RIVERSIDE_VOLUNTEERS, GONE_QUIET)
    st_marks = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=clock())
    riverside = await locations.create(db, actor_telegram_id=RACHEL, name="Riverside", now=clock())
    for telegram_id in ST_MARKS_VOLUNTEERS:
        await locations.toggle_home(db, telegram_id=telegram_id, location_id=st_marks.location_id)
    for telegram_id in RIVERSIDE_VOLUNTEERS:
        await locations.toggle_home(db, telegram_id=telegram_id, location_id=riverside.location_id)
    await locations.toggle_home(db, telegram_id=GONE_QUIET, location_id=st_marks.location_id)
    await people.mark_inactive(db, telegram_id=GONE_QUIET)

    await register_by_invite(
        db,
        clock(),
        telegram_id=OKAFOR,
        name="Mr Okafor",
        role=Role.SCHOOL_CONTACT,
        by=RACHEL,
        school_name="Hillside Primary",
    )
    priya = await register_by_invite(
        db, clock(), telegram_id=PRIYA, name="Priya", role=Role.COORDINATOR, by=RACHEL
    )
    await locations.toggle_home(db, telegram_id=PRIYA, location_id=st_marks.location_id)
    await locations.set_scope(
        db,
        actor_telegram_id=RACHEL,
        person_id=priya.profile.person_id,
        location_ids=frozenset({st_marks.location_id}),
        now=clock(),
    )
    return st_marks.location_id, riverside.location_id


async def _composed(
    db: Database,
    clock: Clock,
    audience: Audience,
    location_id: int | None = None,
    *,
    by: int = RACHEL,
    photo: str | None = None,
) -> Composition:
    await broadcasts.choose_audience(
        db, actor_telegram_id=by, audience=audience, location_id=location_id, now=clock()
    )
    return await broadcasts.compose(
        db,
        actor_telegram_id=by,
        text_html="<b>Lunch</b> is on!",
        plain_text="Lunch is on!",
        photo_file_id=photo,
        now=clock(),
    )


async def _started(
    db: Database,
    clock: Clock,
    composed: Composition,
    *,
    by: int = RACHEL,
    message_id: int | None = 7,
) -> broadcasts.Started:
    """`by` taps Send on the preview of `composed`; the broadcast starts."""
    started = await broadcasts.start(
        db,
        actor_telegram_id=by,
        token=composed.token,
        chat_id=by,
        message_id=message_id,
        now=clock(),
    )
    assert started is not None
    return started


async def _size(
    db: Database, clock: Clock, audience: Audience, location_id: int | None = None
) -> int:
    return await broadcasts.audience_size(
        db, actor_telegram_id=RACHEL, audience=audience, location_id=location_id, now=clock()
    )


async def test_each_audience_counts_the_reachable_people_in_it_but_not_the_sender(
    db: Database, clock: Clock
) -> None:
    st_marks, riverside = await _programme(db, clock)
    # Volunteers: the five, and Priya, who joined as a coordinator, is not one; Rachel (who
    # registered as a volunteer) is the sender; the one who blocked the bot is not counted.
    assert await _size(db, clock, Audience.VOLUNTEERS) == 5
    assert await _size(db, clock, Audience.LOCATION, st_marks) == 3
    assert await _size(db, clock, Audience.LOCATION, riverside) == 2
    assert await _size(db, clock, Audience.SCHOOLS) == 1
    assert await _size(db, clock, Audience.EVERYONE) == 7  # five volunteers, Mr Okafor, Priya
    with pytest.raises(NotFound):
        await _size(db, clock, Audience.LOCATION, 999)
    with pytest.raises(NotFound):
        await _size(db, clock, Audience.LOCATION, None)

    # A site lead reaches the volunteers of their own locations, and nobody else.
    assert (
        await broadcasts.audience_size(
            db,
            actor_telegram_id=PRIYA,
            audience=Audience.LOCATION,
            location_id=st_marks,
            now=clock(),
        )
        == 3
    )
    assert await broadcasts.reach(db, actor_telegram_id=PRIYA) == frozenset({st_marks})
    assert await broadcasts.reach(db, actor_telegram_id=RACHEL) is None
    for audience, location_id in (
        (Audience.LOCATION, riverside),
        (Audience.VOLUNTEERS, None),
        (Audience.SCHOOLS, None),
        (Audience.EVERYONE, None),
    ):
        with pytest.raises(OutOfScope):
            await broadcasts.choose_audience(
                db,
                actor_telegram_id=PRIYA,
                audience=audience,
                location_id=location_id,
                now=clock(),
            )
    with pytest.raises(PermissionDenied):
        await broadcasts.reach(db, actor_telegram_id=ST_MARKS_VOLUNTEERS[0])
    with pytest.raises(PermissionDenied):
        await broadcasts.choose_audience(
            db,
            actor_telegram_id=OKAFOR,
            audience=Audience.SCHOOLS,
            location_id=None,
            now=clock(),
        )


async def test_composing_keeps_the_message_across_a_change_of_audience_within_limits(
    db: Database, clock: Clock
) -> None:
    st_marks, _ = await _programme(db, clock)
    with pytest.raises(NotFound):  # no audience chosen yet
        await broadcasts.compose(
            db,
            actor_telegram_id=RACHEL,
            text_html="Hi",
            plain_text="Hi",
            photo_file_id=None,
            now=clock(),
        )
    first = await broadcasts.choose_audience(
        db, actor_telegram_id=RACHEL, audience=Audience.SCHOOLS, location_id=None, now=clock()
    )
    assert (first.text, first.recipients) == (None, 1)

    with pytest.raises(TooLong) as caught:
        await broadcasts.compose(
            db,
            actor_telegram_id=RACHEL,
            text_html="x" * (BROADCAST_TEXT_MAX + 1),
            plain_text="x" * (BROADCAST_TEXT_MAX + 1),
            photo_file_id=None,
            now=clock(),
        )
    assert caught.value.limit == BROADCAST_TEXT_MAX
    with pytest.raises(TooLong) as caught:
        await broadcasts.compose(
            db,
            actor_telegram_id=RACHEL,
            text_html="x" * (BROADCAST_CAPTION_MAX + 1),
            plain_text="x" * (BROADCAST_CAPTION_MAX + 1),
            photo_file_id="photo-id",
            now=clock(),
        )
    assert caught.value.limit == BROADCAST_CAPTION_MAX

    composed = await broadcasts.compose(
        db,
        actor_telegram_id=RACHEL,
        text_html="<i>See you</i> &amp; thanks",
        plain_text="See you & thanks",
        photo_file_id="photo-id",
        now=clock(),
    )
    assert (composed.text, composed.photo_file_id) == ("<i>See you</i> &amp; thanks", "photo-id")
    # A new audience keeps the message, and a new token retires the old preview's button.
    moved = await broadcasts.choose_audience(
        db,
        actor_telegram_id=RACHEL,
        audience=Audience.LOCATION,
        location_id=st_marks,
        now=clock(),
    )
    assert (moved.text, moved.photo_file_id) == (composed.text, composed.photo_file_id)
    assert (moved.location_name, moved.recipients) == ("St Mark's", 3)
    assert moved.token != composed.token
    assert await broadcasts.discard(db, actor_telegram_id=RACHEL)
    assert not await broadcasts.discard(db, actor_telegram_id=RACHEL)


async def test_send_starts_one_broadcast_however_often_it_arrives(
    db: Database, clock: Clock
) -> None:
    await _programme(db, clock)
    composed = await _composed(db, clock, Audience.EVERYONE)
    assert (
        await broadcasts.start(
            db,
            actor_telegram_id=RACHEL,
            token=composed.token + 1,  # an older preview's button
            chat_id=RACHEL,
            message_id=7,
            now=clock(),
        )
        is None
    )

    async def tap() -> broadcasts.Started | None:
        return await broadcasts.start(
            db,
            actor_telegram_id=RACHEL,
            token=composed.token,
            chat_id=RACHEL,
            message_id=7,
            now=clock(),
        )

    results = await asyncio.gather(*(tap() for _ in range(5)))
    started = [r for r in results if r is not None]
    assert len(started) == 1
    assert await tap() is None  # a repeated update, later
    (one,) = started
    assert one.progress.total == 7
    assert (one.progress.waiting, one.progress.done, one.progress.complete) == (7, 0, False)

    async with db.read() as session:
        rows = (
            await session.execute(
                select(Notice.chat_id, Notice.kind, Notice.payload, Notice.person_id).where(
                    Notice.batch == broadcasts.batch_of(one.broadcast_id)
                )
            )
        ).all()
    assert len(rows) == 7
    assert {chat_id for chat_id, *_ in rows} == {
        *ST_MARKS_VOLUNTEERS,
        *RIVERSIDE_VOLUNTEERS,
        OKAFOR,
        PRIYA,
    }
    assert {(kind, payload["broadcast_id"]) for _, kind, payload, _ in rows} == {
        ("broadcast", one.broadcast_id)
    }
    assert all(person_id is not None for *_, person_id in rows)
    entries = await audit.recent(db, action="broadcast.started")
    assert [(e.subject_id, e.details["recipients"]) for e in entries] == [(one.broadcast_id, 7)]
    assert "text" not in entries[0].details
    message = await broadcasts.message(db, one.broadcast_id)
    assert message == broadcasts.Message(text="<b>Lunch</b> is on!", photo_file_id=None)
    assert await broadcasts.message(db, one.broadcast_id + 1) is None


async def test_an_empty_audience_starts_nothing_and_keeps_the_draft(
    db: Database, clock: Clock
) -> None:
    st_marks, _ = await _programme(db, clock)
    composed = await _composed(db, clock, Audience.LOCATION, st_marks)
    for telegram_id in ST_MARKS_VOLUNTEERS:  # they all leave St Mark's before Send
        await locations.toggle_home(db, telegram_id=telegram_id, location_id=st_marks)
    with pytest.raises(NobodyToSend):
        await broadcasts.start(
            db,
            actor_telegram_id=RACHEL,
            token=composed.token,
            chat_id=RACHEL,
            message_id=7,
            now=clock(),
        )
    assert await broadcasts.discard(db, actor_telegram_id=RACHEL)  # still there
    assert await broadcasts.sending(db) == []


async def test_hundreds_of_recipients_are_queued_in_chunks_each_once(
    db: Database, clock: Clock
) -> None:
    count = broadcasts.CHUNK + 101
    await _register(db, clock, RACHEL, *range(10_000, 10_000 + count))
    composed = await _composed(db, clock, Audience.VOLUNTEERS)
    assert composed.recipients == count
    started = await _started(db, clock, composed)
    assert started.progress.total == count
    async with db.read() as session:
        queued = await session.scalar(
            select(func.count(func.distinct(Notice.chat_id))).where(
                Notice.batch == broadcasts.batch_of(started.broadcast_id)
            )
        )
    assert queued == count


async def test_progress_is_counted_from_the_notices_and_the_broadcast_closes_once(
    db: Database, clock: Clock
) -> None:
    await _programme(db, clock)
    composed = await _composed(db, clock, Audience.EVERYONE)
    started = await _started(db, clock, composed)
    broadcast_id = started.broadcast_id
    # Until the progress message has been shown, it is neither edited nor closed.
    assert not await broadcasts.claim_progress_edit(db, broadcast_id, now=clock(), every=EVERY)
    await broadcasts.shown(db, broadcast_id, now=clock())

    due = await outbox.claim_due(db, now=clock(), limit=100, by="test")
    assert len(due) == 7
    endings = [
        NoticeStatus.SENT,
        NoticeStatus.SENT,
        NoticeStatus.SENT,
        NoticeStatus.BLOCKED,
        NoticeStatus.GONE,
    ]
    for notice, status in zip(due, endings, strict=False):
        await outbox.finish(db, notice.notice_id, status, now=clock())
    await outbox.release(db, [due[5].notice_id])  # handed back: pending again
    # due[6] is still being sent.

    (state,) = await broadcasts.sending(db)
    assert (state.total, state.sent, state.blocked, state.failed, state.waiting) == (7, 3, 1, 1, 2)
    assert (state.done, state.percent, state.complete) == (5, 71, False)
    assert (state.chat_id, state.message_id) == (RACHEL, 7)
    # not complete: no final figures to show yet, and it cannot be closed
    assert await broadcasts.claim_final(db, broadcast_id, now=clock(), every=EVERY) is None
    assert not await broadcasts.close(db, broadcast_id, now=clock())

    # Edits are spaced: not again until `every` has passed, and then once.
    assert not await broadcasts.claim_progress_edit(db, broadcast_id, now=clock(), every=EVERY)
    clock.advance(seconds=5)
    assert await broadcasts.claim_progress_edit(db, broadcast_id, now=clock(), every=EVERY)
    assert not await broadcasts.claim_progress_edit(db, broadcast_id, now=clock(), every=EVERY)
    # Two left: the five that ended did so at the same moment, so the rate is not known yet
    # and the pace is used.
    rate = await broadcasts.rate(db, broadcast_id, now=clock(), per_second=0.5)
    assert rate == 0.5
    assert state.seconds_left(rate) == 4

    await outbox.finish(db, due[6].notice_id, NoticeStatus.SENT, now=clock())
    (again,) = await outbox.claim_due(db, now=clock(), limit=100, by="test")
    await outbox.finish(db, again.notice_id, NoticeStatus.FAILED, now=clock(), error="boom")
    clock.advance(seconds=3)
    # The final figures are claimed by one of several at once, to be shown...
    claims = await asyncio.gather(
        *(broadcasts.claim_final(db, broadcast_id, now=clock(), every=EVERY) for _ in range(3))
    )
    final = [c for c in claims if c is not None]
    assert len(final) == 1
    (done,) = final
    assert (done.sent, done.blocked, done.failed, done.skipped, done.waiting) == (4, 1, 2, 0, 0)
    assert done.finished_at == clock()
    # ...and if showing them failed, claimed again `every` later, with the same finishing time.
    (still,) = await broadcasts.sending(db)
    assert still.status is BroadcastStatus.SENDING
    clock.advance(seconds=4)
    assert await broadcasts.claim_final(db, broadcast_id, now=clock(), every=EVERY) is None
    clock.advance(seconds=1)
    retried = await broadcasts.claim_final(db, broadcast_id, now=clock(), every=EVERY)
    assert retried is not None
    assert retried.finished_at == done.finished_at
    # Shown: the broadcast is closed, once.
    closings = await asyncio.gather(
        *(broadcasts.close(db, broadcast_id, now=clock()) for _ in range(3))
    )
    assert closings.count(True) == 1
    closed = await broadcasts.progress(db, broadcast_id)
    assert closed is not None
    assert closed.status is BroadcastStatus.DONE
    assert closed.finished_at == done.finished_at
    assert await broadcasts.sending(db) == []
    assert await broadcasts.claim_final(db, broadcast_id, now=clock(), every=EVERY) is None
    assert not await broadcasts.claim_progress_edit(db, broadcast_id, now=clock(), every=EVERY)
    entries = await audit.recent(db, action="broadcast.finished")
    assert [(e.details["sent"], e.details["failed"]) for e in entries] == [(4, 2)]
    counts = await outbox.batch_counts(db, broadcasts.batch_of(broadcast_id))
    assert counts == {
        NoticeStatus.SENT: 4,
        NoticeStatus.BLOCKED: 1,
        NoticeStatus.GONE: 1,
        NoticeStatus.FAILED: 1,
    }

    await broadcasts.moved(db, broadcast_id, message_id=9)
    moved = await broadcasts.progress(db, broadcast_id)
    assert moved is not None
    assert moved.message_id == 9


async def test_a_progress_message_never_shown_is_reported_after_a_grace(
    db: Database, clock: Clock
) -> None:
    """The bot stopped between starting a broadcast and showing its progress: the next one to
    sweep reports it all the same, after a minute."""
    await _programme(db, clock)
    composed = await _composed(db, clock, Audience.SCHOOLS)
    await _started(db, clock, composed, message_id=None)
    (notice,) = await outbox.claim_due(db, now=clock(), limit=10, by="test")
    await outbox.finish(db, notice.notice_id, NoticeStatus.SENT, now=clock())
    (state,) = await broadcasts.sending(db)
    assert state.complete
    assert not broadcasts.may_finish(state, now=clock())
    clock.advance(seconds=broadcasts.SHOW_GRACE.total_seconds())
    assert broadcasts.may_finish(state, now=clock())


async def _one_session(db: Database, clock: Clock, location_id: int, day: date) -> SessionView:
    """One session at a location on a day (programme time), with places for five servers."""
    plan = SessionPlan(
        location_id=location_id,
        first_day=day,
        last_day=day,
        weekdays=frozenset({day.weekday()}),
        start=time(12),
        end=time(14),
        jobs=(JobSpec(job="server", places=5),),
    )
    made = await rota.create_sessions(
        db, actor_telegram_id=RACHEL, plan=plan, tz=LONDON, now=clock()
    )
    assert made.created == 1
    (found,) = await rota.sessions_on(
        db, actor_telegram_id=RACHEL, location_id=location_id, day=day, tz=LONDON
    )
    return found.session


async def _book(db: Database, clock: Clock, telegram_id: int, view: SessionView) -> int:
    booked = await rota.book(
        db, telegram_id=telegram_id, job_id=view.jobs[0].job_id, now=clock(), waitlist=False
    )
    assert booked.booking is not None, booked
    return booked.booking.booking_id


async def test_one_locations_volunteers_include_those_who_booked_its_sessions_lately(
    db: Database, clock: Clock
) -> None:
    """Not only those who call it home: also those booked there (live, or attended) for a
    session from four weeks ago on, each once, and the count is who is sent it."""
    st_marks, riverside = await _programme(db, clock)
    ahead, recent, old, no_show, cancelled, elsewhere = 3010, 3011, 3012, 3013, 3014, 3015
    await _register(db, clock, ahead, recent, old, no_show, cancelled, elsewhere)
    start = clock()
    long_ago = await _one_session(db, clock, st_marks, (start + timedelta(days=2)).date())
    lately = await _one_session(db, clock, st_marks, (start + timedelta(days=20)).date())
    later = await _one_session(db, clock, st_marks, (start + timedelta(days=40)).date())
    other = await _one_session(db, clock, riverside, (start + timedelta(days=40)).date())
    went_long_ago = await _book(db, clock, old, long_ago)
    went_lately = await _book(db, clock, recent, lately)
    stayed_away = await _book(db, clock, no_show, lately)
    await _book(db, clock, ahead, later)
    await _book(db, clock, ST_MARKS_VOLUNTEERS[0], later)  # home there too: counted once
    await _book(db, clock, elsewhere, other)
    dropped = await _book(db, clock, cancelled, later)
    await rota.cancel(
        db,
        telegram_id=cancelled,
        booking_id=dropped,
        now=clock(),
        offer_window=timedelta(hours=2),
    )
    # 32 days on: the first session was 30 days ago, the second 12; the third is ahead.
    clock.advance(days=32)
    for booking_id, attended in ((went_long_ago, True), (went_lately, True), (stayed_away, False)):
        await rota.mark_attendance(
            db, actor_telegram_id=RACHEL, booking_id=booking_id, attended=attended, now=clock()
        )

    expected = {*ST_MARKS_VOLUNTEERS, ahead, recent}
    assert await _size(db, clock, Audience.LOCATION, st_marks) == len(expected)
    assert await _size(db, clock, Audience.LOCATION, riverside) == 3  # two at home, one booked
    composed = await _composed(db, clock, Audience.LOCATION, st_marks)
    assert composed.recipients == len(expected)
    started = await _started(db, clock, composed)
    assert started.progress.total == len(expected)
    async with db.read() as session:
        sent_to = (
            await session.scalars(
                select(Notice.chat_id).where(
                    Notice.batch == broadcasts.batch_of(started.broadcast_id)
                )
            )
        ).all()
    assert sorted(sent_to) == sorted(expected)

    # Priya, the site lead, reaches them too.
    assert await broadcasts.audience_size(
        db,
        actor_telegram_id=PRIYA,
        audience=Audience.LOCATION,
        location_id=st_marks,
        now=clock(),
    ) == len(expected)


async def test_the_preview_says_when_the_sender_is_left_out(db: Database, clock: Clock) -> None:
    await _programme(db, clock)
    everyone = await _composed(db, clock, Audience.EVERYONE)
    assert (everyone.recipients, everyone.without_sender) == (7, True)
    volunteers = await broadcasts.choose_audience(
        db, actor_telegram_id=RACHEL, audience=Audience.VOLUNTEERS, location_id=None, now=clock()
    )
    assert (volunteers.recipients, volunteers.without_sender) == (5, True)
    schools = await broadcasts.choose_audience(
        db, actor_telegram_id=RACHEL, audience=Audience.SCHOOLS, location_id=None, now=clock()
    )
    assert (schools.recipients, schools.without_sender) == (1, False)  # Rachel is not one


async def test_changing_the_message_keeps_the_audience_and_retires_the_preview(
    db: Database, clock: Clock
) -> None:
    st_marks, _ = await _programme(db, clock)
    with pytest.raises(NotFound):  # nothing is being composed
        await broadcasts.rewrite(db, actor_telegram_id=RACHEL, now=clock())
    first = await _composed(db, clock, Audience.LOCATION, st_marks)
    asked = await broadcasts.rewrite(db, actor_telegram_id=RACHEL, now=clock())
    assert (asked.audience, asked.location_id, asked.location_name) == (
        Audience.LOCATION,
        st_marks,
        "St Mark's",
    )
    assert (asked.text, asked.photo_file_id, asked.recipients) == (None, None, 3)
    assert asked.token != first.token
    # The old preview's Send button sends nothing; nor does anything until a new message.
    for token in (first.token, asked.token):
        assert (
            await broadcasts.start(
                db, actor_telegram_id=RACHEL, token=token, chat_id=RACHEL, message_id=7, now=clock()
            )
            is None
        )
    second = await broadcasts.compose(
        db,
        actor_telegram_id=RACHEL,
        text_html="Better words",
        plain_text="Better words",
        photo_file_id=None,
        now=clock(),
    )
    assert (second.audience, second.location_id, second.recipients) == (
        Audience.LOCATION,
        st_marks,
        3,
    )
    started = await _started(db, clock, second)
    message = await broadcasts.message(db, started.broadcast_id)
    assert message is not None
    assert message.text == "Better words"


async def test_a_stop_skips_the_copies_not_yet_taken_by_its_sender_or_the_programme_only(
    db: Database, clock: Clock
) -> None:
    st_marks, _ = await _programme(db, clock)
    # Priya, St Mark's site lead, writes to its volunteers.
    composed = await _composed(db, clock, Audience.LOCATION, st_marks, by=PRIYA)
    started = await _started(db, clock, composed, by=PRIYA)
    broadcast_id = started.broadcast_id
    assert started.progress.total == 3
    (taken,) = await outbox.claim_due(db, now=clock(), limit=1, by="test")  # one is being sent

    # Refused: a volunteer; an unknown broadcast; another site lead of St Mark's, who did
    # not send it.
    with pytest.raises(PermissionDenied):
        await broadcasts.stop(
            db, actor_telegram_id=ST_MARKS_VOLUNTEERS[0], broadcast_id=broadcast_id, now=clock()
        )
    with pytest.raises(NotFound):
        await broadcasts.stop(
            db, actor_telegram_id=PRIYA, broadcast_id=broadcast_id + 1, now=clock()
        )
    other_lead = 1003
    await _register(db, clock, other_lead)
    await promote_to_coordinator(
        db, clock(), other_lead, by=RACHEL, scope=frozenset({st_marks}), valid_for=EVERY * 100
    )
    with pytest.raises(NotYours):
        await broadcasts.stop(
            db, actor_telegram_id=other_lead, broadcast_id=broadcast_id, now=clock()
        )
    assert (await broadcasts.sending(db))[0].stopped == 0

    # Its sender may, once: the two still waiting are stopped; the one being sent goes on.
    stops = await asyncio.gather(
        *(
            broadcasts.stop(db, actor_telegram_id=PRIYA, broadcast_id=broadcast_id, now=clock())
            for _ in range(3)
        )
    )
    assert sorted(stops) == [0, 0, 2]
    entries = await audit.recent(db, action="broadcast.stopped")
    assert [(e.subject_id, e.details["not_sent"]) for e in entries] == [(broadcast_id, 2)]
    assert await outbox.claim_due(db, now=clock(), limit=10, by="test") == []
    (state,) = await broadcasts.sending(db)
    assert (state.stopped, state.skipped, state.waiting, state.complete) == (2, 0, 1, False)
    await outbox.finish(db, taken.notice_id, NoticeStatus.SENT, now=clock())
    final = await broadcasts.claim_final(db, broadcast_id, now=clock(), every=EVERY)
    assert final is not None
    assert (final.sent, final.stopped, final.done, final.percent) == (1, 2, 3, 100)
    assert await broadcasts.close(db, broadcast_id, now=clock())
    finished = await audit.recent(db, action="broadcast.finished")
    assert [e.details["stopped"] for e in finished] == [2]
    # Closed: nothing more to stop, even for a coordinator of the whole programme.
    assert (
        await broadcasts.stop(db, actor_telegram_id=RACHEL, broadcast_id=broadcast_id, now=clock())
        == 0
    )


async def test_a_coordinator_of_the_programme_may_stop_anyones_broadcast(
    db: Database, clock: Clock
) -> None:
    st_marks, _ = await _programme(db, clock)
    composed = await _composed(db, clock, Audience.LOCATION, st_marks, by=PRIYA)
    started = await _started(db, clock, composed, by=PRIYA)
    assert (
        await broadcasts.stop(
            db, actor_telegram_id=RACHEL, broadcast_id=started.broadcast_id, now=clock()
        )
        == 3
    )
    (state,) = await broadcasts.sending(db)
    assert (state.stopped, state.complete) == (3, True)


async def test_time_left_counts_the_recent_rate_not_the_time_the_bot_was_stopped(
    db: Database, clock: Clock
) -> None:
    await _register(db, clock, RACHEL, *range(10_000, 10_010))
    composed = await _composed(db, clock, Audience.VOLUNTEERS)
    started = await _started(db, clock, composed)
    broadcast_id = started.broadcast_id
    # Nothing has ended yet: the pace is all there is to go by.
    assert await broadcasts.rate(db, broadcast_id, now=clock(), per_second=25) == 25
    due = await outbox.claim_due(db, now=clock(), limit=100, by="test")
    for notice in due[:2]:
        await outbox.finish(db, notice.notice_id, NoticeStatus.SENT, now=clock())
    clock.advance(hours=1)  # the bot was stopped for an hour
    for notice in due[2:6]:
        clock.advance(seconds=1)
        await outbox.finish(db, notice.notice_id, NoticeStatus.SENT, now=clock())
    clock.advance(seconds=1)
    # Four ended in the last four seconds: one a second (not six in an hour).
    rate = await broadcasts.rate(db, broadcast_id, now=clock(), per_second=25)
    assert rate == 1
    (state,) = await broadcasts.sending(db)
    assert (state.done, state.seconds_left(rate)) == (6, 4)
    # Never faster than the pace.
    assert await broadcasts.rate(db, broadcast_id, now=clock(), per_second=0.5) == 0.5
    # Nothing ended in the last minute: back to the pace.
    clock.advance(minutes=2)
    assert await broadcasts.rate(db, broadcast_id, now=clock(), per_second=25) == 25
