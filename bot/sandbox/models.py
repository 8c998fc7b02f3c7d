"""Plain data the sandbox shares with its users: what a person sees, what the bot asked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Button:
    """One inline keyboard button as a person sees it."""

    label: str
    callback_data: str | None = None
    url: str | None = None
    # Any other action (web_app, copy_text, switch_inline_query...): it shows, but can't be tapped.
    other_action: str | None = None


@dataclass(eq=False)
class SimMessage:
    """A message in a simulated chat, kept current: edits apply in place."""

    message_id: int
    chat_id: int
    from_bot: bool
    text: str
    html: str | None = None
    buttons: list[list[Button]] = field(default_factory=list)
    photo: bytes | None = None
    document: bytes | None = None
    filename: str | None = None
    edited: bool = False
    # What Telegram keeps besides what the person sees, to answer the bot faithfully.
    date: int = 0
    sender_id: int | None = None
    kind: str = "text"
    entities: list[JsonDict] = field(default_factory=list, repr=False)
    inline_markup: JsonDict | None = field(default=None, repr=False)
    photo_sizes: list[JsonDict] = field(default_factory=list, repr=False)
    document_meta: JsonDict | None = field(default=None, repr=False)
    reply_to_message_id: int | None = field(default=None, repr=False)
    edit_date: int | None = field(default=None, repr=False)
    protected: bool = field(default=False, repr=False)

    def labels(self) -> list[str]:
        """Every button label on the message, row by row."""
        return [button.label for row in self.buttons for button in row]


@dataclass(frozen=True)
class CallbackAnswer:
    """What the bot answered to one tap (answerCallbackQuery)."""

    text: str | None
    show_alert: bool


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made, successful or not."""

    method: str
    params: JsonDict
    at: float
    ok: bool
    error_code: int | None
    chat_id: int | None


@dataclass
class RateLimits:
    """Flood limits on sends; ``None`` turns a limit off. Mutable while the sandbox runs."""

    overall_per_second: float | None = None
    per_chat_per_second: float | None = None
    per_group_per_minute: float | None = None


class ApiError(Exception):
    """A Bot API refusal, carried to the HTTP layer as Telegram would send it."""

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    @classmethod
    def bad_request(cls, reason: str) -> ApiError:
        return cls(400, f"Bad Request: {reason}")
