"""The rota's rules against real SQLite and PostgreSQL: capacity, waitlist, offers, scope."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage import audit, locations, outbox, people, rota
from storage.db import Database
from storage.errors import AlreadyDone, NotYours, OutOfScope
from storage.models import BookingStatus, CheckStatus, NoticeStatus
from storage.rota import BookResult, CancelResult, JobSpec, OfferResult, SessionPlan
from tests.support import Clock, promote_to_coordinator

LONDON = ZoneInfo("Europe/London")
RACHEL, PRIYA = 1001, 1002
VOLUNTEERS = range(3001, 3100)
OFFER = timedelta(hours=2)
JOBS = (
    JobSpec(job="cook", places=2, needs_check=True),
    JobSpec(job="server", places=3),
    JobSpec(job="driver", places=1),
)


async def _people(db: Database, clock: Clock, *ids: int) -> None:
    for telegram_id in ids:
        await people.register(
            db,
            telegram_id=telegram_id,
            name=f"Person {telegram_id}",
            now=clock(),
            coordinator_ids=frozenset({RACHEL}),
        )


async def _week(db: Database, clock: Clock, name: str = "St Mark's") -> rota.SessionView:
    """A location with Monday-Thursday sessions in the week of 27 July; returns Tuesday's."""
    await _people(db, clock, RACHEL)
    location = await locations.create(db, actor_telegram_id=RACHEL, name=name, now=clock())
    plan = SessionPlan(
        location_id=location.location_id,
        first_day=date(2026, 7, 27),
        last_day=date(2026, 7, 31),
        weekdays=frozenset({0, 1, 2, 3}),
        start=time(11, 30),
        end=time(13, 30),
        jobs=JOBS,
    )
    created = await rota.create_sessions(
        db, actor_telegram_id=RACHEL, plan=plan, tz=LONDON, now=clock()
    )
    assert (created.created, created.existing) == (4, 0)
    page = await rota.upcoming(db, telegram_id=RACHEL, now=clock(), offset=0, limit=10)
    return page.sessions[1]


def _job(view: rota.SessionView, name: str) -> int:
    return next(job.job_id for job in view.jobs if job.job == name)


async def _clear(db: Database, clock: Clock, *ids: int) -> None:
    for telegram_id in ids:
        profile = await people.profile(db, telegram_id)
        assert profile is not None
        await people.record_check(
            db,
            actor_telegram_id=RACHEL,
            person_id=profile.person_id,
            status=CheckStatus.CLEARED,
            expires_on=None,
            now=clock(),
        )


async def test_a_plan_makes_local_times_and_repeating_it_changes_nothing(
    db: Database, clock: Clock
) -> None:
    tuesday = await _week(db, clock)
    assert tuesday.starts_at == datetime(2026, 7, 28, 10, 30, tzinfo=UTC)  # 11:30 BST
    assert [(j.job, j.places, j.needs_check) for j in tuesday.jobs] == [
        ("cook", 2, True),
        ("server", 3, False),
        ("driver", 1, False),
    ]
    plan = SessionPlan(
        location_id=tuesday.location_id,
        first_day=date(2026, 7, 27),
        last_day=date(2026, 7, 31),
        weekdays=frozenset({0, 1, 2, 3}),
        start=time(11, 30),
        end=time(13, 30),
        jobs=JOBS,
    )
    again = await rota.create_sessions(
        db, actor_telegram_id=RACHEL, plan=plan, tz=LONDON, now=clock()
    )
    assert (again.created, again.existing) == (0, 4)


def test_sessions_keep_their_local_time_across_the_clock_change() -> None:
    plan = SessionPlan(
        location_id=1,
        first_day=date(2026, 10, 23),
        last_day=date(2026, 10, 26),
        weekdays=frozenset({4, 0}),
        start=time(11, 30),
        end=time(13, 30),
        jobs=JOBS,
    )
    times = rota.session_times(plan, LONDON)
    assert [starts.astimezone(LONDON).time() for starts, _ in times] == [time(11, 30)] * 2
    assert [starts.hour for starts, _ in times] == [10, 11]  # BST, then GMT


async def test_fifty_volunteers_racing_for_the_last_place_book_exactly_one(
    db: Database, clock: Clock
) -> None:
    tuesday = await _week(db, clock)
    racers = list(VOLUNTEERS)[:50]
    await _people(db, clock, *racers)
    driver = _job(tuesday, "driver")

    outcomes = await asyncio.gather(
        *(
            rota.book(db, telegram_id=racer, job_id=driver, now=clock(), waitlist=False)
            for racer in racers
        )
    )

    results = [o.result for o in outcomes]
    assert results.count(BookResult.BOOKED) == 1
    assert results.count(BookResult.FULL) == 49
    after = await rota.session_view(db, tuesday.session_id)
    assert after is not None
    assert [(j.job, j.taken) for j in after.jobs if j.job == "driver"] == [("driver", 1)]


