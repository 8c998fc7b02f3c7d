"""Forms without dead ends: /cancel ends whichever form a person is in, at any step, and says
which; every step of a form has its own ✖ Cancel; a button of a form that is closed says so
and changes nothing. And the smaller dead ends: the calendar button only for someone with a
booked place, /sessions marking the person's own sessions, a new referral's notice opening it."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import func, select

from bot.harness import Clock, Rehearsal
from bot.sandbox import SimUser
from handlers import (
    broadcast,
    coordination,
    homes,
    impact,
    planning,
    profile,
    referral_form,
    schools,
    siteday,
    texts,
    triage,
    volunteer,
    wins,
)
from storage import locations, rota
from storage import wins as stored_wins
from storage.models import Draft, Invite, LunchSession
from storage.rota import JobSpec
from tests.conftest import RACHEL
from tests.e2e.test_broadcasts import started_ids, volunteers
from tests.e2e.test_joining import register
from tests.e2e.test_long_screens import plan
from tests.e2e.test_referral_form import hillside
from tests.e2e.test_triage import referred

CANCEL = "✖ Cancel"
SAM, PRIYA = 3001, 3002


async def open_drafts(bot: Rehearsal, telegram_id: int) -> list[str]:
    async with bot.services.db.read() as session:
        return list(
            await session.scalars(select(Draft.flow).where(Draft.telegram_id == telegram_id))
        )


async def count(bot: Rehearsal, model: type[Invite] | type[LunchSession]) -> int:
    async with bot.services.db.read() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def coordinator_with_a_location(bot: Rehearsal, clock: Clock) -> SimUser:
    await register(bot, RACHEL, "Rachel")
    await locations.create(bot.services.db, actor_telegram_id=RACHEL, name="St Mark's", now=clock())
    return bot.user(RACHEL, "Rachel")


def test_every_form_has_a_name_and_a_command_to_start_it_again() -> None:
    modules = (
        broadcast,
        coordination,
        homes,
        impact,
        planning,
        profile,
        referral_form,
        schools,
        siteday,
        triage,
        volunteer,
        wins,
    )
    forms = {
        getattr(module, name)
        for module in modules
        for name in dir(module)
        if name.endswith("_FLOW") and isinstance(getattr(module, name), str)
    }
    assert len(forms) >= 15
    assert forms <= texts.FORMS.keys()


# --- /cancel at a step that waits for a button ----------------------------------------------


async def test_cancel_at_the_weekday_picker_ends_the_plan(bot: Rehearsal, clock: Clock) -> None:
    rachel = await coordinator_with_a_location(bot, clock)
    await rachel.send("/newsessions")
    assert rachel.last.labels() == ["St Mark's", CANCEL]
    await rachel.tap("St Mark's")
    assert rachel.last.labels() == [CANCEL]  # the dates are typed; Cancel is still there
    await rachel.send("27/07/2026 - 31/07/2026")
    picker = rachel.last
    assert "On which days?" in picker.text
    assert picker.labels()[-2:] == [texts.CONTINUE, CANCEL]

    await rachel.send("/cancel")
    assert rachel.last.text == "Cancelled: planning sessions. Nothing was changed."
    assert await open_drafts(bot, RACHEL) == []

    # The old picker's buttons change nothing, and say why.
    await rachel.tap("✓ Fri", message=picker)
    assert picker.text == texts.form_closed("plan")
    assert "/newsessions" in picker.text
    await rachel.send("11:30-13:30")  # no longer taken for the plan's times
    assert rachel.last.text == texts.free_text()
    assert await open_drafts(bot, RACHEL) == []
    assert await count(bot, LunchSession) == 0

    await rachel.send("/cancel")
    assert rachel.last.text == texts.nothing_to_cancel()


async def test_cancel_at_the_location_picker_closes_it(bot: Rehearsal, clock: Clock) -> None:
    rachel = await coordinator_with_a_location(bot, clock)
    await rachel.send("/newsessions")
    where = rachel.last
    await rachel.send("/cancel")
    assert rachel.last.text == "Cancelled: planning sessions. Nothing was changed."
    await rachel.tap("St Mark's", message=where)
    assert where.text == texts.form_closed("plan")
    assert await open_drafts(bot, RACHEL) == []


async def test_every_step_of_a_plan_has_its_own_cancel(bot: Rehearsal, clock: Clock) -> None:
    rachel = await coordinator_with_a_location(bot, clock)
    await rachel.send("/newsessions")
    await rachel.tap("St Mark's")
    await rachel.send("27/07/2026 - 31/07/2026")
    await rachel.tap(texts.CONTINUE)
    assert rachel.last.labels() == [CANCEL]  # the times
    await rachel.send("11:30-13:30")
    assert rachel.last.labels() == ["Use these", CANCEL]  # the jobs
    await rachel.tap("Use these")
    review = rachel.last
    assert review.labels() == ["✅ Create them", CANCEL]

    await rachel.tap(CANCEL, message=review)
    assert review.text == "Cancelled: planning sessions. Nothing was changed."
    assert review.labels() == []
    assert await open_drafts(bot, RACHEL) == []
    assert await count(bot, LunchSession) == 0


async def test_a_finished_plan_is_not_cancelled(bot: Rehearsal, clock: Clock) -> None:
    rachel = await coordinator_with_a_location(bot, clock)
    await rachel.send("/newsessions")
    await rachel.tap("St Mark's")
    await rachel.send("27/07/2026 - 31/07/2026")
    await rachel.tap(texts.CONTINUE)
    await rachel.send("11:30-13:30")
    await rachel.tap("Use these")
    await rachel.tap("✅ Create them")
    assert "Created 5 sessions at St Mark's" in rachel.last.text

    await rachel.send("/cancel")
    assert rachel.last.text == texts.nothing_to_cancel()
    assert await count(bot, LunchSession) == 5


async def test_a_shared_win_is_not_cancelled_but_a_previewed_one_is(bot: Rehearsal) -> None:
    await register(bot, SAM, "Sam")
    sam = bot.user(SAM, "Sam")
    await sam.send("/win")
    await sam.send("Aisha tried carrots for the first time!")
    await sam.tap("🙋 Share with my name")
    await sam.send("/cancel")
    assert sam.last.text == texts.nothing_to_cancel()

    await sam.send("/win")
    await sam.send("The twins laughed all lunch.")
    preview = sam.last
    await sam.send("/cancel")
    assert sam.last.text == "Cancelled: sharing a win. Nothing was changed."
    await sam.tap("🙋 Share with my name", message=preview)
    assert preview.text.startswith("This win was not shared from here: it was cancelled")


async def test_cancel_while_a_rejection_waits_for_its_note_keeps_the_win(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    sam, rachel = bot.user(SAM, "Sam"), bot.user(RACHEL, "Rachel")
    await sam.send("/win")
    await sam.send("Aisha tried carrots for the first time!")
    await sam.tap("🙋 Share with my name")
    await bot.deliver()
    await rachel.tap("Reject")
    asking = rachel.last
    assert asking.labels() == ["Reject without a note", CANCEL]
    await rachel.send("/cancel")
    assert rachel.last.text == "Cancelled: rejecting the win. Nothing was changed."
    await rachel.tap("Reject without a note", message=asking)
    assert asking.text.startswith("This note is no longer open")
    assert await stored_wins.pending_count(bot.services.db) == 1
    assert not any("decided not to" in m.text for m in sam.bot_messages)


async def test_cancel_at_the_broadcast_audience_step(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    await volunteers(bot, 2)
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/broadcast")
    audiences = rachel.last
    assert audiences.labels()[-1] == CANCEL

    await rachel.send("/cancel")
    assert rachel.last.text == "Cancelled: the broadcast. Nothing was changed."
    await rachel.tap("All volunteers", message=audiences)
    assert audiences.text == texts.form_closed("broadcast")
    await rachel.send("Lunch is at noon")  # not taken for a broadcast's words
    assert rachel.last.text == texts.free_text()
    assert await open_drafts(bot, RACHEL) == []
    await bot.deliver()
    assert await started_ids(bot) == []


async def test_cancel_while_the_broadcast_waits_for_its_words(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    await volunteers(bot, 2)
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/broadcast")
    await rachel.tap("All volunteers")
    asking = rachel.last
    assert asking.labels() == [CANCEL]
    await rachel.tap(CANCEL)
    assert asking.text == "Cancelled: the broadcast. Nothing was changed."
    await rachel.send("Lunch is at noon")  # not taken for a broadcast's words
    assert rachel.last.text == texts.free_text()
    assert await open_drafts(bot, RACHEL) == []
    await bot.deliver()
    assert await started_ids(bot) == []


async def test_cancel_at_the_invite_role_step_makes_no_invite(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/invite")
    roles = rachel.last
    assert roles.labels() == ["A school contact", "A coordinator", CANCEL]
    await rachel.send("/cancel")
    assert rachel.last.text == "Cancelled: the invite. Nothing was changed."
    await rachel.tap("A coordinator", message=roles)
    assert roles.text == texts.form_closed("invite_school")
    assert await count(bot, Invite) == 0


async def test_cancel_at_the_impact_reports_period_sends_no_report(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/impact")
    periods = rachel.last
    assert periods.labels()[-1] == CANCEL
    await rachel.send("/cancel")
    assert rachel.last.text == "Cancelled: the impact report. Nothing was changed."
    sent = len(rachel.messages)
    await rachel.tap("Last 7 days", message=periods)
    assert periods.text == texts.form_closed("impact_dates")
    assert len(rachel.messages) == sent  # no summary, no file, no chart


async def test_cancel_at_a_button_step_of_the_referral_form(bot: Rehearsal, clock: Clock) -> None:
    okafor = await hillside(bot, clock)
    await okafor.send("/refer")
    await okafor.send("HS-014")
    children = okafor.last
    assert children.labels()[-1] == CANCEL
    await okafor.send("/cancel")
    assert okafor.last.text == "Cancelled: the referral form. Nothing was changed."
    await okafor.tap("2", message=children)
    assert "no longer open" in children.text
    assert await open_drafts(bot, 2001) == []


async def test_cancel_at_a_typed_step_says_what_it_cancelled(bot: Rehearsal) -> None:
    await register(bot, SAM, "Sam")
    sam = bot.user(SAM, "Sam")
    await sam.send("/name")
    asking = sam.last
    assert asking.labels() == [CANCEL]
    await sam.send("/cancel")
    assert sam.last.text == "Cancelled: changing your name. Nothing was changed."
    await sam.tap(CANCEL, message=asking)  # the form is gone already
    assert asking.text == texts.form_closed("rename")


# --- the smaller dead ends ------------------------------------------------------------------


async def test_the_calendar_is_offered_only_with_a_booked_place_and_sessions_mark_mine(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    (tuesday,) = await plan(
        bot,
        clock,
        "St Mark's",
        days=(date(2026, 7, 28), date(2026, 7, 28)),
        times=(time(11, 30), time(13, 30)),
        jobs=(JobSpec(job="server", places=1, needs_check=False),),
    )
    job_id = tuesday.jobs[0].job_id
    for who, name in ((SAM, "Sam"), (PRIYA, "Priya")):
        await register(bot, who, name)
    db = bot.services.db
    booked = await rota.book(db, telegram_id=SAM, job_id=job_id, now=clock(), waitlist=False)
    waiting = await rota.book(db, telegram_id=PRIYA, job_id=job_id, now=clock(), waitlist=True)
    assert booked.result is rota.BookResult.BOOKED
    assert waiting.result is rota.BookResult.WAITLISTED
    sam, priya = bot.user(SAM, "Sam"), bot.user(PRIYA, "Priya")

    await priya.send("/mysessions")
    assert "waitlist" in priya.last.text
    assert "📅 Add to my calendar" not in priya.last.labels()
    await sam.send("/mysessions")
    assert "📅 Add to my calendar" in sam.last.labels()

    await sam.send("/sessions")
    assert sam.last.labels() == ["✅ Tue 28 Jul 11:30 · St Mark's"]
    assert "(you're booked)" in sam.last.text
    await priya.send("/sessions")
    assert priya.last.labels() == ["⏳ Tue 28 Jul 11:30 · St Mark's"]
    assert "(you're on the waitlist)" in priya.last.text
    await register(bot, 3003, "Tom")
    tom = bot.user(3003, "Tom")
    await tom.send("/sessions")
    assert tom.last.labels() == ["Tue 28 Jul 11:30 · St Mark's"]


async def test_a_new_referrals_notice_opens_the_referral(bot: Rehearsal) -> None:
    await referred(bot)
    rachel = bot.user(RACHEL, "Rachel")
    notice = rachel.last
    assert notice.text.startswith("📥 A new referral from Hillside Primary")
    await rachel.tap("📋 Open the referral", message=notice)
    assert "HS-014" in rachel.last.text
    assert "📍 Place" in rachel.last.labels()
