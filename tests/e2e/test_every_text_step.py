"""Whatever a person types at any step that waits for words: every text step of every flow is
fed arbitrary text (control characters, other scripts' digits, invisible characters, emoji,
formulas) through the sandbox. Each time the bot answers, kindly (never the internal-error
reply), and nothing with a control character reaches the database.

Each step is reached as a person reaches it (a command, then the step's buttons), again for
every example, after its form is set aside, so an accepted answer does not leave the next
example somewhere else."""

from __future__ import annotations

import asyncio
import dataclasses
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, String, Text, select

from bot.config import CelebrationPolicy, Config
from bot.harness import Clock, Rehearsal
from bot.sandbox import SimUser
from handlers import (
    broadcast,
    callbacks,
    coordination,
    exports,
    homes,
    impact,
    planning,
    planning_locations,
    referral_form,
    schools,
    session_jobs,
    siteday,
    texts,
    triage,
    volunteer,
)
from handlers.referral_form import Step
from storage import drafts, invites, locations, people, referrals, rota
from storage.crypto import Cipher
from storage.locations import Field
from storage.models import Audience, Base, CheckStatus, DataKey, Draft, InboxUpdate
from storage.referrals import ReferralForm
from storage.rota import JobSpec, SessionPlan
from tests.conftest import RACHEL
from tests.e2e.test_joining import register
from tests.support import register_by_invite

SAM, OKAFOR = 3001, 2001
GROUP_ID = -100_700_900
# 13:45 in London on Tuesday 28 July: the day's lunch is over, its counts can be recorded.
AFTER_LUNCH = datetime(2026, 7, 28, 12, 45, tzinfo=UTC)
EXAMPLES_PER_STEP = 5  # per step, besides the two fixed ones below: quick, and still bites

# What people paste or type: any characters (controls included), other scripts' digits, and a
# few known troublemakers. Telegram delivers no empty message, and "/..." is a command.
TROUBLE = [
    "²",
    "٣٠",
    "３０",
    "Lunch\x00 at noon",
    "Ding\x07 dong",
    "\x1b[31mred\x1b[0m",
    "tab\there",
    "line\r\nbreak",
    "a\u202eb\u200bc",
    "\ufeff30",
    '=HYPERLINK("http://x")',
    "-",
    "0",
    "1,000",
    "31/02/2026 - 01/03/2026",
    "27/07/2026 - 31/07/2026",
    "11:30-13:30",
    "cook 2, server 3",
    "Zoë 👩‍👩‍👧 🏴\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f",
    "x" * 5000,
]
TYPED = st.one_of(
    st.text(min_size=1, max_size=60),
    st.text(st.characters(categories=["Nd", "No", "Cc", "Cf", "Zs"]), min_size=1, max_size=8),
    st.sampled_from(TROUBLE),
).filter(lambda text: text.strip() != "" and not text.startswith("/"))


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, celebrations=CelebrationPolicy(chats=(GROUP_ID,)))


@dataclass
class World:
    bot: Rehearsal
    location_id: int
    session_id: int  # Tuesday's, over
    next_session_id: int  # Wednesday's, still to come
    sam_person_id: int
    school_id: int