async def test_a_double_tap_books_once(db: Database, clock: Clock) -> None:
    tuesday = await _week(db, clock)
    sam = VOLUNTEERS[0]
    await _people(db, clock, sam)
    server = _job(tuesday, "server")
    first, second = await asyncio.gather(
        rota.book(db, telegram_id=sam, job_id=server, now=clock(), waitlist=False),
        rota.book(db, telegram_id=sam, job_id=server, now=clock(), waitlist=False),
    )
    assert sorted([first.result, second.result]) == [BookResult.ALREADY, BookResult.BOOKED]
    after = await rota.session_view(db, tuesday.session_id)
    assert after is not None
    job = after.job(server)
    assert job is not None
    assert job.taken == 1


async def test_a_booking_returns_the_session_as_it_left_it_and_the_volunteers_place(
    db: Database, clock: Clock
) -> None:
    """The card after a tap is read in the booking's own transaction: it shows the place just
    taken or queued for, and a second tap shows the place already held."""
    tuesday = await _week(db, clock)
    a, b = VOLUNTEERS[:2]
    await _people(db, clock, a, b)
    driver = _job(tuesday, "driver")
    booked = await rota.book(db, telegram_id=a, job_id=driver, now=clock(), waitlist=False)
    clock.advance(seconds=1)
    queued = await rota.book(db, telegram_id=b, job_id=driver, now=clock(), waitlist=True)
    again = await rota.book(db, telegram_id=b, job_id=driver, now=clock(), waitlist=True)
    elsewhere = await rota.book(
        db, telegram_id=b, job_id=_job(tuesday, "server"), now=clock(), waitlist=False
    )

    assert booked.mine is not None and booked.mine == booked.booking
    assert booked.mine.status is BookingStatus.BOOKED
    assert booked.session is not None and booked.session.job(driver) == replace(
        tuesday.job(driver), taken=1
    )
    assert queued.mine is not None and queued.mine.position == 1
    assert queued.session is not None and queued.session.job(driver) == replace(
        tuesday.job(driver), taken=1, waiting=1
    )
    assert again.result is BookResult.ALREADY
    assert again.mine is not None and again.mine.booking_id == queued.mine.booking_id
    assert elsewhere.result is BookResult.ALREADY  # one place per session, whatever the job
    card = await rota.session_card(db, telegram_id=b, session_id=tuesday.session_id, now=clock())
    assert card is not None and card.mine == queued.mine
    assert card.session == queued.session
    # A place at a session that is over is not shown on its card.
    clock.advance(days=30)
    late = await rota.session_card(db, telegram_id=b, session_id=tuesday.session_id, now=clock())
    assert late is not None and late.mine is None
    closed = await rota.book(db, telegram_id=a, job_id=driver, now=clock(), waitlist=False)
    assert (closed.result, closed.mine) == (BookResult.CLOSED, None)


