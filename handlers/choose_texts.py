"""The words every long list shares (handlers/choose.py): where the page is in the list, what a
search found, and the answers to a search that cannot be one. HTML; the search is escaped."""

from __future__ import annotations

from typing import Any

from handlers.texts import esc
from storage.choosing import Page

PREVIOUS = "◀ Previous"
NEXT = "Next ▶"
CLEAR_SEARCH = "✖ Clear search"
PICKED = "✓ "  # before a name picked from a list that picks several
BUTTON_CHARS = 60  # a list's button shows this much of a name (the message text shows it all)


def status(found: Page[Any], search: str, per_page: int) -> str:
    """Where this page is in the list, and how to find one in it: empty when everything fits
    on one page and nothing was searched (there is nothing to say)."""
    if search and found.matching == 0:
        return (
            f"Nothing matches “{esc(search)}”. Send another part of the name, or tap "
            f"{CLEAR_SEARCH} to see them all."
        )
    shown = f"{found.offset + 1}-{found.last} of {found.matching:,}"
    if search:
        return f"🔎 Matching “{esc(search)}”: {shown}. Send other words to search again."
    if found.matching > per_page:
        return f"Showing {shown}. Send part of a name to find one."
    return ""


def with_status(text: str, found: Page[Any], search: str, per_page: int) -> str:
    """A list's own words, then the list's status below them."""
    line = status(found, search, per_page)
    return f"{text}\n\n{line}" if line else text


def label(name: str, mark: str = "") -> str:
    """A list's button: the name (short enough for a phone's screen), after any tick or star."""
    text = f"{mark}{name}"
    return text if len(text) <= BUTTON_CHARS else text[: BUTTON_CHARS - 1].rstrip() + "…"


def continue_button(picked: int) -> str:
    """The step onwards from a list that picks several (never "Next ▶", a page's button)."""
    return f"Continue ▶ ({picked:,} chosen)"


def search_too_long(most: int) -> str:
    return (
        f"That is longer than any name here ({most} characters at most): send a few letters "
        "of the name you are looking for."
    )


def search_empty() -> str:
    return "Send some letters of the name you are looking for."


def nothing_listed() -> str:
    return "That list is no longer on screen: send its command again to see it."
