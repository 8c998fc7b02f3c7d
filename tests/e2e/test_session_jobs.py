"""A session's jobs and places changed after it was planned, as Rachel does it from the session's
card: more places reach the waitlist first; fewer than are held is refused naming who would
lose their place, then (confirmed) moves the last booked to the top of the waitlist and tells
them once; a job is added, and one with people on it is not removed."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.harness import Clock, Rehearsal
from bot.sandbox import SimUser
from handlers import callbacks, site_texts, texts
from handlers.session_jobs import MoveToWaitlist
from storage import audit, locations, rota
from storage.models import BookingStatus
from tests.conftest import RACHEL
from tests.e2e.test_joining import register
from tests.e2e.test_site_day import WEDNESDAY, _programme, _session, _site_lead

SAM, PRIYA, TOM, ADE, JO = 3201, 3202, 3203, 3204, 3205
NAMES = {SAM: "Sam", PRIYA: "Priya", TOM: "Tom", ADE: "Ade", JO: "Jo"}
WEDNESDAY_MORNING = datetime(2026, 7, 29, 8, 0, tzinfo=UTC)  # 09:00 on the day


async def _servers(bot: Rehearsal, clock: Clock) -> tuple[rota.SessionView, int]:
    """St Mark's Wednesday: Sam, Priya and Tom serve (3 of 3), Ade waits; Jo has no place."""
    st_marks, _ = await _programme(bot, clock)
    wednesday = await _session(bot, st_marks, WEDNESDAY)
    server = next(job.job_id for job in wednesday.jobs if job.job == "server")
    for who in (SAM, PRIYA, TOM, ADE, JO):
        await register(bot, who, NAMES[who])
    for who in (SAM, PRIYA, TOM, ADE):
        clock.advance(minutes=1)
        await rota.book(bot.services.db, telegram_id=who, job_id=server, now=clock(), waitlist=True)
    clock.now = WEDNESDAY_MORNING
    return wednesday, server


async def _open_jobs(rachel: SimUser) -> None:
    await rachel.send("/today")
    await rachel.tap("St Mark's")
    await rachel.tap("⚙️ Change or cancel session")
    await rachel.tap("✏️ Jobs and places")


async def test_places_cut_below_those_booked_are_refused_then_moved_to_the_waitlist(
    bot: Rehearsal, clock: Clock
) -> None:
    wednesday, server = await _servers(bot, clock)
    rachel = bot.user(RACHEL, "Rachel")
    await _open_jobs(rachel)
    assert "Jobs and places at St Mark's, Wed 29 Jul, 11:30-13:30:" in rachel.last.text
    assert "• server: 3 places, 3 taken, 1 waiting" in rachel.last.text
    assert rachel.last.labels() == [
        "cook (0/2)",
        "server (3/3)",
        "driver (0/1)",
        "➕ Add a job",
        "« Back to the session",
    ]
    await rachel.tap("server (3/3)")
    assert "How many server places? Now 3 places, 3 taken, 1 waiting." in rachel.last.text
    for wrong in ("none", "0", "51", "2.5"):
        await rachel.send(wrong)
        assert rachel.last.text.startswith("Please send a number of places from 1 to 50")
    await rachel.send("1")
    refusal = rachel.last
    assert refusal.text.startswith(
        "3 people hold server places: with 1, Tom and Priya, the last to book, would lose their "
        "places."
    )
    assert refusal.labels() == ["⏬ Move 2 to the waitlist", "Keep 3 places", "✖ Cancel"]
    view = await rota.session_view(bot.services.db, wednesday.session_id)
    assert view is not None and view.job(server) is not None
    assert (view.job(server).places, view.job(server).taken) == (3, 3)  # type: ignore[union-attr]

    # Another number: 2 is refused too, naming Tom only; this confirmation is for 2.
    await rachel.send("2")
    two = rachel.last
    assert "with 2, Tom, the last to book, would lose their place" in two.text
    # The earlier screen's button asked about 1 place: it is closed now.
    await rachel.tap("⏬ Move 2 to the waitlist", message=refusal)
    assert refusal.text == texts.form_closed("session_jobs")
    await rachel.tap("⏬ Move Tom to the waitlist", message=two)
    assert two.text.startswith(
        "Saved: server now has 2 places (it had 3). Moved to the top of the waitlist, and "
        "told: Tom."
    )
    assert "• server: 2 places, 2 taken, 2 waiting" in two.text
    await bot.settle()
    tom = bot.user(TOM, "Tom")
    assert tom.last.text.startswith(
        "Sorry: the server places at St Mark's, Wed 29 Jul, 11:30-13:30 were cut, and your "
        "place moved to the waitlist, at its top. You're number 1 on it."
    )
    told = [m for m in tom.messages if "were cut" in m.text]
    mine = await rota.my_bookings(bot.services.db, telegram_id=TOM, now=clock())
    assert [(b.status, b.position) for b in mine] == [(BookingStatus.WAITLISTED, 1)]
    # A forged or repeated confirmation moves nobody else and tells nobody twice.
    await rachel.tap_data(callbacks.encode(MoveToWaitlist(server, 1)), message_id=two.message_id)
    assert two.text == texts.form_closed("session_jobs")
    await bot.settle()
    assert [m for m in tom.messages if "were cut" in m.text] == told
    priya = await rota.my_bookings(bot.services.db, telegram_id=PRIYA, now=clock())
    assert [b.status for b in priya] == [BookingStatus.BOOKED]
    entry = (await audit.recent(bot.services.db, action="session.places_changed"))[0]
    assert (entry.details["before"], entry.details["after"], entry.details["moved"]) == (3, 2, 1)