async def test_a_cancellation_offers_the_place_and_only_acceptance_books_it(
    db: Database, clock: Clock
) -> None:
    tuesday = await _week(db, clock)
    a, b, c, d = VOLUNTEERS[:4]
    await _people(db, clock, a, b, c, d)
    await _clear(db, clock, a, b, c, d)
    cook = _job(tuesday, "cook")
    assert (
        await rota.book(db, telegram_id=a, job_id=cook, now=clock(), waitlist=False)
    ).result is BookResult.BOOKED
    await rota.book(db, telegram_id=b, job_id=cook, now=clock(), waitlist=False)
    full = await rota.book(db, telegram_id=c, job_id=cook, now=clock(), waitlist=False)
    assert full.result is BookResult.FULL
    clock.advance(seconds=1)
    third = await rota.book(db, telegram_id=c, job_id=cook, now=clock(), waitlist=True)
    clock.advance(seconds=1)
    fourth = await rota.book(db, telegram_id=d, job_id=cook, now=clock(), waitlist=True)
    assert third.result is BookResult.WAITLISTED
    assert third.booking is not None and third.booking.position == 1
    assert fourth.booking is not None and fourth.booking.position == 2

    mine = await rota.my_bookings(db, telegram_id=a, now=clock())
    result, _ = await rota.cancel(
        db, telegram_id=a, booking_id=mine[0].booking_id, now=clock(), offer_window=OFFER
    )
    assert result is CancelResult.CANCELLED
    offered = await rota.my_bookings(db, telegram_id=c, now=clock())
    assert [x.status for x in offered] == [BookingStatus.OFFERED]
    assert offered[0].offer_expires_at == clock() + OFFER
    due = await outbox.claim_due(db, now=clock(), limit=10, by="test")
    assert [(n.kind, n.payload) for n in due] == [("offer", {"booking_id": offered[0].booking_id})]
    # Nobody else can take the held place meanwhile.
    e = VOLUNTEERS[4]
    await _people(db, clock, e)
    await _clear(db, clock, e)
    assert (
        await rota.book(db, telegram_id=e, job_id=cook, now=clock(), waitlist=False)
    ).result is BookResult.FULL

    # c declines: it passes to d, who lets it expire: the place is free again.
    declined, _ = await rota.answer_offer(
        db,
        telegram_id=c,
        booking_id=offered[0].booking_id,
        accept=False,
        now=clock(),
        offer_window=OFFER,
    )
    assert declined is OfferResult.DECLINED
    d_offer = (await rota.my_bookings(db, telegram_id=d, now=clock()))[0]
    assert d_offer.status is BookingStatus.OFFERED
    clock.advance(hours=3)
    assert await rota.expire_offers(db, now=clock(), offer_window=OFFER) == 1
    late, _ = await rota.answer_offer(
        db,
        telegram_id=d,
        booking_id=d_offer.booking_id,
        accept=True,
        now=clock(),
        offer_window=OFFER,
    )
    assert late is OfferResult.NOT_OFFERED
    assert (
        await rota.book(db, telegram_id=e, job_id=cook, now=clock(), waitlist=False)
    ).result is BookResult.BOOKED


async def test_an_accepted_offer_books_the_place(db: Database, clock: Clock) -> None:
    tuesday = await _week(db, clock)
    a, b = VOLUNTEERS[:2]
    await _people(db, clock, a, b)
    driver = _job(tuesday, "driver")
    booked = await rota.book(db, telegram_id=a, job_id=driver, now=clock(), waitlist=False)
    waiting = await rota.book(db, telegram_id=b, job_id=driver, now=clock(), waitlist=True)
    assert booked.booking is not None and waiting.booking is not None
    await rota.cancel(
        db, telegram_id=a, booking_id=booked.booking.booking_id, now=clock(), offer_window=OFFER
    )
    result, view = await rota.answer_offer(
        db,
        telegram_id=b,
        booking_id=waiting.booking.booking_id,
        accept=True,
        now=clock(),
        offer_window=OFFER,
    )
    assert result is OfferResult.BOOKED
    assert view is not None and view.status is BookingStatus.BOOKED
    again, _ = await rota.answer_offer(
        db,
        telegram_id=b,
        booking_id=waiting.booking.booking_id,
        accept=True,
        now=clock(),
        offer_window=OFFER,
    )
    assert again is OfferResult.BOOKED  # the same answer again gets the same reply


async def test_nobody_holds_two_overlapping_sessions(db: Database, clock: Clock) -> None:
    tuesday = await _week(db, clock)
    location = await locations.create(db, actor_telegram_id=RACHEL, name="Riverside", now=clock())
    plan = SessionPlan(
        location_id=location.location_id,
        first_day=date(2026, 7, 28),
        last_day=date(2026, 7, 28),
        weekdays=frozenset({1}),
        start=time(12, 0),
        end=time(14, 0),
        jobs=JOBS,
    )
    await rota.create_sessions(db, actor_telegram_id=RACHEL, plan=plan, tz=LONDON, now=clock())
    sam = VOLUNTEERS[0]
    await _people(db, clock, sam)
    riverside = next(
        s
        for s in (
            await rota.upcoming(db, telegram_id=sam, now=clock(), offset=0, limit=20)
        ).sessions
        if s.location_name == "Riverside"
    )
    await rota.book(
        db, telegram_id=sam, job_id=_job(tuesday, "server"), now=clock(), waitlist=False
    )
    clash = await rota.book(
        db, telegram_id=sam, job_id=_job(riverside, "server"), now=clock(), waitlist=False
    )
    assert clash.result is BookResult.OVERLAP


