"""Choosing from a long list, at the programme's size: 500 locations, 10,000 people and 150
partner schools, set up with bulk inserts. Every screen that lists them shows 8 a page, pages
with "◀ Previous" / "Next ▶" (never a step's label), and while it is on screen the next text
message searches it (any part of a name, whatever its case or accents), with "✖ Clear search"
to see them all again. Nothing the bot shows passes Telegram's limits (the sandbox refuses what
Telegram refuses)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import insert, update

from bot.harness import Clock, Rehearsal
from bot.sandbox import SimUser
from bot.sandbox.state import SimMessage
from handlers import choose_texts, people_texts
from storage import audit, broadcasts, drafts, locations, people, referrals, rota
from storage.models import (
    NAME_MAX,
    CheckStatus,
    HomeLocation,
    Location,
    Person,
    Role,
    RoleGrant,
    School,
)
from storage.referrals import ReferralForm
from storage.rota import JobSpec, SessionPlan
from tests.conftest import RACHEL
from tests.e2e.test_long_screens import labels_unique, no_refusals, register, within_limits
from tests.e2e.test_referral_form import school_contact
from tests.support import promote_to_coordinator, register_by_invite

MANY_LOCATIONS = 500
MANY_PEOPLE = 10_000
MANY_SCHOOLS = 150
FIRST_VOLUNTEER = 100_000
OKAFOR, PRIYA = 2001, 3001
LOCATION_NAME_MAX = 100


def location_name(n: int) -> str:
    """'Lunch club 007, …', as long as a location's name may be (100 characters)."""
    name = f"Lunch club {n:03d}, St Mark's church hall and community centre by the old bridge"
    return (name + ", Upper Riverside Lane" * 3)[:LOCATION_NAME_MAX]


def volunteer_name(n: int) -> str:
    """'Volunteer 00042 …', as long as a person's name may be (64 characters)."""
    return (f"Volunteer {n:05d}" + " Featherstonehaugh-Cholmondeley" * 3)[:NAME_MAX]


@dataclass(frozen=True)
class Programme:
    location_ids: list[int]  # in name order, as the lists show them
    sam: int  # a volunteer from the crowd, with a home


async def programme(bot: Rehearsal, clock: Clock) -> Programme:
    """Rachel (a coordinator of the whole programme), 500 locations, 10,000 volunteers each
    calling one of them home (20 a location), and 150 partner schools: inserted in bulk, as a
    migration or an import would, so that the name keys come from the insert's default."""
    await register(bot, clock, RACHEL, "Rachel")
    db, now = bot.services.db, clock()
    async with db.transaction() as session:
        await session.execute(
            insert(Location),
            [{"name": location_name(n), "created_at": now} for n in range(MANY_LOCATIONS)],
        )
        await session.execute(
            insert(School),
            [{"name": f"School {n:03d} Primary", "created_at": now} for n in range(MANY_SCHOOLS)],
        )
        await session.execute(
            insert(Person),
            [
                {
                    "telegram_id": FIRST_VOLUNTEER + n,
                    "display_name": volunteer_name(n),
                    "privacy_accepted_at": now,
                    "created_at": now,
                }
                for n in range(MANY_PEOPLE)
            ],
        )
    found = await locations.find(db, search="", offset=0, limit=MANY_LOCATIONS)
    ids = [loc.location_id for loc in found.shown]
    async with db.transaction() as session:
        crowd = list(
            (
                await session.execute(
                    Person.__table__.select()
                    .with_only_columns(Person.id, Person.telegram_id)
                    .where(Person.telegram_id >= FIRST_VOLUNTEER)
                )
            ).tuples()
        )
        await session.execute(
            insert(RoleGrant),
            [{"person_id": pid, "role": Role.VOLUNTEER, "granted_at": now} for pid, _ in crowd],
        )
        await session.execute(
            insert(HomeLocation),
            [
                {"person_id": pid, "location_id": ids[(tid - FIRST_VOLUNTEER) % MANY_LOCATIONS]}
                for pid, tid in crowd
            ],
        )
    return Programme(location_ids=ids, sam=FIRST_VOLUNTEER + 7)


