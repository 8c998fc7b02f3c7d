"""The words of referral triage, the register and the notices about referrals. No notice ever
carries a family's needs: those are shown only on screens that audit the read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from handlers.rota_texts import WEEKDAYS, plural
from handlers.texts import esc
from storage.models import ReferralStatus
from storage.referrals import (
    PlacementOption,
    ReferralDetail,
    ReferralSummary,
    RegisterEntry,
)

# Up to this many dates are written out in full ("Tue 28 Jul and Thu 30 Jul"); a longer list is
# grouped by month, every date still named: a year of weekdays stays under 2,500 characters.
DATES_IN_FULL = 12
# Beyond this many dates the month groups give day numbers alone ("Aug: 4, 6, 11"), so that even
# every day of a year (with a card's needs and note) fits one message.
DATES_WITH_WEEKDAYS = 100

STATUS_WORDS = {
    ReferralStatus.SUBMITTED: "new",
    ReferralStatus.WAITLISTED: "on the waiting list",
    ReferralStatus.PLACED: "placed",
    ReferralStatus.DECLINED: "not placed",
}
TABS = {
    ReferralStatus.SUBMITTED: "New",
    ReferralStatus.WAITLISTED: "Waiting list",
    ReferralStatus.PLACED: "Placed",
    ReferralStatus.DECLINED: "Not placed",
}


def children(count: int) -> str:
    return plural(count, "child", "children")


def days(weekdays: tuple[int, ...]) -> str:
    return " & ".join(WEEKDAYS[d] for d in sorted(weekdays)) or "any day"


def span(first: date, last: date) -> str:
    return f"{first:%-d %b}" if first == last else f"{first:%-d %b}–{last:%-d %b %Y}"


def dates(chosen: Sequence[date]) -> str:
    """'Tue 28 Jul and Thu 30 Jul'; a long list names every date, grouped by month:
    '14 days (Jul: Tue 28, Thu 30; Aug: Tue 4, Thu 6, …)'. Never cut short: a school is told
    every day its family has (or has lost) a place."""
    if len(chosen) > DATES_IN_FULL:
        years = len({d.year for d in chosen}) > 1
        named = len(chosen) <= DATES_WITH_WEEKDAYS
        months: dict[tuple[int, int], list[date]] = {}
        for day in chosen:
            months.setdefault((day.year, day.month), []).append(day)
        groups = [
            f"{days[0]:%b}{f' {year}' if years else ''}: "
            + ", ".join(f"{d:%a %-d}" if named else f"{d:%-d}" for d in days)
            for (year, _), days in months.items()
        ]
        return f"{len(chosen)} days ({'; '.join(groups)})"
    names = [f"{d:%a %-d %b}" for d in chosen]
    if len(names) <= 1:
        return "".join(names) or "no days"
    return f"{', '.join(names[:-1])} and {names[-1]}"


def placement(summary: ReferralSummary) -> str:
    """Where and on which days of real lunch sessions the family is placed."""
    if summary.status is not ReferralStatus.PLACED:
        return STATUS_WORDS[summary.status]
    where = esc(summary.location_name or "?")
    if not summary.placed_days:
        return f"placed at {where}, but on no day with a lunch"
    return f"placed at {where} on {dates(summary.placed_days)}"


def button_label(summary: ReferralSummary) -> str:
    return f"{summary.reference} · {summary.school_name} · {children(summary.children)}"


def tab_label(status: ReferralStatus, count: int, current: ReferralStatus) -> str:
    mark = "• " if status is current else ""
    return f"{mark}{TABS[status]} ({count})"


def listing(status: ReferralStatus, shown: list[ReferralSummary], total: int, offset: int) -> str:
    if total == 0:
        return f"<b>Referrals: {TABS[status].lower()}</b>\nNone."
    return (
        f"<b>Referrals: {TABS[status].lower()}</b> ({offset + 1}-{offset + len(shown)} "
        f"of {total}). Tap one to open it; opening it is recorded."
    )


def card(detail: ReferralDetail) -> str:
    s = detail.summary
    if s.purged:
        return (
            f"<b>Referral {s.referral_id}</b> from {esc(s.school_name)}: "
            f"{children(s.children)}, {placement(s)}.\n"
            "Its details were removed after the retention period; the counts remain."
        )
    lines = [
        f"<b>{esc(s.reference)}</b> from <b>{esc(s.school_name)}</b>: {placement(s)}",
        f"Children: {s.children} ({esc(', '.join(detail.age_bands))})",
        f"⚠️ Needs and allergies: <b>{esc(detail.needs)}</b>"
        if detail.needs
        else "Needs and allergies: none",
        f"Asked for: {days(s.weekdays)}, {span(s.first_day, s.last_day)}"
        + (f", at {esc(', '.join(detail.preferred))}" if detail.preferred else ", any location"),
    ]
    if detail.note:
        lines.append(f"Note: {esc(detail.note)}")
    if detail.reason and s.status is ReferralStatus.DECLINED:
        lines.append(f"Reason given: {esc(detail.reason)}")
    return "\n".join(lines)


def choose_location(summary: ReferralSummary) -> str:
    return (
        f"Place <b>{esc(summary.reference)}</b> ({children(summary.children)}) "
        f"on {days(summary.weekdays)}, {span(summary.first_day, summary.last_day)}. "
        "<b>Where?</b> Each location shows on how many of those days it runs a lunch with room "
        "for the children (★ the school asked for it)."
    )


def location_label(option: PlacementOption) -> str:
    star = "★ " if option.asked_for else ""
    fits, asked = len(option.open_days), len(option.days)
    if fits == 0:
        return f"{star}{option.name} · no day free"
    return f"{star}{option.name} · {fits} of {asked} days"


def confirm_place(summary: ReferralSummary, option: PlacementOption) -> str:
    """The days asked for at one location: those with a lunch and room can be placed."""
    open_days = option.open_days
    full = [d for d in option.days if d.session_id is not None and not d.fits]
    no_lunch = [d for d in option.days if d.session_id is None]
    if not option.days:
        return (
            f"Place <b>{esc(summary.reference)}</b> at <b>{esc(option.name)}</b>? None of the "
            "days asked for is still to come: choose other dates."
        )
    head = (
        f"Place <b>{esc(summary.reference)}</b> ({children(summary.children)}) at "
        f"<b>{esc(option.name)}</b>? Of the {plural(len(option.days), 'day')} asked for "
        f"({days(summary.weekdays)}) still to come:"
    )
    lines = [head]
    if open_days:
        lines.append(f"✅ A lunch with room: {dates([d.day for d in open_days])}")
    if full:
        lines.append(f"⛔ Full (its daily capacity): {dates([d.day for d in full])}")
    if no_lunch:
        lines.append(f"✖ No lunch there: {dates([d.day for d in no_lunch])}")
    if open_days:
        lines.append(
            f"Placing books the family on those {plural(len(open_days), 'day')} only, and "
            "the school is told the dates."
        )
    else:
        lines.append(
            "There is no day to place them on here: choose another location, other dates, "
            "or plan sessions there first (/newsessions)."
        )
    return "\n".join(lines)


def place_button(count: int) -> str:
    return f"✅ Place on {plural(count, 'day')}"


def ask_dates() -> str:
    return (
        "Send the dates to place them for, like <i>04/08/2026 - 27/08/2026</i> (on the days "
        "of the week the school asked for); you'll see which have a lunch before placing. "
        "Or /cancel."
    )


def dates_invalid() -> str:
    return (
        "Please send two dates like 04/08/2026 - 27/08/2026, from today to a year ahead; "
        "or /cancel."
    )


def placed(
    summary: ReferralSummary | None, skipped: tuple[date, ...], full_days: tuple[date, ...]
) -> str:
    if summary is None:
        return "✅ Placed. The school has been told."
    placed_days = summary.placed_days
    # A long list is on the card below: said once, the screen stays inside one message.
    which = (
        dates(placed_days)
        if len(placed_days) <= DATES_IN_FULL
        else f"from {placed_days[0]:%a %-d %b} to {placed_days[-1]:%a %-d %b %Y}, each listed below"
    )
    text = (
        f"✅ Placed on {plural(len(placed_days), 'day')}: {which}. "
        "The school has been told these dates."
    )
    no_lunch = len(skipped) - len(full_days)
    why = [f"{no_lunch} with no lunch there"] if no_lunch else []
    why += [f"{len(full_days)} with no room"] if full_days else []
    if skipped:
        text += f" Not on the other {plural(len(skipped), 'day')} asked for ({', '.join(why)})."
    return text


def waitlisted() -> str:
    return "⏳ On the waiting list. The school has been told."


def declined() -> str:
    return "Not placed. The school has been told (without your reason)."


def full(location: str, full_days: tuple[date, ...]) -> str:
    return (
        f"{esc(location)} has no room for these children on any day it has a lunch "
        f"({dates(full_days)}: its daily capacity), so nothing was changed. Choose another "
        "location, or raise its capacity in /locations."
    )


def no_sessions(location: str) -> str:
    return (
        f"{esc(location)} runs no lunch on any of the days asked for (no session still to "
        "come), so nothing was changed. Choose another location or other dates, or plan "
        "sessions there first (/newsessions)."
    )


def no_days() -> str:
    return (
        "Those dates hold none of the days of the week the school asked for, so nothing "
        "was changed. Try other dates."
    )


def stale() -> str:
    return "Someone else decided this referral a moment ago. Here it is as it is now."


def ask_reason() -> str:
    return (
        "Why can't the family be placed? Send a short reason for the record (the school is "
        "told only that it could not be placed), or /cancel."
    )


def reason_invalid(limit: int) -> str:
    return f"Please send a reason of 1 to {limit} characters, or /cancel."


def no_cipher() -> str:
    return (
        "Referrals are not switched on yet: the administrator must set "
        "LUNCHBOT_ENCRYPTION_KEY (see the README)."
    )


def export_caption(count_rows: int) -> str:
    return (
        f"📄 {plural(count_rows, 'referral')}, with their details. Keep this file safe and "
        "delete it when done; the export is recorded."
    )


def choose_register_location() -> str:
    return "Which location's register?"


# --- the register ---------------------------------------------------------------------------


REGISTER_PAGE_FAMILIES = 20  # buttons a page: far below Telegram's 100
# The families' lines on one page of the register: with its heading and the page's buttons this
# stays well inside Telegram's 4096 characters, however long the needs (never shortened).
REGISTER_PAGE_CHARS = 3500


def register_pages(entries: Sequence[RegisterEntry]) -> list[list[RegisterEntry]]:
    """The register split into pages: at most REGISTER_PAGE_FAMILIES families, and lines of at
    most REGISTER_PAGE_CHARS characters, on each (one family's lines always fit a page)."""
    pages: list[list[RegisterEntry]] = []
    page: list[RegisterEntry] = []
    size = 0
    for entry in entries:
        length = len(_family(entry)) + 1
        if page and (len(page) == REGISTER_PAGE_FAMILIES or size + length > REGISTER_PAGE_CHARS):
            pages.append(page)
            page, size = [], 0
        page.append(entry)
        size += length
    return [*pages, page] if page else pages


def register(
    location: str,
    day: date,
    entries: Sequence[RegisterEntry],
    shown: Sequence[RegisterEntry] | None = None,
    page: int = 0,
    pages: int = 1,
) -> str:
    """The day's register: counts for every family placed, the lines of those `shown` (the page
    `page` of `pages`; all of them if not given)."""
    if not entries:
        return f"👨‍👩‍👧 <b>{esc(location)}</b>, {day:%a %-d %b}: no families placed today."
    kids = sum(e.children for e in entries)
    where = f" Page {page + 1} of {pages}." if pages > 1 else ""
    lines = [
        f"👨‍👩‍👧 <b>{esc(location)}</b>, {day:%a %-d %b}: "
        f"{plural(len(entries), 'family', 'families')}, {children(kids)}. "
        f"Tap a family when they arrive.{where}"
    ]
    lines += [_family(entry) for entry in (entries if shown is None else shown)]
    return "\n".join(lines)


def _family(entry: RegisterEntry) -> str:
    mark = {True: "✅", False: "❌", None: "▫️"}[entry.attended]
    needs = f"\n   ⚠️ <b>{esc(entry.needs)}</b>" if entry.needs else ""
    return (
        f"{mark} {esc(entry.reference)} ({esc(entry.school_name)}): "
        f"{plural(entry.children, 'child', 'children')}, {esc(', '.join(entry.age_bands))}"
        f"{needs}"
    )


# --- notices --------------------------------------------------------------------------------


OPEN_REFERRAL = "📋 Open the referral"


def new_referral(summary: ReferralSummary) -> str:
    return (
        f"📥 A new referral from {esc(summary.school_name)}: "
        f"{children(summary.children)}. Open it below, or see them all with /referrals."
    )


def placement_cancelled(summary: ReferralSummary, location: str, lost: Sequence[date]) -> str:
    """To the school: lunches its family was placed at are cancelled (never the needs)."""
    head = (
        f"📬 Referral <b>{esc(summary.reference)}</b>: the lunch at {esc(location)} on "
        f"{dates(lost)} {'is' if len(lost) == 1 else 'are'} cancelled, so the family has no "
        f"place {'that day' if len(lost) == 1 else 'those days'}."
    )
    if summary.status is ReferralStatus.PLACED and summary.placed_days:
        where = esc(summary.location_name or location)
        return f"{head} Still placed at {where} on {dates(summary.placed_days)}."
    if summary.status is ReferralStatus.WAITLISTED:
        return (
            f"{head} No lunch day is left for them, so the referral is back on the waiting "
            "list: we'll tell you as soon as there is room."
        )
    return head


def placement_moved(summary: ReferralSummary, location: str, when: str) -> str:
    """`when`: the day and its new times, 'Tue 28 Jul, 12:30-14:00'."""
    return (
        f"📬 Referral <b>{esc(summary.reference)}</b>: the lunch at {esc(location)} on "
        f"{when} has new times. The family keeps its place that day."
    )


def status_for_school(summary: ReferralSummary) -> str:
    what = {
        ReferralStatus.PLACED: placement(summary),
        ReferralStatus.WAITLISTED: "on the waiting list: we'll tell you as soon as there is room",
        ReferralStatus.DECLINED: ("not placed this time, sorry. A coordinator can tell you more"),
        ReferralStatus.SUBMITTED: "received",
    }[summary.status]
    return f"📬 Referral <b>{esc(summary.reference)}</b>: {what}."