async def test_a_cook_place_needs_a_cleared_check_in_date(db: Database, clock: Clock) -> None:
    tuesday = await _week(db, clock)
    sam = VOLUNTEERS[0]
    await _people(db, clock, sam)
    cook = _job(tuesday, "cook")
    refused = await rota.book(db, telegram_id=sam, job_id=cook, now=clock(), waitlist=False)
    assert refused.result is BookResult.NEEDS_CHECK
    profile = await people.profile(db, sam)
    assert profile is not None
    await people.record_check(
        db,
        actor_telegram_id=RACHEL,
        person_id=profile.person_id,
        status=CheckStatus.CLEARED,
        expires_on=date(2026, 7, 1),
        now=clock(),
    )
    expired = await rota.book(db, telegram_id=sam, job_id=cook, now=clock(), waitlist=False)
    assert expired.result is BookResult.NEEDS_CHECK
    await people.record_check(
        db,
        actor_telegram_id=RACHEL,
        person_id=profile.person_id,
        status=CheckStatus.CLEARED,
        expires_on=date(2027, 7, 1),
        now=clock(),
    )
    booked = await rota.book(db, telegram_id=sam, job_id=cook, now=clock(), waitlist=False)
    assert booked.result is BookResult.BOOKED


async def test_someone_elses_booking_cannot_be_cancelled(db: Database, clock: Clock) -> None:
    tuesday = await _week(db, clock)
    sam, eve = VOLUNTEERS[:2]
    await _people(db, clock, sam, eve)
    booked = await rota.book(
        db, telegram_id=sam, job_id=_job(tuesday, "server"), now=clock(), waitlist=False
    )
    assert booked.booking is not None
    with pytest.raises(NotYours):
        await rota.cancel(
            db,
            telegram_id=eve,
            booking_id=booked.booking.booking_id,
            now=clock(),
            offer_window=OFFER,
        )
    still = await rota.my_bookings(db, telegram_id=sam, now=clock())
    assert [b.status for b in still] == [BookingStatus.BOOKED]


async def test_cancelling_a_session_tells_everyone_once(db: Database, clock: Clock) -> None:
    tuesday = await _week(db, clock)
    a, b = VOLUNTEERS[:2]
    await _people(db, clock, a, b)
    await rota.book(db, telegram_id=a, job_id=_job(tuesday, "driver"), now=clock(), waitlist=False)
    await rota.book(db, telegram_id=b, job_id=_job(tuesday, "driver"), now=clock(), waitlist=True)
    assert (
        await rota.cancel_session(
            db, actor_telegram_id=RACHEL, session_id=tuesday.session_id, now=clock()
        )
    ).volunteers == 2
    # A second tap is told it was already done, not that there was nobody to tell.
    with pytest.raises(AlreadyDone):
        await rota.cancel_session(
            db, actor_telegram_id=RACHEL, session_id=tuesday.session_id, now=clock()
        )
    due = await outbox.claim_due(db, now=clock(), limit=10, by="test")
    assert sorted(n.chat_id for n in due) == [a, b]
    assert {n.kind for n in due} == {"session_cancelled"}
    assert await rota.my_bookings(db, telegram_id=a, now=clock()) == []


async def test_a_site_lead_runs_only_their_own_location(db: Database, clock: Clock) -> None:
    tuesday = await _week(db, clock)
    riverside = await locations.create(db, actor_telegram_id=RACHEL, name="Riverside", now=clock())
    await _people(db, clock, PRIYA)
    # Priya becomes a coordinator scoped to St Mark's: a site lead.
    await promote_to_coordinator(
        db, clock(), PRIYA, by=RACHEL, scope=frozenset({tuesday.location_id})
    )

    sam = VOLUNTEERS[0]
    await _people(db, clock, sam)
    booked = await rota.book(
        db, telegram_id=sam, job_id=_job(tuesday, "server"), now=clock(), waitlist=False
    )
    assert booked.booking is not None
    clock.now = tuesday.starts_at + timedelta(hours=2)
    day = await rota.sessions_on(
        db,
        actor_telegram_id=PRIYA,
        location_id=tuesday.location_id,
        day=date(2026, 7, 28),
        tz=LONDON,
    )
    assert [(h.name, h.job) for h in day[0].helpers] == [(f"Person {sam}", "server")]
    await rota.mark_attendance(
        db,
        actor_telegram_id=PRIYA,
        booking_id=booked.booking.booking_id,
        attended=True,
        now=clock(),
    )
    await rota.mark_attendance(
        db,
        actor_telegram_id=PRIYA,
        booking_id=booked.booking.booking_id,
        attended=False,
        now=clock(),
    )
    counted = await rota.record_counts(
        db,
        actor_telegram_id=PRIYA,
        session_id=tuesday.session_id,
        meals=38,
        children=31,
        now=clock(),
    )
    assert (counted.meals_served, counted.children_attended) == (38, 31)
    marks = await audit.recent(db, action="attendance.marked")
    assert [(m.details["was"], m.details["now"]) for m in reversed(marks)] == [
        ("booked", "attended"),
        ("attended", "no_show"),
    ]

    with pytest.raises(OutOfScope):
        await rota.sessions_on(
            db,
            actor_telegram_id=PRIYA,
            location_id=riverside.location_id,
            day=date(2026, 7, 28),
            tz=LONDON,
        )
    with pytest.raises(OutOfScope):
        await locations.create(db, actor_telegram_id=PRIYA, name="Elsewhere", now=clock())


