"""Cancelling many sessions at once (/cancelsessions): a snow day closes every one of 60
locations on a Thursday; a coordinator sees whom it will tell, confirms once, and everyone
affected is told exactly once (a volunteer booked at two of them too; each school contact
once, naming all their families), nobody else is, and the answer's counts are the database's.
Also: a chosen few locations, a location's rest of the holiday, a site lead's reach, and
forged or repeated taps.

The programme is set up through storage (60 locations, 130 volunteers, placed families); the
cancel is driven through the bot, as Rachel would on her phone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from zoneinfo import ZoneInfo

from sqlalchemy import distinct, func, select

from bot.harness import Clock, Rehearsal
from bot.sandbox import SimUser
from bot.sandbox.models import SimMessage
from handlers import callbacks
from handlers.act_for_buttons import RotaTeam
from handlers.bulk_form import BulkConfirm, BulkTogglePlace
from storage import audit, locations, referrals, rota, rota_for
from storage.models import (
    Booking,
    BookingStatus,
    LunchSession,
    Notice,
    Person,
    Role,
    SessionStatus,
)
from storage.referrals import ReferralForm
from storage.rota import JobSpec, SessionPlan
from tests.conftest import RACHEL
from tests.e2e.test_long_screens import (
    helper_name,
    long_location_name,
    no_refusals,
    register,
    within_limits,
)
from tests.support import promote_to_coordinator, register_by_invite

LONDON = ZoneInfo("Europe/London")
THURSDAY, FRIDAY = date(2026, 8, 13), date(2026, 8, 14)
SITES = 60
FIRST_VOLUNTEER = 10_000
TWICE = 20_000  # volunteers booked at two sites on the Thursday (a morning and a lunch)
FRIDAY_ONLY = 30_000
WAITING = 40_000
HILLSIDE_A, HILLSIDE_B, BROOK = 2001, 2002, 2003
HASSAN = 3001  # a site lead of sites 1 and 2
JOBS = (JobSpec(job="cook", places=1), JobSpec(job="server", places=3))


def site(n: int) -> str:
    return f"Site {n:02d} community hall"


@dataclass(frozen=True)
class SnowWorld:
    location_ids: list[int]  # site 1 first
    thursday: dict[int, rota.SessionView]  # by location id
    friday: dict[int, rota.SessionView]
    thursday_people: list[int]  # Telegram ids of everyone on a Thursday session
    twice: list[int]
    friday_only: list[int]
    offline: str  # the name of the person without Telegram on a Thursday session


async def sessions(bot: Rehearsal, location_id: int, day: date, starts: time, ends: time) -> None:
    plan = SessionPlan(
        location_id=location_id,
        first_day=day,
        last_day=day,
        weekdays=frozenset({day.weekday()}),
        start=starts,
        end=ends,
        jobs=JOBS,
    )
    await rota.create_sessions(
        bot.services.db,
        actor_telegram_id=RACHEL,
        plan=plan,
        tz=bot.services.settings.timezone,
        now=bot.services.now(),
    )


async def on(bot: Rehearsal, location_id: int, day: date) -> rota.SessionView:
    (found,) = await rota.sessions_on(
        bot.services.db,
        actor_telegram_id=RACHEL,
        location_id=location_id,
        day=day,
        tz=bot.services.settings.timezone,
    )
    return found.session


async def join(bot: Rehearsal, clock: Clock, telegram_id: int, name: str) -> None:
    """Registered, with a chat open with the bot (as after /start)."""
    bot.user(telegram_id, name)
    await register(bot, clock, telegram_id, name)


async def book(
    bot: Rehearsal, clock: Clock, who: int, job_id: int, *, waitlist: bool = False
) -> None:
    outcome = await rota.book(
        bot.services.db, telegram_id=who, job_id=job_id, now=clock(), waitlist=waitlist
    )
    assert outcome.result in (rota.BookResult.BOOKED, rota.BookResult.WAITLISTED), outcome


async def place_family(
    bot: Rehearsal, clock: Clock, contact: int, reference: str, location_id: int
) -> None:
    """A family of two referred by `contact`'s school, placed on the Thursday and Friday."""
    db, cipher = bot.services.db, bot.services.cipher
    assert cipher is not None
    sent = await referrals.submit(
        db,
        cipher,
        telegram_id=contact,
        now=clock(),
        daily_limit=100,
        form=ReferralForm(
            reference=reference,
            children=2,
            age_bands=("Year 2", "Year 5"),
            needs="Peanut allergy",
            note=None,
            preferred_location_ids=(location_id,),
            first_day=THURSDAY,
            last_day=FRIDAY,
            weekdays=(3, 4),
            consent=True,
        ),
    )
    placed = await referrals.place(
        db,
        telegram_id=RACHEL,
        referral_id=sent.referral_id,
        version=sent.version,
        location_id=location_id,
        first_day=THURSDAY,
        last_day=FRIDAY,
        weekdays=(3, 4),
        tz=bot.services.settings.timezone,
        now=clock(),
    )
    assert placed.decision is referrals.Decision.DONE, placed


