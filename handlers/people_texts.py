"""The words of the people directory (/people): the list, its filters with their counts, and
the message to the people a filter picks out. HTML; every name and search escaped."""

from __future__ import annotations

from handlers.texts import esc, role_list
from storage.directory import CHECK_SOON, Found, Holiday, Selection, Show
from storage.locations import RECENT_BOOKINGS
from storage.models import CheckStatus
from storage.people import Profile

SHOW_LABELS = {
    Show.EVERYONE: "Everyone",
    Show.VOLUNTEERS: "Volunteers",
    Show.SCHOOL_CONTACTS: "School contacts",
    Show.COORDINATORS: "Coordinators",
    Show.CHECK_MISSING: "🛡 Check missing",
    Show.CHECK_EXPIRING: f"🛡 Check ends within {CHECK_SOON.days} days",
    Show.BLOCKED: "🚫 Blocked the bot",
    Show.NOT_SEEN: "💤 Not seen this holiday",
}
# What each filter lists, as a phrase ("Showing: volunteers whose check is missing").
SHOW_PHRASES = {
    Show.EVERYONE: "everyone",
    Show.VOLUNTEERS: "volunteers",
    Show.SCHOOL_CONTACTS: "school contacts",
    Show.COORDINATORS: "coordinators",
    Show.CHECK_MISSING: "volunteers without a cleared, current safeguarding check",
    Show.CHECK_EXPIRING: f"volunteers whose safeguarding check ends within {CHECK_SOON.days} days",
    Show.BLOCKED: "people who blocked the bot",
    Show.NOT_SEEN: "volunteers not seen this holiday",
}
FILTERS = "🔎 Filters"
ANY_LOCATION = "📍 Any location"
AT_A_LOCATION = "📍 At a location…"
BACK_TO_LIST = "« Back to the list"
BACK_TO_FILTERS = "« Back to the filters"

OFFLINE_MARK = "☎ "  # as the rota marks someone without Telegram


def listing(found: Found, chosen: Selection) -> str:
    """The head of a page of people, and a line for each person on it."""
    weeks = RECENT_BOOKINGS.days // 7
    if found.scoped:
        head = (
            f"<b>People of your locations</b>: those who call them home or booked there in the "
            f"last {weeks} weeks."
        )
    else:
        head = "<b>People</b>. Tap a name to see or change their roles and checks."
    what = described(chosen, found.location_name, found.holiday)
    lines = [head, f"Showing: {what} ({found.page.matching:,})."]
    if not found.page.matching and not chosen.search:
        lines.append("Nobody is listed here." if chosen != Selection() else _nobody(found))
    lines += [_line(person, chosen.show) for person in found.page.shown]
    return "\n".join(lines)


def _nobody(found: Found) -> str:
    if found.scoped:
        return "Nobody calls your locations home or has booked there lately."
    return "Nobody has registered yet."


def described(chosen: Selection, location_name: str | None, holiday: Holiday | None) -> str:
    """Whom a selection lists, in words: "volunteers not seen this holiday (no place booked or
    taken since Mon 20 Jul), of St Mark's"."""
    words = SHOW_PHRASES[chosen.show]
    if chosen.show is Show.NOT_SEEN and holiday is not None:
        words += f" ({_unseen(holiday)})"
    if chosen.location_id is not None:
        words += f", of {esc(location_name)}" if location_name else ", of a former location"
    return words


def _line(person: Profile, show: Show) -> str:
    blocked = ""  # a mark after the roles: no chat to send to
    if person.offline:
        blocked = " (no Telegram)"
    elif not person.active:
        blocked = " (blocked the bot)"
    check = ""
    if show in (Show.CHECK_MISSING, Show.CHECK_EXPIRING):
        check = f" · {_check(person)}"
    return f"• {name_of(person)}: {role_list(person)}{blocked}{check}"


def name_of(person: Profile) -> str:
    """A person's name as lists show it: ☎ before someone without Telegram, as on the rota."""
    return (
        f"{OFFLINE_MARK}{esc(person.display_name)}" if person.offline else esc(person.display_name)
    )


def button_name(person: Profile) -> str:
    """A person's name on their list button (not HTML): ☎ marks someone without Telegram."""
    return f"{OFFLINE_MARK}{person.display_name}" if person.offline else person.display_name


def _check(person: Profile) -> str:
    if person.check_status is CheckStatus.CLEARED:
        if person.check_expires_on is None:
            return "check cleared"
        return f"check cleared until {person.check_expires_on:%-d %b %Y}"
    if person.check_status is CheckStatus.PENDING:
        return "check pending"
    return "no check"


def filters_button(chosen: Selection, location_name: str | None) -> str:
    parts = [SHOW_LABELS[chosen.show]] if chosen.show is not Show.EVERYONE else []
    if chosen.location_id is not None:
        parts.append(f"📍 {location_name or 'a former location'}")
    label = f"{FILTERS}: {' · '.join(parts)}" if parts else FILTERS
    return label if len(label) <= 60 else label[:59] + "…"


def message_button(reachable: int) -> str:
    if reachable == 1:
        return "✉️ Message this 1 person"
    return f"✉️ Message these {reachable:,} people"


def filters(chosen: Selection, location_name: str | None, holiday: Holiday, *, scoped: bool) -> str:
    within = "the people of your locations" if scoped else "everyone registered"
    narrowed = ""
    if chosen.location_id is not None:
        narrowed += f", of {esc(location_name) if location_name else 'a former location'}"
    if chosen.search:
        narrowed += f", with “{esc(chosen.search)}” in their name"
    return "\n".join(
        [
            f"🔎 <b>Which people?</b> Each count is of {within}{narrowed}.",
            f"• {SHOW_LABELS[Show.CHECK_MISSING]}: volunteers with no safeguarding check cleared, "
            "or one that has run out.",
            f"• {SHOW_LABELS[Show.CHECK_EXPIRING]}: cleared checks that run out within "
            f"{CHECK_SOON.days} days: time to renew them.",
            f"• {SHOW_LABELS[Show.BLOCKED]}: Telegram says they blocked the bot, so nothing "
            "reaches them.",
            f"• {SHOW_LABELS[Show.NOT_SEEN]}: volunteers with {_unseen(holiday)}.",
        ]
    )


def _unseen(holiday: Holiday) -> str:
    """What "not seen this holiday" means now."""
    if holiday.first_lunch is None:
        return "no place booked in the lunches ahead: this holiday's have not begun"
    return (
        f"no place booked or taken since {holiday.first_lunch:%a %-d %b}, the first lunch of "
        "this holiday"
    )


def show_button(show: Show, count: int, chosen: Show) -> str:
    tick = "✓ " if show is chosen else ""
    return f"{tick}{SHOW_LABELS[show]} · {count:,}"


def where(*, scoped: bool) -> str:
    weeks = RECENT_BOOKINGS.days // 7
    mine = " of yours" if scoped else ""
    return (
        f"📍 <b>The people of which location{mine}?</b> Those who call it home, and those "
        f"booked there in the last {weeks} weeks or ahead."
    )


def changed() -> str:
    return "The list has changed since that button was shown: here it is as it is now."


def audience(chosen: Selection, location_name: str | None) -> str:
    """A broadcast's audience, picked out in /people: "📣 To {this}."."""
    searched = f", with “{esc(chosen.search)}” in their name" if chosen.search else ""
    return f"{described(chosen, location_name, None)}{searched}, as found in /people"
