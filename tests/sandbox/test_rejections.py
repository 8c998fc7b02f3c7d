"""Every refusal the sandbox shares with Telegram, seen through a real PTB Bot.

PTB turns "Bad Request: x" into BadRequest("X") with the rest lower-cased (str.capitalize), so
the expected messages below are PTB's rendering of Telegram's exact descriptions.
"""

from __future__ import annotations

import datetime as dtm
import re

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

from bot.sandbox import BotApiSandbox
from bot.sandbox.media import make_png


def exactly(message: str) -> str:
    """A pytest.raises pattern for the whole message, taken literally."""
    return f"^{re.escape(message)}$"


USER_ID = 1001


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(buttons)])


@pytest.fixture
def ann(sandbox: BotApiSandbox):
    return sandbox.user(USER_ID, "Ann")


async def test_empty_text_is_refused(bot: Bot, ann) -> None:
    with pytest.raises(BadRequest, match=exactly("Message text is empty")):
        await bot.send_message(ann.id, "")


async def test_text_that_is_only_whitespace_or_empty_tags_is_refused(bot: Bot, ann) -> None:
    # Telegram's own wording once the text is empty after parsing and trimming.
    with pytest.raises(BadRequest, match=exactly("Text must be non-empty")):
        await bot.send_message(ann.id, "   \n ")
    with pytest.raises(BadRequest, match=exactly("Text must be non-empty")):
        await bot.send_message(ann.id, "<b> </b>", parse_mode=ParseMode.HTML)


async def test_text_over_4096_characters_is_refused(bot: Bot, ann) -> None:
    await bot.send_message(ann.id, "x" * 4096)
    with pytest.raises(BadRequest, match=exactly("Message is too long")):
        await bot.send_message(ann.id, "x" * 4097)


