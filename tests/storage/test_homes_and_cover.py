"""Choosing home locations among many, and whom a cover request asks, against real SQLite and
PostgreSQL."""

from __future__ import annotations

from storage import locations, rota
from storage.db import Database
from storage.rota import CoverAudience
from tests.storage.test_rota import RACHEL, VOLUNTEERS, _job, _people, _week
from tests.support import Clock


async def test_home_choices_page_and_search_by_any_part_of_the_name(
    db: Database, clock: Clock
) -> None:
    await _people(db, clock, RACHEL, VOLUNTEERS[0])
    for name in ("St Mark's", "Riverside", "100% Kids Club", "St Mary's", "Quay_Street"):
        await locations.create(db, actor_telegram_id=RACHEL, name=name, now=clock())
    sam = VOLUNTEERS[0]

    page = await locations.home_choices(db, telegram_id=sam, search="", offset=0, limit=2)
    assert [loc.name for loc in page.shown] == ["100% Kids Club", "Quay_Street"]
    assert (page.matching, page.homes) == (5, [])
    later = await locations.home_choices(db, telegram_id=sam, search="", offset=4, limit=2)
    assert [loc.name for loc in later.shown] == ["St Mary's"]

    found = await locations.home_choices(db, telegram_id=sam, search="ST M", offset=0, limit=8)
    assert [loc.name for loc in found.shown] == ["St Mark's", "St Mary's"]
    # % and _ are letters in a search, not patterns.
    percent = await locations.home_choices(db, telegram_id=sam, search="%", offset=0, limit=8)
    assert [loc.name for loc in percent.shown] == ["100% Kids Club"]
    underscore = await locations.home_choices(db, telegram_id=sam, search="_", offset=0, limit=8)
    assert [loc.name for loc in underscore.shown] == ["Quay_Street"]

    await locations.toggle_home(db, telegram_id=sam, location_id=found.shown[1].location_id)
    chosen = await locations.home_choices(db, telegram_id=sam, search="river", offset=0, limit=8)
    assert [loc.name for loc in chosen.homes] == ["St Mary's"]
    assert chosen.matching == 1


async def test_cover_audiences_widen_from_home_to_recent_to_everyone_who_may(
    db: Database, clock: Clock
) -> None:
    tuesday = await _week(db, clock)
    home, recent, anyone, booked = VOLUNTEERS[:4]
    await _people(db, clock, home, recent, anyone, booked)
    await locations.toggle_home(db, telegram_id=home, location_id=tuesday.location_id)
    others = await rota.upcoming(db, telegram_id=RACHEL, now=clock(), offset=0, limit=10)
    thursday = others.sessions[3]
    await rota.book(
        db, telegram_id=recent, job_id=_job(thursday, "server"), now=clock(), waitlist=False
    )
    await rota.book(
        db, telegram_id=booked, job_id=_job(tuesday, "server"), now=clock(), waitlist=False
    )
    driver, cook = _job(tuesday, "driver"), _job(tuesday, "cook")

    counts = await rota.cover_audiences(db, actor_telegram_id=RACHEL, job_id=driver, now=clock())
    # Never the coordinator asking, nor anyone on the session already.
    assert counts == {CoverAudience.HOME: 1, CoverAudience.RECENT: 2, CoverAudience.ALL: 3}
    # The cook's place needs a cleared check: nobody has one.
    counts = await rota.cover_audiences(db, actor_telegram_id=RACHEL, job_id=cook, now=clock())
    assert counts == {CoverAudience.HOME: 0, CoverAudience.RECENT: 0, CoverAudience.ALL: 0}

    asked = await rota.request_cover(
        db, actor_telegram_id=RACHEL, job_id=driver, now=clock(), audience=CoverAudience.ALL
    )
    assert asked == 3
