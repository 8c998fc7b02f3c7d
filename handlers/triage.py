"""Coordinators decide referrals (/referrals): open one (the read is audited), place it at a
location with room, put it on the waiting list, or decline it with a reason; export a school's
or a location's referrals. Site leads see the day's register of placed families (/register)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from telegram import InputFile, Message, Update

from handlers import callbacks, choose, choose_texts, flows, texts, triage_texts
from handlers.common import Row, button, command, keyboard, pager, say, show
from handlers.context import BotContext
from handlers.planning import parse_span
from storage import drafts, locations, referrals
from storage.choosing import Page, clamp
from storage.crypto import Cipher
from storage.models import ReferralStatus, Role
from storage.people import Profile
from storage.referrals import Decision, DecisionOutcome

PER_PAGE = 8
PLACING_LIST = "placing"  # where to place a referral (handlers/choose.py)
REGISTER_LIST = "register"  # whose register
DECLINE_FLOW = "referral_decline"
DATES_FLOW = "referral_dates"


@callbacks.action("tl")
@dataclass(frozen=True)
class ReferralList:
    status: ReferralStatus
    offset: int


@callbacks.action("to")
@dataclass(frozen=True)
class OpenReferral:
    referral_id: int


@callbacks.action("tp")
@dataclass(frozen=True)
class ChoosePlace:
    """Placing starts (from the referral's card); its pages are PlacePage."""

    referral_id: int
    version: int
    offset: int = 0  # unused now; kept so that cards already sent still open placing


@callbacks.action("tg")
@dataclass(frozen=True)
class PlacePage:
    """Another page of locations, or back to them from a location's days, while placing."""

    referral_id: int
    version: int
    offset: int = 0


@callbacks.action("ta")
@dataclass(frozen=True)
class PlaceAt:
    referral_id: int
    version: int
    location_id: int


@callbacks.action("tc")
@dataclass(frozen=True)
class ConfirmPlace:
    referral_id: int
    version: int
    location_id: int
    first: int  # YYYYMMDD: the dates whose days were shown
    last: int


@callbacks.action("tb")
@dataclass(frozen=True)
class OtherDates:
    referral_id: int
    version: int
    location_id: int


@callbacks.action("tw")
@dataclass(frozen=True)
class Waitlist:
    referral_id: int
    version: int


@callbacks.action("td")
@dataclass(frozen=True)
class Decline:
    referral_id: int
    version: int


@callbacks.action("tx")
@dataclass(frozen=True)
class ExportSchool:
    referral_id: int


@callbacks.action("ty")
@dataclass(frozen=True)
class ExportLocation:
    referral_id: int


@callbacks.action("rz")
@dataclass(frozen=True)
class RegisterPlaces:
    """A page of the locations whose register can be opened."""

    offset: int


@callbacks.action("tr")
@dataclass(frozen=True)
class MarkFamily:
    location_id: int
    referral_id: int
    day: int  # YYYYMMDD
    attended: bool
    page: int = 0  # the page of the register it was on (0 with referral_id 0: open page 1)


# --- the list and the card -------------------------------------------------------------------


@command(Role.COORDINATOR)
async def referrals_command(update: Update, context: BotContext, profile: Profile) -> None:
    await _list(update, context, profile, ReferralStatus.SUBMITTED, 0)


@button(ReferralList, Role.COORDINATOR)
async def referral_list(
    update: Update, context: BotContext, profile: Profile, chosen: ReferralList
) -> None:
    await _list(update, context, profile, chosen.status, chosen.offset)


async def _list(
    update: Update, context: BotContext, profile: Profile, status: ReferralStatus, offset: int
) -> None:
    db = context.services.db
    shown, total = await referrals.listed(
        db, telegram_id=profile.telegram_id, status=status, offset=offset, limit=PER_PAGE
    )
    counts = {
        s: (
            await referrals.listed(db, telegram_id=profile.telegram_id, status=s, offset=0, limit=0)
        )[1]
        for s in ReferralStatus
    }
    tabs = [
        (triage_texts.tab_label(s, counts[s], status), ReferralList(status=s, offset=0))
        for s in ReferralStatus
    ]
    rows: list[Row] = [tabs[:2], tabs[2:]]
    rows += [
        [(triage_texts.button_label(s), OpenReferral(referral_id=s.referral_id))] for s in shown
    ]
    rows.append(
        pager(offset, total, PER_PAGE, lambda offset: ReferralList(status=status, offset=offset))
    )
    await show(update, triage_texts.listing(status, shown, total, offset), keyboard(*rows))


@button(OpenReferral, Role.COORDINATOR)
async def open_referral(
    update: Update, context: BotContext, profile: Profile, opened: OpenReferral
) -> None:
    await _card(update, context, profile, opened.referral_id)


async def _card(
    update: Update, context: BotContext, profile: Profile, referral_id: int, note: str = ""
) -> None:
    detail = await _detail(update, context, profile, referral_id)
    if detail is None:
        return
    s = detail.summary
    rows: list[Row] = []
    if not s.purged:
        place = "📍 Change placement" if s.status is ReferralStatus.PLACED else "📍 Place"
        decide: list[tuple[str, object]] = [
            (place, ChoosePlace(referral_id=s.referral_id, version=s.version))
        ]
        if s.status is not ReferralStatus.WAITLISTED:
            decide.append(
                ("⏳ Waiting list", Waitlist(referral_id=s.referral_id, version=s.version))
            )
        rows.append(decide)
        if s.status is not ReferralStatus.DECLINED:
            rows.append([("✖ Can't place", Decline(referral_id=s.referral_id, version=s.version))])
    exports: list[tuple[str, object]] = [
        ("📄 School's CSV", ExportSchool(referral_id=s.referral_id))
    ]
    if s.location_id is not None:
        exports.append(("📄 Location's CSV", ExportLocation(referral_id=s.referral_id)))
    rows.append(exports)
    rows.append([("« Referrals", ReferralList(status=s.status, offset=0))])
    message = await show(update, triage_texts.card(detail), keyboard(*rows), note=note)
    await _showed(context, message, [s.referral_id])


# --- deciding --------------------------------------------------------------------------------


@button(ChoosePlace, Role.COORDINATOR)
async def choose_place(
    update: Update, context: BotContext, profile: Profile, chosen: ChoosePlace
) -> None:
    """Placing starts: a form from here to the placement (where, which days), so /cancel or
    its Cancel ends it at any step and a button of a placing since closed changes nothing."""
    if await _detail(update, context, profile, chosen.referral_id) is None:
        return
    await flows.begin(context, profile.telegram_id, DATES_FLOW, _placing(chosen.referral_id))
    view = _placing_view(chosen.referral_id, chosen.version, 0)
    await _locations_page(update, context, profile, choose.View(**view, fresh=True))


@button(PlacePage, Role.COORDINATOR)
async def place_page(
    update: Update, context: BotContext, profile: Profile, chosen: PlacePage
) -> None:
    view = _placing_view(chosen.referral_id, chosen.version, chosen.offset)
    await _locations_page(update, context, profile, choose.View(**view))


def _placing(referral_id: int) -> dict[str, object]:
    return {"referral_id": referral_id}


def _placing_view(referral_id: int, version: int, offset: int) -> dict[str, Any]:
    args = {"referral_id": referral_id, "version": version}
    return {"kind": PLACING_LIST, "args": args, "offset": offset}


async def _still_placing(
    update: Update, context: BotContext, profile: Profile, referral_id: int
) -> bool:
    draft = await flows.still_open(
        update, context, profile.telegram_id, DATES_FLOW, _placing(referral_id)
    )
    return draft is not None


@choose.listing(PLACING_LIST, Role.COORDINATOR)
async def _locations_page(
    update: Update, context: BotContext, profile: Profile, view: choose.View
) -> None:
    """Where to place: the locations with days free first (the school's choices first among
    them), then the rest, a page at a time; the search is the database's."""
    referral_id, version = int(view.args["referral_id"]), int(view.args["version"])
    if not await _still_placing(update, context, profile, referral_id):
        return
    detail = await _detail(update, context, profile, referral_id)
    if detail is None:
        return
    search = await choose.search_for(context, profile.telegram_id, view)
    services = context.services
    s = detail.summary
    found = await referrals.options(
        services.db,
        telegram_id=profile.telegram_id,
        referral_id=referral_id,
        first_day=s.first_day,
        last_day=s.last_day,
        tz=services.settings.timezone,
        now=services.now(),
        search=search,
    )
    ordered = sorted(found, key=lambda option: (not option.open_days, not option.asked_for))
    offset = clamp(view.offset, len(ordered), choose.PER_PAGE)
    page = Page(
        shown=ordered[offset : offset + choose.PER_PAGE], matching=len(ordered), offset=offset
    )
    items: list[Row] = [
        [
            (
                triage_texts.location_label(option),
                PlaceAt(referral_id=referral_id, version=version, location_id=option.location_id),
            )
        ]
        for option in page.shown
    ]
    rows = choose.rows(
        page,
        items,
        lambda offset: PlacePage(referral_id=referral_id, version=version, offset=offset),
        search,
        view.kind,
    )
    rows.append([("« Back", OpenReferral(referral_id=referral_id))])
    text = choose_texts.with_status(triage_texts.choose_location(s), page, search, choose.PER_PAGE)
    await choose.present(update, view, text, flows.cancel_keyboard(DATES_FLOW, *rows))


@button(PlaceAt, Role.COORDINATOR)
async def place_at(update: Update, context: BotContext, profile: Profile, chosen: PlaceAt) -> None:
    if not await _still_placing(update, context, profile, chosen.referral_id):
        return
    detail = await _detail(update, context, profile, chosen.referral_id)
    if detail is None:
        return
    await choose.leave(context, profile.telegram_id)
    s = detail.summary
    await _offer(
        update,
        context,
        profile,
        chosen.referral_id,
        chosen.version,
        chosen.location_id,
        s.first_day,
        s.last_day,
        typed=False,
    )


async def _offer(
    update: Update,
    context: BotContext,
    profile: Profile,
    referral_id: int,
    version: int,
    location_id: int,
    first: date,
    last: date,
    *,
    typed: bool,
) -> None:
    """The days asked for at one location, and a button to place on those with a lunch and
    room (and only those)."""
    services = context.services
    summary = await referrals.summary(services.db, referral_id)
    found = await referrals.options(
        services.db,
        telegram_id=profile.telegram_id,
        referral_id=referral_id,
        first_day=first,
        last_day=last,
        tz=services.settings.timezone,
        now=services.now(),
        location_id=location_id,
    )
    if summary is None or not found:  # the location was archived meanwhile
        await show(update, texts.stale_button())
        return
    option = found[0]
    rows: list[Row] = []
    if option.open_days:
        rows.append(
            [
                (
                    triage_texts.place_button(len(option.open_days)),
                    ConfirmPlace(
                        referral_id=referral_id,
                        version=version,
                        location_id=location_id,
                        first=_code(first),
                        last=_code(last),
                    ),
                )
            ]
        )
    rows.append(
        [
            (
                "📅 Other dates",
                OtherDates(referral_id=referral_id, version=version, location_id=location_id),
            ),
            ("« Back", PlacePage(referral_id=referral_id, version=version)),
        ]
    )
    text = triage_texts.confirm_place(summary, option)
    if typed:  # an answer to typed dates: a new message
        await say(update, text, flows.cancel_keyboard(DATES_FLOW, *rows))
    else:
        await show(update, text, flows.cancel_keyboard(DATES_FLOW, *rows))


@button(ConfirmPlace, Role.COORDINATOR)
async def confirm_place(
    update: Update, context: BotContext, profile: Profile, chosen: ConfirmPlace
) -> None:
    if not await _still_placing(update, context, profile, chosen.referral_id):
        return
    detail = await _detail(update, context, profile, chosen.referral_id)
    first, last = _day(chosen.first), _day(chosen.last)
    if detail is None:
        return
    if first is None or last is None:
        await show(update, texts.stale_button())
        return
    services = context.services
    await flows.finish(context, profile.telegram_id, DATES_FLOW)
    outcome = await referrals.place(
        services.db,
        telegram_id=profile.telegram_id,
        referral_id=chosen.referral_id,
        version=chosen.version,
        location_id=chosen.location_id,
        first_day=first,
        last_day=last,
        weekdays=detail.summary.weekdays,
        tz=services.settings.timezone,
        now=services.now(),
    )
    location = await locations.get(services.db, chosen.location_id)
    await _decided(
        update,
        context,
        profile,
        chosen.referral_id,
        outcome,
        triage_texts.placed(outcome.summary, outcome.skipped_days, outcome.full_days),
        location.name if location else "?",
    )


@button(OtherDates, Role.COORDINATOR)
async def other_dates(
    update: Update, context: BotContext, profile: Profile, chosen: OtherDates
) -> None:
    if not await _still_placing(update, context, profile, chosen.referral_id):
        return
    await flows.wait_for_text(
        context,
        profile.telegram_id,
        DATES_FLOW,
        "dates",
        {
            "referral_id": chosen.referral_id,
            "version": chosen.version,
            "location_id": chosen.location_id,
        },
    )
    await say(update, triage_texts.ask_dates(), flows.cancel_keyboard(DATES_FLOW))


async def on_dates_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    services = context.services
    draft = await drafts.load(services.db, telegram_id=profile.telegram_id, flow=DATES_FLOW)
    if draft is None:
        return
    today = services.now().astimezone(services.settings.timezone).date()
    dates = parse_span(text, today=today)
    if dates is None:
        await say(update, triage_texts.dates_invalid())
        return
    referral_id = int(draft.data["referral_id"])
    # Still placing: the days are shown next, to be placed on or changed again.
    await flows.begin(context, profile.telegram_id, DATES_FLOW, _placing(referral_id))
    await _offer(
        update,
        context,
        profile,
        referral_id,
        int(draft.data["version"]),
        int(draft.data["location_id"]),
        dates[0],
        dates[1],
        typed=True,
    )


@button(Waitlist, Role.COORDINATOR)
async def waitlist(update: Update, context: BotContext, profile: Profile, chosen: Waitlist) -> None:
    services = context.services
    outcome = await referrals.waitlist(
        services.db,
        telegram_id=profile.telegram_id,
        referral_id=chosen.referral_id,
        version=chosen.version,
        now=services.now(),
    )
    await _decided(update, context, profile, chosen.referral_id, outcome, triage_texts.waitlisted())


@button(Decline, Role.COORDINATOR)
async def decline(update: Update, context: BotContext, profile: Profile, chosen: Decline) -> None:
    await flows.wait_for_text(
        context,
        profile.telegram_id,
        DECLINE_FLOW,
        "reason",
        {"referral_id": chosen.referral_id, "version": chosen.version},
    )
    await say(update, triage_texts.ask_reason(), flows.cancel_keyboard(DECLINE_FLOW))


async def on_reason_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    cipher = _cipher(context)
    services = context.services
    draft = await drafts.load(services.db, telegram_id=profile.telegram_id, flow=DECLINE_FLOW)
    reason = referrals.clean_free_text(text, referrals.REASON_MAX)
    if draft is None or cipher is None:
        return
    if reason is None:
        await say(update, triage_texts.reason_invalid(referrals.REASON_MAX))
        return
    referral_id = int(draft.data["referral_id"])
    outcome = await referrals.decline(
        services.db,
        cipher,
        telegram_id=profile.telegram_id,
        referral_id=referral_id,
        version=int(draft.data["version"]),
        reason=reason,
        now=services.now(),
    )
    await flows.finish(context, profile.telegram_id, DECLINE_FLOW)
    await _decided(update, context, profile, referral_id, outcome, triage_texts.declined())


async def _decided(
    update: Update,
    context: BotContext,
    profile: Profile,
    referral_id: int,
    outcome: DecisionOutcome,
    done: str,
    location: str = "",
) -> None:
    note = {
        Decision.DONE: done,
        Decision.STALE: triage_texts.stale(),
        Decision.FULL: triage_texts.full(location, outcome.full_days),
        Decision.NO_DAYS: triage_texts.no_days(),
        Decision.NO_SESSIONS: triage_texts.no_sessions(location),
    }[outcome.decision]
    await _card(update, context, profile, referral_id, note)


@button(ExportSchool, Role.COORDINATOR)
async def export_school(
    update: Update, context: BotContext, profile: Profile, chosen: ExportSchool
) -> None:
    await _export(update, context, profile, chosen.referral_id, by_school=True)


@button(ExportLocation, Role.COORDINATOR)
async def export_location(
    update: Update, context: BotContext, profile: Profile, chosen: ExportLocation
) -> None:
    await _export(update, context, profile, chosen.referral_id, by_school=False)


async def _export(
    update: Update, context: BotContext, profile: Profile, referral_id: int, *, by_school: bool
) -> None:
    """The referrals of this one's school, or of the location it is placed at, as CSV."""
    cipher = _cipher(context)
    chat = update.effective_chat
    if cipher is None or chat is None:
        await say(update, triage_texts.no_cipher())
        return
    services = context.services
    summary = await referrals.summary(services.db, referral_id)
    if summary is None or (not by_school and summary.location_id is None):
        await say(update, texts.stale_button())
        return
    exported = await referrals.export_csv(
        services.db,
        cipher,
        telegram_id=profile.telegram_id,
        now=services.now(),
        school_id=summary.school_id if by_school else None,
        location_id=None if by_school else summary.location_id,
    )
    named = summary.school_name if by_school else summary.location_name or "location"
    name = "".join(ch if ch.isalnum() else "-" for ch in named).strip("-")
    await chat.send_document(
        InputFile(exported.data, filename=f"referrals-{name}.csv"),
        caption=triage_texts.export_caption(exported.rows),
    )


# --- the register ----------------------------------------------------------------------------


@command(Role.COORDINATOR)
async def register_command(update: Update, context: BotContext, profile: Profile) -> None:
    """Where to open today's register: straight to the one location a site lead runs, or a
    page of the person's locations at a time (a programme coordinator may run hundreds)."""
    services = context.services
    first = await locations.find(
        services.db, actor_telegram_id=profile.telegram_id, search="", offset=0, limit=1
    )
    if first.matching == 1:
        await _register(update, context, profile, first.shown[0].location_id, _today(context))
        return
    await _register_places(update, context, profile, choose.View(kind=REGISTER_LIST, fresh=True))


@button(RegisterPlaces, Role.COORDINATOR)
async def register_places(
    update: Update, context: BotContext, profile: Profile, chosen: RegisterPlaces
) -> None:
    view = choose.View(kind=REGISTER_LIST, offset=chosen.offset)
    await _register_places(update, context, profile, view)


@choose.listing(REGISTER_LIST, Role.COORDINATOR)
async def _register_places(
    update: Update, context: BotContext, profile: Profile, view: choose.View
) -> None:
    search = await choose.search_for(context, profile.telegram_id, view)
    found = await locations.find(
        context.services.db,
        actor_telegram_id=profile.telegram_id,
        search=search,
        offset=view.offset,
        limit=choose.PER_PAGE,
    )
    today = _code(_today(context))
    items: list[Row] = [
        [
            (
                choose_texts.label(loc.name),
                MarkFamily(location_id=loc.location_id, referral_id=0, day=today, attended=False),
            )
        ]
        for loc in found.shown
    ]
    rows = choose.rows(
        found, items, lambda offset: RegisterPlaces(offset=offset), search, view.kind
    )
    text = choose_texts.with_status(
        triage_texts.choose_register_location(), found, search, choose.PER_PAGE
    )
    await choose.present(update, view, text, keyboard(*rows))


def _today(context: BotContext) -> date:
    services = context.services
    return services.now().astimezone(services.settings.timezone).date()


@button(MarkFamily, Role.COORDINATOR)
async def mark_family(
    update: Update, context: BotContext, profile: Profile, chosen: MarkFamily
) -> None:
    day = _day(chosen.day)
    if day is None:
        await show(update, texts.stale_button())
        return
    if not chosen.referral_id:  # 0: just open the register (from the list of locations)
        await choose.leave(context, profile.telegram_id)
    else:
        services = context.services
        await referrals.mark_family(
            services.db,
            telegram_id=profile.telegram_id,
            referral_id=chosen.referral_id,
            day=day,
            attended=chosen.attended,
            now=services.now(),
        )
    await _register(update, context, profile, chosen.location_id, day, chosen.page)


async def _register(
    update: Update,
    context: BotContext,
    profile: Profile,
    location_id: int,
    day: date,
    page: int = 0,
) -> None:
    """The register a page at a time: every need in full, a button for each family shown."""
    cipher = _cipher(context)
    if cipher is None:
        await show(update, triage_texts.no_cipher())
        return
    services = context.services
    location = await locations.managed(
        services.db, actor_telegram_id=profile.telegram_id, location_id=location_id
    )
    entries = await referrals.register(
        services.db,
        cipher,
        telegram_id=profile.telegram_id,
        location_id=location_id,
        day=day,
        now=services.now(),
    )
    pages = triage_texts.register_pages(entries)
    page = min(max(page, 0), max(len(pages) - 1, 0))
    shown = pages[page] if pages else []
    rows: list[Row] = [
        [
            (
                ("✅ " if e.attended else "") + e.reference,
                MarkFamily(
                    location_id=location_id,
                    referral_id=e.referral_id,
                    day=_code(day),
                    attended=not e.attended,
                    page=page,
                ),
            )
        ]
        for e in shown
    ]
    rows.append(
        pager(
            page,
            len(pages),
            1,
            lambda offset: MarkFamily(
                location_id=location_id,
                referral_id=0,
                day=_code(day),
                attended=False,
                page=offset,
            ),
        )
    )
    message = await show(
        update,
        triage_texts.register(location.name, day, entries, shown, page, len(pages)),
        keyboard(*rows),
    )
    await _showed(context, message, [e.referral_id for e in shown])


def _code(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def _day(code: int) -> date | None:
    try:
        return date(code // 10_000, code // 100 % 100, code % 100)
    except ValueError:
        return None


async def _detail(
    update: Update, context: BotContext, profile: Profile, referral_id: int
) -> referrals.ReferralDetail | None:
    """The referral for the coordinator (the read is audited), or None after saying that
    referrals are switched off."""
    cipher = _cipher(context)
    if cipher is None:
        await show(update, triage_texts.no_cipher())
        return None
    services = context.services
    return await referrals.detail(
        services.db,
        cipher,
        telegram_id=profile.telegram_id,
        referral_id=referral_id,
        now=services.now(),
    )


async def _showed(context: BotContext, message: Message | None, referral_ids: list[int]) -> None:
    """Remember a message that shows referrals' details, to edit them out at purge."""
    if message is not None and referral_ids:
        services = context.services
        await referrals.shown(
            services.db,
            chat_id=message.chat.id,
            message_id=message.message_id,
            referral_ids=referral_ids,
            now=services.now(),
        )


def _cipher(context: BotContext) -> Cipher | None:
    return context.services.cipher