async def snow_world(bot: Rehearsal, clock: Clock) -> SnowWorld:
    """Rachel; 60 sites, each with a lunch on Thursday 13 and Friday 14 August (even sites in
    the morning, odd ones at lunchtime); two volunteers on each Thursday, ten more on two
    sites' Thursdays, five on Fridays only, one waiting for a full Thursday place; someone
    without Telegram on site 3's Thursday; six families placed Thursday and Friday at sites
    1-6, four from Hillside (two contacts) and two from Brook."""
    db, now = bot.services.db, clock()
    await join(bot, clock, RACHEL, "Rachel")
    ids = []
    for n in range(1, SITES + 1):
        made = await locations.create(db, actor_telegram_id=RACHEL, name=site(n), now=now)
        await locations.update_field(
            db,
            actor_telegram_id=RACHEL,
            location_id=made.location_id,
            field=locations.Field.CAPACITY,
            value=30,
            now=now,
        )
        starts, ends = (time(9), time(10, 30)) if n % 2 == 0 else (time(11, 30), time(13, 30))
        for day in (THURSDAY, FRIDAY):
            await sessions(bot, made.location_id, day, starts, ends)
        ids.append(made.location_id)
    thursday = {lid: await on(bot, lid, THURSDAY) for lid in ids}
    friday = {lid: await on(bot, lid, FRIDAY) for lid in ids}
    people = []
    for n in range(2 * SITES):
        who = FIRST_VOLUNTEER + n
        await join(bot, clock, who, f"Volunteer {n:03d}")
        server = thursday[ids[n % SITES]].jobs[1]
        await book(bot, clock, who, server.job_id)
        people.append(who)
    twice = []
    for n in range(10):
        who = TWICE + n
        await join(bot, clock, who, f"Twice {n}")
        await book(bot, clock, who, thursday[ids[2 * n]].jobs[0].job_id)  # a morning's cook
        await book(bot, clock, who, thursday[ids[2 * n + 1]].jobs[1].job_id)  # a lunch's server
        twice.append(who)
    friday_only = []
    for n in range(5):
        who = FRIDAY_ONLY + n
        await join(bot, clock, who, f"Friday {n}")
        await book(bot, clock, who, friday[ids[n]].jobs[1].job_id)
        friday_only.append(who)
    # Site 1's cook is taken (by a twice-booked volunteer): one more waits for it.
    await join(bot, clock, WAITING, "Waiting Walter")
    await book(bot, clock, WAITING, thursday[ids[0]].jobs[0].job_id, waitlist=True)
    offline = await rota_for.put_on_by_name(
        db,
        actor_telegram_id=RACHEL,
        job_id=thursday[ids[2]].jobs[1].job_id,
        name="Olive Offline",
        now=now,
    )
    assert offline.result is rota_for.Result.BOOKED
    for telegram_id, school in ((HILLSIDE_A, "Hillside"), (BROOK, "Brook"), (HILLSIDE_B, "")):
        bot.user(telegram_id, school or "Hillside too")
    for telegram_id, school in ((HILLSIDE_A, "Hillside"), (BROOK, "Brook")):
        await register_by_invite(
            db,
            now,
            telegram_id=telegram_id,
            name=school,
            role=Role.SCHOOL_CONTACT,
            by=RACHEL,
            school_name=school,
        )
    await register_by_invite(
        db,
        now,
        telegram_id=HILLSIDE_B,
        name="Hillside too",
        role=Role.SCHOOL_CONTACT,
        by=RACHEL,
        school_name="Hillside",
    )
    for n in range(4):
        await place_family(bot, clock, HILLSIDE_A, f"HS-{n:03d}", ids[n])
    for n in range(4, 6):
        await place_family(bot, clock, BROOK, f"BR-{n:03d}", ids[n])
    await delivered(bot)
    return SnowWorld(
        location_ids=ids,
        thursday=thursday,
        friday=friday,
        thursday_people=[*people, *twice, WAITING],
        twice=twice,
        friday_only=friday_only,
        offline="Olive Offline",
    )


