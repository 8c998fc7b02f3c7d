"""The Bot API methods the sandbox answers, with the checks and the words Telegram uses."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox import wire
from bot.sandbox.html import HtmlParseError, ParsedText, parse_html, parse_plain, url_problem
from bot.sandbox.html import utf16_length as utf16
from bot.sandbox.markup import Markup, parse_inline_markup, parse_markup
from bot.sandbox.media import StoredFile, image_size
from bot.sandbox.models import ApiError, CallbackAnswer, JsonDict, SimMessage
from bot.sandbox.state import DEFAULT_WEBHOOK_CONNECTIONS, ChatState, WebhookConfig, World

logger = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_UPDATES_LIMIT = 100
MAX_COMMANDS = 100
MAX_COMMAND_DESCRIPTION_LENGTH = 256
MAX_SECRET_TOKEN_LENGTH = 256
MAX_WEBHOOK_CONNECTIONS = 100
COMMAND_PATTERN = re.compile(r"[a-z0-9_]{1,32}")
SECRET_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
INTEGER_PATTERN = re.compile(r"-?\d+")
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = "Conflict: terminated by other getUpdates request"
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
ENTITY_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
    }
)
# Parameters that are strings in the Bot API; PTB JSON-encodes every other (non-string) value,
# so the call record decodes the rest.
STRING_KEYS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "file_id",
        "url",
        "secret_token",
        "language_code",
        "photo",
        "document",
        "action",
        "description",
        "short_description",
        "name",
    }
)
BOOLEAN_WORDS = frozenset({"true", "1", "yes"})
COMMAND_SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart request."""

    filename: str | None
    body: bytes
    content_type: str | None


class Params:
    """A request's parameters, whether they came as form fields, multipart, JSON or a query."""

    def __init__(self, values: JsonDict, uploads: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.uploads = uploads or {}

    def raw(self, key: str) -> Any:
        return self.values.get(key)

    def string(self, key: str) -> str | None:
        value = self.values.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return json.dumps(value)

    def integer(self, key: str) -> int | None:
        """The value as an integer; None when absent or not a number."""
        value = self.values.get(key)
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str) and INTEGER_PATTERN.fullmatch(value.strip()):
            return int(value)
        return None

    def number(self, key: str) -> float | None:
        value = self.values.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return None
        return None

    def boolean(self, key: str) -> bool:
        value = self.values.get(key)
        if isinstance(value, str):
            return value.strip().lower() in BOOLEAN_WORDS
        return bool(value)

    def json_value(self, key: str, *, what: str) -> Any:
        value = self.values.get(key)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError as exc:
                raise ApiError.bad_request(f"can't parse {what} JSON object") from exc
        return value

    def upload(self, key: str) -> Upload | str | None:
        if key in self.uploads:
            return self.uploads[key]
        value = self.string(key)
        if value and value.startswith("attach://"):
            return self.uploads.get(value.removeprefix("attach://"))
        return value

    def record(self) -> JsonDict:
        """The parameters as a test wants to read them: JSON decoded, files summarised."""
        recorded: JsonDict = {}
        for key, value in self.values.items():
            decoded = value
            if isinstance(value, str) and key not in STRING_KEYS:
                try:
                    decoded = json.loads(value)
                except ValueError:
                    decoded = value
            recorded[key] = decoded
        for key, upload in self.uploads.items():
            recorded[key] = f"<upload {upload.filename or 'file'} ({len(upload.body)} bytes)>"
        return recorded

    def chat_id(self) -> int | None:
        """The chat_id as an integer, or None when it is not one (a name, say)."""
        return self.integer("chat_id")


Handler = Callable[[Params], Awaitable[Any]]


