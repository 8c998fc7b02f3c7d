"""Everything the simulated Telegram knows: chats, their messages, pending updates, commands."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.sandbox import wire
from bot.sandbox.media import FileStore
from bot.sandbox.models import ApiCall, ApiError, CallbackAnswer, JsonDict, RateLimits, SimMessage
from bot.sandbox.ratelimit import FloodControl

logger = logging.getLogger(__name__)

GROUP_TYPES = frozenset({"group", "supergroup"})
# Telegram picks the next update id at random after a quiet week: each sandbox starts at its
# own, so a bot that remembers update ids (its inbox) meets a new sandbox as it would meet that.
MAX_FIRST_UPDATE_ID = 2**31
FIRST_MESSAGE_ID = 1
DEFAULT_WEBHOOK_CONNECTIONS = 40


@dataclass(eq=False)
class ChatState:
    """One chat the bot is in: a private chat (id == user id), a group or a channel."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    language_code: str = "en"
    messages: list[SimMessage] = field(default_factory=list)
    by_id: dict[int, SimMessage] = field(default_factory=dict)
    next_message_id: int = FIRST_MESSAGE_ID
    reply_keyboard: list[list[str]] | None = None
    one_time_keyboard: bool = False
    blocked: bool = False
    forgotten: bool = False
    started: bool = True
    callback_answers: list[CallbackAnswer] = field(default_factory=list)

    @property
    def is_group(self) -> bool:
        return self.type in GROUP_TYPES

    def add(self, message: SimMessage) -> SimMessage:
        self.messages.append(message)
        self.by_id[message.message_id] = message
        return message

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def remove(self, message_id: int) -> None:
        message = self.by_id.pop(message_id)
        self.messages.remove(message)


@dataclass(eq=False)
class CallbackQueryState:
    query_id: str
    user_id: int
    chat_id: int
    answered: bool = False


@dataclass
class FailureRule:
    """An injected failure: the next ``times`` matching calls get this error."""

    method: str | None
    chat_id: int | None
    error_code: int
    description: str
    retry_after: int | None
    times: int

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int = DEFAULT_WEBHOOK_CONNECTIONS
    last_error_date: int | None = None
    last_error_message: str | None = None


CommandKey = tuple[str, int | None, int | None, str]


