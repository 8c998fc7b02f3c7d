"""The sign-up rush: when a holiday's rota opens, hundreds of volunteers tap Book within minutes,
so a booking tap does only the work it needs. Its SQL statements are counted (every statement
the bot sends the database while it handles the tap) and stay within a budget, however many
places the volunteer already holds.

People, a location and its sessions are set up through storage; the taps go through the bot."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time
from typing import Any

from sqlalchemy import event

from bot.harness import Clock, Rehearsal
from bot.sandbox import SimUser
from storage.db import Database
from storage.rota import JobSpec
from tests.conftest import RACHEL
from tests.e2e.test_long_screens import book, plan, register

# What a booking tap may cost: under 10, as issue 11 asks. It costs 7: the person with their
# roles (read once per update, before any handler); then, in the booking's own transaction, the
# person (locked, their role checked again) with the job, its session and location; the
# person's places that matter (this session's, and any at the same time); taking the place;
# the booking; its audit row; and the session as it now stands, for the card. It cost 40 before,
# and grew with the volunteer's places (175 with 30). The slack is for work every update may
# come to need (a durable inbox of updates, say).
STATEMENTS_PER_BOOKING_TAP = 9
# Opening a session's card costs 4: the person, the session, its jobs, the volunteer's place
# on it. It cost 14 before, 159 with 30 places.
STATEMENTS_PER_SESSION_CARD = 6
SAM, PRIYA = 3001, 3002
HELD_BY_PRIYA = 30  # Sam holds one place
SERVER = JobSpec(job="server", places=50)


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """Every SQL statement sent to the database while the block runs, but for the BEGIN that
    opens each transaction on SQLite (asyncpg opens PostgreSQL's without a statement) and the
    inbox's."""
    sent: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The inbox's own few (store, claim, finish) carry every update alike, whatever it is:
        # they are the price of losing none, not of a tap.
        if not statement.startswith("BEGIN") and " inbox" not in statement:
            sent.append(statement)

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def counted(bot: Rehearsal, person: SimUser, label: str) -> int:
    """Statements for one tap, without those of the rehearsal's own send sweep after each
    update (which sends what the tap queued for others: a booking queues nothing)."""
    with statements(bot.services.db) as idle:
        await bot.settle()
    with statements(bot.services.db) as sent:
        await person.tap(label)
    return len(sent) - len(idle)


async def test_a_booking_tap_costs_a_few_statements_however_many_places_the_volunteer_holds(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, clock, RACHEL, "Rachel")
    # Seven weeks of weekday lunches: the first is the one both book through the bot.
    sessions = await plan(
        bot,
        clock,
        "St Mark's church hall",
        days=(date(2026, 7, 6), date(2026, 8, 21)),
        times=(time(11, 30), time(13, 30)),
        jobs=(SERVER,),
    )
    later = sessions[1:]
    costs: dict[int, tuple[int, int]] = {}
    for booked, (telegram_id, name, held) in enumerate(
        ((SAM, "Sam", 1), (PRIYA, "Priya", HELD_BY_PRIYA)), start=1
    ):
        await register(bot, clock, telegram_id, name)
        for session in later[:held]:
            await book(bot, clock, telegram_id, session.jobs[0].job_id)
        volunteer = bot.user(telegram_id, name)
        await volunteer.send("/sessions")
        opening = await counted(bot, volunteer, "Mon 6 Jul 11:30 · St Mark's church hall")
        assert "server: " in volunteer.last.text
        booking = await counted(
            bot,
            volunteer,
            next(label for label in volunteer.last.labels() if label.startswith("Book server")),
        )
        assert "✅ Booked: you're a server at St Mark's church hall" in volunteer.last.text
        # The card is the session as the booking left it.
        assert f"• server: {50 - booked} of 50 free" in volunteer.last.text
        assert "You are booked as server." in volunteer.last.text
        assert "Cancel: Mon 6 Jul server" in volunteer.last.labels()
        costs[held] = (opening, booking)

    for opening, booking in costs.values():
        assert opening <= STATEMENTS_PER_SESSION_CARD, costs
        assert booking <= STATEMENTS_PER_BOOKING_TAP, costs
    # The volunteer's other places cost nothing: thirty cost what one does.
    assert costs[1] == costs[HELD_BY_PRIYA]