async def _world(bot: Rehearsal, clock: Clock) -> World:
    """Rachel; St Mark's with lunches Mon-Thu of the week of 27 July; Sam, a volunteer; Mr
    Okafor of Hillside Primary; then the clock moves to after Tuesday's lunch."""
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    db, services = bot.services.db, bot.services
    location = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=clock())
    await rota.create_sessions(
        db,
        actor_telegram_id=RACHEL,
        plan=SessionPlan(
            location_id=location.location_id,
            first_day=date(2026, 7, 27),
            last_day=date(2026, 7, 30),
            weekdays=frozenset({0, 1, 2, 3}),
            start=time(11, 30),
            end=time(13, 30),
            jobs=(JobSpec(job="server", places=3),),
        ),
        tz=services.settings.timezone,
        now=clock(),
    )
    tuesday, wednesday = [
        (
            await rota.sessions_on(
                db,
                actor_telegram_id=RACHEL,
                location_id=location.location_id,
                day=day,
                tz=services.settings.timezone,
            )
        )[0]
        for day in (date(2026, 7, 28), date(2026, 7, 29))
    ]
    await register_by_invite(
        db,
        clock(),
        telegram_id=OKAFOR,
        name="Mr Okafor",
        role=people.Role.SCHOOL_CONTACT,
        by=RACHEL,
        school_name="Hillside Primary",
    )
    sam = await people.profile(db, SAM)
    (hillside,) = await invites.schools(db)
    assert sam is not None
    clock.now = AFTER_LUNCH
    return World(
        bot=bot,
        location_id=location.location_id,
        session_id=tuesday.session.session_id,
        next_session_id=wednesday.session.session_id,
        sam_person_id=sam.person_id,
        school_id=hillside.school_id,
    )


async def _tap(user: SimUser, action: object) -> None:
    """The button that carries `action`, as the step's screen shows it."""
    await user.tap_data(callbacks.encode(action))


async def _referral(world: World) -> tuple[int, int]:
    """A new referral from Hillside (id, version) for Rachel to decide."""
    cipher = world.bot.services.cipher
    assert cipher is not None
    sent = await referrals.submit(
        world.bot.services.db,
        cipher,
        telegram_id=OKAFOR,
        now=world.bot.services.now(),
        daily_limit=10_000,
        form=ReferralForm(
            reference="HS-014",
            children=2,
            age_bands=("Year 2", "Year 5"),
            needs=None,
            note=None,
            preferred_location_ids=(world.location_id,),
            first_day=date(2026, 8, 3),
            last_day=date(2026, 8, 27),
            weekdays=(1, 3),
            consent=True,
        ),
    )
    return sent.referral_id, 0


async def _refer_to(world: World, step: Step) -> None:
    """Mr Okafor fills in the referral form up to `step`."""
    okafor = world.bot.user(OKAFOR, "Mr Okafor")
    await okafor.send("/refer")
    walk: list[tuple[Step, Callable[[], Awaitable[Any]]]] = [
        (Step.CHILDREN, lambda: okafor.send("HS-001")),
        (Step.BANDS, lambda: okafor.send("1")),
        (Step.NEEDS, lambda: _tap(okafor, referral_form.ReferBand(child=0, band=0))),
        (Step.PLACES, lambda: _tap(okafor, referral_form.ReferNoNeeds())),
        (Step.DATES, lambda: _tap(okafor, referral_form.ReferPlacesDone())),
        (Step.DAYS, lambda: okafor.send("03/08/2026 - 07/08/2026")),
        (Step.CONSENT, lambda: _tap(okafor, referral_form.ReferDaysDone())),
        (Step.NOTE, lambda: _tap(okafor, referral_form.ReferConsent())),
    ]
    for reached, move in walk:
        if step is Step.REFERENCE:
            return
        await move()
        if reached is step:
            return


async def _share_win(world: World) -> SimUser:
    """Sam shares a win; Rachel has its card."""
    sam = world.bot.user(SAM, "Sam")
    await sam.send("/win")
    await sam.send("All 12 kids tried the curry!")
    await sam.tap("🙋 Share with my name")
    return world.bot.user(RACHEL, "Rachel")


async def _plan_to(world: World, field: str) -> None:
    rachel = world.bot.user(RACHEL, "Rachel")
    await rachel.send("/newsessions")  # St Mark's, the one location: its dates are asked
    if field == "dates":
        return
    await rachel.send("03/08/2026 - 07/08/2026")
    await _tap(rachel, planning.PlanWeekdaysDone())
    if field == "times":
        return
    await rachel.send("11:30-13:30")


Reach = Callable[[World], Awaitable[None]]


