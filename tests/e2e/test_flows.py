"""Forms without dead ends: /cancel ends whichever form a person is in, at any step, and says
which; every step of a form has its own ✖ Cancel; a button of a form that is closed says so
and changes nothing. And the smaller dead ends: the calendar button only for someone with a
booked place, /sessions marking the person's own sessions, a new referral's notice opening it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import func, select

from bot.harness import Clock, Rehearsal
from bot.sandbox import SimUser
from handlers import (
    broadcast,
    coordination,
    exports,
    homes,
    impact,
    planning,
    planning_locations,
    profile,
    referral_form,
    rota_upload,
    schools,
    siteday,
    texts,
    triage,
    volunteer,
    wins,
)
from storage import drafts, locations, rota
from storage import referrals as stored_referrals
from storage import wins as stored_wins
from storage.models import Draft, Invite, LunchSession, SessionStatus
from storage.rota import JobSpec
from tests.conftest import RACHEL
from tests.e2e.test_broadcasts import started_ids, volunteers
from tests.e2e.test_joining import register
from tests.e2e.test_long_screens import plan
from tests.e2e.test_referral_form import hillside
from tests.e2e.test_site_day import AFTER_LUNCH, BEN, TUESDAY, ZOE, _programme, _session, _site_lead
from tests.e2e.test_triage import OKAFOR, lunches, referred

CANCEL = "✖ Cancel"
SAM, PRIYA = 3001, 3002


async def open_drafts(bot: Rehearsal, telegram_id: int) -> list[str]:
    """The person's forms still open (a list's remembered searches are no form)."""
    async with bot.services.db.read() as session:
        return list(
            await session.scalars(
                select(Draft.flow).where(
                    Draft.telegram_id == telegram_id, Draft.flow != drafts.LIST_FLOW
                )
            )
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
        exports,
        homes,
        impact,
        planning,
        planning_locations,
        profile,
        referral_form,
        rota_upload,
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
    await rachel.send("/newsessions")  # the one location: straight to its dates
    assert "Sessions at St Mark's. Which dates?" in rachel.last.text
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
    await locations.create(bot.services.db, actor_telegram_id=RACHEL, name="Riverside", now=clock())
    await rachel.send("/newsessions")
    where = rachel.last
    assert where.labels() == ["✅ All 2 locations", "Riverside", "St Mark's", CANCEL]
    await rachel.tap("St Mark's")
    assert where.labels()[-2:] == ["Continue ▶ (1 chosen)", CANCEL]
    await rachel.send("/cancel")
    assert rachel.last.text == "Cancelled: planning sessions. Nothing was changed."
    await rachel.tap("Riverside", message=where)
    assert where.text == texts.form_closed("plan")
    assert await open_drafts(bot, RACHEL) == []


async def test_every_step_of_a_plan_has_its_own_cancel(bot: Rehearsal, clock: Clock) -> None:
    rachel = await coordinator_with_a_location(bot, clock)
    await rachel.send("/newsessions")
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


# --- forms added on other branches: the same Cancel, the same /cancel ------------------------


async def test_did_not_run_has_cancel_at_both_steps_and_a_stale_reason_changes_nothing(
    bot: Rehearsal, clock: Clock
) -> None:
    """Priya starts to say Tuesday's lunch did not run, then thinks better of it."""
    st_marks, _ = await _programme(bot, clock)
    await _site_lead(bot, clock, PRIYA, st_marks)
    tuesday = await _session(bot, st_marks, TUESDAY)
    clock.now = AFTER_LUNCH
    priya = bot.user(PRIYA, "Priya")

    await priya.send("/today")
    await priya.tap("🚫 Did not run")
    question = priya.last
    assert question.labels()[-1] == CANCEL
    await priya.send("/cancel")
    assert priya.last.text == "Cancelled: why the session did not run. Nothing was changed."
    await priya.tap("Severe weather", message=question)
    assert question.text == texts.form_closed("site_not_run")
    assert (await rota.session_view(bot.services.db, tuesday.session_id)).not_run_reason is None

    await priya.send("/today")
    await priya.tap("🚫 Did not run")
    await priya.tap("✏️ Another reason (type it)")
    assert priya.last.labels() == [CANCEL]
    await priya.tap(CANCEL)
    assert priya.last.text == "Cancelled: why the session did not run. Nothing was changed."
    await priya.send("The hall was flooded")  # no longer taken as the reason
    assert priya.last.text == texts.free_text()
    assert (await rota.session_view(bot.services.db, tuesday.session_id)).not_run_reason is None
    assert await open_drafts(bot, PRIYA) == []


