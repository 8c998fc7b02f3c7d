"""The people directory and the lists' memory, against real SQLite and PostgreSQL: each filter
counts what is stored, a broadcast to the people a filter picks reaches exactly those, a site
lead's directory holds only their locations' people, and a list's search outlives a restart
but stops hearing typed text once another form asks something."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import text, update

from storage import broadcasts, directory, drafts, locations, migrate, people, rota
from storage.db import Database
from storage.directory import Selection, Show
from storage.models import Audience, CheckStatus, Person
from storage.rota import JobSpec, SessionPlan
from tests.storage.test_rota import LONDON, RACHEL, VOLUNTEERS, _people
from tests.support import Clock, promote_to_coordinator

JUNE = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
HOLIDAY = datetime(2026, 7, 29, 13, 0, tzinfo=UTC)  # Wednesday, after lunch
PRIYA = 1002


async def _lunches(db: Database, clock: Clock, location_id: int, first: date, last: date) -> None:
    await rota.create_sessions(
        db,
        actor_telegram_id=RACHEL,
        plan=SessionPlan(
            location_id=location_id,
            first_day=first,
            last_day=last,
            weekdays=frozenset({0, 1, 2, 3}),
            start=time(11, 30),
            end=time(13, 30),
            jobs=(JobSpec(job="server", places=50),),
        ),
        tz=LONDON,
        now=clock(),
    )


async def _job(db: Database, location_id: int, day: date) -> int:
    sessions = await rota.sessions_on(
        db, actor_telegram_id=RACHEL, location_id=location_id, day=day, tz=LONDON
    )
    return sessions[0].session.jobs[0].job_id


async def _book(db: Database, clock: Clock, who: int, job_id: int) -> None:
    outcome = await rota.book(db, telegram_id=who, job_id=job_id, now=clock(), waitlist=False)
    assert outcome.booking is not None


async def test_each_filter_counts_what_is_stored_and_a_broadcast_reaches_exactly_those(
    db: Database, clock: Clock
) -> None:
    clock.now = JUNE
    v = list(VOLUNTEERS[:10])
    await _people(db, clock, RACHEL, *v)
    st_marks = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=clock())
    riverside = await locations.create(db, actor_telegram_id=RACHEL, name="Riverside", now=clock())
    await _lunches(db, clock, st_marks.location_id, date(2026, 6, 8), date(2026, 6, 8))
    await _lunches(db, clock, st_marks.location_id, date(2026, 7, 27), date(2026, 7, 30))
    await _lunches(db, clock, riverside.location_id, date(2026, 7, 27), date(2026, 7, 30))
    # v0, v1: this holiday at St Mark's; v2: Riverside, ahead; v3: June only; v4: home only.
    await _book(db, clock, v[0], await _job(db, st_marks.location_id, date(2026, 7, 27)))
    await _book(db, clock, v[1], await _job(db, st_marks.location_id, date(2026, 7, 28)))
    await _book(db, clock, v[2], await _job(db, riverside.location_id, date(2026, 7, 30)))
    await _book(db, clock, v[3], await _job(db, st_marks.location_id, date(2026, 6, 8)))
    await locations.toggle_home(db, telegram_id=v[4], location_id=st_marks.location_id)
    checks = {
        v[0]: (CheckStatus.CLEARED, date(2026, 8, 20)),  # ends within 30 days
        v[1]: (CheckStatus.CLEARED, None),
        v[2]: (CheckStatus.CLEARED, date(2026, 7, 1)),  # ended: missing
        v[3]: (CheckStatus.PENDING, None),
    }
    async with db.transaction() as session:
        for who, (status, expires) in checks.items():
            await session.execute(
                update(Person)
                .where(Person.telegram_id == who)
                .values(check_status=status, check_expires_on=expires)
            )
    await people.mark_inactive(db, telegram_id=v[9])
    clock.now = HOLIDAY

    figures, holiday = await directory.counts(
        db, actor_telegram_id=RACHEL, chosen=Selection(), now=clock()
    )
    assert holiday.first_lunch == date(2026, 7, 27)
    # A fortnight after the last lunch the holiday is over; the next one has not begun.
    async with db.read() as session:
        later = await directory.this_holiday(session, datetime(2026, 8, 20, tzinfo=UTC))
        assert later.first_lunch is None
    assert figures == {
        Show.EVERYONE: 11,
        Show.VOLUNTEERS: 11,
        Show.SCHOOL_CONTACTS: 0,
        Show.COORDINATORS: 1,
        Show.CHECK_MISSING: 9,  # all but v0 and v1
        Show.CHECK_EXPIRING: 1,
        Show.BLOCKED: 1,
        Show.NOT_SEEN: 8,  # all but v0, v1 and v2
    }
    # With a location and a search, each count is of those (St Mark's: v0, v1 booked, v4 home).
    at = Selection(location_id=st_marks.location_id)
    figures, _ = await directory.counts(db, actor_telegram_id=RACHEL, chosen=at, now=clock())
    assert (figures[Show.EVERYONE], figures[Show.NOT_SEEN]) == (3, 1)
    named = Selection(search=f"PERSON {v[4]}")
    found = await directory.find(
        db, actor_telegram_id=RACHEL, chosen=named, offset=0, limit=8, now=clock()
    )
    assert [p.telegram_id for p in found.page.shown] == [v[4]]

    # The people a filter lists are whom a broadcast to it reaches: not the sender, nor
    # anyone who blocked the bot.
    for show in Show:
        chosen = Selection(show=show)
        listed = await directory.find(
            db, actor_telegram_id=RACHEL, chosen=chosen, offset=0, limit=100, now=clock()
        )
        composition = await broadcasts.choose_audience(
            db,
            actor_telegram_id=RACHEL,
            audience=Audience.PEOPLE,
            location_id=None,
            now=clock(),
            people=chosen,
        )
        reachable = {p.telegram_id for p in listed.page.shown if p.active} - {RACHEL}
        assert composition.recipients == listed.reachable == len(reachable), show
    await broadcasts.discard(db, actor_telegram_id=RACHEL)


async def test_a_site_leads_directory_holds_only_their_locations_people(
    db: Database, clock: Clock
) -> None:
    v = list(VOLUNTEERS[:3])
    await _people(db, clock, RACHEL, PRIYA, *v)
    st_marks = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=clock())
    riverside = await locations.create(db, actor_telegram_id=RACHEL, name="Riverside", now=clock())
    await locations.toggle_home(db, telegram_id=v[0], location_id=st_marks.location_id)
    await locations.toggle_home(db, telegram_id=v[1], location_id=riverside.location_id)
    await promote_to_coordinator(
        db, clock(), PRIYA, by=RACHEL, scope=frozenset({st_marks.location_id})
    )
    found = await directory.find(
        db, actor_telegram_id=PRIYA, chosen=Selection(), offset=0, limit=8, now=clock()
    )
    assert (found.scoped, [p.telegram_id for p in found.page.shown]) == (True, [v[0]])
    # Another location's people, asked for by a forged filter: still only her own.
    elsewhere = Selection(location_id=riverside.location_id)
    found = await directory.find(
        db, actor_telegram_id=PRIYA, chosen=elsewhere, offset=0, limit=8, now=clock()
    )
    assert found.page.matching == 0
    composition = await broadcasts.choose_audience(
        db,
        actor_telegram_id=PRIYA,
        audience=Audience.PEOPLE,
        location_id=None,
        now=clock(),
        people=Selection(),
    )
    assert composition.recipients == 1


async def test_a_list_remembers_its_search_and_hears_text_until_a_form_asks_something(
    db: Database, database_url: str, clock: Clock
) -> None:
    await drafts.save(db, telegram_id=7, flow="plan", awaiting="dates", data={}, now=clock())
    searched = await drafts.list_shown(
        db, telegram_id=7, kind="people", args={"show": "vol"}, now=clock(), search="ais"
    )
    assert searched == "ais"
    waiting = await drafts.waiting_for_text(db, telegram_id=7)
    assert waiting is not None and waiting.flow == drafts.LIST_FLOW  # shown last: it hears

    restarted = Database(database_url)
    try:
        # Another list shown, then the first again: each kind keeps its own search.
        kept = await drafts.list_shown(restarted, telegram_id=7, kind="homes", args={}, now=clock())
        assert kept == ""
        again = await drafts.list_shown(
            restarted, telegram_id=7, kind="people", args={"show": "vol"}, now=clock()
        )
        assert again == "ais"
        state = await drafts.list_state(restarted, telegram_id=7)
        assert state is not None and (state.kind, state.args) == ("people", {"show": "vol"})
        fresh = await drafts.list_shown(
            restarted, telegram_id=7, kind="people", args={}, now=clock(), fresh=True
        )
        assert fresh == ""
        # A form asks something: typed text is its answer now, not a search.
        await drafts.save(
            restarted, telegram_id=7, flow="plan", awaiting="times", data={}, now=clock()
        )
        waiting = await drafts.waiting_for_text(restarted, telegram_id=7)
        assert waiting is not None and waiting.flow == "plan"
        # /cancel forgets the list too; a list with no search is no form to name.
        assert await drafts.close_all(restarted, telegram_id=7) == ["plan"]
        assert await drafts.list_state(restarted, telegram_id=7) is None
    finally:
        await restarted.dispose()


async def test_names_stored_before_the_search_keys_are_found_by_them(database_url: str) -> None:
    """0012 fills in the keys of the names already there."""
    await migrate.upgrade(database_url, "0011")
    database = Database(database_url)
    at = "2026-06-01 09:00:00"
    try:
        async with database.transaction() as session:
            for statement in (
                "INSERT INTO locations (id, name, address, notes, daily_child_capacity, "
                f"created_at) VALUES (1, 'Café Zoë', '', '', 0, '{at}')",
                "INSERT INTO people (id, telegram_id, display_name, active, "
                f"privacy_accepted_at, created_at, check_status) VALUES (1, 42, 'ZOË Ångström', "
                f"true, '{at}', '{at}', 'none')",
                f"INSERT INTO schools (id, name, created_at) VALUES (1, 'Łódź Primary', '{at}')",
            ):
                await session.execute(text(statement))
    finally:
        await database.dispose()
    await migrate.upgrade(database_url)
    database = Database(database_url)
    try:
        async with database.read() as session:
            keys = (
                await session.execute(
                    text(
                        "SELECT name_key FROM locations UNION ALL SELECT name_key FROM people "
                        "UNION ALL SELECT name_key FROM schools"
                    )
                )
            ).scalars()
            assert sorted(keys) == ["cafe zoe", "lodz primary", "zoe angstrom"]
        found = await locations.find(database, search="CAFE zoe", offset=0, limit=8)
        assert [loc.name for loc in found.shown] == ["Café Zoë"]
    finally:
        await database.dispose()