async def exercise(user: SimUser, search: str, finds: str) -> SimMessage:
    """The list on screen: 8 a page, a page button forward only; forward and back again; then
    `search`, typed, finds `finds` among the many; ✖ Clear search shows them all again.
    Returns the message of the search (where the list now is)."""
    screen = user.last
    labels = screen.labels()
    assert "Next ▶" in labels and "◀ Previous" not in labels, (screen.text[:80], labels)
    assert "Showing 1-8 of" in screen.text, screen.text
    await user.tap("Next ▶", message=screen)
    assert "Showing 9-16 of" in screen.text and "◀ Previous" in screen.labels()
    await user.tap("◀ Previous", message=screen)
    assert "Showing 1-8 of" in screen.text
    await user.send(search)
    found = user.last
    assert found is not screen and f"🔎 Matching “{search}”: 1-" in found.text, found.text
    assert finds in found.labels(), found.labels()
    await user.tap(choose_texts.CLEAR_SEARCH, message=found)
    assert "Showing 1-8 of" in found.text
    assert choose_texts.CLEAR_SEARCH not in found.labels()
    return found


def label(n: int) -> str:
    return choose_texts.label(location_name(n))


async def test_every_list_screen_at_500_locations_and_10000_people_pages_and_searches(
    bot: Rehearsal, clock: Clock
) -> None:
    world = await programme(bot, clock)
    db = bot.services.db
    rachel = bot.user(RACHEL, "Rachel")

    # /locations: 8 a page of 500; a page past the end (an old button) shows the last page.
    await rachel.send("/locations")
    assert rachel.last.labels()[:8] == [label(n) for n in range(8)]
    assert rachel.last.labels()[8:] == ["Next ▶", "➕ Add a location"]
    await exercise(rachel, "CLUB 489", label(489))
    await rachel.tap_data("lq:100000")
    assert "Showing 497-500 of 500." in rachel.last.text
    await rachel.tap(label(499))
    await rachel.tap("« All locations")
    assert "Showing 1-8 of 500." in rachel.last.text

    # /newsessions: the locations, several ticked, then a step of its own.
    await rachel.send("/newsessions")
    assert rachel.last.labels()[0] == "✅ All 500 locations"
    await exercise(rachel, "club 321", label(321))
    await rachel.send("club 321")
    await rachel.tap(label(321))
    assert choose_texts.label(location_name(321), choose_texts.PICKED) in rachel.last.labels()
    await rachel.tap("Continue ▶ (1 chosen)")
    assert "Which dates?" in rachel.last.text
    await rachel.send("/cancel")

    # /today and /register: whose day, whose register. No lunch today: every location, A to Z.
    await rachel.send("/today")
    assert "No lunch at any of your locations on Wed 1 Jul." in rachel.last.text
    await rachel.tap("📍 Every location, A to Z")
    assert "Which location's day" in rachel.last.text
    await exercise(rachel, "club 100", label(100))
    await rachel.tap(label(3))
    assert location_name(3) in rachel.last.text
    await rachel.send("/register")
    await exercise(rachel, "club 101", label(101))
    await rachel.tap(label(4))
    assert location_name(4) in rachel.last.text

    # /impact's places (every location, or one) and /broadcast's one location's volunteers.
    await rachel.send("/impact")
    await rachel.tap("Last 4 weeks")
    assert rachel.last.labels()[0] == "All locations"
    await exercise(rachel, "club 102", label(102))
    await rachel.send("/cancel")
    await rachel.send("/broadcast")
    await rachel.tap("One location's volunteers")
    await exercise(rachel, "club 103", label(103))
    await rachel.tap(label(6))
    assert "To the volunteers of" in rachel.last.text
    await rachel.send("/cancel")

    # /people: 10,000 and more, 8 a page, found by name; a location's people.
    await rachel.send("/people")
    assert f"Showing: everyone ({MANY_PEOPLE + 1:,})." in rachel.last.text
    await exercise(rachel, "volunteer 04321", choose_texts.label(volunteer_name(4321)))
    await rachel.tap("🔎 Filters")
    assert f"Volunteers · {MANY_PEOPLE + 1:,}" in rachel.last.labels()
    await rachel.tap("📍 At a location…")
    await exercise(rachel, "club 104", label(104))
    await rachel.tap(label(5))
    assert "Showing: everyone, of Lunch club 005" in rachel.last.text
    assert f"({MANY_PEOPLE // MANY_LOCATIONS})." in rachel.last.text

    # /schools and /invite's school: 150 partner schools.
    await rachel.send("/schools")
    await exercise(rachel, "school 077", "School 077 Primary")
    await rachel.send("/invite")
    await rachel.tap("A school contact")
    await exercise(rachel, "SCHOOL 078", "School 078 Primary")
    await rachel.send("/cancel")

    # A site lead's locations, chosen from her card.
    priya = bot.user(PRIYA, "Priya")
    await register(bot, clock, PRIYA, "Priya")
    await priya.send("/start")
    await promote_to_coordinator(db, clock(), PRIYA, by=RACHEL)
    await rachel.send("/people")
    await rachel.send("priya")
    await rachel.tap("Priya")
    await rachel.tap("📍 Site lead of…")
    await exercise(rachel, "club 105", label(105))
    await rachel.send("club 105")
    await rachel.tap(label(105))
    assert rachel.last.labels()[0] == choose_texts.label(location_name(105), "✓ ")
    within_limits(rachel)
    labels_unique(rachel)

    # Placing a referral: every location, those with a day free first.
    okafor = await school_contact(bot, OKAFOR, "Daniel", "Hillside Primary")
    cipher = bot.services.cipher
    assert cipher is not None
    await referrals.submit(
        db,
        cipher,
        telegram_id=OKAFOR,
        now=clock(),
        daily_limit=10,
        form=ReferralForm(
            reference="HS-014",
            children=1,
            age_bands=("Year 2",),
            needs=None,
            note=None,
            preferred_location_ids=(world.location_ids[482],),
            first_day=date(2026, 7, 28),
            last_day=date(2026, 8, 27),
            weekdays=(1, 3),
            consent=True,
        ),
    )
    await bot.settle()
    await rachel.send("/referrals")
    await rachel.tap("HS-014 · Hillside Primary · 1 child")
    await rachel.tap("📍 Place")
    assert rachel.last.labels()[-3:] == ["Next ▶", "« Back", "✖ Cancel"]
    await exercise(rachel, "club 106", f"{location_name(106)} · no day free")
    await rachel.send("/cancel")

    # The referral form's places: chosen by name, then Continue ▶ to the dates.
    await okafor.send("/refer")
    await okafor.send("HS-015")
    await okafor.tap("1")
    await okafor.tap("Year 2")
    await okafor.tap("None")
    await exercise(okafor, "club 482", label(482))
    await okafor.send("club 482")
    await okafor.tap(label(482))
    assert okafor.last.labels()[0] == choose_texts.label(location_name(482), "✓ ")
    await okafor.tap("Continue ▶")
    assert "Which holiday dates?" in okafor.last.text
    within_limits(okafor)
    labels_unique(okafor)

    # /profile's homes, for a volunteer of the crowd.
    sam = bot.user(world.sam, "Sam")
    await sam.send("/profile")
    await sam.tap("🏠 Choose home locations")
    await exercise(sam, "club 107", label(107))
    within_limits(sam)
    labels_unique(sam)
    no_refusals(bot)