async def test_an_unplanned_lunch_has_cancel_at_its_times_counts_and_are_you_sure(
    bot: Rehearsal, clock: Clock
) -> None:
    st_marks, _ = await _programme(bot, clock)
    await locations.update_field(
        bot.services.db,
        actor_telegram_id=RACHEL,
        location_id=st_marks,
        field=locations.Field.CAPACITY,
        value=40,
        now=clock(),
    )
    await _site_lead(bot, clock, PRIYA, st_marks)
    clock.now = datetime(2026, 8, 1, 13, 0, tzinfo=UTC)  # Saturday: nothing was planned
    priya = bot.user(PRIYA, "Priya")
    sessions_before = await count(bot, LunchSession)

    await priya.send("/today")
    await priya.tap("➕ Record an unplanned lunch")
    assert priya.last.labels() == [CANCEL]
    await priya.send("12:00-13:30")
    assert "How many meals were served?" in priya.last.text
    assert priya.last.labels() == [CANCEL]
    await priya.send("/cancel")
    assert priya.last.text == "Cancelled: the day's counts. Nothing was changed."
    await priya.send("25")
    assert priya.last.text == texts.free_text()

    await priya.send("/today")
    await priya.tap("➕ Record an unplanned lunch")
    await priya.send("12:00-13:30")
    await priya.send("5000")
    assert priya.last.labels() == [CANCEL]
    await priya.send("3")
    sure = priya.last
    assert sure.text.startswith("🤔 Are you sure?")
    assert sure.labels() == ["✅ Save anyway (5,000 and 3)", "✏️ Change", CANCEL]
    await priya.tap("✏️ Change")
    assert priya.last.labels() == [CANCEL]
    await priya.send("5000")
    await priya.send("3")
    sure = priya.last
    await priya.send("/cancel")
    assert priya.last.text == "Cancelled: the day's counts. Nothing was changed."
    await priya.tap("✅ Save anyway (5,000 and 3)", message=sure)
    assert "already saved or cancelled" in sure.text
    assert await count(bot, LunchSession) == sessions_before
    assert await open_drafts(bot, PRIYA) == []


async def test_the_name_like_reference_question_has_cancel_and_answers_nothing_after(
    bot: Rehearsal, clock: Clock
) -> None:
    okafor = await hillside(bot, clock)
    await okafor.send("/refer")
    await okafor.send("Jamie Smith")
    question = okafor.last
    assert question.labels()[-1] == CANCEL
    await okafor.send("/cancel")
    assert okafor.last.text == "Cancelled: the referral form. Nothing was changed."
    await okafor.tap("✅ Yes, it is our code", message=question)
    assert question.text.startswith("This referral form is no longer open. Send /refer")
    assert await open_drafts(bot, OKAFOR) == []


async def test_placing_has_cancel_on_every_screen_and_a_stale_place_places_nobody(
    bot: Rehearsal,
) -> None:
    referral_id = await referred(bot)
    rachel, okafor = bot.user(RACHEL, "Rachel"), bot.user(OKAFOR, "Mr Okafor")
    told_before = len(okafor.bot_messages)

    async def place() -> None:
        await rachel.send("/referrals")
        await rachel.tap("HS-014 · Hillside Primary · 2 children")
        await rachel.tap("📍 Place")

    # The page of locations.
    await place()
    where = rachel.last
    assert where.labels()[-1] == CANCEL
    await rachel.send("/cancel")
    assert rachel.last.text == "Cancelled: placing the referral. Nothing was changed."
    await rachel.tap("★ St Mark's · 2 of 10 days", message=where)
    assert where.text == texts.form_closed("referral_dates")

    # A location's days: its own Cancel, and a Place tapped after /cancel places nobody.
    await place()
    await rachel.tap("★ St Mark's · 2 of 10 days")
    assert rachel.last.labels()[-1] == CANCEL
    await rachel.tap(CANCEL)
    assert rachel.last.text == "Cancelled: placing the referral. Nothing was changed."
    await place()
    await rachel.tap("★ St Mark's · 2 of 10 days")
    days = rachel.last
    await rachel.send("/cancel")
    await rachel.tap("✅ Place on 2 days", message=days)
    assert days.text == texts.form_closed("referral_dates")

    # Typed dates, and the days they show.
    await place()
    await rachel.tap("★ St Mark's · 2 of 10 days")
    await rachel.tap("📅 Other dates")
    assert rachel.last.labels() == [CANCEL]
    await rachel.send("28/07/2026 - 30/07/2026")
    typed_days = rachel.last
    assert typed_days.labels() == ["✅ Place on 2 days", "📅 Other dates", "« Back", CANCEL]
    await rachel.send("/cancel")
    assert rachel.last.text == "Cancelled: placing the referral. Nothing was changed."
    await rachel.tap("✅ Place on 2 days", message=typed_days)
    assert typed_days.text == texts.form_closed("referral_dates")

    [still] = await stored_referrals.for_school(bot.services.db, telegram_id=OKAFOR)
    assert still.referral_id == referral_id
    assert still.status is stored_referrals.ReferralStatus.SUBMITTED
    await bot.settle()
    assert len(okafor.bot_messages) == told_before  # the school was told nothing

    # Placing still works, and ends the form.
    await place()
    await rachel.tap("★ St Mark's · 2 of 10 days")
    await rachel.tap("✅ Place on 2 days")
    assert rachel.last.text.startswith("✅ Placed on 2 days")
    assert await open_drafts(bot, RACHEL) == []


