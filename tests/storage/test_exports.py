"""The rota export's rules against real SQLite and PostgreSQL: a site lead exports only their
own locations, a period is checked, the rest of the holiday stops at the next break, and only
coordinators limited to a location are its site leads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from storage import audit, exports, locations, people
from storage.db import Database
from storage.errors import OutOfScope
from storage.exports import PeriodProblem
from storage.models import Role
from tests.storage.test_rota import LONDON, RACHEL, _week
from tests.support import Clock, promote_to_coordinator

PRIYA = 1002
FRIDAY = datetime(2026, 7, 24, 9, 0, tzinfo=UTC)
WEEK = (date(2026, 7, 27), date(2026, 8, 2))


async def _two_sites(db: Database, clock: Clock) -> tuple[int, int]:
    """St Mark's and Riverside, Monday to Thursday in the week of 27 July; Priya leads
    St Mark's."""
    await _week(db, clock)
    await _week(db, clock, "Riverside")
    named = {place.name: place.location_id for place in await locations.listed(db)}
    st_marks, riverside = named["St Mark's"], named["Riverside"]
    await people.register(
        db, telegram_id=PRIYA, name="Priya", now=clock(), coordinator_ids=frozenset()
    )
    await promote_to_coordinator(db, clock(), PRIYA, by=RACHEL, scope=frozenset({st_marks}))
    return st_marks, riverside


def test_a_period_is_checked() -> None:
    today = FRIDAY.date()
    assert exports.period_problem(*WEEK, today=today) is None
    assert exports.period_problem(WEEK[1], WEEK[0], today=today) is PeriodProblem.BACKWARDS
    year = (date(2026, 7, 1), date(2027, 7, 2))
    assert exports.period_problem(*year, today=today) is PeriodProblem.TOO_LONG
    far = (date(2027, 7, 20), date(2027, 7, 30))
    assert exports.period_problem(*far, today=today) is PeriodProblem.TOO_FAR
    assert exports.this_week(today) == (date(2026, 7, 20), date(2026, 7, 26))
    assert exports.next_week(today) == WEEK


async def test_a_site_lead_exports_her_own_location_only(db: Database, clock: Clock) -> None:
    st_marks, riverside = await _two_sites(db, clock)
    clock.now = FRIDAY
    mine = await exports.rota(
        db,
        actor_telegram_id=PRIYA,
        first=WEEK[0],
        last=WEEK[1],
        location_ids=None,
        tz=LONDON,
        now=clock(),
    )
    assert (mine.sessions, mine.locations, mine.file.rows) == (4, 1, 24)
    with pytest.raises(OutOfScope):
        await exports.rota(
            db,
            actor_telegram_id=PRIYA,
            first=WEEK[0],
            last=WEEK[1],
            location_ids=[st_marks, riverside],
            tz=LONDON,
            now=clock(),
        )
    with pytest.raises(ValueError, match="no locations"):
        await exports.rota(
            db,
            actor_telegram_id=RACHEL,
            first=WEEK[0],
            last=WEEK[1],
            location_ids=[],
            tz=LONDON,
            now=clock(),
        )
    with pytest.raises(ValueError, match="period"):
        await exports.rota(
            db,
            actor_telegram_id=RACHEL,
            first=WEEK[1],
            last=WEEK[0],
            location_ids=None,
            tz=LONDON,
            now=clock(),
        )


async def test_the_rest_of_the_holiday_stops_at_the_next_break(db: Database, clock: Clock) -> None:
    await _two_sites(db, clock)
    clock.now = FRIDAY
    left = await exports.holiday_left(db, actor_telegram_id=RACHEL, today=FRIDAY.date(), tz=LONDON)
    assert left == (FRIDAY.date(), date(2026, 7, 30))
    after = FRIDAY.date() + timedelta(days=7)
    assert await exports.holiday_left(db, actor_telegram_id=RACHEL, today=after, tz=LONDON) is None


async def test_only_coordinators_limited_to_a_location_are_its_site_leads(
    db: Database, clock: Clock
) -> None:
    st_marks, riverside = await _two_sites(db, clock)
    await people.set_phone(db, telegram_id=PRIYA, phone="07700 900123", now=clock())
    async with db.read() as session:
        leads = await exports.site_leads(session, [st_marks, riverside])
    assert [(lead.name, lead.phone) for lead in leads[st_marks]] == [("Priya", "07700 900123")]
    assert riverside not in leads  # Rachel runs the whole programme: nobody's site lead
    profile = await people.profile(db, PRIYA)
    assert profile is not None
    await people.remove_role(
        db,
        actor_telegram_id=RACHEL,
        person_id=profile.person_id,
        role=Role.COORDINATOR,
        now=clock(),
    )
    async with db.read() as session:
        assert await exports.site_leads(session, [st_marks]) == {}


async def test_a_file_too_big_to_send_is_not_made_nor_audited(db: Database, clock: Clock) -> None:
    await _two_sites(db, clock)
    clock.now = FRIDAY
    with pytest.raises(exports.TooBig) as raised:
        await exports.rota(
            db,
            actor_telegram_id=RACHEL,
            first=WEEK[0],
            last=WEEK[1],
            location_ids=None,
            tz=LONDON,
            now=clock(),
            max_bytes=1_000,
        )
    assert raised.value.size > 1_000
    assert await audit.recent(db, action="rota.exported") == []
