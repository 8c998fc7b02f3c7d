"""School contacts refer a family (/refer: one step at a time, mostly buttons, then a review
with an edit button per part) and follow their school's referrals (/myreferrals).

The form lives in a draft row, so a restart or another instance continues it. The needs and the
note are sealed before they are saved there, with the form's own data key, which the referral
takes over when it is sent (storage/keys.py): a draft is as much at rest as a referral.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Update

from handlers import callbacks, choose, choose_texts, flows, referral_texts, texts
from handlers.common import Row, button, command, keyboard, pager, say, show
from handlers.context import BotContext
from handlers.planning import DEFAULT_WEEKDAYS, MAX_PLAN_DAYS, parse_span
from handlers.rota_texts import WEEKDAYS
from storage import drafts, locations, referrals
from storage.crypto import Cipher
from storage.models import Role
from storage.people import Profile
from storage.referrals import MAX_CHILDREN, NEEDS_MAX, NOTE_MAX, ReferralForm, SubmitLimit

REFERRAL_FLOW = referrals.FORM_FLOW
CHILD_BUTTONS = 6  # 1-6 as buttons; more children are typed
MAX_PREFERRED = 5  # keeps the review well inside one message, whatever the names' length
PLACES_LIST = "refer_places"  # the lunch clubs that would suit the family (handlers/choose.py)
REFERRALS_PER_PAGE = 8


class Step(enum.StrEnum):
    """The form's steps in order; the draft's `awaiting` names the one being asked."""

    REFERENCE = "reference"
    CHILDREN = "children"
    BANDS = "bands"
    NEEDS = "needs"
    PLACES = "places"
    DATES = "dates"
    DAYS = "days"
    CONSENT = "consent"
    NOTE = "note"
    REVIEW = "review"


ORDER = tuple(step for step in Step if step is not Step.REVIEW)
# Editing a part from the review asks it again, with what depends on it: each child's year
# follows the number of children, and the days follow the dates.
EDITS: dict[Step, tuple[Step, ...]] = {
    Step.REFERENCE: (Step.REFERENCE,),
    Step.CHILDREN: (Step.CHILDREN, Step.BANDS),
    Step.NEEDS: (Step.NEEDS,),
    Step.PLACES: (Step.PLACES,),
    Step.DATES: (Step.DATES, Step.DAYS),
    Step.NOTE: (Step.NOTE,),
}


@callbacks.action("fc")
@dataclass(frozen=True)
class ReferChildren:
    count: int


@callbacks.action("fm")
@dataclass(frozen=True)
class ReferMoreChildren:
    pass


@callbacks.action("fb")
@dataclass(frozen=True)
class ReferBand:
    child: int  # which child (from 0): a doubled tap for the same child changes nothing
    band: int  # an index into referral_texts.AGE_BANDS


@callbacks.action("fn")
@dataclass(frozen=True)
class ReferNoNeeds:
    pass


@callbacks.action("fl")
@dataclass(frozen=True)
class ReferPlace:
    location_id: int
    offset: int  # the page it is on, to stay there


@callbacks.action("fg")
@dataclass(frozen=True)
class ReferPlacesPage:
    offset: int


@callbacks.action("fp")
@dataclass(frozen=True)
class ReferPlacesDone:
    pass


@callbacks.action("fw")
@dataclass(frozen=True)
class ReferWeekday:
    weekday: int


@callbacks.action("fd")
@dataclass(frozen=True)
class ReferDaysDone:
    pass


@callbacks.action("fa")
@dataclass(frozen=True)
class ReferConsent:
    pass


@callbacks.action("fo")
@dataclass(frozen=True)
class ReferNotYet:
    pass


@callbacks.action("fk")
@dataclass(frozen=True)
class ReferSkipNote:
    pass


@callbacks.action("fe")
@dataclass(frozen=True)
class ReferEdit:
    step: Step


@callbacks.action("fs")
@dataclass(frozen=True)
class ReferSend:
    pass


@callbacks.action("fr")
@dataclass(frozen=True)
class ReferReferenceIsOurs:
    """The contact confirms that a reference that reads like a name is the school's code."""


@callbacks.action("ft")
@dataclass(frozen=True)
class ReferReferenceAgain:
    pass


@callbacks.action("yl")
@dataclass(frozen=True)
class MyReferralsPage:
    offset: int