async def test_cover_asks_each_home_volunteer_once(db: Database, clock: Clock) -> None:
    tuesday = await _week(db, clock)
    a, b, c = VOLUNTEERS[:3]
    await _people(db, clock, a, b, c)
    for telegram_id in (a, b):
        await locations.toggle_home(db, telegram_id=telegram_id, location_id=tuesday.location_id)
    await rota.book(db, telegram_id=b, job_id=_job(tuesday, "server"), now=clock(), waitlist=False)
    driver = _job(tuesday, "driver")
    gaps = await rota.coverage(db, actor_telegram_id=RACHEL, now=clock(), days=60)
    assert tuesday.session_id in [s.session_id for s in gaps]

    assert await rota.request_cover(db, actor_telegram_id=RACHEL, job_id=driver, now=clock()) == 1
    await rota.request_cover(db, actor_telegram_id=RACHEL, job_id=driver, now=clock())
    due = await outbox.claim_due(db, now=clock(), limit=10, by="test")
    assert [(n.chat_id, n.kind) for n in due] == [(a, "cover_needed")]
    await outbox.finish(db, due[0].notice_id, NoticeStatus.SENT, now=clock())
    assert (await outbox.counts(db))[NoticeStatus.SENT] == 1


async def _places_held(db: Database, job_id: int, *who: int) -> tuple[int, int]:
    """(places taken by the counter, bookings holding a place): always equal."""
    view = await rota.session_of_job(db, job_id)
    assert view is not None
    job = view.job(job_id)
    assert job is not None
    held = 0
    for telegram_id in who:
        for booking in await rota.my_bookings(
            db, telegram_id=telegram_id, now=datetime(2026, 7, 1, tzinfo=UTC)
        ):
            if booking.job_id == job_id and booking.status in (
                BookingStatus.BOOKED,
                BookingStatus.OFFERED,
            ):
                held += 1
    return job.taken, held


async def test_racing_cancels_offers_and_expiry_never_give_one_place_twice(
    db: Database, clock: Clock
) -> None:
    tuesday = await _week(db, clock)
    driver = _job(tuesday, "driver")
    a, b, c = VOLUNTEERS[:3]
    await _people(db, clock, a, b, c)
    booked = await rota.book(db, telegram_id=a, job_id=driver, now=clock(), waitlist=False)
    for waiting in (b, c):
        clock.advance(seconds=1)
        await rota.book(db, telegram_id=waiting, job_id=driver, now=clock(), waitlist=True)
    assert booked.booking is not None

    # A double tap on "Yes, cancel": one cancellation, one offer.
    results = await asyncio.gather(
        *(
            rota.cancel(
                db,
                telegram_id=a,
                booking_id=booked.booking.booking_id,
                now=clock(),
                offer_window=OFFER,
            )
            for _ in range(2)
        )
    )
    assert sorted(r for r, _ in results) == [CancelResult.CANCELLED, CancelResult.NOT_ACTIVE]
    assert await _places_held(db, driver, a, b, c) == (1, 1)

    # b accepts just as the expiry job runs: either way one place, one holder.
    offer = (await rota.my_bookings(db, telegram_id=b, now=clock()))[0]
    clock.advance(hours=3)
    await asyncio.gather(
        rota.answer_offer(
            db,
            telegram_id=b,
            booking_id=offer.booking_id,
            accept=True,
            now=clock(),
            offer_window=OFFER,
        ),
        rota.expire_offers(db, now=clock(), offer_window=OFFER),
    )
    assert await _places_held(db, driver, a, b, c) == (1, 1)

    # A double tap on "Yes, book me" answers the same both times.
    mine = await rota.my_bookings(db, telegram_id=c, now=clock())
    if mine and mine[0].status is BookingStatus.OFFERED:
        answers = await asyncio.gather(
            *(
                rota.answer_offer(
                    db,
                    telegram_id=c,
                    booking_id=mine[0].booking_id,
                    accept=True,
                    now=clock(),
                    offer_window=OFFER,
                )
                for _ in range(2)
            )
        )
        assert [r for r, _ in answers] == [OfferResult.BOOKED, OfferResult.BOOKED]
        assert await _places_held(db, driver, a, b, c) == (1, 1)