async def delivered(bot: Rehearsal) -> None:
    """Everything due has been sent (a sweep takes a batch at a time)."""
    while await bot.deliver():
        pass


def cancellations(user: SimUser, since: int = 0) -> list[str]:
    return [m.text for m in user.bot_messages[since:] if "cancelled" in m.text]


async def told_in_db(bot: Rehearsal, session_ids: list[int]) -> tuple[int, int]:
    """From the database: the people on Telegram, and those without, signed up for those
    sessions (booked, offered or waiting), each once."""
    async with bot.services.db.read() as session:
        rows = (
            (
                await session.execute(
                    select(Person.telegram_id.is_(None), func.count(distinct(Person.id)))
                    .join(Booking, Booking.person_id == Person.id)
                    .where(
                        Booking.session_id.in_(session_ids),
                        Booking.status.in_(
                            [BookingStatus.BOOKED, BookingStatus.OFFERED, BookingStatus.WAITLISTED]
                        ),
                    )
                    .group_by(Person.telegram_id.is_(None))
                )
            )
            .tuples()
            .all()
        )
        counts = {bool(offline): n for offline, n in rows}
    return counts.get(False, 0), counts.get(True, 0)


async def test_a_snow_day_at_60_locations_tells_everyone_affected_exactly_once(
    bot: Rehearsal, clock: Clock
) -> None:
    world = await snow_world(bot, clock)
    rachel = bot.user(RACHEL, "Rachel")
    thursday_ids = [view.session_id for view in world.thursday.values()]
    volunteers, offline = await told_in_db(bot, thursday_ids)
    assert (volunteers, offline) == (2 * SITES + 10 + 1, 1)
    before = {who: len(bot.user(who, "").bot_messages) for who in world.thursday_people}
    schools = {who: len(bot.user(who, "").bot_messages) for who in (HILLSIDE_A, HILLSIDE_B, BROOK)}

    await rachel.send("/cancelsessions")
    assert "Which day?" in rachel.last.text or "Send a later date" in rachel.last.text
    await rachel.send("13/08/2026")
    assert rachel.last.text.endswith(
        "Thu 13 Aug: 60 sessions still to come at 60 locations. Cancel them where?"
    )
    await rachel.tap("Every location (60 sessions)")
    preview = rachel.last.text
    assert "Cancel 60 sessions on Thu 13 Aug at every location?" in preview
    # The counts are the database's: each person once, however many sessions they are on.
    assert (
        f"{volunteers} volunteers and 6 placed families (12 children) will be told: the "
        "volunteers by message, each once; the families through their 2 schools, each once, "
        "never with their needs."
    ) in preview
    assert "☎️ 1 person on these sessions without Telegram will not hear it from the bot" in preview
    assert "Olive Offline (Site 03 community hall)" in preview
    # Nothing is cancelled by a preview.
    assert not (await rota.session_view(bot.services.db, thursday_ids[0])).cancelled  # type: ignore[union-attr]

    confirm, token = rachel.last, token_of(rachel.last)
    await rachel.tap("❄️ Yes, cancel 60 sessions")
    answer = rachel.last.text
    assert answer.startswith("✅ Cancelled 60 sessions on Thu 13 Aug at every location.")
    assert (
        f"I'm telling the {volunteers} volunteers signed up (each once) and the 2 schools of "
        "the 6 placed families (12 children)."
    ) in answer
    assert "Olive Offline (Site 03 community hall)" in answer

    # The database: every Thursday session cancelled, every Friday one still on.
    async with bot.services.db.read() as session:
        statuses = dict(
            (
                await session.execute(
                    select(LunchSession.id, LunchSession.status).where(
                        LunchSession.id.in_(
                            thursday_ids + [v.session_id for v in world.friday.values()]
                        )
                    )
                )
            )
            .tuples()
            .all()
        )
        live = await session.scalar(
            select(func.count()).where(
                Booking.session_id.in_(thursday_ids),
                Booking.status.in_([BookingStatus.BOOKED, BookingStatus.WAITLISTED]),
            )
        )
        offline_notices = await session.scalar(
            select(func.count())
            .select_from(Notice)
            .join(Person, Person.id == Notice.person_id)
            .where(Person.telegram_id.is_(None))
        )
    assert all(statuses[i] is SessionStatus.CANCELLED for i in thursday_ids)
    assert all(statuses[v.session_id] is SessionStatus.SCHEDULED for v in world.friday.values())
    assert live == 0
    assert offline_notices == 0  # nobody without Telegram is ever queued anything

    await delivered(bot)
    # Every volunteer affected: exactly one message, the twice-booked naming both sites.
    for who in world.thursday_people:
        told = cancellations(bot.user(who, ""), before[who])
        assert len(told) == 1, (who, told)
    twice = cancellations(bot.user(world.twice[0], ""), before[world.twice[0]])[0]
    assert twice.startswith("Sorry: these 2 lunch sessions at Site 01 community hall, Site 02")
    assert "• Site 02 community hall, Thu 13 Aug, 09:00-10:30" in twice
    assert "• Site 01 community hall, Thu 13 Aug, 11:30-13:30" in twice
    # Nobody else: the Friday volunteers hear nothing.
    for who in world.friday_only:
        assert cancellations(bot.user(who, "")) == []
    # Each school contact once, naming all their school's families (never their needs).
    for who, families in ((HILLSIDE_A, 4), (HILLSIDE_B, 4), (BROOK, 2)):
        told = [m.text for m in bot.user(who, "").bot_messages[schools[who] :]]
        assert len(told) == 1, told
        assert told[0].startswith(f"📬 Lunches cancelled for {families} of your families:")
        assert told[0].count("Still placed at") == families
        assert "Peanut" not in told[0]

    within_limits(rachel)
    no_refusals(bot)

    # A second tap on the same confirmation: the same answer (Telegram refuses to edit the
    # message into what it already says), nothing cancelled or sent again.
    sent = len(bot.sandbox.calls)
    await rachel.tap_data(callbacks.encode(BulkConfirm(token)), message_id=confirm.message_id)
    assert rachel.last.text == answer
    await delivered(bot)
    assert [c for c in bot.sandbox.calls[sent:] if c.method == "sendMessage"] == []

    (entry,) = await audit.recent(bot.services.db, action="sessions.bulk_cancelled")
    assert entry.details["sessions"] == SITES
    assert entry.details["volunteers"] == volunteers
    assert entry.details["offline"] == 1
    assert entry.details["families"] == 6
    assert len(await audit.recent(bot.services.db, action="session.cancelled", limit=100)) == SITES