@callbacks.action("yo")
@dataclass(frozen=True)
class OpenReferral:
    referral_id: int
    offset: int  # the page of the list to go back to


# --- starting and continuing -----------------------------------------------------------------


@command(Role.SCHOOL_CONTACT)
async def refer(update: Update, context: BotContext, profile: Profile) -> None:
    cipher = await _cipher(update, context)
    if cipher is None:
        return
    current = await _load(context, profile)
    if current is not None:  # half-filled, perhaps before a restart: carry on
        step, data = current
        await _ask(update, context, cipher, step, data, note=referral_texts.continuing())
        return
    await _advance(update, context, profile, cipher, {"done": []})


async def on_referral_text(
    update: Update, context: BotContext, profile: Profile, text: str
) -> None:
    """A typed answer: the reference, a number of children, needs, dates or a note."""
    cipher = await _cipher(update, context)
    current = await _load(context, profile)
    if cipher is None or current is None:
        return
    step, data = current
    answer = _typed(step, text, data, cipher, _today(context))
    if isinstance(answer, str):
        await say(update, answer)
    elif answer is None:
        await _ask(update, context, cipher, step, data, note=referral_texts.use_buttons())
    else:
        await _advance(update, context, profile, cipher, answer)


def _typed(
    step: Step, text: str, data: dict[str, Any], cipher: Cipher, today: date
) -> dict[str, Any] | str | None:
    """The answers with this one added, what is wrong with it, or None: this step has buttons."""
    match step:
        case Step.REFERENCE:
            reference = referrals.clean_reference(text)
            if reference is None:
                return referral_texts.reference_invalid()
            if referrals.looks_like_a_name(reference):
                # Kept aside, not as the reference, until the contact says it is a code.
                return data | {"unconfirmed_reference": reference}
            return _answered(data, step, reference=reference, unconfirmed_reference=None)
        case Step.CHILDREN:
            count = text.strip()
            if not (count.isascii() and count.isdigit() and 1 <= int(count) <= MAX_CHILDREN):
                return referral_texts.children_invalid()
            return _answered(data, step, children=int(count), bands=[])
        case Step.NEEDS:
            needs = referrals.clean_free_text(text, NEEDS_MAX)
            if needs is None:
                return referral_texts.needs_invalid()
            return _answered(data, step, needs=cipher.seal(needs))
        case Step.DATES:
            span = parse_span(text, today=today)
            if span is None:
                return referral_texts.dates_invalid(MAX_PLAN_DAYS)
            return _answered(data, step, **_dates(data, *span))
        case Step.NOTE:
            note = referrals.clean_free_text(text, NOTE_MAX)
            if note is None:
                return referral_texts.note_invalid()
            return _answered(data, step, note=cipher.seal(note))
        case _:
            return None


def _dates(data: dict[str, Any], first: date, last: date) -> dict[str, Any]:
    """The dates, and the days chosen so far that fall between them (at first: Mon-Fri)."""
    present = _weekdays_between(first, last)
    kept = present & set(data.get("weekdays", ()))
    chosen = kept or (present & set(DEFAULT_WEEKDAYS)) or present
    return {"first": first.isoformat(), "last": last.isoformat(), "weekdays": sorted(chosen)}


# --- the buttons of each step ----------------------------------------------------------------


@button(ReferReferenceIsOurs, Role.SCHOOL_CONTACT)
async def refer_reference_is_ours(
    update: Update, context: BotContext, profile: Profile, _ours: ReferReferenceIsOurs
) -> None:
    form = await _at(update, context, profile, Step.REFERENCE)
    if form is None:
        return
    reference = form.data.get("unconfirmed_reference")
    if not isinstance(reference, str):  # an old button: ask for the reference again
        await _ask(update, context, form.cipher, Step.REFERENCE, form.data)
        return
    await _advance(
        update,
        context,
        profile,
        form.cipher,
        _answered(form.data, Step.REFERENCE, reference=reference, unconfirmed_reference=None),
    )


@button(ReferReferenceAgain, Role.SCHOOL_CONTACT)
async def refer_reference_again(
    update: Update, context: BotContext, profile: Profile, _again: ReferReferenceAgain
) -> None:
    form = await _at(update, context, profile, Step.REFERENCE)
    if form is not None:
        data = form.data | {"unconfirmed_reference": None}
        await _save(context, profile, Step.REFERENCE, data)
        await _ask(update, context, form.cipher, Step.REFERENCE, data)


