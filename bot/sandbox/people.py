"""The people on the other side of the bot: users in private chats, and groups they write in."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from bot.sandbox import wire
from bot.sandbox.html import utf16_length
from bot.sandbox.media import DEFAULT_PHOTO, image_size
from bot.sandbox.models import CallbackAnswer, JsonDict, SimMessage
from bot.sandbox.state import CallbackQueryState, ChatState

if TYPE_CHECKING:
    from bot.sandbox.server import BotApiSandbox

# What Telegram's clients mark as a command: "/name" or "/name@bot", up to the first space.
COMMAND_PATTERN = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,32})?(?=\s|$)")


def command_entities(text: str) -> list[JsonDict]:
    match = COMMAND_PATTERN.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(match.group())}]


class _Participant:
    """Shared by users and groups: a chat with its messages, seen from the human side."""

    def __init__(self, sandbox: BotApiSandbox, chat: ChatState) -> None:
        self._sandbox = sandbox
        self._chat = chat

    @property
    def messages(self) -> list[SimMessage]:
        """Everything in the chat, oldest first; deleted messages are gone, edits applied."""
        return list(self._chat.messages)

    @property
    def bot_messages(self) -> list[SimMessage]:
        return [message for message in self._chat.messages if message.from_bot]

    @property
    def last(self) -> SimMessage:
        """The newest message from the bot."""
        for message in reversed(self._chat.messages):
            if message.from_bot:
                return message
        raise LookupError(f"the bot has sent nothing to {self._describe()} yet")

    @property
    def keyboard(self) -> list[list[str]] | None:
        """The reply keyboard the bot has put up in this chat, if any."""
        return self._chat.reply_keyboard

    def _describe(self) -> str:
        return f"chat {self._chat.id}"

    async def _post(
        self,
        author: ChatState,
        *,
        text: str = "",
        kind: str = "text",
        entities: list[JsonDict] | None = None,
        reply_to: SimMessage | None = None,
        photo: bytes | None = None,
        document: tuple[bytes, str] | None = None,
    ) -> int:
        world = self._sandbox.world
        chat = self._chat
        message = SimMessage(
            message_id=chat.take_message_id(),
            chat_id=chat.id,
            from_bot=False,
            text=text,
            date=int(time.time()),
            sender_id=author.id,
            kind=kind,
            entities=entities or [],
            reply_to_message_id=None if reply_to is None else reply_to.message_id,
        )
        if photo is not None:
            dimensions = image_size(photo)
            if dimensions is None:
                raise ValueError("send_photo needs PNG, JPEG, GIF or WebP bytes")
            sizes = world.files.add_photo(photo, *dimensions)
            message.photo = photo
            message.photo_sizes = [wire.photo_size(stored) for stored in sizes]
        if document is not None:
            stored = world.files.add_document(document[0], document[1], None)
            message.document, message.filename = stored.data, stored.file_name
            message.document_meta = wire.document(stored)
        chat.add(message)
        body = world.message_json(chat, message)
        update_id = world.enqueue(lambda update_id: wire.message_update(update_id, chat, body))
        await self._sandbox.handled()
        return update_id

    async def _tap(self, user: ChatState, label: str, message: SimMessage | None) -> int:
        candidates = self._tap_candidates(message)
        for candidate in candidates:
            for button in (button for row in candidate.buttons for button in row):
                if button.label != label:
                    continue
                if button.callback_data is not None:
                    return await self._callback(user, candidate, button.callback_data)
                if button.url is not None:
                    raise LookupError(
                        f"{label!r} is a URL button (it opens {button.url}); it can't be tapped"
                    )
                raise LookupError(
                    f"{label!r} is a {button.other_action} button; the sandbox can't tap it"
                )
        keyboard = self._chat.reply_keyboard or []
        if message is None and any(label in row for row in keyboard):
            # A reply keyboard button just sends its label as a message.
            if self._chat.one_time_keyboard:
                self._chat.reply_keyboard = None
            return await self._post(user, text=label, entities=command_entities(label))
        on_screen = [label for candidate in candidates for label in candidate.labels()]
        on_screen += [label for row in keyboard for label in row] if message is None else []
        raise LookupError(
            f"no button {label!r} in {self._describe()}; buttons on screen: {on_screen}"
        )

    def _tap_candidates(self, message: SimMessage | None) -> list[SimMessage]:
        if message is None:
            return [m for m in reversed(self._chat.messages) if m.from_bot and m.buttons]
        if self._chat.by_id.get(message.message_id) is not message:
            raise LookupError(f"message {message.message_id} is no longer in {self._describe()}")
        return [message]

    async def _callback(self, user: ChatState, message: SimMessage, data: str) -> int:
        world = self._sandbox.world
        chat = self._chat
        query_id = f"{user.id}{world.next_query_id:06d}"
        world.next_query_id += 1
        world.queries[query_id] = CallbackQueryState(query_id, user.id, chat.id)
        body = world.message_json(chat, message)
        update_id = world.enqueue(
            lambda update_id: wire.callback_query_update(
                update_id,
                query_id=query_id,
                sender=wire.person(user),
                message_body=body,
                chat_instance=f"{chat.id}{world.bot_id}",
                data=data,
            )
        )
        await self._sandbox.handled()
        return update_id

    async def _tap_data(self, user: ChatState, data: str, message_id: int | None) -> int:
        if message_id is None:
            message = self.last
        else:
            found = self._chat.by_id.get(message_id)
            if found is None:
                raise LookupError(f"no message {message_id} in {self._describe()}")
            message = found
        return await self._callback(user, message, data)


class SimUser(_Participant):
    """A person in their private chat with the bot (the chat id is the user id)."""

    @property
    def id(self) -> int:
        return self._chat.id

    @property
    def chat_id(self) -> int:
        return self._chat.id

    @property
    def first_name(self) -> str:
        return self._chat.first_name or ""

    @property
    def username(self) -> str | None:
        return self._chat.username

    @property
    def language_code(self) -> str:
        return self._chat.language_code

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """The bot's answers to this user's taps, in order."""
        return list(self._chat.callback_answers)

    @property
    def commands(self) -> list[tuple[str, str]]:
        """The command menu this user sees in the private chat."""
        return self._sandbox.commands_for(self._chat.id, self._chat.language_code)

    def _describe(self) -> str:
        return f"the private chat with {self.first_name} ({self.id})"

    def _opens_chat(self) -> None:
        # Writing to a bot starts it, and unblocks it if the person had blocked it.
        self._chat.started = True
        self._chat.blocked = False

    async def send(
        self,
        text: str,
        *,
        reply_to: SimMessage | None = None,
        entities: list[JsonDict] | None = None,
    ) -> int:
        """Send a text message to the bot (formatted by `entities`, as Telegram's clients send
        bold and links); returns the update id."""
        self._opens_chat()
        return await self._post(
            self._chat,
            text=text,
            entities=command_entities(text) + (entities or []),
            reply_to=reply_to,
        )

    async def send_photo(self, caption: str = "", data: bytes = DEFAULT_PHOTO) -> int:
        """Send a photo (any PNG/JPEG/GIF/WebP bytes) with an optional caption."""
        self._opens_chat()
        return await self._post(self._chat, text=caption, kind="photo", photo=data)

    async def send_document(self, data: bytes, filename: str, caption: str = "") -> int:
        """Send a file (a picture sent "as a file", a spreadsheet...) with an optional caption."""
        self._opens_chat()
        return await self._post(
            self._chat, text=caption, kind="document", document=(data, filename)
        )

    async def tap(self, label: str, *, message: SimMessage | None = None) -> int:
        """Tap the button with exactly this label (on ``message``, else the newest that has it)."""
        return await self._tap(self._chat, label, message)

    async def tap_data(self, data: str, *, message_id: int | None = None) -> int:
        """Send a callback query with arbitrary data, as a tampered client could."""
        return await self._tap_data(self._chat, data, message_id)


class SimGroup(_Participant):
    """A group, supergroup or channel the bot is a member of."""

    @property
    def id(self) -> int:
        return self._chat.id

    @property
    def title(self) -> str:
        return self._chat.title or ""

    @property
    def kind(self) -> str:
        return self._chat.type

    def _describe(self) -> str:
        return f"the {self.kind} {self.title!r} ({self.id})"

    async def send(self, user: SimUser, text: str, *, reply_to: SimMessage | None = None) -> int:
        """``user`` writes in the group (in a channel, the post carries no author)."""
        return await self._post(
            user._chat, text=text, entities=command_entities(text), reply_to=reply_to
        )

    async def tap(self, user: SimUser, label: str, *, message: SimMessage | None = None) -> int:
        return await self._tap(user._chat, label, message)

    async def tap_data(self, user: SimUser, data: str, *, message_id: int | None = None) -> int:
        return await self._tap_data(user._chat, data, message_id)
