"""The words of choosing home locations (at registration, and from /profile). HTML; every
stored or typed value escaped."""

from __future__ import annotations

from handlers.texts import esc
from storage.locations import HomeChoices, LocationInfo

NAMES_SHOWN = 10  # chosen homes named in the text; more are counted


def picker(choices: HomeChoices, search: str, offset: int, *, searchable: bool) -> str:
    lines = [
        "🏠 <b>Which lunch locations are near you?</b>",
        "Tap each one you could help at: /sessions then shows their sessions, and you hear "
        "when they need cover. You can change this any time in /profile.",
        "",
        f"Chosen: {_names(choices.homes)}",
    ]
    first, last = offset + 1, offset + len(choices.shown)
    if search and choices.matching == 0:
        lines.append(
            f"\nNo location has “{esc(search)}” in its name. Find by name again with another "
            "part of it, or show all."
        )
    elif search:
        lines.append(
            f"\nLocations with “{esc(search)}” in their name: {first}-{last} of {choices.matching}."
        )
    elif searchable:
        lines.append(f"\nShowing {first}-{last} of {choices.matching}.")
    return "\n".join(lines)


def _names(homes: list[LocationInfo]) -> str:
    if not homes:
        return "none yet"
    names = ", ".join(esc(home.name) for home in homes[:NAMES_SHOWN])
    more = len(homes) - NAMES_SHOWN
    return f"{names} and {more} more" if more > 0 else names


def location_button(location: LocationInfo, chosen: bool) -> str:
    label = ("✓ " if chosen else "") + location.name
    return label if len(label) <= 60 else label[:59] + "…"


def find_button() -> str:
    return "🔎 Find by name"


def ask_search() -> str:
    return "Send part of the location's name (for example <i>church</i>), or /cancel."


def show_all_button() -> str:
    return "🔎 Show all"


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