def token_of(message: SimMessage) -> int:
    """The preview's token, from its confirm button's callback data."""
    for row in message.buttons:
        for button in row:
            decoded = callbacks.decode(button.callback_data)
            if isinstance(decoded, BulkConfirm):
                return decoded.token
    raise AssertionError("no confirm button")


async def twelve_sites(bot: Rehearsal, clock: Clock, *, later: date | None = None) -> list[int]:
    """Rachel; 12 sites with a lunch on Thursday and Friday (and on `later`), and a volunteer
    serving at each Thursday's (volunteer n at site n+1) and at site 1's Friday too."""
    db, now = bot.services.db, clock()
    await join(bot, clock, RACHEL, "Rachel")
    ids = []
    for n in range(1, 13):
        made = await locations.create(db, actor_telegram_id=RACHEL, name=site(n), now=now)
        for day in (THURSDAY, FRIDAY, *([later] if later else [])):
            await sessions(bot, made.location_id, day, time(11, 30), time(13, 30))
        ids.append(made.location_id)
    for n, location_id in enumerate(ids):
        await join(bot, clock, FIRST_VOLUNTEER + n, f"Volunteer {n:03d}")
        thursday = await on(bot, location_id, THURSDAY)
        await book(bot, clock, FIRST_VOLUNTEER + n, thursday.jobs[1].job_id)
    friday = await on(bot, ids[0], FRIDAY)
    await book(bot, clock, FIRST_VOLUNTEER, friday.jobs[1].job_id)
    await delivered(bot)
    return ids


