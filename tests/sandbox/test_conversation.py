"""What people see: messages, edits, deletions, buttons, photos and documents."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from telegram.constants import ParseMode

from bot.sandbox import BotApiSandbox, Button, SimMessage
from bot.sandbox.media import image_size, make_png


async def test_the_user_sees_both_sides_with_edits_in_place(
    bot: Bot, sandbox: BotApiSandbox
) -> None:
    ann = sandbox.user(5, "Ann", username="ann_v")
    await ann.send("/start")
    menu = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Sign up", callback_data="s:1")],
            [InlineKeyboardButton("Guide", url="https://example.org/guide")],
        ]
    )
    sent = await bot.send_message(
        ann.id, "<b>Welcome</b>, Ann &amp; co", parse_mode=ParseMode.HTML, reply_markup=menu
    )
    shown = ann.last
    assert (shown.message_id, shown.text, shown.from_bot) == (2, "Welcome, Ann & co", True)
    assert shown.html == "<b>Welcome</b>, Ann &amp; co"
    assert shown.buttons == [
        [Button("Sign up", callback_data="s:1")],
        [Button("Guide", url="https://example.org/guide")],
    ]
    assert shown.labels() == ["Sign up", "Guide"]
    assert sent.reply_markup == menu
    assert sent.from_user is not None and sent.from_user.username == "HolidayLunchBot"

    edited = await bot.edit_message_text(
        "Signed up ✅", ann.id, sent.message_id, reply_markup=InlineKeyboardMarkup([])
    )
    assert edited.edit_date is not None
    assert shown.text == "Signed up ✅" and shown.edited and shown.buttons == []
    assert shown.html is None
    assert [(m.from_bot, m.text) for m in ann.messages] == [
        (False, "/start"),
        (True, "Signed up ✅"),
    ]
    await bot.delete_message(ann.id, sent.message_id)
    assert [m.text for m in ann.messages] == ["/start"]
    with pytest.raises(LookupError, match="has sent nothing"):
        _ = ann.last


async def test_message_ids_increase_per_chat(bot: Bot, sandbox: BotApiSandbox) -> None:
    ann, bo = sandbox.user(1, "Ann"), sandbox.user(2, "Bo")
    ids = [
        (await bot.send_message(ann.id, "a")).message_id,
        (await bot.send_message(bo.id, "b")).message_id,
        (await bot.send_message(ann.id, "c")).message_id,
    ]
    assert ids == [1, 1, 2]
    assert sandbox.chat_messages(ann.id)[-1].text == "c"


async def test_tapping_buttons(bot: Bot, sandbox: BotApiSandbox) -> None:
    ann = sandbox.user(1, "Ann")
    first = await bot.send_message(
        ann.id,
        "old",
        reply_markup=InlineKeyboardMarkup.from_button(
            InlineKeyboardButton("Yes", callback_data="old-yes")
        ),
    )
    await bot.send_message(
        ann.id,
        "new",
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Yes", callback_data="new-yes"),
                    InlineKeyboardButton("Site", url="https://example.org"),
                ]
            ]
        ),
    )
    await ann.tap("Yes")
    await ann.tap("Yes", message=ann.messages[0])
    with pytest.raises(LookupError, match="URL button"):
        await ann.tap("Site")
    with pytest.raises(LookupError, match=r"buttons on screen: \['Yes', 'Site', 'Yes'\]"):
        await ann.tap("No")
    await ann.tap_data("forged:payload")
    await ann.tap_data("stale", message_id=first.message_id)
    updates = await bot.get_updates()
    queries = [u.callback_query for u in updates]
    assert [(q.data, q.message.message_id) for q in queries if q and q.message] == [
        ("new-yes", 2),
        ("old-yes", 1),
        ("forged:payload", 2),
        ("stale", 1),
    ]
    assert all(q is not None and q.from_user.id == ann.id for q in queries)


async def test_reply_keyboards_send_their_label(bot: Bot, sandbox: BotApiSandbox) -> None:
    ann = sandbox.user(1, "Ann")
    await bot.send_message(
        ann.id,
        "Which role?",
        reply_markup=ReplyKeyboardMarkup(
            [[KeyboardButton("Cook"), "Driver"]], one_time_keyboard=True
        ),
    )
    assert ann.keyboard == [["Cook", "Driver"]]
    await ann.tap("Driver")
    assert ann.keyboard is None
    assert ann.messages[-1].text == "Driver" and not ann.messages[-1].from_bot
    await bot.send_message(ann.id, "Pick", reply_markup=ReplyKeyboardMarkup([["A"]]))
    await bot.send_message(ann.id, "Done", reply_markup=ReplyKeyboardRemove())
    assert ann.keyboard is None
    updates = await bot.get_updates()
    assert updates[-1].message is not None and updates[-1].message.text == "Driver"


async def test_photo_round_trip(bot: Bot, sandbox: BotApiSandbox) -> None:
    ann = sandbox.user(1, "Ann")
    chart = make_png(1000, 500)
    sent = await bot.send_photo(ann.id, chart, caption="<b>Meals</b> this week", parse_mode="HTML")
    assert [(p.width, p.height) for p in sent.photo] == [
        (90, 45),
        (320, 160),
        (800, 400),
        (1000, 500),
    ]
    assert sent.caption == "Meals this week"
    assert ann.last.photo == chart and ann.last.text == "Meals this week"
    again = await bot.send_photo(ann.id, sent.photo[-1].file_id)
    assert [p.file_id for p in again.photo] == [p.file_id for p in sent.photo]
    assert ann.last.photo == chart

    await ann.send_photo("our lunch")
    updates = await bot.get_updates()
    photo_message = updates[-1].message
    assert photo_message is not None and photo_message.caption == "our lunch"
    biggest = photo_message.photo[-1]
    downloaded = await (await bot.get_file(biggest.file_id)).download_as_bytearray()
    assert image_size(bytes(downloaded)) == (biggest.width, biggest.height)
    forwarded = await bot.send_photo(ann.id, biggest.file_id, caption="thanks")
    assert forwarded.photo[-1].file_id == biggest.file_id


async def test_document_upload_and_edit_caption(bot: Bot, sandbox: BotApiSandbox) -> None:
    ann = sandbox.user(1, "Ann")
    sent = await bot.send_document(
        ann.id, b"date,meals\n2025-08-01,40\n", filename="report.csv", caption="Report"
    )
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.mime_type) == ("report.csv", "text/csv")
    assert (ann.last.document, ann.last.filename) == (
        b"date,meals\n2025-08-01,40\n",
        "report.csv",
    )
    await bot.edit_message_caption(ann.id, sent.message_id, caption="Report (final)")
    assert ann.last.text == "Report (final)" and ann.last.edited
    resent = await bot.send_document(ann.id, sent.document.file_id)
    assert resent.document is not None and resent.document.file_id == sent.document.file_id


async def test_replies_groups_and_channels(bot: Bot, sandbox: BotApiSandbox) -> None:
    ann = sandbox.user(1, "Ann")
    group = sandbox.group(-200, "Kitchen crew", kind="supergroup")
    channel = sandbox.group(-300, "News", kind="channel")
    await group.send(ann, "/rota@HolidayLunchBot")
    await channel.send(ann, "posted")
    updates = await bot.get_updates()
    group_message = updates[0].message
    assert group_message is not None
    assert (group_message.chat.type, group_message.chat.title) == ("supergroup", "Kitchen crew")
    assert group_message.entities[0].length == len("/rota@HolidayLunchBot")
    assert updates[1].channel_post is not None and updates[1].channel_post.from_user is None

    reply = await bot.send_message(
        group.id, "Rota: ...", reply_parameters=ReplyParameters(group_message.message_id)
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "/rota@HolidayLunchBot"
    assert group.last.text == "Rota: ..."
    chat = await bot.get_chat(group.id)
    assert (chat.id, chat.type, chat.title) == (-200, "supergroup", "Kitchen crew")
    private = await bot.get_chat(ann.id)
    assert (private.type, private.first_name) == ("private", "Ann")


def test_sim_message_labels_flatten_rows() -> None:
    message = SimMessage(
        message_id=1,
        chat_id=1,
        from_bot=True,
        text="x",
        buttons=[[Button("a", callback_data="1"), Button("b", callback_data="2")], [Button("c")]],
    )
    assert message.labels() == ["a", "b", "c"]


async def test_after_update_runs_after_each_simulated_update(
    bot: Bot, sandbox: BotApiSandbox
) -> None:
    seen: list[int] = []

    async def after() -> None:
        seen.append(len(sandbox.pending_updates))

    sandbox.after_update = after
    ann = sandbox.user(1, "Ann")
    group = sandbox.group(-9, "Crew")
    await ann.send("hi")
    await bot.send_message(
        group.id,
        "Who helps?",
        reply_markup=InlineKeyboardMarkup.from_button(
            InlineKeyboardButton("Me", callback_data="me")
        ),
    )
    await group.tap(ann, "Me")
    await ann.send_photo()
    assert seen == [1, 2, 3]
    query = (await bot.get_updates())[1].callback_query
    assert query is not None and query.message is not None
    assert (query.from_user.id, query.message.chat.id) == (ann.id, group.id)


async def test_taps_on_gone_messages_and_blocked_users(bot: Bot, sandbox: BotApiSandbox) -> None:
    ann = sandbox.user(1, "Ann")
    with pytest.raises(LookupError, match="has sent nothing"):
        await ann.tap_data("x")
    sent = await bot.send_message(
        ann.id,
        "Tap",
        reply_markup=InlineKeyboardMarkup.from_button(
            InlineKeyboardButton("Go", callback_data="go")
        ),
    )
    message = ann.last
    await bot.delete_message(ann.id, sent.message_id)
    with pytest.raises(LookupError, match="no longer"):
        await ann.tap("Go", message=message)
    with pytest.raises(LookupError, match=r"no button 'Go'"):
        await ann.tap("Go")
    sandbox.block(ann.id)
    await ann.send("/start")  # writing to the bot again unblocks it, as in Telegram
    await bot.send_message(ann.id, "welcome back")