# --- finding one person among many ------------------------------------------------------------

FIRST_NAMES = (  # noqa: SIM905 - names read best as words
    "Adam Bella Carl Dana Eric Fern Gwen Hugo Iris Jack Kira Liam Mona Nina Omar Pete "
    "Rosa Saul Tara Umar Vera Wade Yara Zack Alma Ben Cleo Dev Elsa Finn Gail Hana Ivor "
    "Jude Kofi Lena Milo Noor Olga Prue"
).split()
LAST_NAMES = (  # noqa: SIM905 - names read best as words
    "Abbott Baker Clarke Dunn Evans Fox Green Hughes Irwin Jones Kerr Lloyd Moss Nash "
    "Owen Price Quinn Reed Shaw Todd Upton Vance Walsh Young Zeller Ahmed Brown Cole "
    "Doyle Ellis Flynn Gray Hart Ince Joyce Kemp Lane Mills North Oakes Page Rowe Stone "
    "Tate Usher Vine Webb Yates Zorn Ames"
).split()
CROWD = 2_000
AISHA = 9_001


async def test_a_coordinator_finds_a_volunteer_among_2000_by_typing_part_of_the_name(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, clock, RACHEL, "Rachel")
    db, now = bot.services.db, clock()
    names = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES][: CROWD - 3]
    names += ["Aisha Rahman", "Maisie Cole", "Zoë Bissett"]
    assert len(names) == CROWD
    async with db.transaction() as session:
        await session.execute(
            insert(Person),
            [
                {
                    "telegram_id": AISHA + n,
                    "display_name": name,
                    "privacy_accepted_at": now,
                    "created_at": now,
                }
                for n, name in enumerate(names)
            ],
        )
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/people")
    assert f"Showing: everyone ({CROWD + 1:,})." in rachel.last.text
    assert "Send part of a name to find one." in rachel.last.text

    await rachel.send("ais")
    found = rachel.last
    assert "🔎 Matching “ais”: 1-2 of 2." in found.text
    assert found.labels()[:3] == ["Aisha Rahman", "Maisie Cole", "✖ Clear search"]

    # The search is kept in the database: a restart in between changes nothing.
    await bot.restart()
    await rachel.tap("Aisha Rahman", message=found)
    assert found.text.startswith("Aisha Rahman\nRoles: no role yet")
    await rachel.tap("« All people", message=found)
    assert "🔎 Matching “ais”: 1-2 of 2." in found.text

    # Case and accents either way; a search that finds nobody says so, and changes nothing.
    await rachel.send("ZOE B")
    assert rachel.last.labels()[0] == "Zoë Bissett"
    await rachel.send("xyzzy")
    assert "Nothing matches “xyzzy”." in rachel.last.text
    await rachel.tap(choose_texts.CLEAR_SEARCH)
    assert f"Showing: everyone ({CROWD + 1:,})." in rachel.last.text
    within_limits(rachel)
    labels_unique(rachel)
    # Nothing refused (the restart cut a long poll short: that is no refusal).
    refused = [c.method for c in bot.sandbox.calls if not c.ok and c.method != "getUpdates"]
    assert refused == []