async def test_a_day_at_a_chosen_few_locations_found_by_typing(
    bot: Rehearsal, clock: Clock
) -> None:
    ids = await twelve_sites(bot, clock)
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/cancelsessions")
    await rachel.send("2026-08-13")
    await rachel.tap("Choose locations…")
    screen = rachel.last
    assert "Which locations on Thu 13 Aug?" in screen.text
    assert screen.labels()[:2] == ["Site 01 community hall · 1", "Site 02 community hall · 1"]
    assert "Next ▶" in screen.labels() and "Continue ▶ (1 location)" not in screen.labels()
    await rachel.tap("Site 01 community hall · 1")
    assert "✓ Site 01 community hall · 1" in rachel.last.labels()
    assert "Continue ▶ (1 location)" in rachel.last.labels()
    await rachel.send("site 11")  # the list on screen: typing searches it
    found = rachel.last
    assert found.labels()[0] == "Site 11 community hall · 1", found.labels()
    await rachel.tap("Site 11 community hall · 1", message=found)
    await rachel.tap("Continue ▶ (2 locations)", message=found)
    preview = rachel.last.text
    assert "Cancel 2 sessions on Thu 13 Aug at 2 locations?" in preview
    assert "2 volunteers will be told: the volunteers by message, each once." in preview
    await rachel.tap("❄️ Yes, cancel 2 sessions")
    assert rachel.last.text.startswith("✅ Cancelled 2 sessions on Thu 13 Aug at 2 locations.")
    await delivered(bot)
    for n, location_id in enumerate(ids):
        view = await on(bot, location_id, THURSDAY)
        told = cancellations(bot.user(FIRST_VOLUNTEER + n, ""))
        if n in (0, 10):
            assert view.cancelled and len(told) == 1, (n, told)
        else:
            assert not view.cancelled and told == [], (n, told)
    within_limits(rachel)
    no_refusals(bot)