class World:
    """The sandbox's state. Synchronous apart from the waits for updates and confirmations."""

    def __init__(self, *, bot: JsonDict, limits: RateLimits) -> None:
        self.bot = bot
        self.bot_id: int = bot["id"]
        self.limits = limits
        self.chats: dict[int, ChatState] = {}
        self.migrated: dict[int, int] = {}
        self.files = FileStore()
        self.flood = FloodControl()
        self.calls: list[ApiCall] = []
        self.failures: list[FailureRule] = []
        self.commands: dict[CommandKey, list[tuple[str, str]]] = {}
        self.queries: dict[str, CallbackQueryState] = {}
        self.webhook: WebhookConfig | None = None
        self.pending: dict[int, JsonDict] = {}
        self.next_update_id = 1 + secrets.randbelow(MAX_FIRST_UPDATE_ID)
        self.next_query_id = 1
        self.enqueue_listeners: list[Callable[[int], None]] = []
        self._poller: asyncio.Future[None] | None = None
        self._confirm_waiters: list[tuple[frozenset[int], asyncio.Future[None]]] = []

    # --- chats -------------------------------------------------------------------------------

    def resolve_chat(self, chat_id: int, *, sending: bool = True) -> ChatState:
        """The chat a method targets, or Telegram's refusal for it."""
        if chat_id in self.migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=self.migrated[chat_id],
            )
        chat = self.chats.get(chat_id)
        if chat is None or chat.forgotten:
            raise ApiError.bad_request("chat not found")
        if sending and chat.type == "private":
            if chat.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not chat.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def migrate(self, old_id: int, new_id: int) -> ChatState:
        chat = self.chats.pop(old_id)
        chat.id = new_id
        chat.type = "supergroup"
        for message in chat.messages:
            message.chat_id = new_id
        self.chats[new_id] = chat
        self.migrated[old_id] = new_id
        self.flood.move_chat(old_id, new_id)
        return chat

    def message_json(
        self, chat: ChatState, message: SimMessage, *, nested: bool = False
    ) -> JsonDict:
        """The Message object for ``message``, with the message it replies to (one level deep)."""
        if message.from_bot:
            sender: JsonDict | None = self.bot
        else:
            author = self.chats.get(message.sender_id) if message.sender_id is not None else None
            sender = wire.person(author) if author is not None else None
        reply_to = None
        if not nested and message.reply_to_message_id is not None:
            replied = chat.by_id.get(message.reply_to_message_id)
            if replied is not None:
                reply_to = self.message_json(chat, replied, nested=True)
        return wire.message(message, chat, sender, reply_to=reply_to)

    # --- updates -----------------------------------------------------------------------------

    def enqueue(self, build: Callable[[int], JsonDict]) -> int:
        """Add an update (built around its new id); wakes a long poll and the webhook."""
        update_id = self.next_update_id
        self.next_update_id += 1
        self.pending[update_id] = build(update_id)
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(None)
        for listener in self.enqueue_listeners:
            listener(update_id)
        return update_id

    def confirm_below(self, offset: int) -> None:
        """getUpdates with ``offset`` confirms every update with a smaller id."""
        confirmed = [update_id for update_id in self.pending if update_id < offset]
        for update_id in confirmed:
            del self.pending[update_id]
        if confirmed:
            self._wake_confirm_waiters()

    def keep_last(self, count: int) -> None:
        """A negative offset forgets all but the last ``count`` updates."""
        ids = list(self.pending)
        for update_id in ids[: max(0, len(ids) - count)]:
            del self.pending[update_id]
        self._wake_confirm_waiters()

    def confirm(self, update_id: int) -> None:
        if self.pending.pop(update_id, None) is not None:
            self._wake_confirm_waiters()

    def drop_pending(self) -> None:
        self.pending.clear()
        self._wake_confirm_waiters()

    def _wake_confirm_waiters(self) -> None:
        still_waiting = []
        for ids, waiter in self._confirm_waiters:
            if waiter.done():
                continue
            if ids & self.pending.keys():
                still_waiting.append((ids, waiter))
            else:
                waiter.set_result(None)
        self._confirm_waiters = still_waiting

    async def until_confirmed(self, ids: frozenset[int]) -> None:
        """Wait, however long it takes, until none of `ids` is pending."""
        if not ids & self.pending.keys():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._confirm_waiters.append((ids, waiter))
        await waiter

    async def wait_confirmed(self, timeout: float) -> None:  # noqa: ASYNC109 - public API
        ids = frozenset(self.pending)
        if not ids:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._confirm_waiters.append((ids, waiter))
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            left = sorted(ids & self.pending.keys())
            raise TimeoutError(
                f"updates not confirmed by the bot within {timeout} s: {left}"
            ) from None

    @property
    def polling(self) -> bool:
        return self._poller is not None and not self._poller.done()

    def new_poller(self) -> asyncio.Future[None]:
        """Register a long poll; an earlier one still waiting ends with 409, as in Telegram."""
        self.end_poll(error=ApiError(409, "Conflict: terminated by other getUpdates request"))
        self._poller = asyncio.get_running_loop().create_future()
        return self._poller

    def end_poll(self, *, error: ApiError | None = None) -> None:
        """Wake the waiting long poll: with nothing new (shutdown) or with an error."""
        if self._poller is not None and not self._poller.done():
            if error is None:
                self._poller.set_result(None)
            else:
                self._poller.set_exception(error)

    def release_poller(self, poller: asyncio.Future[None]) -> None:
        if self._poller is poller:
            if not poller.done():
                poller.cancel()
            self._poller = None

    # --- failures and records ----------------------------------------------------------------

    def take_failure(self, method: str, chat_id: int | None) -> ApiError | None:
        for rule in self.failures:
            if rule.matches(method, chat_id):
                rule.times -= 1
                if rule.times <= 0:
                    self.failures.remove(rule)
                return ApiError(rule.error_code, rule.description, retry_after=rule.retry_after)
        return None
