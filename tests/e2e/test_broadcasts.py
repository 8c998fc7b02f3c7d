"""Broadcasts, as a coordinator sends them through Telegram: the audience, the message, the
preview with the number of people, then one copy each through the outbox, and a single
progress message edited as it goes until it says what became of every copy.

People are registered (and given home locations) through storage; the broadcast itself is
driven through the bot."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

import pytest

from bot.app import delivery_of
from bot.config import Config, DeliveryConfig
from bot.harness import Clock, Rehearsal
from bot.sandbox import ApiCall, RateLimits, SimMessage, SimUser
from handlers import broadcast_texts, texts
from storage import audit, broadcasts, locations, people
from storage.models import BroadcastStatus
from tests.conftest import RACHEL
from tests.e2e.test_delivery import busiest_second
from tests.e2e.test_joining import register
from tests.support import promote_to_coordinator

PRIYA, SAM = 1002, 3001
FIRST_VOLUNTEER = 20_000
HEADING = "📣 Holiday Lunch Club"


async def volunteers(
    bot: Rehearsal, count: int, *, first: int = FIRST_VOLUNTEER, home: int | None = None
) -> list[int]:
    """`count` registered volunteers (with a home location, if given), each with a chat."""
    db, now = bot.services.db, bot.services.now()
    made = list(range(first, first + count))
    for telegram_id in made:
        await people.register(
            db,
            telegram_id=telegram_id,
            name=f"Volunteer {telegram_id}",
            now=now,
            coordinator_ids=frozenset({RACHEL}),
        )
        if home is not None:
            await locations.toggle_home(db, telegram_id=telegram_id, location_id=home)
        bot.user(telegram_id, f"Volunteer {telegram_id}")
    return made


async def compose(bot: Rehearsal, audience: str, words: str) -> tuple[SimMessage, SimMessage]:
    """Rachel writes a broadcast to `audience`: returns the preview and the confirmation card."""
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/broadcast")
    assert rachel.last.labels() == [
        "All volunteers",
        "One location's volunteers",
        "School contacts",
        "Everyone",
        "✖ Cancel",
    ]
    await rachel.tap(audience)
    assert "Send me the message: words, or a photo with a caption" in rachel.last.text
    await rachel.send(words)
    preview, card = rachel.bot_messages[-2:]
    return preview, card


def copies(user: SimUser) -> list[SimMessage]:
    return [m for m in user.bot_messages if m.text.startswith(HEADING)]


def edits_of(calls: list[ApiCall], chat_id: int, since: int = 0) -> list[ApiCall]:
    """The edits of messages in the chat, from the `since`th call the bot made on."""
    return [
        c for c in calls[since:] if c.method == "editMessageText" and c.ok and c.chat_id == chat_id
    ]


async def started_ids(bot: Rehearsal) -> list[int]:
    entries = await audit.recent(bot.services.db, action="broadcast.started")
    return [entry.subject_id for entry in entries if entry.subject_id is not None]


async def test_three_hundred_volunteers_some_blocked_one_progress_message_exact_figures(
    config: Config, clock: Clock
) -> None:
    # Telegram's overall flood limit, enforced; the bot sends at its configured rate.
    limits = RateLimits(overall_per_second=30)
    async with Rehearsal(config, clock=clock, limits=limits) as bot:
        await register(bot, RACHEL, "Rachel")
        everyone = await volunteers(bot, 300)
        blocked = everyone[::15]
        assert len(blocked) == 20
        for telegram_id in blocked:  # they blocked the bot; it does not know yet
            bot.sandbox.block(telegram_id)
        rachel = bot.user(RACHEL, "Rachel")

        preview, card = await compose(
            bot, "All volunteers", "Thank you all! Lunch & games at 12:00 <tomorrow>."
        )
        # The preview is the message exactly as the volunteers will see it (escaped, not lost).
        assert preview.text == f"{HEADING}\n\nThank you all! Lunch & games at 12:00 <tomorrow>."
        assert "This goes to 300 people (all volunteers, not you), each once." in card.text
        assert card.labels() == [
            "📣 Send to 300 people",
            "✏️ Change the message",
            "Change audience",
            "✖ Cancel",
        ]
        messages_before, calls_before = len(rachel.bot_messages), len(bot.sandbox.calls)

        await rachel.tap("📣 Send to 300 people")
        for _ in range(5):  # what the scheduled sweeps would do, until nothing is left
            await bot.deliver()

        # One progress message: the card itself, edited; its last form has the exact figures.
        assert len(rachel.bot_messages) == messages_before
        assert card.text.startswith(
            "✅ Broadcast finished: 300 people · 280 sent · 20 had blocked the bot · 0 failed · "
            "took "
        )
        assert card.text.endswith("To all volunteers.")
        assert card.buttons == []
        edits = edits_of(bot.sandbox.calls, RACHEL, calls_before)
        assert {c.params["message_id"] for c in edits} == {card.message_id}
        assert edits[-1].params["text"].startswith("✅ Broadcast finished")
        assert sum("Broadcast finished" in c.params["text"] for c in edits) == 1

        # Each volunteer who can be reached has exactly one copy; nobody had two.
        for telegram_id in everyone:
            got = copies(bot.user(telegram_id, ""))
            assert len(got) == (0 if telegram_id in blocked else 1), telegram_id
        sends = [c for c in bot.sandbox.calls[calls_before:] if c.method == "sendMessage" and c.ok]
        assert max(Counter(c.chat_id for c in sends).values()) == 1
        assert not [c for c in bot.sandbox.calls if c.error_code == 429]
        assert busiest_second(sends) <= 30

        (broadcast_id,) = await started_ids(bot)
        state = await broadcasts.progress(bot.services.db, broadcast_id)
        assert state is not None
        assert state.status is BroadcastStatus.DONE
        assert (state.total, state.sent, state.blocked, state.failed) == (300, 280, 20, 0)
        finished = await audit.recent(bot.services.db, action="broadcast.finished")
        assert [(e.details["sent"], e.details["blocked"]) for e in finished] == [(280, 20)]

        # The bot now knows who blocked it: the next broadcast does not count them.
        await rachel.send("/broadcast")
        await rachel.tap("All volunteers")
        await rachel.send("One more thing…")
        assert "This goes to 280 people (all volunteers, not you)" in rachel.last.text


async def test_a_restart_in_the_middle_still_sends_each_copy_once_and_finishes(
    config: Config, clock: Clock
) -> None:
    fast = dataclasses.replace(config, delivery=DeliveryConfig(overall_per_second=100))
    async with Rehearsal(fast, clock=clock) as bot:
        await register(bot, RACHEL, "Rachel")
        everyone = await volunteers(bot, 300)
        blocked = everyone[::20]
        for telegram_id in blocked:
            bot.sandbox.block(telegram_id)
        rachel = bot.user(RACHEL, "Rachel")
        _preview, card = await compose(bot, "Everyone", "Sessions start on Monday!")
        assert "This goes to 300 people (everyone registered, not you)" in card.text

        # The bot is stopped (SIGTERM) while the copies are going out.
        engine = delivery_of(bot.application)
        calls_before = len(bot.sandbox.calls)
        tap = asyncio.create_task(rachel.tap("📣 Send to 300 people"))
        for _ in range(1000):  # at most ten seconds
            if len([c for c in bot.sandbox.calls if c.method == "sendMessage" and c.ok]) >= 40:
                break
            await asyncio.sleep(0.01)
        engine.stop()
        await tap
        state = await broadcasts.progress(bot.services.db, (await started_ids(bot))[0])
        assert state is not None
        assert state.status is BroadcastStatus.SENDING
        assert 0 < state.done < 300

        # A new process carries on from the database a little later.
        await bot.restart()
        clock.advance(seconds=10)
        await bot.deliver()
        await bot.deliver()

        assert card.text.startswith(
            "✅ Broadcast finished: 300 people · 285 sent · 15 had blocked the bot · 0 failed"
        )
        edits = edits_of(bot.sandbox.calls, RACHEL, calls_before)
        assert {c.params["message_id"] for c in edits} == {card.message_id}
        # Before the end, the restarted bot showed how far it had got, and how long to go.
        on_the_way = [
            c.params["text"]
            for c in edits
            if c.params["text"].startswith("📣 Sending… ")
            and not c.params["text"].startswith("📣 Sending… 0 of")
        ]
        assert on_the_way
        assert all("left" in text for text in on_the_way)
        for telegram_id in everyone:
            assert len(copies(bot.user(telegram_id, ""))) == (0 if telegram_id in blocked else 1)


async def test_a_photo_to_one_locations_volunteers(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    db, now = bot.services.db, bot.services.now()
    st_marks = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=now)
    riverside = await locations.create(db, actor_telegram_id=RACHEL, name="Riverside", now=now)
    ours = await volunteers(bot, 3, home=st_marks.location_id)
    others = await volunteers(bot, 2, first=FIRST_VOLUNTEER + 100, home=riverside.location_id)
    rachel = bot.user(RACHEL, "Rachel")

    await rachel.send("/broadcast")
    await rachel.tap("One location's volunteers")
    assert rachel.last.labels() == ["Riverside", "St Mark's", "« Back", "✖ Cancel"]
    await rachel.tap("St Mark's")
    assert "To the volunteers of St Mark's." in rachel.last.text
    await rachel.send_photo(caption="Look what the kids made today! 🎨")
    preview, card = rachel.bot_messages[-2:]
    assert preview.photo is not None
    assert preview.text == f"{HEADING}\n\nLook what the kids made today! 🎨"
    assert "This goes to 3 people (the volunteers of St Mark's)" in card.text

    await rachel.tap("📣 Send to 3 people")
    await bot.deliver()

    for telegram_id in ours:
        (copy,) = copies(bot.user(telegram_id, ""))
        assert copy.photo == preview.photo
        assert copy.text == preview.text
    for telegram_id in others:
        assert copies(bot.user(telegram_id, "")) == []
    assert card.text.startswith(
        "✅ Broadcast finished: 3 people · 3 sent · 0 had blocked the bot · 0 failed"
    )
    assert card.text.endswith("To the volunteers of St Mark's.")


async def test_too_long_words_or_caption_are_refused_and_asked_again(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    await volunteers(bot, 2)
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/broadcast")
    await rachel.tap("All volunteers")

    await rachel.send("x" * 3901)
    assert rachel.last.text == broadcast_texts.too_long(3901, 3900, photo=False)
    await rachel.send_photo(caption="y" * 901)
    assert "That is 901 characters, and a photo's caption can hold at most 900" in (
        rachel.last.text
    )
    assert await started_ids(bot) == []

    await rachel.send("Short and sweet.")  # still waiting for the message
    assert "This goes to 2 people (all volunteers, not you)" in rachel.last.text
    # Changing the audience keeps the message.
    await rachel.tap("Change audience")
    await rachel.tap("Everyone")
    assert "This goes to 2 people (everyone registered, not you)" in rachel.last.text
    await rachel.tap("✖ Cancel")
    assert rachel.last.text == texts.forms_cancelled(["broadcast"])
    await bot.deliver()
    assert await started_ids(bot) == []


async def test_a_double_tap_or_an_old_preview_starts_one_broadcast(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    everyone = await volunteers(bot, 3)
    rachel = bot.user(RACHEL, "Rachel")
    _preview, first_card = await compose(bot, "All volunteers", "First draft")
    old_send = first_card.buttons[0][0].callback_data
    assert old_send is not None
    await rachel.send("/broadcast")  # starts again: the first preview is out of date
    await rachel.tap("All volunteers")
    await rachel.send("Second draft")
    card = rachel.last
    send = card.buttons[0][0].callback_data
    assert send is not None

    await rachel.tap_data(old_send, message_id=first_card.message_id)
    assert rachel.last.text == broadcast_texts.already_sent()
    assert await started_ids(bot) == []

    await rachel.tap("📣 Send to 3 people", message=card)
    await rachel.tap_data(send, message_id=card.message_id)  # the second tap of a double tap
    assert rachel.last.text == broadcast_texts.already_sent()
    await bot.deliver()

    assert len(await started_ids(bot)) == 1
    for telegram_id in everyone:
        (copy,) = copies(bot.user(telegram_id, ""))
        assert copy.text == f"{HEADING}\n\nSecond draft"
    assert card.text.startswith("✅ Broadcast finished: 3 people · 3 sent")


async def test_a_volunteer_cannot_broadcast_and_a_site_lead_only_to_their_own_location(
    bot: Rehearsal,
) -> None:
    await register(bot, RACHEL, "Rachel")
    db, now = bot.services.db, bot.services.now()
    st_marks = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=now)
    riverside = await locations.create(db, actor_telegram_id=RACHEL, name="Riverside", now=now)
    ours = await volunteers(bot, 2, home=st_marks.location_id)
    others = await volunteers(bot, 2, first=FIRST_VOLUNTEER + 100, home=riverside.location_id)

    # A volunteer: neither the command nor forged buttons do anything.
    await register(bot, SAM, "Sam")
    sam = bot.user(SAM, "Sam")
    await sam.send("/broadcast")
    assert (
        sam.last.text == "Sorry, that is only for coordinators. Send /help to see what you can do."
    )
    await sam.tap_data("ba:everyone:0")
    assert "only for coordinators" in sam.last.text
    await sam.tap_data("bd:12345")
    assert "only for coordinators" in sam.last.text

    # Priya leads St Mark's: she may write to its volunteers, and to nobody else.
    await register(bot, PRIYA, "Priya")
    await promote_to_coordinator(db, now, PRIYA, by=RACHEL, scope=frozenset({st_marks.location_id}))
    priya = bot.user(PRIYA, "Priya")
    await priya.send("/broadcast")
    assert "As a site lead you can write to the volunteers of your own locations" in (
        priya.last.text
    )
    assert priya.last.labels() == ["St Mark's", "✖ Cancel"]
    for forged in ("ba:everyone:0", "ba:volunteers:0", f"ba:location:{riverside.location_id}"):
        await priya.tap_data(forged)
        assert "outside the locations you lead" in priya.last.text, forged
    await priya.tap_data("bd:12345")
    assert priya.last.text == broadcast_texts.already_sent()
    assert await started_ids(bot) == []

    await priya.send("/broadcast")
    await priya.tap("St Mark's")
    await priya.send("Thanks for today, team!")
    await priya.tap("📣 Send to 2 people")
    await bot.deliver()
    for telegram_id in ours:
        assert len(copies(bot.user(telegram_id, ""))) == 1
    for telegram_id in [*others, SAM, RACHEL]:
        assert copies(bot.user(telegram_id, "")) == []
    refusals = await audit.recent(db, action="access.refused")
    assert len(refusals) >= 5


@pytest.mark.parametrize(
    ("error_code", "description", "retry_after"),
    [(429, "Too Many Requests: retry after 12", 12), (502, "Bad Gateway", None)],
)
async def test_the_final_figures_are_shown_even_when_that_edit_fails(
    bot: Rehearsal, clock: Clock, error_code: int, description: str, retry_after: int | None
) -> None:
    """Telegram refuses the edit that says the broadcast is finished (flood wait, or its
    servers): the broadcast stays open and a later sweep shows the final figures, after the
    wait Telegram asked for; the sweep itself does not wait for it."""
    await register(bot, RACHEL, "Rachel")
    everyone = await volunteers(bot, 3)
    rachel = bot.user(RACHEL, "Rachel")
    _preview, card = await compose(bot, "All volunteers", "Lunch is on!")
    # The last copy waits a little (a server error, tried again ten seconds later).
    bot.sandbox.inject_failure("sendMessage", everyone[-1], error_code=502, description="Oops")
    await rachel.tap("📣 Send to 3 people")
    assert card.text.startswith("📣 Sending… 0 of 3 (0%)")
    assert card.labels() == ["⏹ Stop"]
    bot.sandbox.inject_failure(
        "editMessageText",
        RACHEL,
        error_code=error_code,
        description=description,
        retry_after=retry_after,
    )

    clock.advance(seconds=10)
    await bot.deliver()
    for telegram_id in everyone:  # every copy went
        assert len(copies(bot.user(telegram_id, ""))) == 1
    refused = [c for c in bot.sandbox.calls if c.method == "editMessageText" and not c.ok]
    assert [c.error_code for c in refused] == [error_code]
    assert card.text.startswith("📣 Sending… 0 of 3")  # the final edit did not arrive
    (broadcast_id,) = await started_ids(bot)
    state = await broadcasts.progress(bot.services.db, broadcast_id)
    assert state is not None
    assert (state.status, state.sent) == (BroadcastStatus.SENDING, 3)

    clock.advance(seconds=10)  # past the spacing of edits
    calls = len(bot.sandbox.calls)
    await bot.deliver()
    if retry_after is not None:  # but not past Telegram's wait: not tried again yet
        assert [c for c in bot.sandbox.calls[calls:] if c.method == "editMessageText"] == []
        clock.advance(seconds=retry_after)
        await bot.deliver()
    assert card.text.startswith(
        "✅ Broadcast finished: 3 people · 3 sent · 0 had blocked the bot · 0 failed · took "
    )
    assert card.buttons == []
    state = await broadcasts.progress(bot.services.db, broadcast_id)
    assert state is not None
    assert state.status is BroadcastStatus.DONE
    calls = len(bot.sandbox.calls)
    clock.advance(minutes=1)
    await bot.deliver()
    assert edits_of(bot.sandbox.calls, RACHEL, calls) == []  # said once, then closed
    finished = await audit.recent(bot.services.db, action="broadcast.finished")
    assert len(finished) == 1


async def test_the_message_can_be_changed_after_the_preview(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    everyone = await volunteers(bot, 2)
    rachel = bot.user(RACHEL, "Rachel")
    _preview, card = await compose(bot, "All volunteers", "Lunch at 12:00 on Tusday")
    old_send = card.buttons[0][0].callback_data
    assert old_send is not None

    await rachel.tap("✏️ Change the message", message=card)
    assert card.text.startswith("📣 To all volunteers.\n\nSend me the message")
    assert card.labels() == ["✖ Cancel"]
    await rachel.send("Lunch at 12:30 on Tuesday")
    preview, new_card = rachel.bot_messages[-2:]
    assert preview.text == f"{HEADING}\n\nLunch at 12:30 on Tuesday"
    assert "This goes to 2 people (all volunteers, not you)" in new_card.text

    await rachel.tap_data(old_send, message_id=card.message_id)  # the first preview's Send
    assert rachel.last.text == broadcast_texts.already_sent()
    await rachel.tap("📣 Send to 2 people", message=new_card)
    await bot.deliver()
    for telegram_id in everyone:
        (copy,) = copies(bot.user(telegram_id, ""))
        assert copy.text == f"{HEADING}\n\nLunch at 12:30 on Tuesday"
    assert len(await started_ids(bot)) == 1


async def test_a_stop_keeps_back_the_copies_not_yet_sent_and_only_its_sender_may(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    everyone = await volunteers(bot, 3)
    late = everyone[0]
    rachel = bot.user(RACHEL, "Rachel")
    _preview, card = await compose(bot, "All volunteers", "Lunch is cancelled today")
    # One copy cannot go yet (Telegram's servers): it waits for another try.
    bot.sandbox.inject_failure("sendMessage", late, error_code=502, description="Bad Gateway")
    await rachel.tap("📣 Send to 3 people")
    stop = card.buttons[0][0].callback_data
    assert stop is not None
    assert [len(copies(bot.user(t, ""))) for t in everyone] == [0, 1, 1]

    # Neither a volunteer nor a site lead who did not send it can stop it.
    db, now = bot.services.db, bot.services.now()
    await register(bot, SAM, "Sam")
    sam = bot.user(SAM, "Sam")
    await sam.tap_data(stop)
    assert "only for coordinators" in sam.last.text
    await register(bot, PRIYA, "Priya")
    st_marks = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=now)
    await promote_to_coordinator(db, now, PRIYA, by=RACHEL, scope=frozenset({st_marks.location_id}))
    priya = bot.user(PRIYA, "Priya")
    await priya.tap_data(stop)
    assert "isn't yours" in priya.last.text
    assert await audit.recent(db, action="broadcast.stopped") == []

    # Rachel stops it: the copy still waiting is not sent; she is told in a new message (the
    # progress message is the sweep's alone to edit), and as nothing is left on its way, the
    # final figures follow at once, without the Stop button.
    calls = len(bot.sandbox.calls)
    await rachel.tap("⏹ Stop", message=card)
    assert rachel.last.text == broadcast_texts.stopped(1)
    (final,) = [c.params["text"] for c in edits_of(bot.sandbox.calls, RACHEL, calls)]
    assert final == card.text
    assert card.text.startswith(
        "⏹ Broadcast stopped: 3 people · 2 sent · 0 had blocked the bot · 0 failed · "
        "1 not sent (stopped) · took "
    )
    assert card.buttons == []
    await rachel.tap_data(stop, message_id=card.message_id)  # a second tap
    assert rachel.last.text == broadcast_texts.nothing_to_stop()
    (entry,) = await audit.recent(db, action="broadcast.stopped")
    assert entry.details["not_sent"] == 1

    clock.advance(minutes=1)  # past the time the copy would have been tried again
    await bot.deliver()
    assert copies(bot.user(late, "")) == []


async def test_a_sender_who_blocked_the_bot_does_not_keep_a_broadcast_open(
    bot: Rehearsal, clock: Clock
) -> None:
    """The final figures can never be shown (the coordinator blocked the bot): the broadcast
    closes all the same, instead of trying every few seconds for ever."""
    await register(bot, RACHEL, "Rachel")
    everyone = await volunteers(bot, 2)
    rachel = bot.user(RACHEL, "Rachel")
    _preview, _card = await compose(bot, "All volunteers", "Lunch is on!")
    bot.sandbox.inject_failure("sendMessage", everyone[-1], error_code=502, description="Oops")
    await rachel.tap("📣 Send to 2 people")
    bot.sandbox.block(RACHEL)
    clock.advance(seconds=10)
    await bot.deliver()
    for telegram_id in everyone:
        assert len(copies(bot.user(telegram_id, ""))) == 1
    (broadcast_id,) = await started_ids(bot)
    state = await broadcasts.progress(bot.services.db, broadcast_id)
    assert state is not None
    assert state.status is BroadcastStatus.DONE
    (entry,) = await audit.recent(bot.services.db, action="broadcast.finished")
    assert entry.subject_id == broadcast_id