async def test_a_lost_venue_cancels_the_rest_of_its_holiday_and_keeps_the_next(
    bot: Rehearsal, clock: Clock
) -> None:
    september = date(2026, 9, 14)  # after a gap of a month: another holiday
    ids = await twelve_sites(bot, clock, later=september)
    rachel, sam = bot.user(RACHEL, "Rachel"), bot.user(FIRST_VOLUNTEER, "")
    await rachel.send("/cancelsessions")
    await rachel.tap("📍 A location's sessions to come…")
    await rachel.send("site 01")
    await rachel.tap("Site 01 community hall")
    assert rachel.last.text.endswith(
        "Site 01 community hall has 3 sessions still to come; this holiday's last lunch there "
        "is on Fri 14 Aug. Cancel which?"
    )
    assert rachel.last.labels()[:2] == [
        "The rest of this holiday, to Fri 14 Aug (2 sessions)",
        "Every session to come (3 sessions)",
    ]
    await rachel.tap("The rest of this holiday, to Fri 14 Aug (2 sessions)")
    assert (
        "Cancel 2 sessions at Site 01 community hall, Thu 13 Aug to Fri 14 Aug?" in rachel.last.text
    )
    assert "1 volunteer will be told" in rachel.last.text  # Sam, on both: once
    await rachel.tap("❄️ Yes, cancel 2 sessions")
    await delivered(bot)
    assert cancellations(sam) == [
        "Sorry: these 2 lunch sessions at Site 01 community hall are cancelled:\n"
        "• Thu 13 Aug, 11:30-13:30\n"
        "• Fri 14 Aug, 11:30-13:30\n"
        "You don't need to do anything; thank you for offering your time."
    ]
    assert not (await on(bot, ids[0], september)).cancelled
    assert not (await on(bot, ids[1], THURSDAY)).cancelled


async def test_a_site_lead_cancels_only_at_their_own_sites_and_forged_taps_change_nothing(
    bot: Rehearsal, clock: Clock
) -> None:
    ids = await twelve_sites(bot, clock)
    await join(bot, clock, HASSAN, "Hassan")
    await promote_to_coordinator(
        bot.services.db, clock(), HASSAN, by=RACHEL, scope=frozenset(ids[:2])
    )
    hassan = bot.user(HASSAN, "Hassan")
    await hassan.send("/cancelsessions")
    await hassan.send("13/08/2026")
    assert "Thu 13 Aug: 2 sessions still to come at 2 locations." in hassan.last.text
    await hassan.tap("Every location (2 sessions)")
    assert "Cancel 2 sessions on Thu 13 Aug at every location?" in hassan.last.text
    preview, token = hassan.last, token_of(hassan.last)

    # Another site's button, forged: refused kindly, audited, nothing chosen.
    await hassan.tap_data(callbacks.encode(BulkTogglePlace(ids[5], 0)))
    assert "outside the locations you lead" in hassan.last.text, hassan.last.text
    refused = await audit.recent(bot.services.db, action="access.refused")
    assert refused and refused[0].details["reason"] == "OutOfScope"

    # A confirm with another token (an older preview's, or forged) cancels nothing.
    await hassan.tap_data(callbacks.encode(BulkConfirm(token + 1)), message_id=preview.message_id)
    assert preview.text.startswith("This form (cancelling sessions) is closed")
    # /cancel ends the form: its confirm button then cancels nothing either.
    await hassan.send("/cancel")
    assert "cancelling sessions" in hassan.last.text
    await hassan.tap_data(callbacks.encode(BulkConfirm(token)), message_id=preview.message_id)
    assert "This form (cancelling sessions) is closed" in preview.text
    assert not any([(await on(bot, lid, THURSDAY)).cancelled for lid in ids])

    # A volunteer has no such command.
    volunteer = bot.user(FIRST_VOLUNTEER, "")
    await volunteer.send("/cancelsessions")
    assert "coordinator" in volunteer.last.text.lower()
    assert not any([(await on(bot, lid, THURSDAY)).cancelled for lid in ids])


