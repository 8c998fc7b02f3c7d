"""Telegram's size limits on inline keyboards, seen through a real PTB Bot: at most 100 buttons in
all and at most 8 in one row, on a new message and on every kind of edit.

PTB renders "Bad Request: x" as BadRequest("X") with the rest lower-cased (str.capitalize)."""

from __future__ import annotations

import json

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bot.sandbox import BotApiSandbox
from bot.sandbox.markup import MAX_INLINE_BUTTONS, MAX_INLINE_BUTTONS_PER_ROW

USER_ID = 1002
TOO_LONG = "^Reply markup is too long$"
ROW_TOO_WIDE = "^Too many buttons in a row$"


def grid(rows: int, per_row: int) -> InlineKeyboardMarkup:
    """`rows` rows of `per_row` buttons, each with its own callback data."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(f"{r}.{c}", callback_data=f"{r}:{c}") for c in range(per_row)]
            for r in range(rows)
        ]
    )


def test_the_limits_are_telegrams() -> None:
    assert (MAX_INLINE_BUTTONS, MAX_INLINE_BUTTONS_PER_ROW) == (100, 8)


async def test_a_keyboard_holds_at_most_100_buttons(bot: Bot, sandbox: BotApiSandbox) -> None:
    ann = sandbox.user(USER_ID, "Ann")
    full = await bot.send_message(ann.id, "100 buttons", reply_markup=grid(25, 4))
    assert sum(len(row) for row in ann.last.buttons) == 100
    assert full.reply_markup is not None

    with pytest.raises(BadRequest, match=TOO_LONG):
        await bot.send_message(ann.id, "101 buttons", reply_markup=grid(101, 1))
    refused = sandbox.calls[-1]
    assert (refused.method, refused.ok, refused.error_code) == ("sendMessage", False, 400)
    assert [m.text for m in ann.bot_messages] == ["100 buttons"]

    # Rows of up to 8 do not help: 13 rows of 8 are 104 buttons.
    with pytest.raises(BadRequest, match=TOO_LONG):
        await bot.send_message(ann.id, "104 buttons", reply_markup=grid(13, 8))


async def test_a_row_holds_at_most_8_buttons(bot: Bot, sandbox: BotApiSandbox) -> None:
    ann = sandbox.user(USER_ID, "Ann")
    await bot.send_message(ann.id, "8 in a row", reply_markup=grid(1, 8))
    assert [len(row) for row in ann.last.buttons] == [8]
    with pytest.raises(BadRequest, match=ROW_TOO_WIDE):
        await bot.send_message(ann.id, "9 in a row", reply_markup=grid(1, 9))
    # One wide row is enough, however few buttons there are in all.
    wide_last = InlineKeyboardMarkup([*grid(2, 1).inline_keyboard, *grid(1, 9).inline_keyboard])
    with pytest.raises(BadRequest, match=ROW_TOO_WIDE):
        await bot.send_message(ann.id, "a wide last row", reply_markup=wide_last)
    assert [m.text for m in ann.bot_messages] == ["8 in a row"]


async def test_edits_are_held_to_the_same_limits(bot: Bot, sandbox: BotApiSandbox) -> None:
    ann = sandbox.user(USER_ID, "Ann")
    sent = await bot.send_message(ann.id, "Pick", reply_markup=grid(1, 1))
    with pytest.raises(BadRequest, match=TOO_LONG):
        await bot.edit_message_text("Pick again", ann.id, sent.message_id, reply_markup=grid(51, 2))
    with pytest.raises(BadRequest, match=ROW_TOO_WIDE):
        await bot.edit_message_reply_markup(ann.id, sent.message_id, reply_markup=grid(1, 9))
    # Refused edits change nothing.
    assert ann.last.text == "Pick"
    assert [[b.label for b in row] for row in ann.last.buttons] == [["0.0"]]
    await bot.edit_message_reply_markup(ann.id, sent.message_id, reply_markup=grid(12, 8))
    assert sum(len(row) for row in ann.last.buttons) == 96


async def test_the_raw_answer_is_telegrams(sandbox: BotApiSandbox) -> None:
    ann = sandbox.user(USER_ID, "Ann")
    for markup, description in (
        (grid(101, 1), "Bad Request: reply markup is too long"),
        (grid(1, 9), "Bad Request: too many buttons in a row"),
    ):
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{sandbox.base_url}{sandbox.token}/sendMessage",
                data={
                    "chat_id": str(ann.id),
                    "text": "x",
                    "reply_markup": json.dumps(markup.to_dict()),
                },
            )
        assert response.status_code == 400
        assert response.json() == {"ok": False, "error_code": 400, "description": description}
    assert ann.bot_messages == []
