"""reply_markup as Telegram checks it: inline keyboards, reply keyboards, removal, force reply."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.html import url_problem
from bot.sandbox.models import ApiError, Button, JsonDict

MAX_CALLBACK_DATA_BYTES = 64
MAX_COPY_TEXT_LENGTH = 256
# Telegram's limits on an inline keyboard: buttons in all, and buttons side by side in one row.
MAX_INLINE_BUTTONS = 100
MAX_INLINE_BUTTONS_PER_ROW = 8
# Telegram drops an action given as an empty string, as if it were absent.
STRING_ACTIONS = (
    "url",
    "callback_data",
    "switch_inline_query",
    "switch_inline_query_current_chat",
)
OBJECT_ACTIONS = (
    "web_app",
    "login_url",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
REPLY_KEYBOARD_FLAGS = ("resize_keyboard", "one_time_keyboard", "selective", "is_persistent")
INLINE_BUTTON = "can't parse inline keyboard button"


@dataclass(frozen=True)
class Markup:
    """A checked reply_markup: what the message shows, and what it does to the chat's keyboard."""

    inline: JsonDict | None = None
    buttons: list[list[Button]] = field(default_factory=list)
    reply_keyboard: list[list[str]] | None = None
    one_time_keyboard: bool = False
    remove_keyboard: bool = False
    force_reply: bool = False


def _load(raw: object) -> JsonDict:
    value: object = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise ApiError.bad_request("can't parse reply keyboard markup JSON object") from exc
    if not isinstance(value, dict):
        raise ApiError.bad_request("object expected as reply markup")
    return value


def _require_bool(container: JsonDict, key: str, context: str = "") -> bool:
    value = container.get(key, False)
    if not isinstance(value, bool):
        prefix = f"{context}: Field" if context else "field"
        raise ApiError.bad_request(f'{prefix} "{key}" must be of type Boolean')
    return value


def _rows(markup: JsonDict, key: str) -> list[list[Any]]:
    rows = markup[key]
    if not isinstance(rows, list):
        raise ApiError.bad_request(f'field "{key}" must be of type Array')
    if not all(isinstance(row, list) for row in rows):
        raise ApiError.bad_request(f'field "{key}" must be an Array of Arrays')
    return rows


def _inline_button(raw: object) -> Button:
    if not isinstance(raw, dict):
        raise ApiError.bad_request(f"{INLINE_BUTTON}: InlineKeyboardButton must be an Object")
    if "text" not in raw:
        raise ApiError.bad_request(f'{INLINE_BUTTON}: Can\'t find field "text"')
    label = raw["text"]
    if not isinstance(label, str):
        raise ApiError.bad_request(f'{INLINE_BUTTON}: Field "text" must be of type String')
    actions = [key for key in STRING_ACTIONS if raw.get(key) not in (None, "")]
    actions += [key for key in OBJECT_ACTIONS if raw.get(key) is not None]
    if not actions:
        raise ApiError.bad_request(
            f"{INLINE_BUTTON}: Text buttons are unallowed in the inline keyboard"
        )
    if not label.strip():
        raise ApiError.bad_request(f"{INLINE_BUTTON}: Text must be non-empty")
    if len(actions) > 1:
        # Telegram silently uses the first action it knows; the sandbox refuses the ambiguity.
        raise ApiError.bad_request(
            f"{INLINE_BUTTON}: InlineKeyboardButton must have exactly one action, "
            f"got {', '.join(actions)}"
        )
    action = actions[0]
    value = raw[action]
    if action in STRING_ACTIONS and not isinstance(value, str):
        raise ApiError.bad_request(f'{INLINE_BUTTON}: Field "{action}" must be of type String')
    if action == "callback_data":
        if len(value.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
            raise ApiError.bad_request("BUTTON_DATA_INVALID")
        return Button(label=label, callback_data=value)
    if action == "url":
        problem = url_problem(value)
        if problem is not None:
            raise ApiError.bad_request(
                f"inline keyboard button URL '{value}' is invalid: {problem}"
            )
        return Button(label=label, url=value)
    _check_other_action(action, value)
    return Button(label=label, other_action=action)


def _check_other_action(action: str, value: Any) -> None:
    if action in {"pay", "callback_game"}:
        # Only valid on invoices and games, which the sandbox does not send.
        raise ApiError.bad_request("BUTTON_TYPE_INVALID")
    if action == "web_app":
        url = value.get("url", "") if isinstance(value, dict) else ""
        if not str(url).lower().startswith("https://"):
            raise ApiError.bad_request(
                f"inline keyboard button Web App URL '{url}' is invalid: "
                "Only HTTPS links are allowed"
            )
    if action == "copy_text":
        text = value.get("text", "") if isinstance(value, dict) else ""
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_COPY_TEXT_LENGTH:
            raise ApiError.bad_request("BUTTON_COPY_TEXT_INVALID")


def _check_inline_size(buttons: list[list[Button]]) -> None:
    if any(len(row) > MAX_INLINE_BUTTONS_PER_ROW for row in buttons):
        raise ApiError.bad_request("too many buttons in a row")
    if sum(len(row) for row in buttons) > MAX_INLINE_BUTTONS:
        raise ApiError.bad_request("reply markup is too long")


def _keyboard_label(raw: object) -> str:
    if isinstance(raw, str):
        label = raw
    elif isinstance(raw, dict):
        if "text" not in raw:
            raise ApiError.bad_request("can't parse keyboard button: Can't find field \"text\"")
        label = raw["text"]
        if not isinstance(label, str):
            raise ApiError.bad_request(
                'can\'t parse keyboard button: Field "text" must be of type String'
            )
    else:
        raise ApiError.bad_request("can't parse keyboard button: KeyboardButton must be an Object")
    if not label.strip():
        raise ApiError.bad_request("can't parse keyboard button: Text must be non-empty")
    return label


def parse_markup(raw: object) -> Markup | None:
    """Check a reply_markup parameter; None when the bot gave none.

    Like the Bot API server, every known field is read first, then the kind is chosen: a reply
    keyboard with buttons, else an inline keyboard with buttons, else removal, else force reply;
    an object with none of these (PTB sends ``{}`` for an empty inline keyboard) means no markup.
    """
    if raw is None or raw == "":
        return None
    markup = _load(raw)
    for flag in (*REPLY_KEYBOARD_FLAGS, "remove_keyboard", "force_reply"):
        _require_bool(markup, flag)
    if "keyboard" in markup:
        labels = [[_keyboard_label(button) for button in row] for row in _rows(markup, "keyboard")]
        labels = [row for row in labels if row]
        if labels:
            return Markup(
                reply_keyboard=labels,
                one_time_keyboard=bool(markup.get("one_time_keyboard", False)),
            )
    if "inline_keyboard" in markup:
        rows = _rows(markup, "inline_keyboard")
        buttons = [
            row for row in ([_inline_button(button) for button in row] for row in rows) if row
        ]
        if buttons:
            _check_inline_size(buttons)
            return Markup(inline={"inline_keyboard": rows}, buttons=buttons)
    if markup.get("remove_keyboard"):
        return Markup(remove_keyboard=True)
    if markup.get("force_reply"):
        return Markup(force_reply=True)
    return Markup()


def parse_inline_markup(raw: object) -> Markup:
    """reply_markup of an edit: only an inline keyboard, and none means "remove the keyboard"."""
    markup = parse_markup(raw)
    if markup is None:
        return Markup()
    if markup.reply_keyboard is not None or markup.remove_keyboard or markup.force_reply:
        raise ApiError.bad_request("inline keyboard expected")
    return markup