@button(ReferChildren, Role.SCHOOL_CONTACT)
async def refer_children(
    update: Update, context: BotContext, profile: Profile, chosen: ReferChildren
) -> None:
    form = await _at(update, context, profile, Step.CHILDREN)
    if form is not None and 1 <= chosen.count <= MAX_CHILDREN:
        await _advance(
            update,
            context,
            profile,
            form.cipher,
            _answered(form.data, Step.CHILDREN, children=chosen.count, bands=[]),
        )


@button(ReferMoreChildren, Role.SCHOOL_CONTACT)
async def refer_more_children(
    update: Update, context: BotContext, profile: Profile, _more: ReferMoreChildren
) -> None:
    if await _at(update, context, profile, Step.CHILDREN) is not None:
        await show(update, referral_texts.ask_more_children())


@button(ReferBand, Role.SCHOOL_CONTACT)
async def refer_band(
    update: Update, context: BotContext, profile: Profile, chosen: ReferBand
) -> None:
    form = await _at(update, context, profile, Step.BANDS)
    if form is None:
        return
    bands = list(form.data["bands"])
    if chosen.child != len(bands) or not 0 <= chosen.band < len(referral_texts.AGE_BANDS):
        # A second tap for a child already answered: show the child being asked now.
        await _ask(update, context, form.cipher, Step.BANDS, form.data)
        return
    bands.append(referral_texts.AGE_BANDS[chosen.band])
    data = form.data | {"bands": bands}
    if len(bands) >= int(data["children"]):
        data = _answered(data, Step.BANDS)
    await _advance(update, context, profile, form.cipher, data)


@button(ReferNoNeeds, Role.SCHOOL_CONTACT)
async def refer_no_needs(
    update: Update, context: BotContext, profile: Profile, _none: ReferNoNeeds
) -> None:
    form = await _at(update, context, profile, Step.NEEDS)
    if form is not None:
        await _advance(
            update, context, profile, form.cipher, _answered(form.data, Step.NEEDS, needs=None)
        )


@button(ReferPlace, Role.SCHOOL_CONTACT)
async def refer_place(
    update: Update, context: BotContext, profile: Profile, chosen: ReferPlace
) -> None:
    form = await _at(update, context, profile, Step.PLACES)
    if form is None:
        return
    places = list(form.data.get("places", []))
    note = ""
    if chosen.location_id in places:
        places.remove(chosen.location_id)
    elif len(places) >= MAX_PREFERRED:
        note = referral_texts.too_many_places(MAX_PREFERRED)
    elif await _is_open(context, chosen.location_id):
        places.append(chosen.location_id)
    data = form.data | {"places": places}
    await _save(context, profile, Step.PLACES, data)
    await _ask(update, context, form.cipher, Step.PLACES, data, note=note, offset=chosen.offset)


@button(ReferPlacesPage, Role.SCHOOL_CONTACT)
async def refer_places_page(
    update: Update, context: BotContext, profile: Profile, page: ReferPlacesPage
) -> None:
    await _places_list(update, context, profile, choose.View(kind=PLACES_LIST, offset=page.offset))


@choose.listing(PLACES_LIST, Role.SCHOOL_CONTACT)
async def _places_list(
    update: Update, context: BotContext, profile: Profile, view: choose.View
) -> None:
    """The places step again: another page, or what a search found."""
    form = await _at(update, context, profile, Step.PLACES)
    if form is not None:
        await _ask(update, context, form.cipher, Step.PLACES, form.data, offset=view.offset)


@button(ReferPlacesDone, Role.SCHOOL_CONTACT)
async def refer_places_done(
    update: Update, context: BotContext, profile: Profile, _done: ReferPlacesDone
) -> None:
    form = await _at(update, context, profile, Step.PLACES)
    if form is not None:
        places = form.data.get("places", [])
        await _advance(
            update, context, profile, form.cipher, _answered(form.data, Step.PLACES, places=places)
        )