# --- filters, their counts, and writing to whom they pick out -------------------------------

JUNE = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
# Tuesday 28 July, after lunch: the holiday's lunches began on Monday 27 July.
HOLIDAY = datetime(2026, 7, 28, 13, 0, tzinfo=UTC)
CHECK_SOON, CLEARED, LAPSED, PENDING, BLOCKED = 4101, 4201, 4301, 4401, 4501


async def test_people_filters_count_what_is_stored_and_message_exactly_whom_they_list(
    bot: Rehearsal, clock: Clock
) -> None:
    """Rachel (a volunteer too, with no check); volunteers whose check ends soon (booked this
    holiday), cleared ones (booked this holiday), lapsed ones (booked in June only), pending
    ones, two who blocked the bot, and a school contact."""
    clock.now = JUNE
    db = bot.services.db
    await register(bot, clock, RACHEL, "Rachel")
    st_marks = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=clock())
    days = (date(2026, 6, 10), date(2026, 7, 27), date(2026, 7, 28), date(2026, 7, 29))
    for first, last in ((days[0], days[0]), (days[1], days[-1])):  # June, then the holiday
        await rota.create_sessions(
            db,
            actor_telegram_id=RACHEL,
            plan=SessionPlan(
                location_id=st_marks.location_id,
                first_day=first,
                last_day=last,
                weekdays=frozenset({0, 1, 2}),
                start=time(11, 30),
                end=time(13, 30),
                jobs=(JobSpec(job="server", places=40),),
            ),
            tz=bot.services.settings.timezone,
            now=clock(),
        )
    job_on: dict[date, int] = {}
    for day in days:
        on_the_day = await rota.sessions_on(
            db,
            actor_telegram_id=RACHEL,
            location_id=st_marks.location_id,
            day=day,
            tz=bot.services.settings.timezone,
        )
        job_on[day] = on_the_day[0].session.jobs[0].job_id
    groups = {CHECK_SOON: 4, CLEARED: 3, LAPSED: 2, PENDING: 2, BLOCKED: 2}
    for first, count in groups.items():
        for telegram_id in range(first, first + count):
            await register(bot, clock, telegram_id, f"Volunteer {telegram_id}")
            bot.user(telegram_id, f"Volunteer {telegram_id}")  # their chat, to be written to
    booked = {CHECK_SOON: days[2], CLEARED: days[3], LAPSED: days[0]}
    for first, day in booked.items():
        for telegram_id in range(first, first + groups[first]):
            outcome = await rota.book(
                db, telegram_id=telegram_id, job_id=job_on[day], now=clock(), waitlist=False
            )
            assert outcome.booking is not None
    checks = {
        CHECK_SOON: (CheckStatus.CLEARED, date(2026, 8, 10)),
        CLEARED: (CheckStatus.CLEARED, None),
        LAPSED: (CheckStatus.CLEARED, date(2026, 7, 1)),
        PENDING: (CheckStatus.PENDING, None),
    }
    async with db.transaction() as session:
        for first, (status, expires) in checks.items():
            await session.execute(
                update(Person)
                .where(Person.telegram_id.between(first, first + groups[first] - 1))
                .values(check_status=status, check_expires_on=expires)
            )
    for telegram_id in (BLOCKED, BLOCKED + 1):
        await people.mark_inactive(db, telegram_id=telegram_id)
    await register_by_invite(
        db,
        clock(),
        telegram_id=OKAFOR,
        name="Mr Okafor",
        role=Role.SCHOOL_CONTACT,
        by=RACHEL,
        school_name="Hillside Primary",
    )
    clock.now = HOLIDAY

    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/people")
    assert "Showing: everyone (15)." in rachel.last.text
    await rachel.tap("🔎 Filters")
    assert "since Mon 27 Jul, the first lunch of this holiday" in rachel.last.text
    assert rachel.last.labels() == [
        "✓ Everyone · 15",
        "Volunteers · 14",
        "School contacts · 1",
        "Coordinators · 1",
        "🛡 Check missing · 7",  # Rachel, 2 lapsed, 2 pending, 2 who blocked the bot
        "🛡 Check ends within 30 days · 4",
        "🚫 Blocked the bot · 2",
        "💤 Not seen this holiday · 7",  # the same 7: booked in June at most
        "📍 At a location…",
        "« Back to the list",
    ]
    await rachel.tap("🛡 Check ends within 30 days · 4")
    assert "Showing: volunteers whose safeguarding check ends within 30 days (4)." in (
        rachel.last.text
    )
    assert "check cleared until 10 Aug 2026" in rachel.last.text
    # St Mark's people: booked there in the last four weeks or ahead (not in June).
    await rachel.tap("🔎 Filters: 🛡 Check ends within 30 days")
    await rachel.tap("Everyone · 15")
    await rachel.tap("🔎 Filters")
    await rachel.tap("📍 At a location…")
    await rachel.tap("St Mark's")
    assert "Showing: everyone, of St Mark's (7)." in rachel.last.text
    await rachel.tap("🔎 Filters: 📍 St Mark's")
    assert rachel.last.labels()[:2] == ["✓ Everyone · 7", "Volunteers · 7"]
    await rachel.tap(people_texts.ANY_LOCATION)

    # Those without a current check: 7 listed, 4 to write to (not Rachel, nor the blocked).
    await rachel.tap("🔎 Filters")
    await rachel.tap("🛡 Check missing · 7")
    assert "Showing: volunteers without a cleared, current safeguarding check (7)." in (
        rachel.last.text
    )
    await rachel.tap("✉️ Message these 4 people")
    assert rachel.last.text.startswith(
        "📣 To volunteers without a cleared, current safeguarding check, as found in /people."
    )
    await rachel.send("Please book your safeguarding check: it takes a few weeks.")
    assert "This goes to 4 people" in rachel.last.text
    await rachel.tap("📣 Send to 4 people")
    await bot.deliver()
    told = {
        telegram_id
        for telegram_id in range(4000, 4600)
        if any(
            "Please book your safeguarding check" in m.text
            for m in bot.user(telegram_id, "").bot_messages
        )
    }
    assert told == {LAPSED, LAPSED + 1, PENDING, PENDING + 1}
    for telegram_id in told:
        copies = [
            m
            for m in bot.user(telegram_id, "").bot_messages
            if "Please book your safeguarding check" in m.text
        ]
        assert len(copies) == 1
    started = await audit.recent(db, action="broadcast.started")
    assert [
        (e.details["audience"], e.details["people"], e.details["recipients"]) for e in started
    ] == [("people", "chk", 4)]
    within_limits(rachel)
    labels_unique(rachel)


