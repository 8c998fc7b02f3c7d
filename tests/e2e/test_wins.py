"""Wins, as people share and decide them in Telegram: Priya shares a photo of the curry, Rachel
approves it and the celebrations group sees it with Priya's name; anonymous wins, edited and
rejected ones, a photo left out, two coordinators at once, double taps, forged buttons, stray or
late messages never taken for a note or new words, and overlong words."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from bot.config import Config
from bot.harness import Rehearsal
from bot.sandbox import SimGroup, SimMessage
from handlers import menu
from storage import audit, locations, people, wins
from storage.celebrations import CelebrationPolicy
from storage.models import NAME_MAX, WIN_TEXT_MAX, WinStatus
from tests.conftest import RACHEL
from tests.e2e.test_joining import register
from tests.support import Clock, promote_to_coordinator

PRIYA, SAM, BEN, BART = 3201, 3202, 3203, 3204
GROUP_ID = -100_700_800
CURRY = "First time all 12 kids tried the vegetable curry!"
SHARE, ANONYMOUSLY = "🙋 Share with my name", "🕶 Share anonymously"
THANKS = "Thank you! A coordinator will look at it soon."
WITHOUT_PHOTO = "✅ Approve without the photo"
CHECK_PHOTO = "📷 Check that no child can be recognised in the photo."
CONFIRM, CHANGE, KEEP = "Reject and send the note", "Change the note", "Keep the win"


@pytest.fixture
def config(config: Config) -> Config:
    return dataclasses.replace(config, celebrations=CelebrationPolicy(chats=(GROUP_ID,)))


async def _coordinator(bot: Rehearsal, clock: Clock, telegram_id: int, name: str) -> int:
    """Someone Rachel invited as a coordinator; returns their person id."""
    await register(bot, telegram_id, name)
    return await promote_to_coordinator(bot.services.db, clock(), telegram_id, by=RACHEL)


async def _programme(bot: Rehearsal, clock: Clock) -> SimGroup:
    """Rachel; Priya, site lead at St Mark's; Sam, a volunteer; the celebrations group."""
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    priya = await _coordinator(bot, clock, PRIYA, "Priya")
    st_marks = await locations.create(
        bot.services.db, actor_telegram_id=RACHEL, name="St Mark's", now=clock()
    )
    await locations.set_scope(
        bot.services.db,
        actor_telegram_id=RACHEL,
        person_id=priya,
        location_ids=frozenset({st_marks.location_id}),
        now=clock(),
    )
    return bot.group(GROUP_ID, "Celebrations")


async def _share(bot: Rehearsal, telegram_id: int, words: str, *, how: str = SHARE) -> None:
    author = bot.user(telegram_id, "")
    await author.send("/win")
    await author.send(words)
    await author.tap(how)
    assert author.last.text == THANKS


async def test_priya_shares_a_photo_rachel_approves_it_and_the_group_celebrates(
    bot: Rehearsal, clock: Clock
) -> None:
    group = await _programme(bot, clock)
    priya, rachel = bot.user(PRIYA, "Priya"), bot.user(RACHEL, "Rachel")

    await priya.send("/win")
    assert "Share a win" in priya.last.text
    assert "Please no children's names or faces." in priya.last.text
    assert "then it is celebrated with the programme" in priya.last.text
    await priya.send_photo(caption=CURRY)
    preview = priya.last
    assert preview.photo is not None
    assert CURRY in preview.text
    assert preview.labels() == [SHARE, ANONYMOUSLY, "✖ Cancel"]
    await priya.tap(SHARE)
    assert priya.last is preview  # the preview's caption now says thank you
    assert preview.text == THANKS
    assert preview.buttons == []

    # Rachel, a coordinator of the whole programme, gets the card; Priya, a site lead, not.
    card = rachel.last
    assert card.photo is not None
    assert "A win to approve" in card.text
    assert CURRY in card.text
    assert "Shared by Priya, with their name shown." in card.text
    assert CHECK_PHOTO in card.text
    assert card.labels() == ["✅ Approve", "✏️ Edit text", WITHOUT_PHOTO, "Reject"]
    assert not any("A win to approve" in m.text for m in priya.bot_messages)
    assert group.bot_messages == []

    await rachel.tap("✅ Approve")
    assert rachel.last is card
    assert card.text.startswith(
        "✅ Approved: it is on its way to the celebrations group, and Priya will be thanked."
    )
    assert card.buttons == []

    announced = group.last
    assert announced.photo is not None
    assert announced.text == f"🎉 A win to celebrate\n\n{CURRY}\n\n— Priya"
    assert priya.last.text == (
        f"🎉 Your win “{CURRY}” is now in the celebrations group. Thank you!"
    )
    db = bot.services.db
    assert len(await audit.recent(db, action="win.submitted")) == 1
    assert len(await audit.recent(db, action="win.approved")) == 1
    digest = await wins.approved_between(
        db, start=clock() - timedelta(days=7), end=clock() + timedelta(seconds=1)
    )
    assert [(w.text, w.credit, w.has_photo) for w in digest] == [(CURRY, "Priya", True)]
    assert await wins.pending_count(db) == 0