@button(ReferWeekday, Role.SCHOOL_CONTACT)
async def refer_weekday(
    update: Update, context: BotContext, profile: Profile, chosen: ReferWeekday
) -> None:
    form = await _at(update, context, profile, Step.DAYS)
    if form is None or not 0 <= chosen.weekday <= 6:
        return
    data = form.data | {"weekdays": sorted(set(form.data["weekdays"]) ^ {chosen.weekday})}
    await _save(context, profile, Step.DAYS, data)
    await _ask(update, context, form.cipher, Step.DAYS, data)


@button(ReferDaysDone, Role.SCHOOL_CONTACT)
async def refer_days_done(
    update: Update, context: BotContext, profile: Profile, _done: ReferDaysDone
) -> None:
    form = await _at(update, context, profile, Step.DAYS)
    if form is None:
        return
    first, last = date.fromisoformat(form.data["first"]), date.fromisoformat(form.data["last"])
    if not _weekdays_between(first, last) & set(form.data["weekdays"]):
        await _ask(
            update, context, form.cipher, Step.DAYS, form.data, note=referral_texts.no_days()
        )
        return
    await _advance(update, context, profile, form.cipher, _answered(form.data, Step.DAYS))


@button(ReferConsent, Role.SCHOOL_CONTACT)
async def refer_consent(
    update: Update, context: BotContext, profile: Profile, _agreed: ReferConsent
) -> None:
    form = await _at(update, context, profile, Step.CONSENT)
    if form is not None:
        await _advance(
            update, context, profile, form.cipher, _answered(form.data, Step.CONSENT, consent=True)
        )


@button(ReferNotYet, Role.SCHOOL_CONTACT)
async def refer_not_yet(
    update: Update, context: BotContext, profile: Profile, _not_yet: ReferNotYet
) -> None:
    if await _at(update, context, profile, Step.CONSENT) is not None:
        # The draft stays as it is, waiting at this step for when they agree.
        await show(update, referral_texts.consent_not_yet())


@button(ReferSkipNote, Role.SCHOOL_CONTACT)
async def refer_skip_note(
    update: Update, context: BotContext, profile: Profile, _skip: ReferSkipNote
) -> None:
    form = await _at(update, context, profile, Step.NOTE)
    if form is not None:
        await _advance(
            update, context, profile, form.cipher, _answered(form.data, Step.NOTE, note=None)
        )


# --- the review: edit, send or cancel --------------------------------------------------------


@button(ReferEdit, Role.SCHOOL_CONTACT)
async def refer_edit(
    update: Update, context: BotContext, profile: Profile, chosen: ReferEdit
) -> None:
    form = await _at(update, context, profile, Step.REVIEW)
    if form is None or chosen.step not in EDITS:
        return
    again = EDITS[chosen.step]
    data = form.data | {"done": [step for step in form.data["done"] if step not in again]}
    if chosen.step is Step.CHILDREN:
        data["bands"] = []
    # Once the part is answered again, nothing else is missing: the review comes back.
    await _advance(update, context, profile, form.cipher, data)


@button(ReferSend, Role.SCHOOL_CONTACT)
async def refer_send(
    update: Update, context: BotContext, profile: Profile, _send: ReferSend
) -> None:
    services = context.services
    cipher = await _cipher(update, context)
    if cipher is None:
        return
    draft = await drafts.load(services.db, telegram_id=profile.telegram_id, flow=REFERRAL_FLOW)
    if draft is None:
        await show(update, referral_texts.form_gone())
        return
    data = dict(draft.data)
    if "sent" in data:  # a double tap, or the update again: the same answer, nothing sent twice
        await show(update, referral_texts.received(data["sent"]["reference"]))
        return
    step = _step(draft.awaiting)
    if step is None:
        await show(update, referral_texts.form_gone())
        return
    if step is not Step.REVIEW or not data.get("consent"):
        note = "" if data.get("consent") else referral_texts.consent_needed()
        await _ask(update, context, cipher, step, data, note=note)
        return
    # Taking the draft away is the claim: of two taps handled at once (by two instances, say),
    # only one deletes the row, and only that one sends.
    if not await drafts.discard(services.db, telegram_id=profile.telegram_id, flow=REFERRAL_FLOW):
        return
    assert services.cipher is not None  # _cipher said so
    try:
        sent = await referrals.submit(
            services.db,
            services.cipher,
            telegram_id=profile.telegram_id,
            form=_form(data, cipher),
            now=services.now(),
            daily_limit=services.settings.referral_daily_limit,
        )
    except SubmitLimit:
        await _save(context, profile, Step.REVIEW, data)
        await say(update, referral_texts.limit_reached(services.settings.referral_daily_limit))
        return
    except Exception:
        await _save(context, profile, Step.REVIEW, data)  # nothing sent: the form is kept
        raise
    # Kept, finished and holding no details, so that a second tap repeats the answer.
    await drafts.save(
        services.db,
        telegram_id=profile.telegram_id,
        flow=REFERRAL_FLOW,
        awaiting=None,
        data={"sent": {"reference": sent.reference}},
        now=services.now(),
        finished=True,
    )
    await show(update, referral_texts.received(sent.reference))


