"""The words of referral triage, the register and the notices about referrals. No notice ever
carries a family's needs: those are shown only on screens that audit the read."""

from __future__ import annotations

from datetime import date

from handlers.rota_texts import WEEKDAYS, plural
from handlers.texts import esc
from storage.models import ReferralStatus
from storage.referrals import ReferralDetail, ReferralSummary, RegisterEntry

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


def placement(summary: ReferralSummary) -> str:
    if (
        summary.status is not ReferralStatus.PLACED
        or summary.placed_from is None
        or (summary.placed_to is None)
    ):
        return STATUS_WORDS[summary.status]
    return (
        f"placed at {esc(summary.location_name or '?')}, {days(summary.placed_weekdays)}, "
        f"{span(summary.placed_from, summary.placed_to)}"
    )


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
        "<b>Where?</b> (★ the school asked for it)"
    )


def confirm_place(summary: ReferralSummary, location: str) -> str:
    return (
        f"Place <b>{esc(summary.reference)}</b> at <b>{esc(location)}</b> on "
        f"{days(summary.weekdays)}, {span(summary.first_day, summary.last_day)}? "
        "The school is told."
    )


def ask_dates() -> str:
    return (
        "Send the dates to place them for, like <i>04/08/2026 - 27/08/2026</i> (on the days "
        "of the week the school asked for); or /cancel."
    )


def dates_invalid() -> str:
    return (
        "Please send two dates like 04/08/2026 - 27/08/2026, from today to a year ahead; "
        "or /cancel."
    )


def placed() -> str:
    return "✅ Placed. The school has been told."


def waitlisted() -> str:
    return "⏳ On the waiting list. The school has been told."


def declined() -> str:
    return "Not placed. The school has been told (without your reason)."


def full(location: str, full_days: tuple[date, ...]) -> str:
    shown = ", ".join(f"{d:%a %-d %b}" for d in full_days[:8])
    more = f" and {len(full_days) - 8} more" if len(full_days) > 8 else ""
    return (
        f"{esc(location)} has no room for these children on {shown}{more} (its daily "
        "capacity). Choose another location, or raise its capacity in /locations."
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


def register(location: str, day: date, entries: list[RegisterEntry]) -> str:
    if not entries:
        return f"👨‍👩‍👧 <b>{esc(location)}</b>, {day:%a %-d %b}: no families placed today."
    kids = sum(e.children for e in entries)
    lines = [
        f"👨‍👩‍👧 <b>{esc(location)}</b>, {day:%a %-d %b}: "
        f"{plural(len(entries), 'family', 'families')}, {children(kids)}. "
        "Tap a family when they arrive."
    ]
    for entry in entries:
        mark = {True: "✅", False: "❌", None: "▫️"}[entry.attended]
        needs = f"\n   ⚠️ <b>{esc(entry.needs)}</b>" if entry.needs else ""
        lines.append(
            f"{mark} {esc(entry.reference)} ({esc(entry.school_name)}): "
            f"{plural(entry.children, 'child', 'children')}, {esc(', '.join(entry.age_bands))}"
            f"{needs}"
        )
    return "\n".join(lines)


# --- notices --------------------------------------------------------------------------------


def new_referral(summary: ReferralSummary) -> str:
    return (
        f"📥 A new referral from {esc(summary.school_name)}: "
        f"{children(summary.children)}. Open it with /referrals."
    )


def status_for_school(summary: ReferralSummary) -> str:
    what = {
        ReferralStatus.PLACED: placement(summary),
        ReferralStatus.WAITLISTED: "on the waiting list: we'll tell you as soon as there is room",
        ReferralStatus.DECLINED: ("not placed this time, sorry. A coordinator can tell you more"),
        ReferralStatus.SUBMITTED: "received",
    }[summary.status]
    return f"📬 Referral <b>{esc(summary.reference)}</b>: {what}."
