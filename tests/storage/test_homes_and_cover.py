"""Choosing home locations among many, and whom a cover request asks, against real SQLite and
PostgreSQL."""

from __future__ import annotations

from storage import locations, rota
from storage.db import Database
from storage.rota import CoverAudience
from tests.storage.test_rota import RACHEL, VOLUNTEERS, _job, _people, _week
from tests.support import Clock


async def test_locations_page_and_search_by_any_part_of_the_name(
    db: Database, clock: Clock
) -> None:
    await _people(db, clock, RACHEL, VOLUNTEERS[0])
    names = ("St Mark's", "Riverside", "100% Kids Club", "St Mary's", "Quay_Street", "Zoë's Café")
    for name in names:
        await locations.create(db, actor_telegram_id=RACHEL, name=name, now=clock())
    sam = VOLUNTEERS[0]

    page = await locations.find(db, search="", offset=0, limit=2)
    assert [loc.name for loc in page.shown] == ["100% Kids Club", "Quay_Street"]
    assert (page.matching, page.offset) == (6, 0)
    later = await locations.find(db, search="", offset=4, limit=2)
    assert [loc.name for loc in later.shown] == ["St Mary's", "Zoë's Café"]
    past_the_end = await locations.find(db, search="", offset=40, limit=2)  # an old button
    assert (past_the_end.offset, [loc.name for loc in past_the_end.shown]) == (
        4,
        ["St Mary's", "Zoë's Café"],
    )

    found = await locations.find(db, search="ST  M", offset=0, limit=8)
    assert [loc.name for loc in found.shown] == ["St Mark's", "St Mary's"]
    # Case and accents either way: "zoe's cafe" finds "Zoë's Café", and "RIVERSIDÉ" Riverside.
    accents = await locations.find(db, search="zoe's cafe", offset=0, limit=8)
    assert [loc.name for loc in accents.shown] == ["Zoë's Café"]
    other_way = await locations.find(db, search="RIVERSIDÉ", offset=0, limit=8)
    assert [loc.name for loc in other_way.shown] == ["Riverside"]
    # % and _ are letters in a search, not patterns.
    percent = await locations.find(db, search="%", offset=0, limit=8)
    assert [loc.name for loc in percent.shown] == ["100% Kids Club"]
    underscore = await locations.find(db, search="_", offset=0, limit=8)
    assert [loc.name for loc in underscore.shown] == ["Quay_Street"]

    await locations.toggle_home(db, telegram_id=sam, location_id=found.shown[1].location_id)
    assert [loc.name for loc in await locations.homes_of(db, telegram_id=sam)] == ["St Mary's"]
    # A renamed location is found by its new name only.
    await locations.update_field(
        db,
        actor_telegram_id=RACHEL,
        location_id=found.shown[1].location_id,
        field=locations.Field.NAME,
        value="Hillside Hall",
        now=clock(),
    )
    assert (await locations.find(db, search="mary", offset=0, limit=8)).matching == 0
    assert (await locations.find(db, search="hillside", offset=0, limit=8)).matching == 1


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