async def test_an_anonymous_win_appears_without_a_name(bot: Rehearsal, clock: Clock) -> None:
    group = await _programme(bot, clock)
    sam, rachel = bot.user(SAM, "Sam"), bot.user(RACHEL, "Rachel")
    await sam.send("/win")
    await sam.send_photo(caption="")  # the photo first, the words next
    assert "Now send a few words" in sam.last.text
    await sam.send("A shy boy & his sister asked for seconds <3")
    assert sam.last.photo is not None
    await sam.tap(ANONYMOUSLY)
    assert "who asked to stay anonymous" in rachel.last.text
    await rachel.tap("✅ Approve")
    assert "on its way to the celebrations group anonymously" in rachel.last.text
    assert group.last.photo is not None
    assert group.last.text == (
        "🎉 A win to celebrate\n\nA shy boy & his sister asked for seconds <3\n\n"
        "— shared anonymously"
    )
    assert "Sam" not in group.last.text
    assert "is now in the celebrations group" in sam.last.text


async def test_a_rejected_win_reaches_its_author_kindly_with_the_note(
    bot: Rehearsal, clock: Clock
) -> None:
    group = await _programme(bot, clock)
    priya, rachel = bot.user(PRIYA, "Priya"), bot.user(RACHEL, "Rachel")
    await _share(bot, PRIYA, "Here is Tom, aged 6, with his plate")
    card = rachel.last
    await rachel.tap("Reject")
    assert "Write a short note to Priya" in rachel.last.text
    assert "nothing is rejected until you confirm" in rachel.last.text
    await rachel.send("Lovely! We can't name children in the group, though. Try again without?")
    assert rachel.last.text.startswith("Reject win #1 (“Here is Tom, aged 6, with his plate”)")
    assert rachel.last.labels() == [CONFIRM, CHANGE, KEEP]
    await rachel.tap(CONFIRM)
    assert rachel.last.text == (
        "Rejected: it will not be posted. Priya has been told kindly, with your note."
    )
    # The card she tapped Reject on shows the decision, and has no buttons left.
    assert "not announced" in card.text
    assert "Rejected by Rachel. Note: Lovely!" in card.text
    assert card.buttons == []
    told = priya.last.text
    assert "decided not to share it this time" in told
    assert "Their note: Lovely! We can't name children in the group, though." in told

    await priya.send("/win")
    await priya.send_photo(caption="Second try")
    await priya.tap(SHARE)
    card = rachel.last
    await rachel.tap("Reject")
    await rachel.tap("Reject without a note")
    assert card.photo is not None
    assert card.text.endswith("Rejected by Rachel.")
    assert card.buttons == []
    assert rachel.last.text.startswith("Rejected: it will not be posted.")
    assert "Second try" in priya.last.text
    assert "Their note" not in priya.last.text
    assert group.bot_messages == []
    assert len(await audit.recent(bot.services.db, action="win.rejected")) == 2