async def test_archiving_with_sessions_to_come_can_be_cancelled_and_a_stale_tap_cancels_none(
    bot: Rehearsal, clock: Clock
) -> None:
    rachel = await coordinator_with_a_location(bot, clock)
    st_marks = (await locations.listed(bot.services.db))[0].location_id
    await lunches(bot, st_marks, date(2026, 7, 28))
    await rachel.send("/locations")
    await rachel.tap("St Mark's")
    await rachel.tap("🗄 Archive")
    confirm = rachel.last
    assert confirm.labels() == ["🗄 Cancel 1 session and archive", "« Back", CANCEL]
    await rachel.send("/cancel")
    assert rachel.last.text == "Cancelled: archiving the location. Nothing was changed."
    await rachel.tap("🗄 Cancel 1 session and archive", message=confirm)
    assert confirm.text == texts.form_closed("location_archive")
    assert not (await locations.listed(bot.services.db, include_archived=True))[0].archived
    async with bot.services.db.read() as session:
        cancelled = await session.scalar(
            select(func.count())
            .select_from(LunchSession)
            .where(LunchSession.status == SessionStatus.CANCELLED)
        )
    assert cancelled == 0


async def test_the_home_search_is_typed_and_cancel_forgets_it(bot: Rehearsal) -> None:
    db, now = bot.services.db, bot.services.now()
    await register(bot, RACHEL, "Rachel")
    for number in range(1, 13):
        await locations.create(db, actor_telegram_id=RACHEL, name=f"Site {number:02}", now=now)
    sam = bot.user(SAM, "Sam")
    await register(bot, SAM, "Sam")
    await sam.send("site 07")  # the list on screen: what is typed searches it
    assert "🔎 Matching “site 07”: 1-1 of 1." in sam.last.text
    assert sam.last.labels() == ["Site 07", "✖ Clear search", "Skip for now"]
    await sam.send("/cancel")
    assert sam.last.text == "Cancelled: the search. Nothing was changed."
    await sam.send("Site 07")
    assert sam.last.text == texts.free_text()
    assert await open_drafts(bot, SAM) == []


async def test_asking_wider_for_cover_can_be_cancelled_and_then_asks_nobody(
    bot: Rehearsal, clock: Clock
) -> None:
    await _programme(bot, clock)
    for who, name in ((ZOE, "Zoe"), (BEN, "Ben")):
        await register(bot, who, name)
    clock.now = datetime(2026, 7, 27, 9, 0, tzinfo=UTC)  # Monday morning: the week ahead
    rachel, zoe = bot.user(RACHEL, "Rachel"), bot.user(ZOE, "Zoe")
    await rachel.send("/coverage")
    await rachel.tap("Riverside")
    await rachel.tap("Wed 29 Jul 11:30 · Riverside")
    await rachel.tap("Cover needed: cook")
    wider = rachel.last
    assert wider.labels() == ["Ask everyone who can (2)", "« Back to the session", CANCEL]
    await rachel.send("/cancel")
    assert rachel.last.text == "Cancelled: asking for cover. Nothing was changed."
    await rachel.tap("Ask everyone who can (2)", message=wider)
    assert wider.text == texts.form_closed("site_cover")
    await bot.settle()
    assert not any("Can you help?" in m.text for m in zoe.bot_messages)

    await rachel.send("/coverage")
    await rachel.tap("Riverside")
    await rachel.tap("Wed 29 Jul 11:30 · Riverside")
    await rachel.tap("Cover needed: cook")
    await rachel.tap(CANCEL)
    assert rachel.last.text == "Cancelled: asking for cover. Nothing was changed."
    await rachel.send("/coverage")
    await rachel.tap("Riverside")
    await rachel.tap("Wed 29 Jul 11:30 · Riverside")
    await rachel.tap("Cover needed: cook")
    await rachel.tap("Ask everyone who can (2)")
    assert "I've asked 2 volunteers" in rachel.last.text
    assert await open_drafts(bot, RACHEL) == []
