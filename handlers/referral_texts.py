"""The school contacts' words: the referral form (/refer) and their referrals (/myreferrals).
HTML; every value a person typed or that was stored goes through esc()."""

from __future__ import annotations

from datetime import date

from handlers.rota_texts import WEEKDAYS, plural
from handlers.texts import CONTINUE, esc
from handlers.triage_texts import dates as placed_dates
from storage.models import REFERENCE_MAX, ReferralStatus
from storage.referrals import (
    MAX_CHILDREN,
    NEEDS_MAX,
    NOTE_MAX,
    ReferralDetail,
    ReferralForm,
    ReferralSummary,
)

# The choices for each child, stored as written: a school year is what a school knows.
AGE_BANDS = (
    "Nursery",
    "Reception",
    "Year 1",
    "Year 2",
    "Year 3",
    "Year 4",
    "Year 5",
    "Year 6",
    "Year 7+",
)
AGREED = "✅ The parent or carer agreed"
SEND = "📨 Send referral"
REFERENCE_IS_OURS = "✅ Yes, it is our code"
REFERENCE_AGAIN = "✏️ Type another"


# --- switched off, gone, resumed --------------------------------------------------------------


def switched_off() -> str:
    return (
        "Sorry, referrals are not switched on yet: children's details must be kept encrypted, "
        "and the key for that is not set. Please ask the administrator to set "
        "LUNCHBOT_ENCRYPTION_KEY. Nothing was stored."
    )


def form_gone() -> str:
    return "This referral form is no longer open. Send /refer to start a new one."


def continuing() -> str:
    return "Welcome back: here is your referral where you left it (or /cancel to start again)."


def use_buttons() -> str:
    return "Please use the buttons below (or /cancel to stop)."


# --- the steps --------------------------------------------------------------------------------


def ask_reference() -> str:
    return (
        "<b>Refer a family</b> for a holiday lunch club place. It takes about a minute; "
        "/cancel stops at any time.\n\n"
        "<b>What is your school's reference for the family?</b> For example <i>HS-014</i>.\n"
        "⚠️ Please <b>never a child's name</b>: only your own reference, so the family stays "
        "private."
    )


def reference_invalid() -> str:
    return (
        f"Please send a short reference of letters and numbers (up to {REFERENCE_MAX} "
        "characters), like HS-014, and never a child's name; or /cancel."
    )


def confirm_reference(reference: str) -> str:
    return (
        f"<b>{esc(reference)}</b> has no numbers, so it reads like a person's name.\n"
        "A reference is shown on buttons, notices and exported lists, so it must never be a "
        "child's or a parent's name: only your school's own code for the family, like "
        "<i>HS-014</i>.\n\n<b>Is it your school's own code?</b> If not, type another "
        "reference."
    )


def ask_children(reference: str) -> str:
    return f"<b>{esc(reference)}</b>: <b>how many children</b> would come to the lunch club?"


def ask_more_children() -> str:
    return f"Please send the number of children (up to {MAX_CHILDREN})."


def children_invalid() -> str:
    return f"Please send a number from 1 to {MAX_CHILDREN}, or tap one of the buttons."


def ask_band(child: int, children: int, chosen: list[str]) -> str:
    so_far = "".join(f"Child {n}: {esc(band)}\n" for n, band in enumerate(chosen, start=1))
    if children == 1:
        return "<b>The child's school year or age?</b>"
    return f"{so_far}<b>Child {child + 1} of {children}: school year or age?</b>"


def ask_needs() -> str:
    return (
        "<b>Any dietary needs or allergies?</b> Type them, like <i>nut allergy, halal</i> "
        f"(up to {NEEDS_MAX} characters, no names), or tap None.\n\n"
        "🔒 They are kept encrypted, and shown only to the coordinators and the lunch club's "
        "lead, for food safety."
    )


def needs_invalid() -> str:
    return f"Please keep the needs to {NEEDS_MAX} characters, or tap None."


def ask_places(chosen: list[str], most: int) -> str:
    picked = ", ".join(esc(name) for name in chosen) if chosen else "none yet (any location)"
    return (
        "<b>Which lunch clubs would suit the family?</b> Tap to choose (up to "
        f"{most}), then {CONTINUE}. If any location will do, choose none.\n\nChosen: {picked}"
    )


def too_many_places(most: int) -> str:
    return f"You can choose up to {most} locations: tap a chosen one to unchoose it first."


def ask_dates() -> str:
    return (
        "<b>Which holiday dates?</b> Send the first and last day the family needs, like "
        "<i>27/07/2026 - 28/08/2026</i>, or one date."
    )


def dates_invalid(max_days: int) -> str:
    return (
        "Please send two dates like 27/07/2026 - 28/08/2026 (or one date), from today to a "
        f"year ahead, and at most {max_days} days apart; or /cancel."
    )


def ask_days(first: date, last: date) -> str:
    return (
        f"From {first:%a %-d %b} to {last:%a %-d %b %Y}. <b>On which days can the children "
        f"come?</b> Tap to choose, then {CONTINUE}."
    )


def no_days() -> str:
    return "Please choose at least one of the days between those dates."


def ask_consent() -> str:
    return (
        "<b>Has the parent or carer agreed</b> to this referral, and to the programme keeping "
        "these details for the holiday? The referral can only be sent with their agreement."
    )