async def test_every_screen_and_notice_of_a_big_cancel_stays_within_telegrams_limits(
    bot: Rehearsal, clock: Clock
) -> None:
    """The longest names everywhere: 12 locations of 100 characters with an hour's lunch each,
    one after another on the Thursday; a volunteer of 64 characters on all 12; 20 people
    without Telegram; 60 families of one school; 50 servers on one session."""
    db, now = bot.services.db, clock()
    await join(bot, clock, RACHEL, "Rachel")
    await join(bot, clock, FIRST_VOLUNTEER, helper_name(1))
    await register_by_invite(
        db,
        now,
        telegram_id=HILLSIDE_A,
        name="Hillside",
        role=Role.SCHOOL_CONTACT,
        by=RACHEL,
        school_name="Hillside",
    )
    bot.user(HILLSIDE_A, "Hillside")
    views = []
    for n in range(12):
        made = await locations.create(
            db, actor_telegram_id=RACHEL, name=long_location_name(n), now=now
        )
        await locations.update_field(
            db,
            actor_telegram_id=RACHEL,
            location_id=made.location_id,
            field=locations.Field.CAPACITY,
            value=30,
            now=now,
        )
        plan = SessionPlan(
            location_id=made.location_id,
            first_day=THURSDAY,
            last_day=THURSDAY,
            weekdays=frozenset({THURSDAY.weekday()}),
            start=time(8 + n, 0),
            end=time(8 + n, 50),
            jobs=(JobSpec(job="server", places=50),),
        )
        await rota.create_sessions(db, actor_telegram_id=RACHEL, plan=plan, tz=LONDON, now=now)
        views.append(await on(bot, made.location_id, THURSDAY))
        await book(bot, clock, FIRST_VOLUNTEER, views[-1].jobs[0].job_id)
        for k in range(5):
            await place_family(bot, clock, HILLSIDE_A, f"HS-{n:02d}-{k}", made.location_id)
    for n in range(20):
        await rota_for.put_on_by_name(
            db,
            actor_telegram_id=RACHEL,
            job_id=views[n % 12].jobs[0].job_id,
            name=helper_name(100 + n),
            now=now,
        )
    for n in range(47):  # with the busy one and two without Telegram: 50, every place
        await join(bot, clock, FIRST_VOLUNTEER + 1 + n, helper_name(200 + n))
        await book(bot, clock, FIRST_VOLUNTEER + 1 + n, views[0].jobs[0].job_id)
    await delivered(bot)
    rachel, busy = bot.user(RACHEL, "Rachel"), bot.user(FIRST_VOLUNTEER, "")
    school = bot.user(HILLSIDE_A, "")
    seen = len(school.bot_messages)

    # The first session's rota (as its screen's "👥 The rota" opens it): 50, a page at a time.
    await rachel.send("/today")
    await rachel.tap_data(callbacks.encode(RotaTeam(views[0].session_id, 0)))
    assert "People 1-8 of 50." in rachel.last.text
    await rachel.tap("Next ▶")
    assert "People 9-16 of 50." in rachel.last.text

    await rachel.send("/cancelsessions")
    await rachel.send("13/08/2026")
    await rachel.tap("Every location (12 sessions)")
    assert "☎️ 20 people on these sessions without Telegram" in rachel.last.text
    assert ", and 8 more." in rachel.last.text
    await rachel.tap("❄️ Yes, cancel 12 sessions")
    await delivered(bot)
    (told,) = cancellations(busy)
    assert told.startswith("Sorry: these 12 lunch sessions at 12 locations are cancelled:")
    assert told.count("\n• ") == 12 and len(told) < 4096
    (families,) = [m.text for m in school.bot_messages[seen:]]
    assert families.startswith("📬 Lunches cancelled for 60 of your families:")
    assert "more: /myreferrals shows each one's days." in families
    for user in (rachel, busy, school):
        within_limits(user)
    no_refusals(bot)
