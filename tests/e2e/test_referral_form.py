"""A school contact refers a family and follows the referral, as Mr Okafor does it in Telegram:
/refer, mostly buttons, a review with edits, "received", then /myreferrals."""

from __future__ import annotations

import dataclasses
from datetime import date

from sqlalchemy import text

from bot.config import Config, ReferralsConfig
from bot.harness import Rehearsal
from bot.sandbox import SimUser
from storage import audit, locations, referrals
from storage.models import ReferralStatus
from tests.conftest import RACHEL
from tests.e2e.test_joining import OKAFOR, SAM, invite_link, register
from tests.support import Clock

BROOK_LANE = 2002
ALLERGY = "nut allergy"
AGREED = "✅ The parent or carer agreed"
SEND = "📨 Send referral"
RECEIVED = "📨 Received: HS-014. You'll hear here when it is decided; see /myreferrals"


async def school_contact(bot: Rehearsal, user_id: int, name: str, school: str) -> SimUser:
    """A contact of a new partner school, joined by Rachel's invite link."""
    token = await invite_link(bot, "A school contact", "➕ A new school", school=school)
    contact = bot.user(user_id, name)
    await contact.send(f"/start {token}")
    await contact.tap("✅ I agree")
    return contact


async def hillside(bot: Rehearsal, clock: Clock) -> SimUser:
    """Rachel, St Mark's and Riverside, and Mr Okafor at Hillside Primary."""
    await register(bot, RACHEL, "Rachel")
    for name in ("St Mark's", "Riverside"):
        await locations.create(bot.services.db, actor_telegram_id=RACHEL, name=name, now=clock())
    return await school_contact(bot, OKAFOR, "Daniel", "Hillside Primary")


async def up_to_consent(okafor: SimUser, reference: str = "HS-014") -> None:
    """HS-014: two children in Year 2 and Year 5, a nut allergy, St Mark's, Tue & Thu."""
    await okafor.send("/refer")
    await okafor.send(reference)
    await okafor.tap("2")
    await okafor.tap("Year 2")
    await okafor.tap("Year 5")
    await okafor.send(ALLERGY)
    await okafor.tap("St Mark's")
    await okafor.tap("Continue ▶")
    await okafor.send("28/07/2026 - 27/08/2026")
    for day in ("✓ Mon", "✓ Wed", "✓ Fri"):
        await okafor.tap(day)
    await okafor.tap("Continue ▶")


async def draft_rows(bot: Rehearsal) -> list[str]:
    """The drafts table as stored: the raw text of each form's answers (a list's remembered
    searches are no form's, and hold no answers)."""
    async with bot.services.db.read() as session:
        rows = await session.execute(text("SELECT flow, data FROM drafts WHERE flow != 'list'"))
        return [f"{flow} {data}" for flow, data in rows.tuples()]