async def _job_places(world: World) -> None:
    """Wednesday's session, still to come: how many places its first job has."""
    view = await rota.session_view(world.bot.services.db, world.next_session_id)
    assert view is not None
    await _tap(world.bot.user(RACHEL, "Rachel"), session_jobs.AskPlaces(job_id=view.jobs[0].job_id))


async def _new_job(world: World) -> None:
    await _tap(world.bot.user(RACHEL, "Rachel"), session_jobs.AddJob(world.next_session_id))


@dataclass(frozen=True)
class TextStep:
    who: int
    reach: Reach
    photo: bool = False  # the answer may be a photo: its caption is fed too
    command: str = ""  # the text goes after this command instead ("/name Sam")


async def _win_card(world: World, label: str) -> None:
    rachel = await _share_win(world)
    await rachel.tap(label)


def _command(who: int, words: str) -> Reach:
    async def reach(world: World) -> None:
        await world.bot.user(who, "").send(words)

    return reach


def _tapping(who: int, *actions: Callable[[World], object], first: str | None = None) -> Reach:
    async def reach(world: World) -> None:
        user = world.bot.user(who, "")
        if first is not None:
            await user.send(first)
        for action in actions:
            await _tap(user, action(world))

    return reach


async def _decline(world: World) -> None:
    referral_id, version = await _referral(world)
    await _tap(
        world.bot.user(RACHEL, "Rachel"), triage.Decline(referral_id=referral_id, version=version)
    )


async def _other_dates(world: World) -> None:
    referral_id, version = await _referral(world)
    rachel = world.bot.user(RACHEL, "Rachel")
    await _tap(rachel, triage.ChoosePlace(referral_id=referral_id, version=version))
    await _tap(
        rachel,
        triage.OtherDates(referral_id=referral_id, version=version, location_id=world.location_id),
    )


async def _children(world: World) -> None:
    rachel = world.bot.user(RACHEL, "Rachel")
    await _tap(rachel, siteday.AskCounts(session_id=world.session_id))
    await rachel.send("38")


def _referral_step(step: Step) -> Reach:
    async def reach(world: World) -> None:
        await _refer_to(world, step)

    return reach


def _plan_step(field: str) -> Reach:
    async def reach(world: World) -> None:
        await _plan_to(world, field)

    return reach


def _win_step(label: str) -> Reach:
    async def reach(world: World) -> None:
        await _win_card(world, label)

    return reach


async def _unplanned_to(world: World, field: str) -> None:
    """Rachel records a lunch nobody planned at St Mark's today, up to `field`."""
    rachel = world.bot.user(RACHEL, "Rachel")
    today = siteday.day_code(AFTER_LUNCH.date())
    await _tap(rachel, siteday.AskUnplanned(location_id=world.location_id, day=today))
    if field == "times":
        return
    await rachel.send("09:00-10:00")  # before the planned lunch, so no clash
    if field == "meals":
        return
    await rachel.send("10")


def _unplanned_step(field: str) -> Reach:
    async def reach(world: World) -> None:
        await _unplanned_to(world, field)

    return reach


async def _not_run_reason(world: World) -> None:
    rachel = world.bot.user(RACHEL, "Rachel")
    await _tap(rachel, siteday.AskNotRun(session_id=world.session_id))
    await _tap(rachel, siteday.NotRunTyped(session_id=world.session_id))


async def _name_like_reference(world: World) -> None:
    """The reference reads like a child's name: the form asks whether it is the school's
    code, and a typed answer is the reference again."""
    okafor = world.bot.user(OKAFOR, "Mr Okafor")
    await okafor.send("/refer")
    await okafor.send("Jamie Smith")


async def _nowhere(_world: World) -> None:
    """A command with its words needs no step first."""