# --- /myreferrals ----------------------------------------------------------------------------


@command(Role.SCHOOL_CONTACT)
async def my_referrals_command(update: Update, context: BotContext, profile: Profile) -> None:
    await _my_referrals(update, context, profile, 0)


@button(MyReferralsPage, Role.SCHOOL_CONTACT)
async def my_referrals_page(
    update: Update, context: BotContext, profile: Profile, page: MyReferralsPage
) -> None:
    await _my_referrals(update, context, profile, page.offset)


async def _my_referrals(update: Update, context: BotContext, profile: Profile, offset: int) -> None:
    # One more than the page shows: whether there is a next page.
    found = await referrals.for_school(
        context.services.db,
        telegram_id=profile.telegram_id,
        limit=offset + REFERRALS_PER_PAGE + 1,
    )
    if offset >= len(found):  # an old page button: fewer referrals now
        offset = 0
    page = found[offset : offset + REFERRALS_PER_PAGE]
    rows: list[Row] = [
        [
            (
                referral_texts.referral_button(s),
                OpenReferral(referral_id=s.referral_id, offset=offset),
            )
        ]
        for s in page
    ]
    rows.append(
        pager(offset, len(found), REFERRALS_PER_PAGE, lambda offset: MyReferralsPage(offset=offset))
    )
    more = len(found) > offset + REFERRALS_PER_PAGE
    await show(update, referral_texts.my_referrals(page, offset, more), keyboard(*rows))


@button(OpenReferral, Role.SCHOOL_CONTACT)
async def open_referral(
    update: Update, context: BotContext, profile: Profile, opened: OpenReferral
) -> None:
    services = context.services
    cipher = services.cipher
    if cipher is None:
        await say(update, referral_texts.switched_off())
        return
    # Storage checks that it is the contact's own school's (NotYours otherwise, answered and
    # audited in handlers/errors.py), and audits the read.
    found = await referrals.detail(
        services.db,
        cipher,
        telegram_id=profile.telegram_id,
        referral_id=opened.referral_id,
        now=services.now(),
    )
    back = keyboard([("« My referrals", MyReferralsPage(offset=opened.offset))])
    message = await show(update, referral_texts.referral_card(found), back)
    if message is not None:  # edited at purge to remove the details
        await referrals.shown(
            services.db,
            chat_id=message.chat.id,
            message_id=message.message_id,
            referral_ids=[opened.referral_id],
            now=services.now(),
        )


# --- asking a step ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Draft:
    data: dict[str, Any]
    cipher: Cipher


async def _advance(
    update: Update,
    context: BotContext,
    profile: Profile,
    cipher: Cipher,
    data: dict[str, Any],
    note: str = "",
) -> None:
    """Save the answers, then ask the first part not answered yet (the review when none is)."""
    step = _next(data)
    if step is Step.PLACES and not await _any_open(context):
        data = _answered(data, Step.PLACES, places=[])  # nothing to choose from: any will do
        step = _next(data)
    await _save(context, profile, step, data)
    # The places are a list found by typing: asked anew, it starts without a search.
    await _ask(update, context, cipher, step, data, note=note, fresh=step is Step.PLACES)