async def test_mr_okafor_refers_a_family_edits_the_review_sends_and_follows_it(
    bot: Rehearsal, clock: Clock
) -> None:
    okafor = await hillside(bot, clock)
    assert ("refer", "Refer a family for a lunch club place") in okafor.commands

    await okafor.send("/refer")
    assert "never a child's name" in okafor.last.text
    assert "HS-014" in okafor.last.text
    await okafor.send("<Amy>")
    assert "letters and numbers" in okafor.last.text
    await okafor.send("HS-41")  # a slip, put right from the review

    assert "HS-41: how many children" in okafor.last.text
    assert okafor.last.labels() == ["1", "2", "3", "4", "5", "6", "More", "✖ Cancel"]
    await okafor.tap("2")
    assert "Child 1 of 2: school year or age?" in okafor.last.text
    assert okafor.last.labels()[:3] == ["Nursery", "Reception", "Year 1"]
    assert okafor.last.labels()[-2:] == ["Year 7+", "✖ Cancel"]
    await okafor.tap("Year 2")
    assert "Child 1: Year 2" in okafor.last.text
    assert "Child 2 of 2" in okafor.last.text
    await okafor.tap("Year 5")

    assert "Any dietary needs or allergies?" in okafor.last.text
    assert okafor.last.labels() == ["None", "✖ Cancel"]
    await okafor.send(ALLERGY)
    # Sealed before it is saved: the half-filled form holds no allergy in clear.
    rows = await draft_rows(bot)
    assert len(rows) == 1
    assert rows[0].startswith("referral ")
    assert ALLERGY not in rows[0]

    assert "Which lunch clubs would suit the family?" in okafor.last.text
    assert okafor.last.labels() == ["Riverside", "St Mark's", "Continue ▶", "✖ Cancel"]
    await okafor.tap("St Mark's")
    assert "Chosen: St Mark's" in okafor.last.text
    assert okafor.last.labels() == ["Riverside", "✓ St Mark's", "Continue ▶", "✖ Cancel"]
    await okafor.tap("Continue ▶")

    assert "Which holiday dates?" in okafor.last.text
    await okafor.send("28/07/2025 - 27/08/2025")
    assert "from today to a year ahead" in okafor.last.text
    await okafor.send("28/07/2026 - 27/08/2026")
    assert "From Tue 28 Jul to Thu 27 Aug 2026" in okafor.last.text
    days = ["✓ Mon", "✓ Tue", "✓ Wed", "✓ Thu", "✓ Fri", "Sat", "Sun", "Continue ▶", "✖ Cancel"]
    assert okafor.last.labels() == days
    for day in ("✓ Mon", "✓ Wed", "✓ Fri"):
        await okafor.tap(day)
    assert okafor.last.labels()[:5] == ["Mon", "✓ Tue", "Wed", "✓ Thu", "Fri"]
    await okafor.tap("Continue ▶")

    assert "Has the parent or carer agreed" in okafor.last.text
    await okafor.tap(AGREED)
    assert "Anything else the lunch club should know?" in okafor.last.text
    await okafor.tap("Skip")

    review = okafor.last
    assert "Please check the referral" in review.text
    for line in (
        "Reference: HS-41",
        "Children: 2 (Year 2, Year 5)",
        f"Dietary needs and allergies: {ALLERGY}",
        "Preferred locations: St Mark's",
        "Dates: Tue 28 Jul – Thu 27 Aug 2026, Tue & Thu",
        "Parent or carer agreed: yes",
        "Note: none",
    ):
        assert line in review.text
    assert review.labels() == [
        "✏️ Reference",
        "✏️ Children",
        "✏️ Needs",
        "✏️ Locations",
        "✏️ Dates",
        "✏️ Note",
        SEND,
        "✖ Cancel",
    ]

    await okafor.tap("✏️ Reference")
    assert "What is your school's reference for the family?" in okafor.last.text
    await okafor.send("HS-014")
    assert "Reference: HS-014" in okafor.last.text  # straight back to the review
    assert "Children: 2 (Year 2, Year 5)" in okafor.last.text
    assert ALLERGY not in "".join(await draft_rows(bot))

    await okafor.tap(SEND)
    assert okafor.last.text == RECEIVED
    assert ALLERGY not in "".join(await draft_rows(bot))

    [sent] = await referrals.for_school(bot.services.db, telegram_id=OKAFOR)
    assert (sent.reference, sent.children, sent.status) == ("HS-014", 2, ReferralStatus.SUBMITTED)
    assert (sent.first_day, sent.last_day, sent.weekdays) == (
        date(2026, 7, 28),
        date(2026, 8, 27),
        (1, 3),
    )

    await okafor.send("/myreferrals")
    assert "• HS-014, 2 children: received" in okafor.last.text
    assert okafor.last.labels() == ["HS-014: received"]
    await okafor.tap("HS-014: received")
    card = okafor.last.text
    assert "Referral HS-014 from Hillside Primary" in card
    assert "Status: received" in card
    assert f"Dietary needs and allergies: {ALLERGY}" in card
    assert "Children: 2 (Year 2, Year 5)" in card
    assert "Preferred locations: St Mark's" in card
    assert "Dates asked for: Tue 28 Jul – Thu 27 Aug 2026, Tue & Thu" in card
    assert len(await audit.recent(bot.services.db, action="referral.viewed")) == 1
    await okafor.tap("« My referrals")
    assert "Your school's referrals" in okafor.last.text


async def test_the_form_continues_after_a_restart(bot: Rehearsal, clock: Clock) -> None:
    okafor = await hillside(bot, clock)
    await okafor.send("/refer")
    await okafor.send("HS-014")
    await okafor.tap("1")
    await okafor.tap("Reception")
    await okafor.send(ALLERGY)
    places = okafor.last
    assert "Which lunch clubs" in places.text

    await bot.restart()

    await okafor.send("/refer")
    assert "here is your referral where you left it" in okafor.last.text
    assert "Which lunch clubs" in okafor.last.text
    # The buttons from before the restart still work too.
    await okafor.tap("Riverside", message=places)
    await okafor.tap("Continue ▶")
    await okafor.send("28/07/2026")
    await okafor.tap("Continue ▶")
    await okafor.tap(AGREED)
    await okafor.send("Mum works Tuesdays")
    assert "Children: 1 (Reception)" in okafor.last.text
    assert f"Dietary needs and allergies: {ALLERGY}" in okafor.last.text
    assert "Preferred locations: Riverside" in okafor.last.text
    assert "Dates: Tue 28 Jul 2026, Tue" in okafor.last.text
    assert "Note: Mum works Tuesdays" in okafor.last.text
    assert "Mum works" not in "".join(await draft_rows(bot))
    await okafor.tap(SEND)
    assert okafor.last.text == RECEIVED


