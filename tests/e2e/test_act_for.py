"""Coordinators act for people on a session's rota (from the session's screen in /today): put
a volunteer on a job, found among hundreds by typing part of the name; put on someone without
Telegram by typing their name; take people off; move them to another job or session. The rules
are a volunteer's own booking's (a full job: the waitlist, for someone on Telegram; a check for
the cook; no two sessions at once); each change is audited and the volunteer, if on Telegram,
is told; nobody without Telegram is ever sent anything. The rota, the site day, the CSV and the
sign-in sheet show them. And a message to one session's team goes through the broadcast."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time

from pypdf import PdfReader
from sqlalchemy import func, insert, select

from bot.harness import Clock, Rehearsal
from bot.sandbox import SimUser
from handlers import callbacks
from handlers.act_for_buttons import PutOn, RotaTeam, TakeOff
from storage import audit, locations, rota
from storage.models import Booking, BookingStatus, Notice, Person, Role, RoleGrant
from storage.rota import JobSpec, SessionPlan
from tests.conftest import RACHEL
from tests.e2e.test_long_screens import no_refusals, register, within_limits
from tests.support import promote_to_coordinator

TUESDAY, WEDNESDAY = date(2026, 7, 28), date(2026, 7, 29)
TUESDAY_MORNING = datetime(2026, 7, 28, 7, 0, tzinfo=UTC)  # 08:00 in London
AISHA, BEN, PRIYA, ERASED = 4001, 4002, 4003, 4004
CROWD = 500  # volunteers besides Aisha and Ben
FIRST_IN_CROWD = 100_000
JOBS = (
    JobSpec(job="cook", places=1, needs_check=True),
    JobSpec(job="server", places=2),
    JobSpec(job="driver", places=1),
)


async def lunches(bot: Rehearsal, clock: Clock, name: str, *days: date) -> int:
    db, tz = bot.services.db, bot.services.settings.timezone
    location = await locations.create(db, actor_telegram_id=RACHEL, name=name, now=clock())
    for day in days:
        plan = SessionPlan(
            location_id=location.location_id,
            first_day=day,
            last_day=day,
            weekdays=frozenset({day.weekday()}),
            start=time(11, 30),
            end=time(13, 30),
            jobs=JOBS,
        )
        await rota.create_sessions(db, actor_telegram_id=RACHEL, plan=plan, tz=tz, now=clock())
    return location.location_id


async def session_on(bot: Rehearsal, location_id: int, day: date) -> rota.SessionView:
    (found,) = await rota.sessions_on(
        bot.services.db,
        actor_telegram_id=RACHEL,
        location_id=location_id,
        day=day,
        tz=bot.services.settings.timezone,
    )
    return found.session


async def world(bot: Rehearsal, clock: Clock) -> tuple[int, int]:
    """Rachel; St Mark's (lunch Tuesday and Wednesday) and Riverside (Tuesday, the same
    time); Aisha and Ben among 500 more volunteers (bulk-inserted); Priya, St Mark's site
    lead. The clock: Tuesday 08:00."""
    for who, name in ((RACHEL, "Rachel"), (AISHA, "Aisha Khan"), (BEN, "Ben Okoro")):
        bot.user(who, name)
        await register(bot, clock, who, name)
    db, now = bot.services.db, clock()
    async with db.transaction() as session:
        await session.execute(
            insert(Person),
            [
                {
                    "telegram_id": FIRST_IN_CROWD + n,
                    "display_name": f"Volunteer {n:03d}",
                    "privacy_accepted_at": now,
                    "created_at": now,
                }
                for n in range(CROWD)
            ],
        )
        crowd = (
            await session.scalars(select(Person.id).where(Person.telegram_id >= FIRST_IN_CROWD))
        ).all()
        await session.execute(
            insert(RoleGrant),
            [{"person_id": pid, "role": Role.VOLUNTEER, "granted_at": now} for pid in crowd],
        )
    st_marks = await lunches(bot, clock, "St Mark's", TUESDAY, WEDNESDAY)
    riverside = await lunches(bot, clock, "Riverside", TUESDAY)
    bot.user(PRIYA, "Priya")
    await register(bot, clock, PRIYA, "Priya")
    await promote_to_coordinator(db, now, PRIYA, by=RACHEL, scope=frozenset({st_marks}))
    clock.now = TUESDAY_MORNING
    return st_marks, riverside


async def open_rota(rachel: SimUser, location: str) -> None:
    await rachel.send("/today")
    await rachel.tap(location)
    await rachel.tap("⚙️ Change or cancel session")
    await rachel.tap("👥 The rota: put on, move, take off")


def told(user: SimUser, since: int) -> list[str]:
    return [m.text for m in user.bot_messages[since:]]


async def notices_to_offline(bot: Rehearsal) -> int:
    async with bot.services.db.read() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Notice)
                .join(Person, Person.id == Notice.person_id)
                .where(Person.telegram_id.is_(None))
            )
            or 0
        )


async def test_rachel_puts_people_on_moves_them_and_takes_them_off(
    bot: Rehearsal, clock: Clock
) -> None:
    st_marks, riverside = await world(bot, clock)
    rachel, aisha, ben = bot.user(RACHEL, "Rachel"), bot.user(AISHA, ""), bot.user(BEN, "")
    tuesday = await session_on(bot, st_marks, TUESDAY)
    server = tuesday.jobs[1]

    await open_rota(rachel, "St Mark's")
    assert "The rota · St Mark's, Tue 28 Jul, 11:30-13:30" in rachel.last.text
    assert "Nobody is on the rota yet." in rachel.last.text
    await rachel.tap("➕ Put someone on")
    assert rachel.last.labels()[:3] == ["cook · 1 free", "server · 2 free", "driver · 1 free"]
    await rachel.tap("server · 2 free")
    assert "Who, as server at St Mark's" in rachel.last.text
    assert "Showing 1-8 of 504." in rachel.last.text  # every volunteer: the coordinators too
    # Aisha phoned in: found among 500 by typing part of her name.
    await rachel.send("ais")
    assert rachel.last.labels()[0] == "Aisha Khan"
    before = len(aisha.bot_messages)
    await rachel.tap("Aisha Khan")
    assert rachel.last.text.startswith(
        "✅ Aisha Khan is on the rota as server. They're told by message, and get the reminders."
    )
    assert "• Aisha Khan: server, booked" in rachel.last.text
    await bot.settle()
    assert told(aisha, before) == [
        "📋 Rachel put you on the rota: server at St Mark's, Tue 28 Jul, 11:30-13:30. Thank "
        "you! If you can't make it, cancel in /mysessions so someone else can help."
    ]

    # Olive has no Telegram: recorded by her name only, and never sent anything.
    await rachel.tap("➕ Put someone on")
    await rachel.tap("server · 1 free")
    await rachel.tap("➕ Someone without Telegram")
    assert "Send the name of the person without Telegram" in rachel.last.text
    await rachel.send("Olive Offline")
    assert rachel.last.text.startswith(
        "✅ ☎ Olive Offline is on the rota as server. The bot won't message them (no "
        "Telegram): let them know yourself."
    )
    assert "• ☎ Olive Offline: server, booked (no Telegram)" in rachel.last.text
    # The same name again is not a second person.
    await rachel.tap("➕ Put someone on")
    await rachel.tap("driver · 1 free")
    await rachel.tap("➕ Someone without Telegram")
    await rachel.send("olive offline")
    assert "Someone without Telegram called olive offline is on record already" in (
        rachel.last.text
    )
    await rachel.send("/cancel")
    # ...she is found in Wednesday's list instead, marked; she can't cook without a check.
    await rachel.send("/today")
    await rachel.tap("St Mark's")
    await rachel.tap("Wed 29 Jul ▶")
    await rachel.tap("⚙️ Change or cancel session")
    await rachel.tap("👥 The rota: put on, move, take off")
    await rachel.tap("➕ Put someone on")
    await rachel.tap("cook · 1 free")
    await rachel.send("olive")
    assert rachel.last.labels()[0] == "☎ Olive Offline"
    await rachel.tap("☎ Olive Offline")
    assert rachel.last.text.startswith(
        "cook needs a cleared safeguarding check, and ☎ Olive Offline has none on record for "
        "that day (record it in /people). Nothing changed."
    )
    await open_rota(rachel, "St Mark's")

    # The server's places are taken: Ben, on Telegram, may wait for one.
    await rachel.tap("➕ Put someone on")
    await rachel.tap("server · full")
    await rachel.send("ben")
    before = len(ben.bot_messages)
    await rachel.tap("Ben Okoro")
    assert rachel.last.text == (
        "server is full. Put Ben Okoro on its waitlist? They'd be offered the next place that "
        "comes free, and told now."
    )
    await rachel.tap("⏳ Put on the waitlist")
    assert rachel.last.text.startswith("⏳ Ben Okoro is on the waitlist for server")
    assert "• Ben Okoro: server, waiting for a place" in rachel.last.text
    # Someone on the session already (waiting is being on it) is not offered for another job.
    await rachel.tap("➕ Put someone on")
    await rachel.tap("cook · 1 free")
    await rachel.send("ben")
    assert "Nothing matches “ben”" in rachel.last.text
    await open_rota(rachel, "St Mark's")

    # Aisha moves to Wednesday: Ben, first waiting, is offered her Tuesday place.
    await rachel.tap("Aisha Khan · server")
    assert "They are told by message of any change you make." in rachel.last.text
    await rachel.tap("📅 Another session")
    assert rachel.last.labels()[0] == "Wed 29 Jul, 11:30-13:30 · 4 free"
    await rachel.tap("Wed 29 Jul, 11:30-13:30 · 4 free")
    await rachel.tap("server · 2 free")
    assert rachel.last.text.startswith(
        "↔️ Moved Aisha Khan: now server at St Mark's, Wed 29 Jul, 11:30-13:30. They're told."
    )
    await bot.settle()
    assert told(aisha, before)[-1] == (
        "📋 Rachel moved you on the rota: you're now server at St Mark's, Wed 29 Jul, "
        "11:30-13:30 (instead of server at St Mark's, Tue 28 Jul, 11:30-13:30). If you can't "
        "make it, cancel in /mysessions."
    )
    assert any("✅ Yes, book me" in m.labels() for m in ben.bot_messages[before:]), told(
        ben, before
    )

    # Olive is taken off: nobody tells her but Rachel.
    await open_rota(rachel, "St Mark's")
    await rachel.tap("☎ Olive Offline · server")
    assert "the bot never messages them" in rachel.last.text
    await rachel.tap("➖ Take off the rota")
    off = rachel.last
    await rachel.tap("➖ Yes, take them off")
    assert rachel.last.text.startswith(
        "➖ Took ☎ Olive Offline off server. (no Telegram: please tell them)"
    )
    assert await notices_to_offline(bot) == 0
    # A second tap: she is no longer on it, and nothing changes.
    booking = await _booking_of(bot, "Olive Offline")
    await rachel.tap_data(callbacks.encode(TakeOff(booking)), message_id=off.message_id)
    assert "no longer on this session's rota" in off.text

    # Aisha can't be put on Riverside's Wednesday... Riverside's Tuesday clashes with nothing,
    # but Ben's offered Tuesday place at St Mark's is at the same time.
    riverside_tuesday = await session_on(bot, riverside, TUESDAY)
    await rachel.tap_data(
        callbacks.encode(PutOn(riverside_tuesday.jobs[2].job_id, await _id(bot, BEN), False))
    )
    assert "is on another session at the same time. Nothing changed." in rachel.last.text

    entries = {e.action for e in await audit.recent(bot.services.db, limit=100)}
    assert {"rota.put_on", "rota.moved", "rota.taken_off", "person.recorded"} <= entries
    assert server.job_id  # (the Tuesday's server job, whose places Aisha and Olive held)
    within_limits(rachel)


async def test_people_without_telegram_show_on_the_day_the_csv_and_the_sign_in_sheet(
    bot: Rehearsal, clock: Clock
) -> None:
    await world(bot, clock)
    rachel = bot.user(RACHEL, "Rachel")
    await open_rota(rachel, "St Mark's")
    await rachel.tap("➕ Put someone on")
    await rachel.tap("driver · 1 free")
    await rachel.tap("➕ Someone without Telegram")
    await rachel.send("Olive Offline")

    await rachel.send("/today")
    await rachel.tap("St Mark's")
    assert "☎ Olive Offline: not marked yet" in rachel.last.text
    await rachel.tap("🖨 Sign-in sheet")
    document = rachel.last.document
    assert document is not None
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)
    assert "Olive Offline (no Telegram)" in text

    await rachel.send("/export")
    await rachel.tap("This week (27 Jul – 2 Aug 2026)")
    await rachel.tap("📄 All locations (2)")
    export = rachel.last.document
    assert export is not None
    rows = list(csv.reader(io.StringIO(export.decode("utf-8-sig"))))
    (olive,) = [row for row in rows if row[6].startswith("Olive")]
    # Said she's coming: to the coordinator, who put her on (no reminder can ask her).
    assert olive[4:9] == ["St Mark's", "driver", "Olive Offline (no Telegram)", "booked", "yes"]
    assert await notices_to_offline(bot) == 0
    no_refusals(bot)

    # Her name is erased on request, as /people erases anyone: she leaves the rota.
    await open_rota(rachel, "St Mark's")
    await rachel.tap("☎ Olive Offline · driver")
    await rachel.tap("🗑 Erase their name")
    assert "Their name goes from the bot" in rachel.last.text
    await rachel.tap("🗑 Yes, erase their name")
    assert rachel.last.text.startswith("Done: their data is erased.")
    assert "Nobody is on the rota yet." in rachel.last.text
    async with bot.services.db.read() as session:
        names = (await session.scalars(select(Person.display_name))).all()
    assert "Olive Offline" not in names
    assert (await audit.recent(bot.services.db, action="person.erased"))[0].actor_id is not None


async def test_a_message_to_one_sessions_team_reaches_everyone_on_its_rota_once(
    bot: Rehearsal, clock: Clock
) -> None:
    st_marks, _ = await world(bot, clock)
    rachel, aisha, ben = bot.user(RACHEL, "Rachel"), bot.user(AISHA, ""), bot.user(BEN, "")
    tuesday = await session_on(bot, st_marks, TUESDAY)
    for who, job in ((AISHA, 1), (BEN, 2)):
        await rota.book(
            bot.services.db,
            telegram_id=who,
            job_id=tuesday.jobs[job].job_id,
            now=clock(),
            waitlist=False,
        )
    await open_rota(rachel, "St Mark's")
    await rachel.tap("➕ Put someone on")
    await rachel.tap("server · 1 free")
    await rachel.tap("➕ Someone without Telegram")
    await rachel.send("Olive Offline")
    await rachel.tap("✉️ Write to the team")
    assert rachel.last.text.startswith(
        "📣 To the team of St Mark's, Tue 28 Jul at 11:30 (everyone on its rota)."
    )
    before = {who: len(bot.user(who, "").bot_messages) for who in (AISHA, BEN)}
    await rachel.send("Aprons are in the cupboard by the door.")
    assert "This goes to 2 people (the team of St Mark's, Tue 28 Jul at 11:30" in rachel.last.text
    await rachel.tap("📣 Send to 2 people")
    await bot.settle()
    for user in (aisha, ben):
        assert told(user, before[user.id]) == [
            "📣 Holiday Lunch Club\n\nAprons are in the cupboard by the door."
        ]
    assert await notices_to_offline(bot) == 0
    started = (await audit.recent(bot.services.db, action="broadcast.started"))[0]
    assert started.details["audience"] == "session"
    assert started.details["session_id"] == tuesday.session_id
    assert started.details["recipients"] == 2


async def test_a_site_lead_acts_only_at_their_own_sessions_and_forged_ids_change_nothing(
    bot: Rehearsal, clock: Clock
) -> None:
    st_marks, riverside = await world(bot, clock)
    priya = bot.user(PRIYA, "Priya")
    riverside_tuesday = await session_on(bot, riverside, TUESDAY)
    await priya.send("/today")
    # Riverside is not Priya's: its rota, and putting someone on it, are refused.
    await priya.tap_data(callbacks.encode(RotaTeam(riverside_tuesday.session_id, 0)))
    assert "outside the locations you lead" in priya.last.text
    aisha = await _id(bot, AISHA)
    await priya.tap_data(callbacks.encode(PutOn(riverside_tuesday.jobs[1].job_id, aisha, False)))
    assert "outside the locations you lead" in priya.last.text
    # At St Mark's, she sees only her locations' people: Aisha, with no tie to it, is not hers.
    st_marks_tuesday = await session_on(bot, st_marks, TUESDAY)
    await priya.tap_data(callbacks.encode(PutOn(st_marks_tuesday.jobs[1].job_id, aisha, False)))
    assert priya.last.text.startswith("Sorry, I can't find that any more"), priya.last.text
    # An id that is nobody's, and a school contact's, are no volunteers either.
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/today")
    await rachel.tap_data(callbacks.encode(PutOn(st_marks_tuesday.jobs[1].job_id, 999_999, False)))
    assert "Sorry" in rachel.last.text
    async with bot.services.db.read() as session:
        live = await session.scalar(
            select(func.count()).where(Booking.status == BookingStatus.BOOKED)
        )
    assert live == 0
    refused = await audit.recent(bot.services.db, action="access.refused")
    assert len(refused) >= 2


async def _id(bot: Rehearsal, telegram_id: int) -> int:
    async with bot.services.db.read() as session:
        found = await session.scalar(select(Person.id).where(Person.telegram_id == telegram_id))
    assert found is not None
    return int(found)


async def _booking_of(bot: Rehearsal, name: str) -> int:
    async with bot.services.db.read() as session:
        found = await session.scalar(
            select(Booking.id)
            .join(Person, Person.id == Booking.person_id)
            .where(Person.display_name == name)
            .order_by(Booking.id.desc())
        )
    assert found is not None
    return int(found)