async def _ask(
    update: Update,
    context: BotContext,
    cipher: Cipher,
    step: Step,
    data: dict[str, Any],
    *,
    note: str = "",
    offset: int = 0,
    fresh: bool = False,
) -> None:
    markup: InlineKeyboardMarkup | None = None
    match step:
        case Step.REFERENCE if data.get("unconfirmed_reference"):
            text = referral_texts.confirm_reference(str(data["unconfirmed_reference"]))
            markup = keyboard(
                [(referral_texts.REFERENCE_IS_OURS, ReferReferenceIsOurs())],
                [(referral_texts.REFERENCE_AGAIN, ReferReferenceAgain())],
            )
        case Step.REFERENCE:
            text = referral_texts.ask_reference()
        case Step.CHILDREN:
            text = referral_texts.ask_children(data["reference"])
            markup = _children_keyboard()
        case Step.BANDS:
            bands = list(data["bands"])
            text = referral_texts.ask_band(len(bands), int(data["children"]), bands)
            markup = _bands_keyboard(len(bands))
        case Step.NEEDS:
            text = referral_texts.ask_needs()
            markup = keyboard([("None", ReferNoNeeds())])
        case Step.PLACES:
            view = choose.View(kind=PLACES_LIST, offset=offset, fresh=fresh)
            text, markup = await _places(update, context, data, view)
        case Step.DATES:
            text = referral_texts.ask_dates()
        case Step.DAYS:
            first, last = date.fromisoformat(data["first"]), date.fromisoformat(data["last"])
            text = referral_texts.ask_days(first, last)
            markup = _days_keyboard(data["weekdays"])
        case Step.CONSENT:
            text = referral_texts.ask_consent()
            markup = keyboard(
                [(referral_texts.AGREED, ReferConsent())], [("Not yet", ReferNotYet())]
            )
        case Step.NOTE:
            text = referral_texts.ask_note()
            markup = keyboard([("Skip", ReferSkipNote())])
        case Step.REVIEW:
            names = [loc.name for loc in await _named(context, data["places"])]
            text = referral_texts.review(_form(data, cipher), names)
            markup = _review_keyboard()
    # Every step has the form's own Cancel button, under the step's own.
    await show(update, text, flows.with_cancel(markup, REFERRAL_FLOW), note=note)


def _children_keyboard() -> InlineKeyboardMarkup:
    counts = [(str(n), ReferChildren(count=n)) for n in range(1, CHILD_BUTTONS + 1)]
    return keyboard(counts[:3], counts[3:], [("More", ReferMoreChildren())])


def _bands_keyboard(child: int) -> InlineKeyboardMarkup:
    bands = [
        (label, ReferBand(child=child, band=n)) for n, label in enumerate(referral_texts.AGE_BANDS)
    ]
    return keyboard(bands[:2], bands[2:5], bands[5:8], bands[8:])


async def _places(
    update: Update, context: BotContext, data: dict[str, Any], view: choose.View
) -> tuple[str, InlineKeyboardMarkup]:
    """The lunch clubs to choose from, a page at a time and found by typing, two a row."""
    user = update.effective_user
    search = await choose.search_for(context, user.id, view) if user is not None else ""
    found = await locations.find(
        context.services.db, search=search, offset=view.offset, limit=choose.PER_PAGE
    )
    chosen = set(data.get("places", []))
    toggles = [
        (
            choose_texts.label(loc.name, "✓ " if loc.location_id in chosen else ""),
            ReferPlace(location_id=loc.location_id, offset=found.offset),
        )
        for loc in found.shown
    ]
    items: list[Row] = [toggles[n : n + 2] for n in range(0, len(toggles), 2)]
    rows = choose.rows(
        found, items, lambda offset: ReferPlacesPage(offset=offset), search, view.kind
    )
    rows.append([(texts.CONTINUE, ReferPlacesDone())])
    names = [loc.name for loc in await _named(context, list(chosen))]
    text = choose_texts.with_status(
        referral_texts.ask_places(names, MAX_PREFERRED), found, search, choose.PER_PAGE
    )
    return text, keyboard(*rows)


def _days_keyboard(weekdays: list[int]) -> InlineKeyboardMarkup:
    chosen = set(weekdays)
    rows: list[Row] = [
        [
            (("✓ " if day in chosen else "") + WEEKDAYS[day], ReferWeekday(weekday=day))
            for day in days
        ]
        for days in ((0, 1, 2, 3), (4, 5, 6))
    ]
    rows.append([(texts.CONTINUE, ReferDaysDone())])
    return keyboard(*rows)


