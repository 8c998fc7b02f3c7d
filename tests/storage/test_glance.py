"""The programme at a glance, against real SQLite and PostgreSQL: what the day at every location
counts (booked, confirmed, offered, to fill, cancelled, did not run, counts recorded, placed
families), the week's cells, and /coverage's horizons, by location; each for a coordinator of
the whole programme and for a site lead."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from storage import coverage, locations, people, programme_day, referrals, rota, siteday, week
from storage.coverage import Horizon
from storage.db import Database
from storage.errors import OutOfScope
from storage.week import CellState
from tests.storage.test_referrals import CIPHER, LONDON, OKAFOR, RACHEL, SAM, _lunches, _place, form
from tests.storage.test_referrals import _programme as _referrals_programme
from tests.support import Clock, promote_to_coordinator

JO, ADE, PRIYA = 3002, 3003, 1002
MONDAY, TUESDAY, WEDNESDAY = date(2026, 7, 27), date(2026, 7, 28), date(2026, 7, 29)
TUESDAY_MORNING = datetime(2026, 7, 28, 8, 0, tzinfo=UTC)  # 09:00 in London


async def _tuesday(db: Database, location_id: int, day: date = TUESDAY) -> rota.SessionView:
    (site,) = await rota.sessions_on(
        db, actor_telegram_id=RACHEL, location_id=location_id, day=day, tz=LONDON
    )
    return site.session


async def _programme(db: Database, clock: Clock) -> dict[str, int]:
    """St Mark's (lunch every weekday of the summer, two servers), with a family placed on
    Tuesdays and Thursdays; Riverside and Brook Lane (the week of 27 July); an archived hall.
    On Tuesday at St Mark's: Sam booked and confirmed, Ade offered the place Jo gave up; at
    Brook Lane one of two places booked; at Riverside nobody. Riverside's Wednesday is
    cancelled; on Monday St Mark's did not run and Riverside's counts are in."""
    st_marks = await _referrals_programme(db, clock)
    sent = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(), now=clock(), daily_limit=10
    )
    await _place(db, clock, sent.referral_id, st_marks, TUESDAY, date(2026, 8, 27))
    ids = {"St Mark's": st_marks}
    for name in ("Riverside", "Brook Lane", "Old Hall"):
        made = await locations.create(db, actor_telegram_id=RACHEL, name=name, now=clock())
        await _lunches(db, clock, made.location_id, MONDAY, date(2026, 7, 31))
        ids[name] = made.location_id
    await rota.archive_location(
        db, actor_telegram_id=RACHEL, location_id=ids["Old Hall"], now=clock()
    )
    for telegram_id, name in ((JO, "Jo"), (ADE, "Ade")):
        await people.register(
            db, telegram_id=telegram_id, name=name, now=clock(), coordinator_ids=frozenset()
        )
    servers = (await _tuesday(db, st_marks)).jobs[0].job_id
    sam = await rota.book(db, telegram_id=SAM, job_id=servers, now=clock(), waitlist=False)
    jo = await rota.book(db, telegram_id=JO, job_id=servers, now=clock(), waitlist=False)
    await rota.book(db, telegram_id=ADE, job_id=servers, now=clock(), waitlist=True)
    assert sam.booking is not None and jo.booking is not None
    await rota.confirm(db, telegram_id=SAM, booking_id=sam.booking.booking_id, now=clock())
    await rota.cancel(
        db,
        telegram_id=JO,
        booking_id=jo.booking.booking_id,
        now=clock(),
        offer_window=timedelta(hours=2),
    )
    brook = (await _tuesday(db, ids["Brook Lane"])).jobs[0].job_id
    await rota.book(db, telegram_id=JO, job_id=brook, now=clock(), waitlist=False)
    wednesday = await _tuesday(db, ids["Riverside"], WEDNESDAY)
    await rota.cancel_session(
        db, actor_telegram_id=RACHEL, session_id=wednesday.session_id, now=clock()
    )
    clock.now = TUESDAY_MORNING
    monday = await _tuesday(db, st_marks, MONDAY)
    await siteday.mark_not_run(
        db,
        actor_telegram_id=RACHEL,
        session_id=monday.session_id,
        reason="Venue closed",
        typed=False,
        now=clock(),
    )
    counted = await _tuesday(db, ids["Riverside"], MONDAY)
    await rota.record_counts(
        db,
        actor_telegram_id=RACHEL,
        session_id=counted.session_id,
        meals=30,
        children=25,
        now=clock(),
    )
    return ids


async def test_the_day_at_every_location_counts_what_the_site_day_counts(
    db: Database, clock: Clock
) -> None:
    ids = await _programme(db, clock)
    found = await programme_day.programme_day(
        db, actor_telegram_id=RACHEL, day=TUESDAY, tz=LONDON, now=clock(), names=True
    )
    assert [place.name for place in found.locations] == ["Riverside", "Brook Lane", "St Mark's"]
    riverside, brook, st_marks = found.locations
    assert (riverside.tally.free, riverside.tally.empty) == (2, 1)
    assert (brook.tally.booked, brook.tally.free, brook.tally.empty) == (1, 1, 0)
    t = st_marks.tally
    assert (t.places, t.booked, t.confirmed, t.offered, t.free) == (2, 1, 1, 1, 0)
    (lunch,) = st_marks.lunches
    assert [(v.name, v.confirmed) for v in lunch.volunteers] == [("Sam", True)]
    assert (st_marks.families.families, st_marks.families.children) == (1, 2)
    assert st_marks.families.with_needs == 1
    assert found.tally.lunches == 3 and found.tally.places == 6 and found.tally.free == 3
    assert found.runs == 3  # the archived hall is nobody's to run

    # Monday, seen on Tuesday: St Mark's did not run; Riverside's counts are in, Brook's not.
    monday = await programme_day.programme_day(
        db, actor_telegram_id=RACHEL, day=MONDAY, tz=LONDON, now=clock()
    )
    assert (monday.tally.not_run, monday.tally.begun, monday.tally.recorded) == (1, 2, 1)
    assert monday.tally.lunches == 2  # the lunch that did not run needs nobody

    # A page of them, found by any part of the name, whatever its case.
    shown = programme_day.page(found, search="BROOK", offset=0, limit=8)
    assert [place.name for place in shown.shown] == ["Brook Lane"]
    file = programme_day.day_file(found, LONDON)
    assert file.rows == 3
    assert "St Mark's,11:30,13:30,on,2,1,1,1,0,,,1,2,1,," in file.data.decode("utf-8-sig")

    # A site lead sees her own location's day, and no other.
    await people.register(
        db, telegram_id=PRIYA, name="Priya", now=clock(), coordinator_ids=frozenset()
    )
    await promote_to_coordinator(db, clock(), PRIYA, by=RACHEL, scope=frozenset({ids["Riverside"]}))
    hers = await programme_day.programme_day(
        db, actor_telegram_id=PRIYA, day=TUESDAY, tz=LONDON, now=clock()
    )
    assert [place.name for place in hers.locations] == ["Riverside"]
    assert hers.runs == 1


async def test_the_week_is_a_cell_a_location_a_day(db: Database, clock: Clock) -> None:
    await _programme(db, clock)
    found = await week.week(db, actor_telegram_id=RACHEL, monday=MONDAY, tz=LONDON, now=clock())
    assert found.days == tuple(MONDAY + timedelta(days=n) for n in range(5))  # no weekend
    states = {row.name: [c.state for c in row.cells] for row in found.rows}
    assert states["Riverside"][1:3] == [CellState.EMPTY, CellState.CANCELLED]
    assert states["St Mark's"][:2] == [CellState.CANCELLED, CellState.FILLED]
    assert states["Brook Lane"][1] == CellState.SHORT
    assert "Old Hall" not in states
    st_marks = next(row for row in found.rows if row.name == "St Mark's")
    assert st_marks.cells[0].not_run  # Monday: it did not run, nobody cancelled it
    assert week.cell_words(st_marks.cells[0]) == "did not run"
    assert week.cell_words(st_marks.cells[1]) == "1 of 2 booked; 1 offered"
    assert (found.runs, found.quiet) == (3, 0)
    made = week.week_file(found)
    assert made.rows == 3
    assert "Riverside,0 of 2 booked; 2 to fill,0 of 2 booked; 2 to fill,cancelled," in (
        made.data.decode("utf-8-sig")
    )


async def test_coverage_looks_as_far_as_asked_and_groups_by_location(
    db: Database, clock: Clock
) -> None:
    ids = await _programme(db, clock)
    # A lunch at the next holiday, after a break of months: beyond "the rest of the holiday".
    await _lunches(db, clock, ids["Brook Lane"], date(2026, 10, 26), date(2026, 10, 26))
    spans = {
        horizon: await coverage.span(
            db, actor_telegram_id=RACHEL, horizon=horizon, now=clock(), tz=LONDON
        )
        for horizon in Horizon
    }
    holiday = spans[Horizon.HOLIDAY]
    assert holiday is not None and holiday.last_day == date(2026, 8, 28)
    found = {}
    for horizon, span in spans.items():
        assert span is not None
        found[horizon] = await coverage.coverage(
            db, actor_telegram_id=RACHEL, within=span, now=clock()
        )
    week_ahead = found[Horizon.WEEK]
    # Tuesday 09:00 to the next: St Mark's has 4 lunches to fill after today's (filled), two
    # places each; Riverside Tuesday, Thursday, Friday (Wednesday is cancelled); Brook Lane 4.
    by_name = {place.name: place for place in week_ahead.locations}
    assert (by_name["St Mark's"].sessions, by_name["St Mark's"].free) == (4, 8)
    assert (by_name["Riverside"].sessions, by_name["Riverside"].free) == (3, 6)
    assert (by_name["Brook Lane"].sessions, by_name["Brook Lane"].free) == (4, 7)
    assert [place.name for place in week_ahead.locations] == [
        "St Mark's",
        "Brook Lane",
        "Riverside",
    ]
    assert found[Horizon.FOUR_WEEKS].free > found[Horizon.FORTNIGHT].free > week_ahead.free
    every = found[Horizon.HOLIDAY]
    assert sum(p.sessions for p in every.locations) == every.short
    assert "Brook Lane" in {p.name for p in every.locations}
    brook = next(p for p in every.locations if p.name == "Brook Lane")
    assert brook.sessions == 4  # not the October lunch

    page = await coverage.gaps_at(
        db,
        actor_telegram_id=RACHEL,
        location_id=ids["Riverside"],
        within=spans[Horizon.WEEK],
        now=clock(),
        offset=0,
        limit=8,
    )
    assert [v.starts_at.astimezone(LONDON).date() for v in page.shown] == [
        TUESDAY,
        date(2026, 7, 30),
        date(2026, 7, 31),
    ]
    await people.register(
        db, telegram_id=PRIYA, name="Priya", now=clock(), coordinator_ids=frozenset()
    )
    await promote_to_coordinator(db, clock(), PRIYA, by=RACHEL, scope=frozenset({ids["Riverside"]}))
    with pytest.raises(OutOfScope):
        await coverage.gaps_at(
            db,
            actor_telegram_id=PRIYA,
            location_id=ids["St Mark's"],
            within=spans[Horizon.WEEK],
            now=clock(),
            offset=0,
            limit=8,
        )
    hers = await coverage.coverage(
        db, actor_telegram_id=PRIYA, within=spans[Horizon.WEEK], now=clock()
    )
    assert [place.name for place in hers.locations] == ["Riverside"]
