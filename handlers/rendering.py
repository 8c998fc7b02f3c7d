"""What a notice renders to, apart from the renderers themselves (handlers/notices.py), so that
a feature's module can hold its own renderers without importing notices."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from telegram import InlineKeyboardMarkup

from handlers.context import Services
from storage.outbox import Outgoing


@dataclass(frozen=True)
class Document:
    """A file made here (a spreadsheet), sent with a notice."""

    data: bytes
    filename: str


@dataclass(frozen=True)
class Rendered:
    """A notice's message. With a photo (Telegram's file id, or the bytes of an image made
    here, such as a chart) or a document, the text is its caption: at most 1024 characters,
    not 4096."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    photo: str | bytes | None = None
    document: Document | None = None
    # Not a new message: this earlier one of the bot's, in the same chat, is edited to say it.
    edit_message_id: int | None = None


@dataclass(frozen=True)
class Later:
    """Not now: put the notice off until `due_at` (a reminder in the quiet hours)."""

    due_at: datetime
    why: str


Renderer = Callable[[Services, Outgoing], Awaitable[Rendered | Later | None]]