# --- what cannot be a search, and buttons nobody should have --------------------------------

SAM = 3002


async def test_bad_searches_and_forged_list_buttons_get_a_kind_answer_and_change_nothing(
    bot: Rehearsal, clock: Clock
) -> None:
    db = bot.services.db
    await register(bot, clock, RACHEL, "Rachel")
    for n in range(12):
        await locations.create(db, actor_telegram_id=RACHEL, name=f"Hall {n:02}", now=clock())
    elsewhere = await locations.create(db, actor_telegram_id=RACHEL, name="Quayside", now=clock())
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/locations")
    await rachel.send("hall 1")
    assert "🔎 Matching “hall 1”: 1-2 of 2." in rachel.last.text

    # Longer than any name: refused, kindly; the search in force stays.
    await rachel.send("x" * 101)
    assert rachel.last.text.startswith("That is longer than any name here (100 characters")
    state = await drafts.list_state(db, telegram_id=RACHEL)
    assert state is not None and state.search == "hall 1"
    # Only invisible characters: nothing to search for.
    await rachel.send("\u200b\u200b")
    assert rachel.last.text == "Send some letters of the name you are looking for."
    # A forged or unknown list, and a page far past the end: kind answers.
    await rachel.tap_data("zc:no-such-list")
    assert "out of date" in rachel.last.text
    await rachel.tap_data("zc:x" + "y" * 80)  # over Telegram's 64 bytes
    assert rachel.callback_answers[-1].text is not None
    assert "out of date" in rachel.callback_answers[-1].text

    # A volunteer's forged coordinator list buttons are refused (and audited).
    await register(bot, clock, SAM, "Sam")
    sam = bot.user(SAM, "Sam")
    await sam.send("/help")
    for forged in ("pp:0", "zf", "zw:chk", "zh:0", f"za:{elsewhere.location_id}", "zm:all:0:0"):
        await sam.tap_data(forged)
        assert "only for coordinators" in sam.last.text, forged
    assert await drafts.load(db, telegram_id=SAM, flow=broadcasts.FLOW) is None

    # "Message these people" from a list since searched: the list is shown again, as it is
    # now, and nothing is started.
    await rachel.send("/people")
    unsearched = rachel.last
    await rachel.send("sam")
    assert "✉️ Message this 1 person" in rachel.last.labels()
    await rachel.tap_data("zm:all:0:0", message_id=unsearched.message_id)
    assert unsearched.text.startswith(people_texts.changed())
    assert "🔎 Matching “sam”" in unsearched.text
    assert await drafts.load(db, telegram_id=RACHEL, flow=broadcasts.FLOW) is None

    # A site lead cannot list the people of a location she does not lead.
    hall = (await locations.find(db, search="hall 00", offset=0, limit=1)).shown[0]
    await register(bot, clock, PRIYA, "Priya")
    priya = bot.user(PRIYA, "Priya")
    await priya.send("/start")
    await promote_to_coordinator(db, clock(), PRIYA, by=RACHEL, scope=frozenset({hall.location_id}))
    await priya.send("/people")
    await priya.tap_data(f"za:{elsewhere.location_id}")
    assert "outside the locations you lead" in priya.last.text
    state = await drafts.list_state(db, telegram_id=PRIYA, kind="people")
    assert state is not None and state.args["location_id"] is None
    within_limits(rachel)
    within_limits(priya)
    no_refusals(bot)