def _review_keyboard() -> InlineKeyboardMarkup:
    def edit(label: str, step: Step) -> tuple[str, object]:
        return (f"✏️ {label}", ReferEdit(step=step))

    return keyboard(
        [edit("Reference", Step.REFERENCE), edit("Children", Step.CHILDREN)],
        [edit("Needs", Step.NEEDS), edit("Locations", Step.PLACES)],
        [edit("Dates", Step.DATES), edit("Note", Step.NOTE)],
        [(referral_texts.SEND, ReferSend())],
    )


# --- the form's draft ------------------------------------------------------------------------


async def _cipher(update: Update, context: BotContext) -> Cipher | None:
    """What seals the form's answers (its data key); without a programme key, referrals are
    switched off and nothing is stored."""
    services, user = context.services, update.effective_user
    if services.cipher is None or user is None:
        await say(update, referral_texts.switched_off())
        return None
    return await referrals.form_cipher(
        services.db, services.cipher, telegram_id=user.id, now=services.now()
    )


async def _load(context: BotContext, profile: Profile) -> tuple[Step, dict[str, Any]] | None:
    """The step the form is at and its answers, if a form is being filled in."""
    draft = await drafts.load(
        context.services.db, telegram_id=profile.telegram_id, flow=REFERRAL_FLOW
    )
    step = _step(draft.awaiting) if draft is not None else None
    if draft is None or step is None:
        return None
    return step, dict(draft.data)


async def _at(update: Update, context: BotContext, profile: Profile, step: Step) -> _Draft | None:
    """The form, if it is at `step`. Otherwise (an old button, a doubled tap) the step it is
    at is shown again, and nothing changes."""
    cipher = await _cipher(update, context)
    if cipher is None:
        return None
    current = await _load(context, profile)
    if current is None:
        await show(update, referral_texts.form_gone())
        return None
    at, data = current
    if at is not step:
        await _ask(update, context, cipher, at, data)
        return None
    return _Draft(data=data, cipher=cipher)


async def _save(
    context: BotContext, profile: Profile, step: Step | None, data: dict[str, Any]
) -> None:
    services = context.services
    await drafts.save(
        services.db,
        telegram_id=profile.telegram_id,
        flow=REFERRAL_FLOW,
        awaiting=step.value if step is not None else None,
        data=data,
        now=services.now(),
    )


def _step(awaiting: str | None) -> Step | None:
    try:
        return Step(awaiting) if awaiting is not None else None
    except ValueError:  # a draft from an older version of the form
        return None


def _next(data: dict[str, Any]) -> Step:
    done = set(data.get("done", ()))
    return next((step for step in ORDER if step.value not in done), Step.REVIEW)


def _answered(data: dict[str, Any], step: Step, **answers: Any) -> dict[str, Any]:
    done = list(data.get("done", []))
    if step.value not in done:
        done.append(step.value)
    return data | answers | {"done": done}


def _form(data: dict[str, Any], cipher: Cipher) -> ReferralForm:
    return ReferralForm(
        reference=str(data["reference"]),
        children=int(data["children"]),
        age_bands=tuple(str(band) for band in data["bands"]),
        needs=cipher.open(data.get("needs")),
        note=cipher.open(data.get("note")),
        preferred_location_ids=tuple(int(i) for i in data["places"]),
        first_day=date.fromisoformat(data["first"]),
        last_day=date.fromisoformat(data["last"]),
        weekdays=tuple(int(day) for day in data["weekdays"]),
        consent=bool(data.get("consent")),
    )


def _weekdays_between(first: date, last: date) -> set[int]:
    """The weekdays that occur from `first` to `last` (all seven after a week)."""
    return {(first + timedelta(days=n)).weekday() for n in range(min((last - first).days, 6) + 1)}


def _today(context: BotContext) -> date:
    services = context.services
    return services.now().astimezone(services.settings.timezone).date()


async def _any_open(context: BotContext) -> bool:
    found = await locations.find(context.services.db, search="", offset=0, limit=0)
    return found.matching > 0


async def _is_open(context: BotContext, location_id: int) -> bool:
    location = await locations.get(context.services.db, location_id)
    return location is not None and not location.archived


async def _named(context: BotContext, location_ids: list[int]) -> list[locations.LocationInfo]:
    # The review names what was chosen, even a location archived since.
    return await locations.some(context.services.db, [int(i) for i in location_ids])