STEPS: dict[str, TextStep] = {
    "/name with words": TextStep(SAM, _nowhere, command="/name"),
    "/invite school with a name": TextStep(RACHEL, _nowhere, command="/invite school"),
    "volunteer's name": TextStep(SAM, _command(SAM, "/name")),
    "volunteer's phone": TextStep(
        SAM, _tapping(SAM, lambda _w: volunteer.AskPhone(), first="/profile")
    ),
    "win": TextStep(SAM, _command(SAM, "/win"), photo=True),
    "invite a new school": TextStep(
        RACHEL, _tapping(RACHEL, lambda _w: coordination.InviteNewSchool(), first="/invite")
    ),
    "check expiry": TextStep(
        RACHEL,
        _tapping(
            RACHEL,
            lambda w: coordination.SetCheck(person_id=w.sam_person_id, status=CheckStatus.CLEARED),
            first="/people",
        ),
    ),
    "new location's name": TextStep(
        RACHEL, _tapping(RACHEL, lambda _w: planning_locations.NewLocation(), first="/locations")
    ),
    **{
        f"location's {field.value}": TextStep(
            RACHEL,
            _tapping(
                RACHEL,
                lambda w, field=field: planning_locations.EditLocation(
                    location_id=w.location_id, field=field
                ),
                first="/locations",
            ),
        )
        for field in Field
    },
    **{
        f"plan's {field}": TextStep(RACHEL, _plan_step(field))
        for field in ("dates", "times", "jobs")
    },
    "decline reason": TextStep(RACHEL, _decline),
    "placement's other dates": TextStep(RACHEL, _other_dates),
    "new school's name": TextStep(
        RACHEL, _tapping(RACHEL, lambda _w: schools.NewSchool(), first="/schools")
    ),
    "school's area": TextStep(
        RACHEL,
        _tapping(RACHEL, lambda w: schools.EditArea(school_id=w.school_id), first="/schools"),
    ),
    **{
        f"referral's {step.value}": TextStep(OKAFOR, _referral_step(step))
        for step in Step
        if step is not Step.REVIEW
    },
    "meals served": TextStep(
        RACHEL, _tapping(RACHEL, lambda w: siteday.AskCounts(session_id=w.session_id))
    ),
    "children who came": TextStep(RACHEL, _children),
    "session's times": TextStep(
        RACHEL, _tapping(RACHEL, lambda w: siteday.AskTimes(session_id=w.next_session_id))
    ),
    "win's new text": TextStep(RACHEL, _win_step("✏️ Edit text")),
    "win's rejection note": TextStep(RACHEL, _win_step("Reject")),
    "broadcast": TextStep(
        RACHEL,
        _tapping(
            RACHEL,
            lambda _w: broadcast.PickAudience(
                audience=Audience.VOLUNTEERS, location_id=broadcast.NO_LOCATION
            ),
            first="/broadcast",
        ),
        photo=True,
    ),
    "did-not-run reason": TextStep(RACHEL, _not_run_reason),
    "a session job's places": TextStep(RACHEL, _job_places),
    "a session's new job": TextStep(RACHEL, _new_job),
    **{
        f"unplanned lunch's {field}": TextStep(RACHEL, _unplanned_step(field))
        for field in ("times", "meals", "children")
    },
    # A list on screen: what is typed searches it (handlers/choose.py).
    "home locations search": TextStep(SAM, _tapping(SAM, lambda _w: homes.HomesPage(offset=0))),
    "people search": TextStep(RACHEL, _command(RACHEL, "/people")),
    "locations search": TextStep(RACHEL, _command(RACHEL, "/locations")),
    "reference after the name-like question": TextStep(OKAFOR, _name_like_reference),
    "impact report's dates": TextStep(
        RACHEL, _tapping(RACHEL, lambda _w: impact.ImpactDates(), first="/impact")
    ),
    "rota export's dates": TextStep(
        RACHEL, _tapping(RACHEL, lambda _w: exports.ExportDates(), first="/export")
    ),
}