async def test_an_edit_changes_the_announced_words_and_makes_old_cards_stale(
    bot: Rehearsal, clock: Clock
) -> None:
    group = await _programme(bot, clock)
    rachel = bot.user(RACHEL, "Rachel")
    await _share(bot, PRIYA, "we fed 40 kids tday!!")
    old_card = rachel.last
    await rachel.tap("✏️ Edit text")
    assert "we fed 40 kids tday!!" in rachel.last.text
    await rachel.send("x" * (WIN_TEXT_MAX + 1))
    assert rachel.last.text.startswith(f"That is {WIN_TEXT_MAX + 1} characters")
    await rachel.send("We fed 40 children today!")
    new_card = rachel.last
    assert new_card.text.startswith("✏️ You changed the words: below is how they will be")
    assert "We fed 40 children today!" in new_card.text
    assert "✏️ The words were edited by a coordinator." in new_card.text
    assert new_card.labels() == ["✅ Approve", "✏️ Edit text", "Reject"]
    assert len(await audit.recent(bot.services.db, action="win.edited")) == 1

    # The card from before the edit shows the words now, rather than approving the old ones.
    await rachel.tap("✅ Approve", message=old_card)
    assert old_card.text.startswith("This win was changed since; here it is now.")
    assert "We fed 40 children today!" in old_card.text
    assert group.bot_messages == []
    await rachel.tap("✅ Approve", message=old_card)
    assert group.last.text == "🎉 A win to celebrate\n\nWe fed 40 children today!\n\n— Priya"
    # Priya is told that her words were edited, and sees them as they were posted.
    assert bot.user(PRIYA, "Priya").last.text == (
        "🎉 Your win is now in the celebrations group. A coordinator lightly edited the words; "
        "this is how they were posted:\n\nWe fed 40 children today!\n\nThank you!"
    )


async def test_of_two_coordinators_only_the_first_decision_counts(
    bot: Rehearsal, clock: Clock
) -> None:
    group = await _programme(bot, clock)
    await _coordinator(bot, clock, BEN, "Ben")
    priya, rachel, ben = bot.user(PRIYA, "Priya"), bot.user(RACHEL, "Rachel"), bot.user(BEN, "Ben")
    await _share(bot, PRIYA, CURRY)
    ben_card = ben.last
    assert "A win to approve" in ben_card.text
    await rachel.tap("✅ Approve")
    await ben.tap("Reject", message=ben_card)
    assert ben_card.text.startswith("This win was already approved by Rachel")
    assert ben_card.buttons == []
    await ben.tap_data("va:1:0")  # the approve button of his card, again
    assert ben.last.text.startswith("This win was already approved by Rachel")
    assert len(group.bot_messages) == 1
    assert len([m for m in priya.bot_messages if "Thank you!" in m.text]) == 2  # shared, thanks
    assert not any("decided not to post" in m.text for m in priya.bot_messages)


async def test_a_double_tap_or_a_repeated_update_shares_once(bot: Rehearsal, clock: Clock) -> None:
    await _programme(bot, clock)
    priya, rachel = bot.user(PRIYA, "Priya"), bot.user(RACHEL, "Rachel")
    await priya.send("/win")
    await priya.send(CURRY)
    preview = priya.last
    share_row, _anonymously_row, cancel_row = preview.buttons
    data, cancel = share_row[0].callback_data or "", cancel_row[0].callback_data or ""
    await priya.tap(SHARE, message=preview)
    await priya.tap_data(data, message_id=preview.message_id)
    await priya.tap_data(data, message_id=preview.message_id)
    assert preview.text == THANKS
    assert await wins.pending_count(bot.services.db) == 1
    assert len([m for m in rachel.bot_messages if "A win to approve" in m.text]) == 1
    assert len(await audit.recent(bot.services.db, action="win.submitted")) == 1
    # Cancelling after sharing takes nothing back.
    await priya.tap_data(cancel, message_id=preview.message_id)
    assert preview.text == THANKS
    assert await wins.pending_count(bot.services.db) == 1


async def test_a_cancelled_or_replaced_preview_shares_nothing(bot: Rehearsal, clock: Clock) -> None:
    await _programme(bot, clock)
    priya = bot.user(PRIYA, "Priya")
    await priya.send("/win")
    await priya.send("first words")
    first = priya.last
    await priya.send("/win")
    await priya.send("second words")
    await priya.tap(SHARE, message=first)
    assert first.text.startswith("This win was not shared from here")
    await priya.tap("✖ Cancel")
    assert priya.last.text.startswith("Cancelled: nothing was shared.")
    assert await wins.pending_count(bot.services.db) == 0


