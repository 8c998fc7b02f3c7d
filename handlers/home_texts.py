"""The words of choosing home locations (at registration, and from /profile). HTML; every
stored or typed value escaped."""

from __future__ import annotations

from handlers.texts import esc
from storage.locations import LocationInfo

NAMES_SHOWN = 10  # chosen homes named in the text; more are counted


def picker(homes: list[LocationInfo]) -> str:
    return "\n".join(
        [
            "🏠 <b>Which lunch locations are near you?</b>",
            "Tap each one you could help at: /sessions then shows their sessions, and you hear "
            "when they need cover. You can change this any time in /profile.",
            "",
            f"Chosen: {_names(homes)}",
        ]
    )


def _names(homes: list[LocationInfo]) -> str:
    if not homes:
        return "none yet"
    names = ", ".join(esc(home.name) for home in homes[:NAMES_SHOWN])
    more = len(homes) - NAMES_SHOWN
    return f"{names} and {more} more" if more > 0 else names


def done_button(chosen: int) -> str:
    return "✅ Done" if chosen else "Skip for now"


def done(homes: list[LocationInfo]) -> str:
    if not homes:
        return (
            "No home locations for now: /sessions shows every location's sessions. Choose "
            "some any time in /profile."
        )
    return (
        f"🏠 Saved. Your home locations: {_names(homes)}. /sessions shows their sessions; "
        "change them any time in /profile."
    )