def consent_not_yet() -> str:
    return (
        "That's fine. The referral can't be sent without their agreement, so I have kept your "
        "answers: when they agree, send /refer to carry on."
    )


def consent_needed() -> str:
    return (
        "This referral can't be sent until the parent or carer has agreed. Please ask them "
        "first; your answers are kept."
    )


def ask_note() -> str:
    return (
        "<b>Anything else the lunch club should know?</b> Type a short note (up to "
        f"{NOTE_MAX} characters, no names), or tap Skip. It is kept encrypted too."
    )


def note_invalid() -> str:
    return f"Please keep the note to {NOTE_MAX} characters, or tap Skip."


# --- the review and sending -------------------------------------------------------------------


def review(form: ReferralForm, places: list[str]) -> str:
    return (
        "<b>Please check the referral</b>, then send it.\n\n"
        f"{_details(form.reference, form.children, form.age_bands, form.needs, places)}\n"
        f"Dates: {span(form.first_day, form.last_day)}, {days(form.weekdays)}\n"
        f"Parent or carer agreed: {'yes' if form.consent else 'not yet'}\n"
        f"Note: {esc(form.note) if form.note else 'none'}"
    )


def received(reference: str) -> str:
    return (
        f"📨 Received: <b>{esc(reference)}</b>. You'll hear here when it is decided; "
        "see /myreferrals"
    )


def limit_reached(limit: int) -> str:
    return (
        f"Sorry, you have sent {plural(limit, 'referral')} in the last 24 hours, the most a day "
        "allows. Your form is kept: please send it tomorrow, or call the coordinators if it is "
        "urgent."
    )


# --- /myreferrals -----------------------------------------------------------------------------


def my_referrals(page: list[ReferralSummary], offset: int, more: bool) -> str:
    if not page:
        return "Your school has no referrals yet. Send /refer to refer a family."
    shown = f"{offset + 1}-{offset + len(page)}" + (", newest first" if offset == 0 else "")
    lines = [f"<b>Your school's referrals</b> ({shown}). Tap one for its details."]
    lines += [f"• <b>{esc(s.reference)}</b>, {_children(s.children)}: {status(s)}" for s in page]
    if more:
        lines.append("Older ones: Next ▶")
    return "\n".join(lines)


def referral_button(summary: ReferralSummary) -> str:
    short = {
        ReferralStatus.SUBMITTED: "received",
        ReferralStatus.WAITLISTED: "waiting list",
        ReferralStatus.PLACED: f"placed at {summary.location_name or '?'}",
        ReferralStatus.DECLINED: "not placed",
    }[summary.status]
    return f"{summary.reference}: {short}"


def referral_card(found: ReferralDetail) -> str:
    s = found.summary
    if s.purged:
        return (
            f"<b>A referral from {esc(s.school_name)}</b>: {_children(s.children)}, {status(s)}."
            "\n\nIts details were removed after the retention period."
        )
    # The reason for not placing is for the coordinators' record; the school is told that a
    # coordinator can explain, never the note itself.
    return (
        f"<b>Referral {esc(s.reference)}</b> from {esc(s.school_name)}\n"
        f"Status: <b>{status(s)}</b>\n\n"
        f"{_details(s.reference, s.children, found.age_bands, found.needs, list(found.preferred))}"
        f"\nDates asked for: {span(s.first_day, s.last_day)}, {days(s.weekdays)}\n"
        f"Note: {esc(found.note) if found.note else 'none'}"
    )


def status(summary: ReferralSummary) -> str:
    """In the school's words: received, on the waiting list, placed at X on days, not placed."""
    match summary.status:
        case ReferralStatus.SUBMITTED:
            return "received"
        case ReferralStatus.WAITLISTED:
            return "on the waiting list"
        case ReferralStatus.DECLINED:
            return "not placed"
        case ReferralStatus.PLACED:
            where = esc(summary.location_name or "a lunch club")
            if not summary.placed_days:
                return f"placed at {where}"
            return f"placed at {where} on {placed_dates(summary.placed_days)}"


# --- pieces -----------------------------------------------------------------------------------


def _details(
    reference: str,
    children: int,
    age_bands: tuple[str, ...],
    needs: str | None,
    places: list[str],
) -> str:
    bands = ", ".join(esc(band) for band in age_bands)
    where = ", ".join(esc(name) for name in places) if places else "any location"
    return (
        f"Reference: <b>{esc(reference)}</b>\n"
        f"Children: {children} ({bands})\n"
        f"Dietary needs and allergies: {esc(needs) if needs else 'none'}\n"
        f"Preferred locations: {where}"
    )


def _children(count: int) -> str:
    return plural(count, "child", "children")


def days(weekdays: tuple[int, ...] | list[int]) -> str:
    """'Tue & Thu', 'Mon, Wed & Fri'."""
    names = [WEEKDAYS[day] for day in sorted(weekdays) if 0 <= day <= 6]
    if len(names) <= 1:
        return "".join(names) or "any day"
    return f"{', '.join(names[:-1])} & {names[-1]}"


def span(first: date, last: date) -> str:
    if first == last:
        return f"{first:%a %-d %b %Y}"
    return f"{first:%a %-d %b} – {last:%a %-d %b %Y}"


def details_removed(retention_days: int) -> str:
    return (
        "🔒 This message showed a referral's details. They were removed "
        f"{retention_days} days after the family's last lunch club day, as the privacy notice "
        "promises; the counts are kept."
    )