async def test_strangers_to_moderation_are_refused_and_nothing_changes(
    bot: Rehearsal, clock: Clock
) -> None:
    group = await _programme(bot, clock)
    sam, priya = bot.user(SAM, "Sam"), bot.user(PRIYA, "Priya")
    await _share(bot, PRIYA, CURRY)
    (pending,), _ = await wins.pending(bot.services.db, telegram_id=RACHEL, offset=0, limit=10)
    await sam.tap_data(f"va:{pending.win_id}:0")
    assert sam.last.text.startswith("Sorry, that is only for coordinators.")
    await sam.tap_data(f"vn:{pending.win_id}:0")
    await sam.send("/wins")
    assert sam.last.text.startswith("Sorry, that is only for coordinators.")
    # A site lead is a coordinator, but wins are decided for the whole programme.
    await priya.tap_data(f"va:{pending.win_id}:0")
    assert "outside the locations you lead" in priya.last.text
    await sam.tap_data("va:99999:0")  # forged and unknown
    assert await wins.pending_count(bot.services.db) == 1
    assert group.bot_messages == []
    assert len(await audit.recent(bot.services.db, action="access.refused")) == 5


async def test_overlong_words_are_refused_kindly_and_the_longest_win_fits_every_caption(
    bot: Rehearsal, clock: Clock
) -> None:
    group = await _programme(bot, clock)
    # The longest name we keep, and the longest win, with a photo.
    long_name = "N" * NAME_MAX
    await register(bot, BART, long_name)
    sam, rachel = bot.user(BART, long_name), bot.user(RACHEL, "Rachel")
    await sam.send("/win")
    await sam.send("x" * (WIN_TEXT_MAX + 5))
    assert sam.last.text.startswith(
        f"That is {WIN_TEXT_MAX + 5} characters, and a win can be up to {WIN_TEXT_MAX}."
    )
    longest = ("Fish & chips <3 " * 60)[:WIN_TEXT_MAX]
    await sam.send_photo(caption=longest + "!")
    assert "I've kept your photo" in sam.last.text
    await sam.send(longest)
    assert sam.last.photo is not None
    await sam.tap(SHARE)
    card = rachel.last
    assert card.photo is not None
    assert len(card.text) <= 1024
    await rachel.tap("✅ Approve")
    # With the outcome on top, the card's copy of the words is shortened to fit the caption.
    assert card.text.startswith("✅ Approved: it is on its way to the celebrations group")
    assert "…\n\nShared by" in card.text
    assert len(card.text) <= 1024
    assert group.last.text.startswith("🎉 A win to celebrate\n\nFish & chips <3")
    assert group.last.text.endswith("— " + long_name)
    assert longest.strip() in group.last.text


async def test_wins_lists_the_pending_ones_to_open_and_decide(bot: Rehearsal, clock: Clock) -> None:
    group = await _programme(bot, clock)
    rachel, priya = bot.user(RACHEL, "Rachel"), bot.user(PRIYA, "Priya")
    await priya.send("/win")
    await priya.send_photo(caption=CURRY)
    await priya.tap(SHARE)
    for number in range(9):
        await _share(bot, SAM, f"Win number {number}", how=ANONYMOUSLY)

    await rachel.send("/wins")
    listing = rachel.last
    assert listing.text.startswith("Wins waiting for approval (1-8 of 10).")
    assert listing.labels()[0] == "#1 · Priya · 📷 First time all 12 kids tried the…"
    assert listing.labels()[-1] == "Next ▶"
    await rachel.tap("Next ▶")
    assert listing.text.startswith("Wins waiting for approval (9-10 of 10).")
    await rachel.tap("◀ Previous")
    await rachel.tap("#1 · Priya · 📷 First time all 12 kids tried the…")
    card = rachel.last
    assert card.photo is not None
    await rachel.tap("✅ Approve", message=card)
    assert group.last.text.endswith("— Priya")
    await rachel.send("/wins")
    assert rachel.last.text.startswith("Wins waiting for approval (1-8 of 9).")
    assert await wins.pending_count(bot.services.db) == 9