async def test_html_text_length_is_counted_after_parsing(bot: Bot, ann) -> None:
    sent = await bot.send_message(ann.id, f"<b>{'a' * 4096}</b>", parse_mode=ParseMode.HTML)
    assert len(sent.text) == 4096
    assert sent.entities[0].type == "bold"
    with pytest.raises(BadRequest, match=exactly("Message is too long")):
        await bot.send_message(ann.id, f"<b>{'a' * 4097}</b>", parse_mode=ParseMode.HTML)
    # An escaped character is one character of text.
    sent = await bot.send_message(ann.id, "&lt;" * 4096, parse_mode=ParseMode.HTML)
    assert sent.text == "<" * 4096
    with pytest.raises(BadRequest, match=exactly("Message is too long")):
        await bot.send_message(ann.id, "&lt;" * 4097, parse_mode=ParseMode.HTML)


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("Hi, <foo>x</foo>", 'unsupported start tag "foo" at byte offset 4'),
        ("<script>alert(1)</script>", 'unsupported start tag "script" at byte offset 0'),
        ("<b>unclosed", 'can\'t find end tag corresponding to start tag "b"'),
        (
            "<b><i>test</b></i>",
            'unmatched end tag at byte offset 10, expected "</i>", found "</b>"',
        ),
        ("1 < 2", 'unsupported start tag "" at byte offset 2'),
        ("I <3 you", 'unsupported start tag "3" at byte offset 2'),
        ("text</b>", "unexpected end tag at byte offset 4"),
        ("x <b", "unclosed start tag at byte offset 2"),
        ("<span>s</span>", 'tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("£ <bad>", 'unsupported start tag "bad" at byte offset 3'),
    ],
)
async def test_invalid_html_is_refused_with_telegrams_reason(
    bot: Bot, ann, html: str, reason: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(ann.id, html, parse_mode=ParseMode.HTML)
    assert caught.value.message == f"Can't parse entities: {reason}"


async def test_telegram_html_is_parsed_into_text_and_entities(bot: Bot, ann) -> None:
    sent = await bot.send_message(
        ann.id,
        '<b>Lunch</b> at <a href="https://example.org/x">St Mary&#39;s</a> &amp; '
        '<tg-spoiler>cake</tg-spoiler>\n<pre><code class="language-text">12:00</code></pre>'
        "<blockquote expandable>note</blockquote>",
        parse_mode=ParseMode.HTML,
    )
    assert sent.text == "Lunch at St Mary's & cake\n12:00note"
    kinds = [(entity.type, entity.offset, entity.length) for entity in sent.entities]
    assert kinds == [
        ("bold", 0, 5),
        ("text_link", 9, 9),
        ("spoiler", 21, 4),
        ("pre", 26, 5),
        ("expandable_blockquote", 31, 4),
    ]
    assert sent.entities[1].url == "https://example.org/x"
    assert sent.entities[3].language == "text"
    assert ann.last.text == sent.text
    assert ann.last.html is not None


async def test_callback_data_is_limited_to_64_bytes(bot: Bot, ann) -> None:
    await bot.send_message(
        ann.id, "ok", reply_markup=keyboard(InlineKeyboardButton("a", callback_data="x" * 64))
    )
    with pytest.raises(BadRequest, match=exactly("Button_data_invalid")):
        await bot.send_message(
            ann.id, "no", reply_markup=keyboard(InlineKeyboardButton("a", callback_data="x" * 65))
        )
    # 22 characters, but 66 bytes in UTF-8.
    with pytest.raises(BadRequest, match=exactly("Button_data_invalid")):
        await bot.send_message(
            ann.id, "no", reply_markup=keyboard(InlineKeyboardButton("a", callback_data="€" * 22))
        )


async def test_inline_buttons_need_a_label_and_exactly_one_action(
    bot: Bot, sandbox: BotApiSandbox, ann
) -> None:
    async def send_raw(markup: str) -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.post(
                f"{sandbox.base_url}{sandbox.token}/sendMessage",
                data={"chat_id": str(ann.id), "text": "x", "reply_markup": markup},
            )

    with pytest.raises(
        BadRequest, match=re.escape("text buttons are unallowed in the inline keyboard")
    ):
        await bot.send_message(
            ann.id, "x", reply_markup=keyboard(InlineKeyboardButton("a", callback_data=""))
        )
    with pytest.raises(BadRequest, match="text must be non-empty"):
        await bot.send_message(
            ann.id, "x", reply_markup=keyboard(InlineKeyboardButton("", callback_data="a"))
        )
    two = '{"inline_keyboard": [[{"text": "a", "callback_data": "a", "url": "https://a.org"}]]}'
    response = await send_raw(two)
    assert response.status_code == 400
    assert "exactly one action" in response.json()["description"]
    response = await send_raw('{"inline_keyboard": [[{"callback_data": "a"}]]}')
    assert response.json()["description"] == (
        "Bad Request: can't parse inline keyboard button: Can't find field \"text\""
    )
    with pytest.raises(BadRequest, match=re.escape("url 'not-a-url' is invalid: wrong http url")):
        await bot.send_message(
            ann.id, "x", reply_markup=keyboard(InlineKeyboardButton("a", url="not-a-url"))
        )


async def test_edits_that_change_nothing_are_refused(bot: Bot, ann) -> None:
    markup = keyboard(InlineKeyboardButton("Yes", callback_data="yes"))
    sent = await bot.send_message(ann.id, "Coming?", reply_markup=markup)
    with pytest.raises(BadRequest) as caught:
        await bot.edit_message_text("Coming?", ann.id, sent.message_id, reply_markup=markup)
    assert caught.value.message == (
        "Message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )
    with pytest.raises(BadRequest, match=re.escape("Message is not modified: ")):
        await bot.edit_message_reply_markup(ann.id, sent.message_id, reply_markup=markup)
    # Same text without reply_markup is a change: Telegram removes the keyboard.
    edited = await bot.edit_message_text("Coming?", ann.id, sent.message_id)
    assert edited.reply_markup is None
    assert ann.last.buttons == []


async def test_editing_or_deleting_a_missing_message_is_refused(bot: Bot, ann) -> None:
    with pytest.raises(BadRequest, match=exactly("Message to edit not found")):
        await bot.edit_message_text("x", ann.id, 999)
    with pytest.raises(BadRequest, match=exactly("Message to delete not found")):
        await bot.delete_message(ann.id, 999)
    sent = await bot.send_message(ann.id, "bye")
    assert await bot.delete_message(ann.id, sent.message_id) is True
    with pytest.raises(BadRequest, match=exactly("Message to delete not found")):
        await bot.delete_message(ann.id, sent.message_id)


async def test_a_user_message_cannot_be_edited_and_a_photo_has_no_text(bot: Bot, ann) -> None:
    await ann.send("hello")
    with pytest.raises(BadRequest, match=exactly("Message can't be edited")):
        await bot.edit_message_text("x", ann.id, ann.messages[-1].message_id)
    photo = await bot.send_photo(ann.id, ann_photo())
    with pytest.raises(BadRequest, match=exactly("There is no text in the message to edit")):
        await bot.edit_message_text("x", ann.id, photo.message_id)


def ann_photo() -> bytes:
    return make_png(4, 3)


async def test_a_callback_query_is_answered_once(bot: Bot, ann) -> None:
    await bot.send_message(
        ann.id, "Pick", reply_markup=keyboard(InlineKeyboardButton("Go", callback_data="go"))
    )
    await ann.tap("Go")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None
    assert query.data == "go"
    assert await query.answer("Done") is True
    too_old = "Query is too old and response timeout expired or query id is invalid"  # PTB's casing
    with pytest.raises(BadRequest, match=exactly(too_old)):
        await query.answer("Again")
    with pytest.raises(BadRequest, match=exactly(too_old)):
        await bot.answer_callback_query("no-such-query")
    assert [(a.text, a.show_alert) for a in ann.callback_answers] == [("Done", False)]


async def test_unknown_and_forgotten_chats_are_not_found(
    bot: Bot, sandbox: BotApiSandbox, ann
) -> None:
    with pytest.raises(BadRequest, match=exactly("Chat not found")):
        await bot.send_message(424242, "hello?")
    with pytest.raises(BadRequest, match=exactly("Chat not found")):
        await bot.send_message("@nobody", "hello?")
    sandbox.forget_chat(ann.id)
    with pytest.raises(BadRequest, match=exactly("Chat not found")):
        await bot.send_message(ann.id, "hello?")


async def test_a_user_who_blocked_the_bot_is_forbidden(
    bot: Bot, sandbox: BotApiSandbox, ann
) -> None:
    sandbox.block(ann.id)
    with pytest.raises(Forbidden, match=exactly("Forbidden: bot was blocked by the user")):
        await bot.send_message(ann.id, "hello?")
    sandbox.unblock(ann.id)
    await bot.send_message(ann.id, "welcome back")
    stranger = sandbox.user(2002, "Bo", started=False)
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(stranger.id, "hi")
    await stranger.send("/start")
    await bot.send_message(stranger.id, "hi")


async def test_flood_control_and_migration_raise_ptbs_special_errors(
    bot: Bot, sandbox: BotApiSandbox, ann
) -> None:
    sandbox.inject_failure(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 7",
        retry_after=7,
    )
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(ann.id, "hi")
    assert flood.value.retry_after == dtm.timedelta(seconds=7)
    await bot.send_message(ann.id, "only the next call failed")

    group = sandbox.group(-100, "Volunteers")
    await bot.send_message(group.id, "hello group")
    sandbox.migrate_group(group.id, -1001234567890)
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(-100, "hello again")
    assert migrated.value.new_chat_id == -1001234567890
    assert group.id == -1001234567890
    assert group.kind == "supergroup"
    await bot.send_message(group.id, "hello supergroup")
    assert [m.text for m in group.bot_messages] == ["hello group", "hello supergroup"]


async def test_injected_server_errors_are_network_errors(
    bot: Bot, sandbox: BotApiSandbox, ann
) -> None:
    sandbox.inject_failure(error_code=500, description="Internal Server Error", times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(ann.id, "hi")
    sandbox.inject_failure("sendMessage", chat_id=ann.id, error_code=502, description="Bad Gateway")
    other = sandbox.user(3003, "Cy")
    await bot.send_message(other.id, "not affected")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(ann.id, "hi")
    failed = [(c.method, c.error_code) for c in sandbox.calls if not c.ok]
    assert failed == [("sendMessage", 500), ("sendMessage", 500), ("sendMessage", 502)]


async def test_wrong_token_and_unknown_method(sandbox: BotApiSandbox, bot: Bot) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=sandbox.base_url):
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendPigeon", api_kwargs={"chat_id": 1})
    async with httpx.AsyncClient() as client:
        wrong = await client.post(f"{sandbox.base_url}999:WRONG/getMe")
        assert (wrong.status_code, wrong.json()["description"]) == (401, "Unauthorized")
        unknown = await client.post(f"{sandbox.base_url}{sandbox.token}/sendPigeon")
        assert unknown.status_code == 404
        assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_get_updates_conflicts_with_a_webhook(bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook")
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


@pytest.mark.filterwarnings("ignore:Please use 'Bot.sendPhoto'")
async def test_captions_and_files_are_checked(bot: Bot, sandbox: BotApiSandbox, ann) -> None:
    with pytest.raises(BadRequest, match=exactly("Message caption is too long")):
        await bot.send_photo(ann.id, ann_photo(), caption="c" * 1025)
    await bot.send_photo(ann.id, ann_photo(), caption=f"<i>{'c' * 1024}</i>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=exactly("Image_process_failed")):
        await bot.send_photo(ann.id, b"not an image at all")
    with pytest.raises(BadRequest, match=exactly("Wrong file identifier/http url specified")):
        await bot.send_photo(ann.id, "AgACnope")
    with pytest.raises(BadRequest, match=exactly("There is no photo in the request")):
        await bot.do_api_request("sendPhoto", api_kwargs={"chat_id": ann.id})