class BotApiMethods:
    """Dispatches Bot API calls onto the world, raising ApiError as Telegram would refuse them."""

    def __init__(self, world: World, *, webhook_changed: Callable[[], None]) -> None:
        self.world = world
        self._webhook_changed = webhook_changed
        self.stopping = False
        self._handlers: dict[str, tuple[str, Handler]] = {}
        for name, handler in (
            ("getMe", self.get_me),
            ("getUpdates", self.get_updates),
            ("sendMessage", self.send_message),
            ("sendPhoto", self.send_photo),
            ("sendDocument", self.send_document),
            ("editMessageText", self.edit_message_text),
            ("editMessageCaption", self.edit_message_caption),
            ("editMessageReplyMarkup", self.edit_message_reply_markup),
            ("deleteMessage", self.delete_message),
            ("answerCallbackQuery", self.answer_callback_query),
            ("setMyCommands", self.set_my_commands),
            ("deleteMyCommands", self.delete_my_commands),
            ("getMyCommands", self.get_my_commands),
            ("setWebhook", self.set_webhook),
            ("deleteWebhook", self.delete_webhook),
            ("getWebhookInfo", self.get_webhook_info),
            ("getChat", self.get_chat),
            ("getFile", self.get_file),
            ("sendChatAction", self.send_chat_action),
            ("setMyDescription", self.accept),
            ("setMyShortDescription", self.accept),
            ("setChatMenuButton", self.accept),
        ):
            self._handlers[name.lower()] = (name, handler)

    def canonical(self, method: str) -> str | None:
        """The method's proper name (Bot API method names are case-insensitive), or None."""
        entry = self._handlers.get(method.lower())
        return None if entry is None else entry[0]

    async def call(self, method: str, params: Params) -> Any:
        _name, handler = self._handlers[method.lower()]
        return await handler(params)

    # --- helpers -----------------------------------------------------------------------------

    def _target(self, params: Params, *, sending: bool = True) -> ChatState:
        chat_id = params.chat_id()
        if chat_id is None:
            raise ApiError.bad_request("chat not found")
        return self.world.resolve_chat(chat_id, sending=sending)

    @staticmethod
    def _require_chat_id(params: Params) -> None:
        if not params.string("chat_id"):
            raise ApiError.bad_request("chat_id is empty")

    @staticmethod
    def _message_id(params: Params) -> int:
        message_id = params.integer("message_id")
        if message_id is None or message_id <= 0:
            raise ApiError.bad_request("message identifier is not specified")
        return message_id

    def _parse(self, raw: str, params: Params, *, entities_key: str) -> ParsedText:
        entities = params.json_value(entities_key, what="entities")
        if entities is not None:
            return parse_plain(raw, self._check_entities(raw, entities))
        mode = (params.string("parse_mode") or "").strip()
        if not mode:
            return parse_plain(raw)
        if mode.lower() == "html":
            try:
                return parse_html(raw)
            except HtmlParseError as exc:
                raise ApiError.bad_request(f"can't parse entities: {exc.reason}") from exc
        if mode.lower() in {"markdown", "markdownv2"}:
            raise ApiError.bad_request(
                f"the sandbox does not model parse_mode {mode}; the bot is meant to use HTML"
            )
        raise ApiError.bad_request("unsupported parse_mode")

    @staticmethod
    def _check_entities(text: str, entities: Any) -> list[JsonDict]:
        if not isinstance(entities, list):
            raise ApiError.bad_request("can't parse entities JSON object")
        length = utf16(text)
        checked: list[JsonDict] = []
        for entity in entities:
            if not isinstance(entity, dict) or entity.get("type") not in ENTITY_TYPES:
                raise ApiError.bad_request("can't parse MessageEntity: Unsupported type specified")
            try:
                offset, size = int(entity["offset"]), int(entity["length"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ApiError.bad_request(
                    'can\'t parse MessageEntity: Field "offset" and "length" must be Numbers'
                ) from exc
            if offset < 0:
                raise ApiError.bad_request(f"receive an entity with incorrect offset {offset}")
            if offset > length:
                raise ApiError.bad_request(
                    f"entity begins after the end of the text at UTF-16 offset {offset}"
                )
            if offset + size > length:
                raise ApiError.bad_request(
                    f"entity beginning at UTF-16 offset {offset} ends after the end of the text "
                    f"at UTF-16 offset {offset + size}"
                )
            if entity["type"] == "text_link":
                if "url" not in entity:
                    raise ApiError.bad_request(
                        "can't parse MessageEntity: Can't find field \"url\""
                    )
                problem = url_problem(str(entity["url"]))
                if problem is not None:
                    raise ApiError.bad_request(
                        f"entity URL '{entity['url']}' is invalid: {problem}"
                    )
            checked.append(dict(entity))
        return checked

    def _text(self, params: Params) -> ParsedText:
        raw = params.string("text")
        if not raw:
            raise ApiError.bad_request("message text is empty")
        parsed = self._parse(raw, params, entities_key="entities")
        if not parsed.text:
            raise ApiError.bad_request("text must be non-empty")
        if len(parsed.text) > MAX_TEXT_LENGTH:
            raise ApiError.bad_request("message is too long")
        return parsed

    def _caption(self, params: Params) -> ParsedText:
        raw = params.string("caption")
        if not raw:
            return ParsedText("", [])
        parsed = self._parse(raw, params, entities_key="caption_entities")
        if len(parsed.text) > MAX_CAPTION_LENGTH:
            raise ApiError.bad_request("message caption is too long")
        return parsed

    @staticmethod
    def _html(params: Params, key: str) -> str | None:
        """The HTML source of a text or caption, when it was given as HTML."""
        entities_key = "entities" if key == "text" else "caption_entities"
        mode = (params.string("parse_mode") or "").strip().lower()
        if mode == "html" and params.raw(entities_key) is None:
            return params.string(key)
        return None

    def _reply_target(self, chat: ChatState, params: Params) -> int | None:
        reply = params.json_value("reply_parameters", what="reply parameters")
        allow_without = params.boolean("allow_sending_without_reply")
        if reply is None:
            message_id = params.integer("reply_to_message_id")
            if message_id is None:
                return None
        else:
            if not isinstance(reply, dict) or "message_id" not in reply:
                raise ApiError.bad_request('can\'t find field "message_id"')
            message_id = int(reply["message_id"])
            allow_without = bool(reply.get("allow_sending_without_reply", allow_without))
        if message_id in chat.by_id:
            return message_id
        if allow_without:
            return None
        raise ApiError.bad_request("message to be replied not found")

    def _check_flood(self, chat: ChatState) -> None:
        wait = self.world.flood.retry_after(
            self.world.limits, chat.id, chat.is_group, time.monotonic()
        )
        if wait:
            raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)

    def _deliver(self, chat: ChatState, message: SimMessage, markup: Markup | None) -> JsonDict:
        """Put a bot message into the chat, count it against the limits, return its JSON."""
        self._apply_keyboard(chat, markup)
        chat.add(message)
        self.world.flood.record(self.world.limits, chat.id, chat.is_group, time.monotonic())
        return self.world.message_json(chat, message)

    @staticmethod
    def _apply_keyboard(chat: ChatState, markup: Markup | None) -> None:
        if markup is None:
            return
        if markup.reply_keyboard is not None:
            chat.reply_keyboard = markup.reply_keyboard
            chat.one_time_keyboard = markup.one_time_keyboard
        elif markup.remove_keyboard:
            chat.reply_keyboard = None

    def _new_bot_message(
        self,
        chat: ChatState,
        parsed: ParsedText,
        *,
        params: Params,
        html_key: str,
        markup: Markup | None,
        reply_to: int | None,
        kind: str = "text",
    ) -> SimMessage:
        return SimMessage(
            message_id=chat.take_message_id(),
            chat_id=chat.id,
            from_bot=True,
            text=parsed.text,
            html=self._html(params, html_key),
            buttons=[] if markup is None else markup.buttons,
            date=int(time.time()),
            sender_id=self.world.bot_id,
            kind=kind,
            entities=parsed.entities,
            inline_markup=None if markup is None else markup.inline,
            reply_to_message_id=reply_to,
            protected=params.boolean("protect_content"),
        )

    # --- methods -----------------------------------------------------------------------------

    async def get_me(self, params: Params) -> Any:
        bot = self.world.bot
        return wire.get_me(self.world.bot_id, bot["first_name"], bot["username"])

    async def accept(self, params: Params) -> Any:
        return True

    async def send_chat_action(self, params: Params) -> Any:
        self._require_chat_id(params)
        self._target(params)
        return True

    async def get_updates(self, params: Params) -> Any:
        world = self.world
        if world.webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        world.end_poll(error=ApiError(409, POLL_CONFLICT))
        offset = params.integer("offset")
        limit = min(max(params.integer("limit") or MAX_UPDATES_LIMIT, 1), MAX_UPDATES_LIMIT)
        timeout = max(params.number("timeout") or 0.0, 0.0)
        if offset is not None and offset < 0:
            world.keep_last(-offset)
        elif offset is not None:
            world.confirm_below(offset)
        first = offset if offset is not None and offset > 0 else 0

        def batch() -> list[JsonDict]:
            found = [update for update_id, update in world.pending.items() if update_id >= first]
            return found[:limit]

        updates = batch()
        if updates or timeout <= 0 or self.stopping:
            return updates
        poller = world.new_poller()
        try:
            await asyncio.wait({poller}, timeout=timeout)
            if poller.done() and not poller.cancelled():
                failure = poller.exception()
                if failure is not None:
                    raise failure
        finally:
            world.release_poller(poller)
        return batch()

    async def send_message(self, params: Params) -> Any:
        self._require_chat_id(params)
        parsed = self._text(params)
        markup = parse_markup(params.raw("reply_markup"))
        chat = self._target(params)
        reply_to = self._reply_target(chat, params)
        self._check_flood(chat)
        message = self._new_bot_message(
            chat, parsed, params=params, html_key="text", markup=markup, reply_to=reply_to
        )
        return self._deliver(chat, message, markup)

    def _stored_file(self, value: str, kind: str) -> StoredFile:
        if value.lower().startswith(("http://", "https://")):
            # The sandbox has no Internet to fetch from.
            raise ApiError.bad_request("failed to get HTTP URL content")
        stored = self.world.files.get(value)
        if stored is None:
            raise ApiError.bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise ApiError.bad_request("type of file mismatch")
        return stored

    async def send_photo(self, params: Params) -> Any:
        self._require_chat_id(params)
        photo = params.upload("photo")
        if not photo:
            raise ApiError.bad_request("there is no photo in the request")
        parsed = self._caption(params)
        markup = parse_markup(params.raw("reply_markup"))
        chat = self._target(params)
        reply_to = self._reply_target(chat, params)
        existing: list[StoredFile] = []
        dimensions: tuple[int, int] | None = None
        if isinstance(photo, Upload):
            if not photo.body:
                raise ApiError.bad_request("file must be non-empty")
            dimensions = image_size(photo.body)
            if dimensions is None:
                raise ApiError.bad_request("IMAGE_PROCESS_FAILED")
        else:
            existing = self.world.files.photo_sizes_of(self._stored_file(photo, "photo").file_id)
        self._check_flood(chat)
        if isinstance(photo, Upload) and dimensions is not None:
            existing = self.world.files.add_photo(photo.body, *dimensions)
        message = self._new_bot_message(
            chat,
            parsed,
            params=params,
            html_key="caption",
            markup=markup,
            reply_to=reply_to,
            kind="photo",
        )
        message.photo = existing[-1].data
        message.photo_sizes = [wire.photo_size(stored) for stored in existing]
        return self._deliver(chat, message, markup)

    async def send_document(self, params: Params) -> Any:
        self._require_chat_id(params)
        document = params.upload("document")
        if not document:
            raise ApiError.bad_request("there is no document in the request")
        parsed = self._caption(params)
        markup = parse_markup(params.raw("reply_markup"))
        chat = self._target(params)
        reply_to = self._reply_target(chat, params)
        if isinstance(document, Upload):
            if not document.body:
                raise ApiError.bad_request("file must be non-empty")
            self._check_flood(chat)
            stored = self.world.files.add_document(
                document.body, document.filename, document.content_type
            )
        else:
            stored = self._stored_file(document, "document")
            self._check_flood(chat)
        message = self._new_bot_message(
            chat,
            parsed,
            params=params,
            html_key="caption",
            markup=markup,
            reply_to=reply_to,
            kind="document",
        )
        message.document = stored.data
        message.filename = stored.file_name
        message.document_meta = wire.document(stored)
        return self._deliver(chat, message, markup)

    def _editable(self, params: Params) -> tuple[ChatState, SimMessage]:
        if params.string("inline_message_id"):
            # The sandbox sends no inline-mode messages, so no such id can exist.
            raise ApiError.bad_request("MESSAGE_ID_INVALID")
        self._require_chat_id(params)
        message_id = self._message_id(params)
        chat = self._target(params)
        message = chat.by_id.get(message_id)
        if message is None:
            raise ApiError.bad_request("message to edit not found")
        if not message.from_bot:
            raise ApiError.bad_request("message can't be edited")
        return chat, message

    @staticmethod
    def _refuse_unmodified(message: SimMessage, markup: Markup, *, content_changed: bool) -> None:
        if not content_changed and message.inline_markup == markup.inline:
            raise ApiError.bad_request(NOT_MODIFIED)

    def _apply_edit(self, chat: ChatState, message: SimMessage, markup: Markup) -> JsonDict:
        # An edit without reply_markup removes the inline keyboard, as in Telegram.
        message.inline_markup = markup.inline
        message.buttons = markup.buttons
        message.edited = True
        message.edit_date = int(time.time())
        return self.world.message_json(chat, message)

    async def edit_message_text(self, params: Params) -> Any:
        parsed = self._text(params)
        markup = parse_inline_markup(params.raw("reply_markup"))
        chat, message = self._editable(params)
        if message.kind != "text":
            raise ApiError.bad_request("there is no text in the message to edit")
        changed = (message.text, message.entities) != (parsed.text, parsed.entities)
        self._refuse_unmodified(message, markup, content_changed=changed)
        message.text, message.entities = parsed.text, parsed.entities
        message.html = self._html(params, "text")
        return self._apply_edit(chat, message, markup)

    async def edit_message_caption(self, params: Params) -> Any:
        parsed = self._caption(params)
        markup = parse_inline_markup(params.raw("reply_markup"))
        chat, message = self._editable(params)
        if message.kind == "text":
            raise ApiError.bad_request("there is no caption in the message to edit")
        changed = (message.text, message.entities) != (parsed.text, parsed.entities)
        self._refuse_unmodified(message, markup, content_changed=changed)
        message.text, message.entities = parsed.text, parsed.entities
        message.html = self._html(params, "caption")
        return self._apply_edit(chat, message, markup)

    async def edit_message_reply_markup(self, params: Params) -> Any:
        markup = parse_inline_markup(params.raw("reply_markup"))
        chat, message = self._editable(params)
        self._refuse_unmodified(message, markup, content_changed=False)
        return self._apply_edit(chat, message, markup)

    async def delete_message(self, params: Params) -> Any:
        self._require_chat_id(params)
        message_id = self._message_id(params)
        chat = self._target(params, sending=False)
        if message_id not in chat.by_id:
            raise ApiError.bad_request("message to delete not found")
        chat.remove(message_id)
        return True

    async def answer_callback_query(self, params: Params) -> Any:
        query_id = params.string("callback_query_id") or ""
        text = params.string("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise ApiError.bad_request("MESSAGE_TOO_LONG")
        query = self.world.queries.get(query_id)
        if query is None or query.answered:
            raise ApiError.bad_request(QUERY_TOO_OLD)
        query.answered = True
        user_chat = self.world.chats.get(query.user_id)
        if user_chat is not None:
            user_chat.callback_answers.append(
                CallbackAnswer(text=text or None, show_alert=params.boolean("show_alert"))
            )
        return True

    # --- commands ----------------------------------------------------------------------------

    def _scope_key(self, params: Params) -> tuple[str, int | None, int | None, str]:
        scope = params.json_value("scope", what="BotCommandScope")
        language = (params.string("language_code") or "").strip()
        if scope is None:
            return ("default", None, None, language)
        if not isinstance(scope, dict):
            raise ApiError.bad_request("can't parse BotCommandScope JSON object")
        kind = scope.get("type")
        if kind not in COMMAND_SCOPE_TYPES:
            raise ApiError.bad_request("can't parse BotCommandScope: Unsupported type specified")
        chat_id: int | None = None
        user_id: int | None = None
        if kind in {"chat", "chat_administrators", "chat_member"}:
            if "chat_id" not in scope:
                raise ApiError.bad_request(
                    "can't parse BotCommandScope: Can't find field \"chat_id\""
                )
            chat_id = Params({"chat_id": scope["chat_id"]}).chat_id()
            if chat_id is None:
                raise ApiError.bad_request("chat not found")
            chat = self.world.resolve_chat(chat_id, sending=False)
            if kind != "chat" and not chat.is_group:
                raise ApiError.bad_request("BOT_COMMAND_SCOPE_INVALID")
        if kind == "chat_member":
            if "user_id" not in scope:
                raise ApiError.bad_request(
                    "can't parse BotCommandScope: Can't find field \"user_id\""
                )
            user_id = int(scope["user_id"])
        return (str(kind), chat_id, user_id, language)

    async def set_my_commands(self, params: Params) -> Any:
        commands = params.json_value("commands", what="commands")
        if not isinstance(commands, list):
            raise ApiError.bad_request('field "commands" must be of type Array')
        if len(commands) > MAX_COMMANDS:
            raise ApiError.bad_request("BOT_COMMANDS_TOO_MUCH")
        checked: list[tuple[str, str]] = []
        for entry in commands:
            if not isinstance(entry, dict):
                raise ApiError.bad_request("can't parse BotCommand: BotCommand must be an Object")
            command = str(entry.get("command", "")).strip().removeprefix("/")
            description = str(entry.get("description", "")).strip()
            if not command:
                raise ApiError.bad_request("command must be non-empty")
            if not COMMAND_PATTERN.fullmatch(command):
                raise ApiError.bad_request("BOT_COMMAND_INVALID")
            if not description:
                raise ApiError.bad_request("command description must be non-empty")
            if len(description) > MAX_COMMAND_DESCRIPTION_LENGTH:
                raise ApiError.bad_request("command description is too long")
            checked.append((command, description))
        key = self._scope_key(params)
        if checked:
            self.world.commands[key] = checked
        else:
            self.world.commands.pop(key, None)
        return True

    async def delete_my_commands(self, params: Params) -> Any:
        self.world.commands.pop(self._scope_key(params), None)
        return True

    async def get_my_commands(self, params: Params) -> Any:
        return wire.bot_commands(self.world.commands.get(self._scope_key(params), []))

    # --- webhook -----------------------------------------------------------------------------

    async def set_webhook(self, params: Params) -> Any:
        url = (params.string("url") or "").strip()
        if params.boolean("drop_pending_updates"):
            self.world.drop_pending()
        if not url:
            return await self.delete_webhook(params)
        if not url.lower().startswith(("http://", "https://")):
            # Telegram wants HTTPS; the sandbox also takes plain HTTP, as it lives on loopback.
            raise ApiError.bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.string("secret_token")
        if secret is not None and (
            len(secret) > MAX_SECRET_TOKEN_LENGTH or not SECRET_TOKEN_PATTERN.fullmatch(secret)
        ):
            raise ApiError.bad_request("secret token contains unallowed characters")
        allowed = params.json_value("allowed_updates", what="allowed updates")
        connections = params.integer("max_connections") or DEFAULT_WEBHOOK_CONNECTIONS
        self.world.webhook = WebhookConfig(
            url=url,
            secret_token=secret or None,
            allowed_updates=allowed if isinstance(allowed, list) else None,
            max_connections=min(max(connections, 1), MAX_WEBHOOK_CONNECTIONS),
        )
        self.world.end_poll(error=ApiError(409, WEBHOOK_CONFLICT))
        self._webhook_changed()
        return True

    async def delete_webhook(self, params: Params) -> Any:
        if params.boolean("drop_pending_updates"):
            self.world.drop_pending()
        if self.world.webhook is not None:
            self.world.webhook = None
            self._webhook_changed()
        return True

    async def get_webhook_info(self, params: Params) -> Any:
        return wire.webhook_info(self.world.webhook, len(self.world.pending))

    # --- chats and files ---------------------------------------------------------------------

    async def get_chat(self, params: Params) -> Any:
        self._require_chat_id(params)
        return wire.chat_full_info(self._target(params, sending=False))

    async def get_file(self, params: Params) -> Any:
        stored = self.world.files.get(params.string("file_id") or "")
        if stored is None:
            raise ApiError.bad_request("invalid file_id")
        return wire.file(stored)