async def test_without_a_celebration_chat_the_coordinator_is_told_and_the_author_thanked(
    config: Config, clock: Clock
) -> None:
    quiet = dataclasses.replace(config, celebrations=CelebrationPolicy())
    async with Rehearsal(quiet, clock=clock) as bot:
        await _programme(bot, clock)
        rachel, priya = bot.user(RACHEL, "Rachel"), bot.user(PRIYA, "Priya")
        await _share(bot, PRIYA, CURRY)
        await rachel.tap("✅ Approve")
        assert "no celebration chat is configured" in rachel.last.text
        assert "celebrations.chats" in rachel.last.text
        assert priya.last.text.endswith("has been approved by a coordinator. Thank you!")
        assert "celebrations group" not in priya.last.text
        view = await wins.view(bot.services.db, 1)
        assert view is not None
        assert view.status is WinStatus.APPROVED


async def test_a_stray_message_after_reject_is_never_taken_for_the_note(
    bot: Rehearsal, clock: Clock
) -> None:
    """The reviewer's case: Rachel taps Reject, looks at /wins, and types to someone else."""
    group = await _programme(bot, clock)
    priya, rachel = bot.user(PRIYA, "Priya"), bot.user(RACHEL, "Rachel")
    await _share(bot, PRIYA, CURRY)
    card = rachel.last
    await rachel.tap("Reject")
    await rachel.send("/wins")
    await rachel.send("hello, is the report ready?")
    asked = rachel.last
    assert asked.text.startswith("Reject win #1")
    assert asked.text.endswith("hello, is the report ready?")
    assert await wins.pending_count(bot.services.db) == 1
    assert not any("decided not to" in m.text for m in priya.bot_messages)
    # Another message is not taken for the note either: the form is no longer waiting.
    await rachel.send("and the rota?")
    assert "I work with commands and buttons" in rachel.last.text
    kept_confirm = _data(asked, CONFIRM)
    await rachel.tap(KEEP, message=asked)
    assert asked.text.startswith("Kept: nothing was sent, and win #1 is still waiting.")
    assert asked.buttons == []
    await rachel.tap_data(kept_confirm, message_id=asked.message_id)
    assert asked.text.startswith("This note is no longer open")
    assert await wins.pending_count(bot.services.db) == 1

    # Now a note she means, changed once, then confirmed.
    await rachel.tap("Reject", message=card)
    await rachel.send("Lovely, but no names pls")
    first = rachel.last
    old_confirm = _data(first, CONFIRM)
    await rachel.tap(CHANGE, message=first)
    assert first.text.startswith("Write a short note to Priya")
    assert first.labels() == ["Reject without a note", "✖ Cancel"]
    await rachel.send("Lovely, but we can't post this one.")
    confirm = rachel.last
    assert confirm.text.endswith("Lovely, but we can't post this one.")
    confirm_data = _data(confirm, CONFIRM)
    await rachel.tap_data(old_confirm, message_id=first.message_id)  # the first note's
    assert await wins.pending_count(bot.services.db) == 1
    await rachel.tap(CONFIRM, message=confirm)
    assert confirm.text == (
        "Rejected: it will not be posted. Priya has been told kindly, with your note."
    )
    assert "Rejected by Rachel. Note: Lovely, but we can't post this one." in card.text
    assert card.buttons == []
    assert "Their note: Lovely, but we can't post this one." in priya.last.text
    # A repeated tap on the confirmation rejects nothing twice and gives the same answer.
    await rachel.tap_data(confirm_data, message_id=confirm.message_id)
    assert confirm.text.startswith("Rejected: it will not be posted.")
    assert len([m for m in priya.bot_messages if "decided not to" in m.text]) == 1
    assert len(await audit.recent(bot.services.db, action="win.rejected")) == 1
    assert group.bot_messages == []


def _data(message: SimMessage, label: str) -> str:
    """A button's callback data, to tap it again once the button is gone."""
    (data,) = [b.callback_data for row in message.buttons for b in row if b.label == label]
    assert data is not None
    return data