async def test_more_places_are_offered_to_the_waitlist_and_jobs_come_and_go(
    bot: Rehearsal, clock: Clock
) -> None:
    _, server = await _servers(bot, clock)
    rachel = bot.user(RACHEL, "Rachel")
    await _open_jobs(rachel)
    await rachel.tap("server (3/3)")
    await rachel.send("4")
    assert rachel.last.text.startswith(
        "Saved: server now has 4 places (it had 3). 1 place offered to the first on the "
        "waitlist, who is asked now."
    )
    await bot.settle()
    ade = bot.user(ADE, "Ade")
    assert "place came free at St Mark's" in ade.last.text
    await ade.tap("✅ Yes, book me")
    assert "It's yours" in ade.last.text

    # A job is added; the same name twice is refused.
    await _open_jobs(rachel)
    await rachel.tap("➕ Add a job")
    await rachel.send("washer 2")
    assert rachel.last.text.startswith("Added: washer, 2 places. Volunteers can book it now.")
    assert "washer (0/2)" in rachel.last.labels()
    await rachel.tap("➕ Add a job")
    await rachel.send("server 1")
    assert rachel.last.text == "This session has a server job already: tap it to change its places."
    await rachel.send("/cancel")

    # A job with people on it stays; an empty one goes.
    await _open_jobs(rachel)
    await rachel.tap("server (4/4)")
    await rachel.tap("🗑 Remove server")
    assert rachel.last.text.startswith(
        "server can't be removed while people are on it: Sam, Priya, Tom and Ade."
    )
    await rachel.tap("« Jobs and places")
    await rachel.tap("washer (0/2)")
    await rachel.tap("🗑 Remove washer")
    assert rachel.last.text == "Remove the washer job from this session? Nobody is on it."
    await rachel.tap("🗑 Yes, remove washer")
    assert rachel.last.text.startswith("Removed: the washer job.")
    assert "washer (0/2)" not in rachel.last.labels()
    removed = await audit.recent(bot.services.db, action="session.job_removed")
    assert [entry.details["job"] for entry in removed] == ["washer"]
    assert server  # the server job is still there


async def test_only_the_sessions_coordinators_change_its_jobs_and_only_before_it_starts(
    bot: Rehearsal, clock: Clock
) -> None:
    wednesday, server = await _servers(bot, clock)
    _, riverside = await _programme_ids(bot)
    await _site_lead(bot, clock, 3299, riverside)
    lead = bot.user(3299, "Priya")
    await lead.tap_data(f"np:{server}")
    assert lead.last.text.startswith("Sorry, that is outside the locations you lead")
    sam = bot.user(SAM, "Sam")
    await sam.tap_data(f"nj:{wednesday.session_id}")
    assert sam.last.text.startswith("Sorry, that is only for coordinators")
    rachel = bot.user(RACHEL, "Rachel")
    await _open_jobs(rachel)
    jobs = rachel.last
    clock.now = wednesday.starts_at  # lunch has begun
    await rachel.tap("server (3/3)", message=jobs)
    assert jobs.text == site_texts.session_closed()
    assert jobs.labels() == ["« Back to the session"]
    view = await rota.session_view(bot.services.db, wednesday.session_id)
    assert view is not None and view.job(server) is not None
    assert view.job(server).places == 3  # type: ignore[union-attr]


async def _programme_ids(bot: Rehearsal) -> tuple[int, int]:
    run = await locations.listed(bot.services.db)
    by_name = {place.name: place.location_id for place in run}
    return by_name["St Mark's"], by_name["Riverside"]
