"""Coordinators keep the list of partner schools (/schools): name, area, contacts; add one,
set its area, invite a contact."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Update

from handlers import callbacks, choose, choose_texts, flows, texts
from handlers.common import Row, button, command, keyboard, say, show
from handlers.context import BotContext
from handlers.coordination import issue
from storage import drafts, invites
from storage.invites import SchoolInfo
from storage.models import Role
from storage.people import Profile

SCHOOL_FLOW = "school"
SCHOOLS_LIST = "schools"  # /schools (handlers/choose.py)
NO_AREA = "-"


@callbacks.action("sl")
@dataclass(frozen=True)
class SchoolsList:
    pass


@callbacks.action("zs")
@dataclass(frozen=True)
class SchoolsPage:
    offset: int


@callbacks.action("sn")
@dataclass(frozen=True)
class NewSchool:
    pass


@callbacks.action("sa")
@dataclass(frozen=True)
class SchoolCard:
    school_id: int


@callbacks.action("se")
@dataclass(frozen=True)
class EditArea:
    school_id: int


@callbacks.action("si")
@dataclass(frozen=True)
class InviteContact:
    school_id: int


@command(Role.COORDINATOR)
async def schools_command(update: Update, context: BotContext, profile: Profile) -> None:
    await _schools(update, context, profile, choose.View(kind=SCHOOLS_LIST, fresh=True))


@button(SchoolsList, Role.COORDINATOR)
async def schools_list(
    update: Update, context: BotContext, profile: Profile, _opened: SchoolsList
) -> None:
    await _schools(update, context, profile, choose.View(kind=SCHOOLS_LIST))


@button(SchoolsPage, Role.COORDINATOR)
async def schools_page(
    update: Update, context: BotContext, profile: Profile, page: SchoolsPage
) -> None:
    await _schools(update, context, profile, choose.View(kind=SCHOOLS_LIST, offset=page.offset))


@choose.listing(SCHOOLS_LIST, Role.COORDINATOR)
async def _schools(
    update: Update, context: BotContext, profile: Profile, view: choose.View
) -> None:
    search = await choose.search_for(context, profile.telegram_id, view)
    found = await invites.find_schools(
        context.services.db,
        actor_telegram_id=profile.telegram_id,
        search=search,
        offset=view.offset,
        limit=choose.PER_PAGE,
    )
    items: list[Row] = [
        [(choose_texts.label(school.name), SchoolCard(school_id=school.school_id))]
        for school in found.shown
    ]
    rows = choose.rows(found, items, lambda offset: SchoolsPage(offset=offset), search, view.kind)
    rows.append([("➕ Add a school", NewSchool())])
    text = choose_texts.with_status(
        texts.schools(found.shown, found.matching, searched=bool(search)),
        found,
        search,
        choose.PER_PAGE,
    )
    await choose.present(update, view, text, keyboard(*rows))


@button(SchoolCard, Role.COORDINATOR)
async def school_card(
    update: Update, context: BotContext, profile: Profile, opened: SchoolCard
) -> None:
    school = await invites.school_info(
        context.services.db, actor_telegram_id=profile.telegram_id, school_id=opened.school_id
    )
    await choose.leave(context, profile.telegram_id)
    await _card(update, school)


async def _card(update: Update, school: SchoolInfo, note: str = "") -> None:
    await show(update, *_card_screen(school), note=note)


def _card_screen(school: SchoolInfo) -> tuple[str, InlineKeyboardMarkup]:
    return texts.school_card(school), keyboard(
        [
            ("✏️ Area", EditArea(school_id=school.school_id)),
            ("✉️ Invite a contact", InviteContact(school_id=school.school_id)),
        ],
        [("« Schools", SchoolsList())],
    )


@button(InviteContact, Role.COORDINATOR)
async def invite_contact(
    update: Update, context: BotContext, profile: Profile, chosen: InviteContact
) -> None:
    """The link takes the card's place (a double tap replaces it there, so no stale link is left
    on screen); the card comes back under it, to invite another contact or carry on."""
    if not await issue(update, context, profile, Role.SCHOOL_CONTACT, school_id=chosen.school_id):
        return
    school = await invites.school_info(
        context.services.db, actor_telegram_id=profile.telegram_id, school_id=chosen.school_id
    )
    await say(update, *_card_screen(school))


@button(NewSchool, Role.COORDINATOR)
async def new_school(
    update: Update, context: BotContext, profile: Profile, _asked: NewSchool
) -> None:
    await flows.wait_for_text(context, profile.telegram_id, SCHOOL_FLOW, "name")
    await say(update, texts.ask_school_name(), flows.cancel_keyboard(SCHOOL_FLOW))


@button(EditArea, Role.COORDINATOR)
async def edit_area(
    update: Update, context: BotContext, profile: Profile, chosen: EditArea
) -> None:
    await flows.wait_for_text(
        context, profile.telegram_id, SCHOOL_FLOW, "area", {"school_id": chosen.school_id}
    )
    await say(update, texts.ask_school_area(), flows.cancel_keyboard(SCHOOL_FLOW))


async def on_school_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    services = context.services
    draft = await drafts.load(services.db, telegram_id=profile.telegram_id, flow=SCHOOL_FLOW)
    if draft is None:
        return
    if draft.awaiting == "name":
        name = invites.clean_school_name(text)
        if name is None:
            await say(update, texts.school_name_invalid())
            return
        school = await invites.add_school(
            services.db,
            actor_telegram_id=profile.telegram_id,
            name=name,
            area=None,
            now=services.now(),
        )
        await flows.wait_for_text(
            context, profile.telegram_id, SCHOOL_FLOW, "area", {"school_id": school.school_id}
        )
        await say(update, texts.ask_school_area(), flows.cancel_keyboard(SCHOOL_FLOW))
        return
    area = None if text.strip() == NO_AREA else invites.clean_school_name(text)
    if area is None and text.strip() != NO_AREA:
        await say(update, texts.school_name_invalid())
        return
    school = await invites.set_area(
        services.db,
        actor_telegram_id=profile.telegram_id,
        school_id=int(draft.data["school_id"]),
        area=area,
        now=services.now(),
    )
    await flows.finish(context, profile.telegram_id, SCHOOL_FLOW)
    await _card(update, school, texts.school_saved())