async def _set_aside(world: World, telegram_id: int) -> None:
    """Whatever form this person had open is set aside, as /cancel would."""
    db = world.bot.services.db
    async with db.transaction() as session:
        flows = (
            await session.scalars(select(Draft.flow).where(Draft.telegram_id == telegram_id))
        ).all()
    for flow in flows:
        await drafts.discard(db, telegram_id=telegram_id, flow=flow)


def _controls(value: Any, cipher: Cipher) -> list[str]:
    """The stored strings in `value` (JSON walked, sealed details opened) with a control
    character other than a new line."""
    if isinstance(value, dict):
        return [found for item in value.values() for found in _controls(item, cipher)]
    if isinstance(value, list):
        return [found for item in value for found in _controls(item, cipher)]
    if not isinstance(value, str):
        return []
    if value.startswith("gAAAAA"):  # a sealed detail: what it holds counts
        opened = cipher.open(value)
        if opened is not None:
            value = opened
    bad = any(unicodedata.category(ch) in ("Cc", "Cs") and ch != "\n" for ch in value)
    return [repr(value[:80])] if bad else []


async def _stored_controls(bot: Rehearsal) -> list[str]:
    programme = bot.services.cipher
    assert programme is not None
    found: list[str] = []
    async with bot.services.db.transaction() as session:
        # Each referral and form seals with its own data key (storage/keys.py): whatever is
        # sealed opens with one of them, or with the programme key (the keys themselves).
        cipher = programme
        for wrapped in (await session.scalars(select(DataKey.wrapped))).all():
            data_key = programme.open(wrapped)
            assert data_key is not None
            cipher = cipher.sealing_with(data_key)
        for table in Base.metadata.sorted_tables:
            if table.name == InboxUpdate.__tablename__:
                # The inbox keeps each update as Telegram sent it, before any handler or rule
                # sees it (so a crash loses none), and deletes it a day after it was handled.
                continue
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if not columns:
                continue
            for row in (await session.execute(select(*columns))).all():
                for column, value in zip(columns, row, strict=True):
                    found += [f"{table.name}.{column.name}: {v}" for v in _controls(value, cipher)]
    return found


@pytest.mark.parametrize("name", list(STEPS))
async def test_whatever_is_typed_at_a_step_gets_a_kind_answer_and_stores_no_control_character(
    bot: Rehearsal, clock: Clock, name: str
) -> None:
    world = await _world(bot, clock)
    step = STEPS[name]
    person = bot.user(step.who, "")
    loop = asyncio.get_running_loop()

    async def feed(typed: str, as_photo: bool) -> None:
        await _set_aside(world, step.who)
        await step.reach(world)
        waiting = await drafts.waiting_for_text(bot.services.db, telegram_id=step.who)
        assert waiting is not None or step.command, f"{name}: the step was not reached"
        before = len(person.bot_messages)
        if step.command:
            await person.send(f"{step.command} {typed[:4000]}")
        elif as_photo and step.photo:
            await person.send_photo(caption=typed[:1024])
        else:
            await person.send(typed[:4096])
        answers = person.bot_messages[before:]
        assert answers, f"{name}: no answer to {typed!r}"
        assert all(a.text != texts.internal_error() for a in answers), f"{name}: {typed!r}"
        assert await _stored_controls(bot) == [], f"{name}: {typed!r}"

    # Hypothesis drives plain functions: it runs in a thread of its own and hands each example
    # to this test's event loop, where the bot and the sandbox run.
    @settings(
        max_examples=EXAMPLES_PER_STEP,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(typed=TYPED, as_photo=st.booleans())
    @example(typed="²", as_photo=False)  # crashed "Children a day" and the counts
    @example(typed="Lunch\x00 at\x07 noon\x1b[0m", as_photo=True)  # stored as typed
    def each(typed: str, as_photo: bool) -> None:
        asyncio.run_coroutine_threadsafe(feed(typed, as_photo), loop).result()

    await asyncio.to_thread(each)