async def test_a_volunteer_is_kindly_refused_the_form(bot: Rehearsal) -> None:
    await register(bot, SAM, "Sam")
    sam = bot.user(SAM, "Sam")
    await sam.send("/refer")
    assert "Sorry, that is only for school contacts." in sam.last.text
    await sam.send("/myreferrals")
    assert "Sorry, that is only for school contacts." in sam.last.text
    await sam.tap_data("fs")
    assert "Sorry, that is only for school contacts." in sam.last.text
    assert await draft_rows(bot) == []
    assert len(await audit.recent(bot.services.db, action="access.refused")) == 3


async def test_a_referral_cannot_be_sent_without_the_parents_agreement(
    bot: Rehearsal, clock: Clock
) -> None:
    okafor = await hillside(bot, clock)
    await up_to_consent(okafor)
    consent = okafor.last
    assert "Has the parent or carer agreed" in consent.text
    assert consent.labels() == [AGREED, "Not yet", "✖ Cancel"]  # no way past but agreeing

    await okafor.send("yes")
    assert "Please use the buttons below" in okafor.last.text
    await okafor.tap_data("fs")  # a forged Send
    assert "can't be sent until the parent or carer has agreed" in okafor.last.text
    await okafor.tap("Not yet")
    assert "I have kept your answers: when they agree, send /refer" in okafor.last.text
    assert await referrals.for_school(bot.services.db, telegram_id=OKAFOR) == []

    # The next day, the parent agrees.
    await okafor.send("/refer")
    assert "Has the parent or carer agreed" in okafor.last.text
    await okafor.tap(AGREED)
    await okafor.tap("Skip")
    await okafor.tap(SEND)
    assert okafor.last.text == RECEIVED


async def test_a_double_tap_on_send_sends_one_referral(bot: Rehearsal, clock: Clock) -> None:
    okafor = await hillside(bot, clock)
    await up_to_consent(okafor)
    await okafor.tap(AGREED)
    await okafor.tap("Skip")
    review = okafor.last
    await okafor.tap(SEND, message=review)
    await okafor.tap_data("fs", message_id=review.message_id)
    assert okafor.last.text == RECEIVED
    assert len(await referrals.for_school(bot.services.db, telegram_id=OKAFOR)) == 1
    assert len(await audit.recent(bot.services.db, action="referral.submitted")) == 1

    # The next /refer is a new form.
    await okafor.send("/refer")
    assert "What is your school's reference for the family?" in okafor.last.text


async def test_another_schools_contact_cannot_open_hillsides_referral(
    bot: Rehearsal, clock: Clock
) -> None:
    okafor = await hillside(bot, clock)
    await up_to_consent(okafor)
    await okafor.tap(AGREED)
    await okafor.tap("Skip")
    await okafor.tap(SEND)
    [sent] = await referrals.for_school(bot.services.db, telegram_id=OKAFOR)

    brook = await school_contact(bot, BROOK_LANE, "Jo", "Brook Lane")
    await brook.send("/myreferrals")
    assert "Your school has no referrals yet" in brook.last.text
    await brook.tap_data(f"yo:{sent.referral_id}:0")  # forged: Hillside's referral

    assert "nothing was changed" in brook.last.text
    assert ALLERGY not in brook.last.text
    assert "HS-014" not in brook.last.text
    [refused] = await audit.recent(bot.services.db, action="access.refused")
    assert (refused.subject_type, refused.subject_id) == ("referral", sent.referral_id)
    assert await audit.recent(bot.services.db, action="referral.viewed") == []


async def test_without_an_encryption_key_referrals_are_off_and_nothing_is_stored(
    config: Config, clock: Clock
) -> None:
    keyless = dataclasses.replace(config, referrals=ReferralsConfig(keys=()))
    async with Rehearsal(keyless, clock=clock) as bot:
        okafor = await hillside(bot, clock)
        await okafor.send("/refer")
        assert "referrals are not switched on yet" in okafor.last.text
        assert "LUNCHBOT_ENCRYPTION_KEY" in okafor.last.text
        await okafor.send("HS-014")
        assert "I work with commands and buttons" in okafor.last.text
        assert await draft_rows(bot) == []