async def test_a_form_left_open_for_more_than_15_minutes_takes_no_answer(
    bot: Rehearsal, clock: Clock
) -> None:
    group = await _programme(bot, clock)
    priya, rachel = bot.user(PRIYA, "Priya"), bot.user(RACHEL, "Rachel")
    await _share(bot, PRIYA, CURRY)
    card = rachel.last
    await rachel.tap("Reject")
    clock.advance(minutes=16)
    await rachel.send("hello, is the report ready?")
    assert rachel.last.text.startswith("⌛ The form for a note about win #1 closed after 15")
    assert "send /wins, open it and tap “Reject” again" in rachel.last.text
    await rachel.send("anyone?")  # the form is gone: a message is just a message
    assert "I work with commands and buttons" in rachel.last.text

    await rachel.tap("✏️ Edit text", message=card)
    clock.advance(minutes=16)
    await rachel.send("Hi Ben, lunch at 12?")
    assert rachel.last.text.startswith("⌛ The form for new words for win #1 closed after 15")
    view = await wins.view(bot.services.db, 1)
    assert view is not None
    assert (view.status, view.text, view.version) == (WinStatus.PENDING, CURRY, 0)
    assert await audit.recent(bot.services.db, action="win.edited") == []
    assert not any("decided not to" in m.text for m in priya.bot_messages)
    # Within the time, the answer is used.
    await rachel.tap("✏️ Edit text", message=card)
    clock.advance(minutes=14)
    await rachel.send("All 12 children tried the vegetable curry!")
    assert "All 12 children tried the vegetable curry!" in rachel.last.text
    assert group.bot_messages == []


async def test_a_photo_win_can_be_approved_without_its_photo(bot: Rehearsal, clock: Clock) -> None:
    group = await _programme(bot, clock)
    sam, rachel = bot.user(SAM, "Sam"), bot.user(RACHEL, "Rachel")
    await sam.send("/win")
    await sam.send_photo(caption=CURRY)
    await sam.tap(SHARE)
    card = rachel.last
    assert card.photo is not None
    await rachel.tap(WITHOUT_PHOTO, message=card)
    assert rachel.last is card  # the card itself says what was done
    assert card.text.startswith(
        "✅ Approved without the photo: its words are on their way to the celebrations group, "
        "and Sam will be thanked."
    )
    assert CHECK_PHOTO not in card.text
    assert card.buttons == []
    announced = group.last
    assert announced.photo is None
    assert announced.text == f"🎉 A win to celebrate\n\n{CURRY}\n\n— Sam"
    assert sam.last.text == (
        f"🎉 Your win “{CURRY}” is now in the celebrations group. "
        "It was shared without the photo. Thank you!"
    )
    (entry,) = await audit.recent(bot.services.db, action="win.approved")
    assert entry.details == {"chats": 1, "without_photo": True}
    view = await wins.view(bot.services.db, 1)
    assert view is not None and view.photo_file_id is None
    # Tapped again, with or without the photo: nothing is announced twice.
    await rachel.tap_data("vw:1:0", message_id=card.message_id)
    await rachel.tap_data("va:1:0", message_id=card.message_id)
    assert len(group.bot_messages) == 1


async def test_site_leads_do_not_see_wins_in_help_and_the_menu(
    bot: Rehearsal, clock: Clock
) -> None:
    await _programme(bot, clock)
    priya, rachel = bot.user(PRIYA, "Priya"), bot.user(RACHEL, "Rachel")
    await priya.send("/help")
    assert "/today" in priya.last.text
    for programme_only in ("/wins", "/invite", "/schools", "/referrals"):
        assert programme_only not in priya.last.text
    await rachel.send("/help")
    for programme_only in ("/wins", "/invite", "/schools", "/referrals"):
        assert programme_only in rachel.last.text
    site_lead = await people.profile(bot.services.db, PRIYA)
    programme = await people.profile(bot.services.db, RACHEL)
    assert site_lead is not None and site_lead.scoped
    assert programme is not None and not programme.scoped
    assert "wins" not in dict(menu.commands_for(site_lead))
    assert "wins" in dict(menu.commands_for(programme))
