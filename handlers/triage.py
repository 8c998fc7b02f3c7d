"""Coordinators decide referrals (/referrals): open one (the read is audited), place it at a
location with room, put it on the waiting list, or decline it with a reason; export a school's
or a location's referrals. Site leads see the day's register of placed families (/register)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from telegram import InputFile, Update

from handlers import callbacks, flows, texts, triage_texts
from handlers.common import Row, button, command, keyboard, pager, say, show
from handlers.context import BotContext
from handlers.planning import parse_span
from storage import drafts, locations, referrals
from storage.crypto import Cipher
from storage.models import ReferralStatus, Role
from storage.people import Profile
from storage.referrals import Decision, DecisionOutcome

PER_PAGE = 8
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
    referral_id: int
    version: int


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


@callbacks.action("tr")
@dataclass(frozen=True)
class MarkFamily:
    location_id: int
    referral_id: int
    day: int  # YYYYMMDD
    attended: bool


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
    await show(update, triage_texts.card(detail), keyboard(*rows), note=note)


# --- deciding --------------------------------------------------------------------------------


@button(ChoosePlace, Role.COORDINATOR)
async def choose_place(
    update: Update, context: BotContext, profile: Profile, chosen: ChoosePlace
) -> None:
    detail = await _detail(update, context, profile, chosen.referral_id)
    if detail is None:
        return
    services = context.services
    open_locations = await locations.listed(services.db)
    asked = set(detail.preferred_ids)
    ordered = sorted(open_locations, key=lambda loc: (loc.location_id not in asked, loc.name))
    rows: list[Row] = [
        [
            (
                ("★ " if loc.location_id in asked else "") + loc.name,
                PlaceAt(
                    referral_id=chosen.referral_id,
                    version=chosen.version,
                    location_id=loc.location_id,
                ),
            )
        ]
        for loc in ordered
    ]
    rows.append([("« Back", OpenReferral(referral_id=chosen.referral_id))])
    await show(update, triage_texts.choose_location(detail.summary), keyboard(*rows))


@button(PlaceAt, Role.COORDINATOR)
async def place_at(update: Update, context: BotContext, profile: Profile, chosen: PlaceAt) -> None:
    detail = await _detail(update, context, profile, chosen.referral_id)
    if detail is None:
        return
    services = context.services
    location = await locations.get(services.db, chosen.location_id)
    if location is None:
        await show(update, texts.stale_button())
        return
    await show(
        update,
        triage_texts.confirm_place(detail.summary, location.name),
        keyboard(
            [
                (
                    "✅ Place",
                    ConfirmPlace(
                        referral_id=chosen.referral_id,
                        version=chosen.version,
                        location_id=chosen.location_id,
                    ),
                ),
                (
                    "📅 Other dates",
                    OtherDates(
                        referral_id=chosen.referral_id,
                        version=chosen.version,
                        location_id=chosen.location_id,
                    ),
                ),
                ("« Back", ChoosePlace(referral_id=chosen.referral_id, version=chosen.version)),
            ],
        ),
    )


@button(ConfirmPlace, Role.COORDINATOR)
async def confirm_place(
    update: Update, context: BotContext, profile: Profile, chosen: ConfirmPlace
) -> None:
    detail = await _detail(update, context, profile, chosen.referral_id)
    if detail is None:
        return
    services = context.services
    s = detail.summary
    outcome = await referrals.place(
        services.db,
        telegram_id=profile.telegram_id,
        referral_id=chosen.referral_id,
        version=chosen.version,
        location_id=chosen.location_id,
        first_day=s.first_day,
        last_day=s.last_day,
        weekdays=s.weekdays,
        now=services.now(),
    )
    location = await locations.get(services.db, chosen.location_id)
    await _decided(
        update,
        context,
        profile,
        chosen.referral_id,
        outcome,
        triage_texts.placed(),
        location.name if location else "?",
    )


@button(OtherDates, Role.COORDINATOR)
async def other_dates(
    update: Update, context: BotContext, profile: Profile, chosen: OtherDates
) -> None:
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
    await say(update, triage_texts.ask_dates())


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
    current = await referrals.summary(services.db, referral_id)
    if current is None:
        await flows.finish(context, profile.telegram_id, DATES_FLOW)
        await say(update, texts.stale_button())
        return
    location_id = int(draft.data["location_id"])
    outcome = await referrals.place(
        services.db,
        telegram_id=profile.telegram_id,
        referral_id=referral_id,
        version=int(draft.data["version"]),
        location_id=location_id,
        first_day=dates[0],
        last_day=dates[1],
        weekdays=current.weekdays,
        now=services.now(),
    )
    await flows.finish(context, profile.telegram_id, DATES_FLOW)
    location = await locations.get(services.db, location_id)
    await _decided(
        update,
        context,
        profile,
        referral_id,
        outcome,
        triage_texts.placed(),
        location.name if location else "?",
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
    await say(update, triage_texts.ask_reason())


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
    services = context.services
    run = await locations.managed_by(services.db, actor_telegram_id=profile.telegram_id)
    today = services.now().astimezone(services.settings.timezone).date()
    if len(run) == 1:
        await _register(update, context, profile, run[0].location_id, today)
        return
    rows: list[Row] = [
        [
            (
                loc.name,
                MarkFamily(
                    location_id=loc.location_id, referral_id=0, day=_code(today), attended=False
                ),
            )
        ]
        for loc in run
    ]
    await say(update, triage_texts.choose_register_location(), keyboard(*rows))


@button(MarkFamily, Role.COORDINATOR)
async def mark_family(
    update: Update, context: BotContext, profile: Profile, chosen: MarkFamily
) -> None:
    day = _day(chosen.day)
    if day is None:
        await show(update, texts.stale_button())
        return
    if chosen.referral_id:  # 0: just open the register
        services = context.services
        await referrals.mark_family(
            services.db,
            telegram_id=profile.telegram_id,
            referral_id=chosen.referral_id,
            day=day,
            attended=chosen.attended,
            now=services.now(),
        )
    await _register(update, context, profile, chosen.location_id, day)


async def _register(
    update: Update, context: BotContext, profile: Profile, location_id: int, day: date
) -> None:
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
    rows: list[Row] = [
        [
            (
                ("✅ " if e.attended else "") + e.reference,
                MarkFamily(
                    location_id=location_id,
                    referral_id=e.referral_id,
                    day=_code(day),
                    attended=not e.attended,
                ),
            )
        ]
        for e in entries
    ]
    await show(update, triage_texts.register(location.name, day, entries), keyboard(*rows))


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


def _cipher(context: BotContext) -> Cipher | None:
    return context.services.cipher
