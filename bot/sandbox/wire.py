"""Every piece of Telegram JSON the sandbox sends: the one place that knows the Bot API's shapes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.sandbox.models import ApiError, JsonDict, SimMessage

if TYPE_CHECKING:
    from bot.sandbox.media import StoredFile
    from bot.sandbox.state import ChatState, WebhookConfig

DEFAULT_ACCENT_COLOR_ID = 0
DEFAULT_MAX_REACTION_COUNT = 11


def ok(result: Any) -> JsonDict:
    return {"ok": True, "result": result}


def error(exc: ApiError) -> JsonDict:
    body: JsonDict = {"ok": False, "error_code": exc.error_code, "description": exc.description}
    parameters: JsonDict = {}
    if exc.retry_after is not None:
        parameters["retry_after"] = exc.retry_after
    if exc.migrate_to_chat_id is not None:
        parameters["migrate_to_chat_id"] = exc.migrate_to_chat_id
    if parameters:
        body["parameters"] = parameters
    return body


def bot_user(bot_id: int, name: str, username: str) -> JsonDict:
    return {"id": bot_id, "is_bot": True, "first_name": name, "username": username}


def get_me(bot_id: int, name: str, username: str) -> JsonDict:
    return {
        **bot_user(bot_id, name, username),
        "can_join_groups": True,
        # The sandbox delivers every group message, i.e. privacy mode off; say so.
        "can_read_all_group_messages": True,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def person(chat: ChatState) -> JsonDict:
    """The User object of the person whose private chat this is."""
    user: JsonDict = {"id": chat.id, "is_bot": False, "first_name": chat.first_name or ""}
    if chat.last_name:
        user["last_name"] = chat.last_name
    if chat.username:
        user["username"] = chat.username
    if chat.language_code:
        user["language_code"] = chat.language_code
    return user


def chat(state: ChatState) -> JsonDict:
    body: JsonDict = {"id": state.id, "type": state.type}
    if state.type == "private":
        body["first_name"] = state.first_name or ""
        if state.last_name:
            body["last_name"] = state.last_name
        if state.username:
            body["username"] = state.username
    else:
        body["title"] = state.title or ""
    return body


def chat_full_info(state: ChatState) -> JsonDict:
    return {
        **chat(state),
        "accent_color_id": DEFAULT_ACCENT_COLOR_ID,
        "max_reaction_count": DEFAULT_MAX_REACTION_COUNT,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


def photo_size(stored: StoredFile) -> JsonDict:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "width": stored.width,
        "height": stored.height,
        "file_size": len(stored.data),
    }


def document(stored: StoredFile) -> JsonDict:
    body: JsonDict = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
    if stored.file_name:
        body["file_name"] = stored.file_name
    if stored.mime_type:
        body["mime_type"] = stored.mime_type
    return body


def file(stored: StoredFile) -> JsonDict:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


def message(
    msg: SimMessage,
    state: ChatState,
    sender: JsonDict | None,
    *,
    reply_to: JsonDict | None = None,
) -> JsonDict:
    body: JsonDict = {"message_id": msg.message_id, "date": msg.date, "chat": chat(state)}
    if state.type == "channel":
        body["sender_chat"] = chat(state)
    elif sender is not None:
        body["from"] = sender
    body.update(_content(msg))
    if msg.inline_markup is not None:
        body["reply_markup"] = msg.inline_markup
    if msg.edit_date is not None:
        body["edit_date"] = msg.edit_date
    if msg.protected:
        body["has_protected_content"] = True
    if reply_to is not None:
        body["reply_to_message"] = reply_to
    return body


def _content(msg: SimMessage) -> JsonDict:
    """What the message carries: text with entities, or media with a caption."""
    if msg.kind == "text":
        return {"text": msg.text, **({"entities": msg.entities} if msg.entities else {})}
    body: JsonDict = {}
    if msg.text:
        body["caption"] = msg.text
        if msg.entities:
            body["caption_entities"] = msg.entities
    if msg.kind == "photo":
        body["photo"] = msg.photo_sizes
    elif msg.document_meta is not None:
        body["document"] = msg.document_meta
    return body


def message_update(update_id: int, state: ChatState, message_body: JsonDict) -> JsonDict:
    key = "channel_post" if state.type == "channel" else "message"
    return {"update_id": update_id, key: message_body}


def callback_query_update(
    update_id: int,
    *,
    query_id: str,
    sender: JsonDict,
    message_body: JsonDict,
    chat_instance: str,
    data: str,
) -> JsonDict:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": query_id,
            "from": sender,
            "message": message_body,
            "chat_instance": chat_instance,
            "data": data,
        },
    }


def bot_commands(commands: list[tuple[str, str]]) -> list[JsonDict]:
    return [{"command": command, "description": description} for command, description in commands]


def webhook_info(config: WebhookConfig | None, pending_update_count: int) -> JsonDict:
    if config is None:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": pending_update_count,
        }
    body: JsonDict = {
        "url": config.url,
        "has_custom_certificate": False,
        "pending_update_count": pending_update_count,
        "max_connections": config.max_connections,
        "ip_address": "127.0.0.1",
    }
    if config.allowed_updates is not None:
        body["allowed_updates"] = config.allowed_updates
    if config.last_error_date is not None:
        body["last_error_date"] = config.last_error_date
        body["last_error_message"] = config.last_error_message or ""
    return body