async def test_editing_the_children_asks_each_childs_year_again(
    bot: Rehearsal, clock: Clock
) -> None:
    okafor = await hillside(bot, clock)
    await up_to_consent(okafor)
    await okafor.tap(AGREED)
    await okafor.tap("Skip")

    await okafor.tap("✏️ Children")
    await okafor.tap("More")
    assert "Please send the number of children (up to 10)" in okafor.last.text
    await okafor.send("11")
    assert "Please send a number from 1 to 10" in okafor.last.text
    await okafor.send("3")
    for band in ("Nursery", "Year 2", "Year 5"):
        await okafor.tap(band)
    assert "Children: 3 (Nursery, Year 2, Year 5)" in okafor.last.text

    # The days chosen before stay chosen when the dates change.
    await okafor.tap("✏️ Dates")
    await okafor.send("03/08/2026 - 14/08/2026")
    assert okafor.last.labels()[:5] == ["Mon", "✓ Tue", "Wed", "✓ Thu", "Fri"]
    await okafor.tap("Continue ▶")
    assert "Dates: Mon 3 Aug – Fri 14 Aug 2026, Tue & Thu" in okafor.last.text
    assert f"Dietary needs and allergies: {ALLERGY}" in okafor.last.text


async def test_the_daily_limit_keeps_the_form_for_tomorrow(config: Config, clock: Clock) -> None:
    limited = dataclasses.replace(
        config, referrals=dataclasses.replace(config.referrals, daily_limit=1)
    )
    async with Rehearsal(limited, clock=clock) as bot:
        okafor = await hillside(bot, clock)
        for reference in ("HS-014", "HS-015"):
            await up_to_consent(okafor, reference)
            await okafor.tap(AGREED)
            await okafor.tap("Skip")
            await okafor.tap(SEND)
        assert "the most a day allows. Your form is kept" in okafor.last.text
        assert len(await referrals.for_school(bot.services.db, telegram_id=OKAFOR)) == 1

        review = okafor.bot_messages[-2]
        assert SEND in review.labels()

        clock.advance(days=1)
        await okafor.tap(SEND, message=review)
        assert "📨 Received: HS-015." in review.text
        assert len(await referrals.for_school(bot.services.db, telegram_id=OKAFOR)) == 2


async def test_a_long_list_of_referrals_comes_a_page_at_a_time(
    bot: Rehearsal, clock: Clock
) -> None:
    okafor = await hillside(bot, clock)
    cipher = bot.services.cipher
    assert cipher is not None
    for n in range(1, 10):
        form = referrals.ReferralForm(
            reference=f"HS-{n:03d}",
            children=1,
            age_bands=("Year 1",),
            needs=None,
            note=None,
            preferred_location_ids=(),
            first_day=date(2026, 7, 28),
            last_day=date(2026, 7, 28),
            weekdays=(1,),
            consent=True,
        )
        await referrals.submit(
            bot.services.db, cipher, telegram_id=OKAFOR, form=form, now=clock(), daily_limit=10
        )

    await okafor.send("/myreferrals")
    assert "(1-8, newest first)" in okafor.last.text
    assert okafor.last.labels()[0] == "HS-009: received"
    assert okafor.last.labels()[-1] == "Next ▶"
    await okafor.tap("Next ▶")
    assert "(9-9)" in okafor.last.text
    assert okafor.last.labels() == ["HS-001: received", "◀ Previous"]
    await okafor.tap("HS-001: received")
    assert "Referral HS-001 from Hillside Primary" in okafor.last.text
    await okafor.tap("« My referrals")
    assert "(9-9)" in okafor.last.text


async def test_a_reference_that_reads_like_a_childs_name_is_questioned_before_it_is_kept(
    bot: Rehearsal, clock: Clock
) -> None:
    okafor = await hillside(bot, clock)
    await okafor.send("/refer")
    await okafor.send("Jamie Smith")
    # Not taken: the contact is told why it matters and asked whether it is the school's code.
    question = okafor.last
    assert "Jamie Smith</b> has no numbers, so it reads like a person's name" in question.html
    assert "shown on buttons, notices and exported lists" in question.text
    assert question.labels() == ["✅ Yes, it is our code", "✏️ Type another", "✖ Cancel"]

    await okafor.tap("✏️ Type another")
    assert "What is your school's reference for the family?" in okafor.last.text
    await okafor.send("HS-014")  # a code with numbers goes straight on
    assert "HS-014: how many children" in okafor.last.text

    # A school whose codes really are letters confirms once and carries on.
    await okafor.send("/cancel")
    await okafor.send("/refer")
    await okafor.send("Blue Group")
    assert "reads like a person's name" in okafor.last.text
    await okafor.tap("✅ Yes, it is our code")
    assert "Blue Group: how many children" in okafor.last.text
