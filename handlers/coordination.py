"""Coordinators' tools of the foundation: invite links, and people with their roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from telegram import Update

from handlers import callbacks, choose, choose_texts, flows, menu, texts
from handlers.common import Row, args_text, button, command, keyboard, say, show
from handlers.context import BotContext
from handlers.directory import PeoplePage, PersonCard
from storage import dates, drafts, invites, locations, people
from storage.errors import OutOfScope
from storage.models import CheckStatus, Role
from storage.people import Profile, RoleRemoval
from storage.rota_import import parse_date

INVITE_SCHOOL_FLOW = "invite_school"  # /invite's form: the role, the school, a new school's name
CHECK_FLOW = "check_expiry"
NO_EXPIRY = ("none", "no", "-")
SCOPE_LIST = "site_lead_of"  # the locations a site lead runs (handlers/choose.py)
INVITE_SCHOOLS_LIST = "invite_school"  # which school a new contact is from


@callbacks.action("ir")
@dataclass(frozen=True)
class InviteRole:
    role: Role


@callbacks.action("is")
@dataclass(frozen=True)
class InviteSchool:
    school_id: int


@callbacks.action("in")
@dataclass(frozen=True)
class InviteNewSchool:
    pass


@callbacks.action("zi")
@dataclass(frozen=True)
class InviteSchoolsPage:
    offset: int


@callbacks.action("rr")
@dataclass(frozen=True)
class AskRemoveRole:
    person_id: int
    role: Role


@callbacks.action("rc")
@dataclass(frozen=True)
class RemoveRole:
    person_id: int
    role: Role


@callbacks.action("ck")
@dataclass(frozen=True)
class CheckMenu:
    person_id: int


@callbacks.action("cs")
@dataclass(frozen=True)
class SetCheck:
    person_id: int
    status: CheckStatus


@callbacks.action("sc")
@dataclass(frozen=True)
class ScopeMenu:
    person_id: int
    offset: int = 0  # the page of locations: a programme may have hundreds


@callbacks.action("st")
@dataclass(frozen=True)
class ToggleScope:
    person_id: int
    location_id: int
    offset: int = 0  # the page it was tapped on, shown again


@callbacks.action("ea")
@dataclass(frozen=True)
class AskErase:
    person_id: int


@callbacks.action("ee")
@dataclass(frozen=True)
class Erase:
    person_id: int


# --- invites ---------------------------------------------------------------------------------


@command(Role.COORDINATOR)
async def invite(update: Update, context: BotContext, profile: Profile) -> None:
    """`/invite`, or straight away with `/invite coordinator` / `/invite school NAME`."""
    _programme_only(profile)
    words = args_text(context).split(maxsplit=1)
    if words and words[0].lower() == "coordinator":
        await issue(update, context, profile, Role.COORDINATOR)
        return
    if words and words[0].lower() == "school" and len(words) == 2:
        await _issue_for_new_school(update, context, profile, words[1])
        return
    await flows.begin(context, profile.telegram_id, INVITE_SCHOOL_FLOW)
    await say(
        update,
        texts.invite_choose_role(),
        flows.cancel_keyboard(
            INVITE_SCHOOL_FLOW,
            [("A school contact", InviteRole(role=Role.SCHOOL_CONTACT))],
            [("A coordinator", InviteRole(role=Role.COORDINATOR))],
        ),
    )


async def _invite_open(update: Update, context: BotContext, profile: Profile) -> bool:
    """True if the person's /invite form is open (not cancelled, not done)."""
    form = await flows.still_open(update, context, profile.telegram_id, INVITE_SCHOOL_FLOW)
    return form is not None


@button(InviteRole, Role.COORDINATOR)
async def invite_role(
    update: Update, context: BotContext, profile: Profile, chosen: InviteRole
) -> None:
    _programme_only(profile)
    if not await _invite_open(update, context, profile):
        return
    if chosen.role is Role.COORDINATOR:
        if await issue(update, context, profile, Role.COORDINATOR):
            await flows.finish(context, profile.telegram_id, INVITE_SCHOOL_FLOW)
        return
    if chosen.role is not Role.SCHOOL_CONTACT:
        await show(update, texts.stale_button())
        return
    view = choose.View(kind=INVITE_SCHOOLS_LIST, fresh=True)
    await _invite_schools(update, context, profile, view)


@button(InviteSchoolsPage, Role.COORDINATOR)
async def invite_schools_page(
    update: Update, context: BotContext, profile: Profile, page: InviteSchoolsPage
) -> None:
    view = choose.View(kind=INVITE_SCHOOLS_LIST, offset=page.offset)
    await _invite_schools(update, context, profile, view)


@choose.listing(INVITE_SCHOOLS_LIST, Role.COORDINATOR)
async def _invite_schools(
    update: Update, context: BotContext, profile: Profile, view: choose.View
) -> None:
    """Which school the contact is from: the partner schools a page at a time, found by
    typing, or a new one."""
    if not await _invite_open(update, context, profile):
        return
    search = await choose.search_for(context, profile.telegram_id, view)
    found = await invites.find_schools(
        context.services.db,
        actor_telegram_id=profile.telegram_id,
        search=search,
        offset=view.offset,
        limit=choose.PER_PAGE,
    )
    items: list[Row] = [
        [(choose_texts.label(school.name), InviteSchool(school_id=school.school_id))]
        for school in found.shown
    ]
    rows = choose.rows(
        found, items, lambda offset: InviteSchoolsPage(offset=offset), search, view.kind
    )
    rows.append([("➕ A new school", InviteNewSchool())])
    text = choose_texts.with_status(
        texts.invite_choose_school(bool(found.matching or search)), found, search, choose.PER_PAGE
    )
    await choose.present(update, view, text, flows.cancel_keyboard(INVITE_SCHOOL_FLOW, *rows))


@button(InviteSchool, Role.COORDINATOR)
async def invite_school(
    update: Update, context: BotContext, profile: Profile, chosen: InviteSchool
) -> None:
    if not await _invite_open(update, context, profile):
        return
    await choose.leave(context, profile.telegram_id)
    if await issue(update, context, profile, Role.SCHOOL_CONTACT, school_id=chosen.school_id):
        await flows.finish(context, profile.telegram_id, INVITE_SCHOOL_FLOW)


@button(InviteNewSchool, Role.COORDINATOR)
async def invite_new_school(
    update: Update, context: BotContext, profile: Profile, _chosen: InviteNewSchool
) -> None:
    _programme_only(profile)
    if not await _invite_open(update, context, profile):
        return
    await flows.wait_for_text(context, profile.telegram_id, INVITE_SCHOOL_FLOW, "school_name")
    await show(update, texts.ask_school_name(), flows.cancel_keyboard(INVITE_SCHOOL_FLOW))


async def on_school_name_text(
    update: Update, context: BotContext, profile: Profile, text: str
) -> None:
    await _issue_for_new_school(update, context, profile, text)


async def _issue_for_new_school(
    update: Update, context: BotContext, profile: Profile, typed: str
) -> None:
    name = invites.clean_school_name(typed)
    if name is None:
        await say(update, texts.school_name_invalid())
        return
    await issue(update, context, profile, Role.SCHOOL_CONTACT, school_name=name)
    await drafts.discard(
        context.services.db, telegram_id=profile.telegram_id, flow=INVITE_SCHOOL_FLOW
    )


async def issue(
    update: Update,
    context: BotContext,
    profile: Profile,
    role: Role,
    *,
    school_id: int | None = None,
    school_name: str | None = None,
) -> bool:
    """Make an invite and show its link (in place of the button's screen); False if it could
    not be made."""
    services = context.services
    try:
        created = await invites.create(
            services.db,
            actor_telegram_id=profile.telegram_id,
            role=role,
            now=services.now(),
            valid_for=services.settings.invite_valid_for,
            school_id=school_id,
            school_name=school_name,
            source=_source(update),
        )
    except LookupError:
        await show(update, texts.stale_button())
        return False
    link = f"https://t.me/{context.bot.username}?start={invites.link_payload(created.token)}"
    await show(update, texts.invite_created(created, link, services.settings.timezone))
    return True


def _programme_only(profile: Profile) -> None:
    """Invites are the whole programme's: a site lead is told so before any screen offers one
    (storage refuses them anyway)."""
    if profile.scoped:
        raise OutOfScope


def _source(update: Update) -> str:
    """Where an invite is made: the message a button is on (a double tap edits the same one),
    else the update (the same update delivered twice)."""
    query = update.callback_query
    if query is not None and query.message is not None:
        return f"message:{query.message.chat.id}:{query.message.message_id}"
    return f"update:{update.update_id}"


# --- people ----------------------------------------------------------------------------------


@button(PersonCard, Role.COORDINATOR)
async def person_card(
    update: Update, context: BotContext, profile: Profile, opened: PersonCard
) -> None:
    services = context.services
    person = await people.card(
        services.db,
        actor_telegram_id=profile.telegram_id,
        person_id=opened.person_id,
        now=services.now(),
    )
    if person is None:
        await show(update, texts.stale_button())
        return
    await choose.leave(context, profile.telegram_id)
    if profile.scoped:
        # A site lead reads the card; roles, checks and erasure are the programme's.
        back = keyboard([("« All people", PeoplePage(offset=0))])
        await show(update, texts.person_card(person), back)
        return
    await _show_card(update, person)


async def _person(
    update: Update, context: BotContext, profile: Profile, person_id: int
) -> Profile | None:
    """The person a button names, for a coordinator of the whole programme about to change
    something of theirs, or None after saying the button is out of date."""
    person = await people.to_manage(
        context.services.db,
        actor_telegram_id=profile.telegram_id,
        person_id=person_id,
        offline_too=True,  # (their check and erasure: the only things of theirs to change)
    )
    if person is None:
        await show(update, texts.stale_button())
    return person


async def _show_card(update: Update, person: Profile, note: str = "") -> None:
    """The card with what a coordinator of the whole programme may change."""
    rows: list[Row] = [
        [
            (
                f"Remove {texts.ROLE_NAMES[role]} role",
                AskRemoveRole(person_id=person.person_id, role=role),
            )
        ]
        for role in Role
        if role in person.roles and role not in person.config_roles and not person.offline
    ]
    if Role.COORDINATOR in person.roles and Role.COORDINATOR not in person.config_roles:
        rows.append([("📍 Site lead of…", ScopeMenu(person_id=person.person_id))])
    rows.append(
        [
            ("🛡 Safeguarding check", CheckMenu(person_id=person.person_id)),
            ("🗑 Erase their data", AskErase(person_id=person.person_id)),
        ]
    )
    rows.append([("« All people", PeoplePage(offset=0))])
    text = texts.person_card(person)
    await show(update, text, keyboard(*rows), note=note)


@button(AskRemoveRole, Role.COORDINATOR)
async def ask_remove_role(
    update: Update, context: BotContext, profile: Profile, asked: AskRemoveRole
) -> None:
    person = await people.to_manage(
        context.services.db, actor_telegram_id=profile.telegram_id, person_id=asked.person_id
    )
    if person is None or asked.role not in person.roles:
        await show(update, texts.role_not_held(asked.role))
        return
    await show(
        update,
        texts.confirm_remove_role(person, asked.role),
        keyboard(
            [
                ("Yes, remove", RemoveRole(person_id=person.person_id, role=asked.role)),
                ("No, keep", PersonCard(person_id=person.person_id)),
            ],
        ),
    )


@button(RemoveRole, Role.COORDINATOR)
async def remove_role(
    update: Update, context: BotContext, profile: Profile, removal: RemoveRole
) -> None:
    services = context.services
    outcome, person = await people.remove_role(
        services.db,
        actor_telegram_id=profile.telegram_id,
        person_id=removal.person_id,
        role=removal.role,
        now=services.now(),
    )
    if person is None:
        await show(update, texts.stale_button())
        return
    notes = {
        RoleRemoval.REMOVED: texts.role_removed(person, removal.role),
        RoleRemoval.NOT_HELD: texts.role_not_held(removal.role),
        RoleRemoval.FROM_CONFIG: texts.role_from_config(),
        RoleRemoval.OWN_COORDINATOR: texts.own_coordinator_role(),
    }
    await _show_card(update, person, notes[outcome])
    if outcome is RoleRemoval.REMOVED:
        await menu.publish_for(context.bot, person)


# --- safeguarding checks and erasure ------------------------------------------------------------


@button(CheckMenu, Role.COORDINATOR)
async def check_menu(
    update: Update, context: BotContext, profile: Profile, opened: CheckMenu
) -> None:
    person = await _person(update, context, profile, opened.person_id)
    if person is None:
        return
    await show(
        update,
        texts.check_menu(person),
        keyboard(
            [
                ("Not done", SetCheck(person_id=person.person_id, status=CheckStatus.NONE)),
                ("Pending", SetCheck(person_id=person.person_id, status=CheckStatus.PENDING)),
            ],
            [("Cleared", SetCheck(person_id=person.person_id, status=CheckStatus.CLEARED))],
            [("« Back", PersonCard(person_id=person.person_id))],
        ),
    )


@button(SetCheck, Role.COORDINATOR)
async def set_check(
    update: Update, context: BotContext, profile: Profile, chosen: SetCheck
) -> None:
    if chosen.status is CheckStatus.CLEARED:
        if await _person(update, context, profile, chosen.person_id) is None:
            return
        await flows.wait_for_text(
            context, profile.telegram_id, CHECK_FLOW, "expires_on", {"person_id": chosen.person_id}
        )
        await say(update, texts.ask_check_expiry(), flows.cancel_keyboard(CHECK_FLOW))
        return
    await _record_check(update, context, profile, chosen.person_id, chosen.status, None)


async def on_check_expiry_text(
    update: Update, context: BotContext, profile: Profile, text: str
) -> None:
    draft = await drafts.load(context.services.db, telegram_id=profile.telegram_id, flow=CHECK_FLOW)
    person_id = draft.data.get("person_id") if draft else None
    typed = text.strip().lower()
    expires = None if typed in NO_EXPIRY else parse_date(text)
    today = context.services.now().astimezone(context.services.settings.timezone).date()
    if expires is not None and not dates.CHECK_EXPIRY.holds(today, expires):
        expires, typed = None, ""  # out of the window: asked again, like a date that is not one
    if not isinstance(person_id, int) or (expires is None and typed not in NO_EXPIRY):
        await say(update, texts.check_expiry_invalid())
        return
    await flows.finish(context, profile.telegram_id, CHECK_FLOW)
    await _record_check(update, context, profile, person_id, CheckStatus.CLEARED, expires)


async def _record_check(
    update: Update,
    context: BotContext,
    profile: Profile,
    person_id: int,
    status: CheckStatus,
    expires: date | None,
) -> None:
    services = context.services
    try:
        person = await people.record_check(
            services.db,
            actor_telegram_id=profile.telegram_id,
            person_id=person_id,
            status=status,
            expires_on=expires,
            now=services.now(),
        )
    except LookupError:
        await show(update, texts.stale_button())
        return
    await _show_card(update, person, texts.check_recorded(person))


@button(AskErase, Role.COORDINATOR)
async def ask_erase(update: Update, context: BotContext, profile: Profile, asked: AskErase) -> None:
    person = await _person(update, context, profile, asked.person_id)
    if person is None:
        return
    await show(
        update,
        texts.confirm_erase(person),
        keyboard(
            [
                ("Yes, erase", Erase(person_id=person.person_id)),
                ("No, keep", PersonCard(person_id=person.person_id)),
            ],
        ),
    )


@button(Erase, Role.COORDINATOR)
async def erase(update: Update, context: BotContext, profile: Profile, chosen: Erase) -> None:
    services = context.services
    outcome = await people.erase(
        services.db,
        actor_telegram_id=profile.telegram_id,
        person_id=chosen.person_id,
        now=services.now(),
        offer_window=services.settings.offer_window,
    )
    await show(update, texts.erased(outcome), keyboard([("« All people", PeoplePage(offset=0))]))


# --- site leads: coordinators limited to some locations -----------------------------------------


@button(ScopeMenu, Role.COORDINATOR)
async def scope_menu(
    update: Update, context: BotContext, profile: Profile, opened: ScopeMenu
) -> None:
    args = {"person_id": opened.person_id}
    view = choose.View(kind=SCOPE_LIST, args=args, offset=opened.offset)
    await _scope_menu(update, context, profile, view)


@button(ToggleScope, Role.COORDINATOR)
async def toggle_scope(
    update: Update, context: BotContext, profile: Profile, chosen: ToggleScope
) -> None:
    services = context.services
    scope = await locations.scope_of(services.db, person_id=chosen.person_id)
    await locations.set_scope(
        services.db,
        actor_telegram_id=profile.telegram_id,
        person_id=chosen.person_id,
        location_ids=scope ^ {chosen.location_id},
        now=services.now(),
    )
    person = await people.profile_by_id(services.db, chosen.person_id)
    if person is not None:  # a site lead's menu lacks what only the whole programme may do
        await menu.publish_for(context.bot, person)
    args = {"person_id": chosen.person_id}
    await _scope_menu(
        update, context, profile, choose.View(kind=SCOPE_LIST, args=args, offset=chosen.offset)
    )


@choose.listing(SCOPE_LIST, Role.COORDINATOR)
async def _scope_menu(
    update: Update, context: BotContext, profile: Profile, view: choose.View
) -> None:
    db = context.services.db
    person_id = int(view.args["person_id"])
    person = await people.to_manage(db, actor_telegram_id=profile.telegram_id, person_id=person_id)
    if person is None or Role.COORDINATOR not in person.roles:
        await show(update, texts.stale_button())
        return
    search = await choose.search_for(context, profile.telegram_id, view)
    found = await locations.find(db, search=search, offset=view.offset, limit=choose.PER_PAGE)
    scope = await locations.scope_of(db, person_id=person_id)
    items: list[Row] = [
        [
            (
                choose_texts.label(loc.name, "✓ " if loc.location_id in scope else ""),
                ToggleScope(person_id=person_id, location_id=loc.location_id, offset=found.offset),
            )
        ]
        for loc in found.shown
    ]
    rows = choose.rows(
        found,
        items,
        lambda offset: ScopeMenu(person_id=person_id, offset=offset),
        search,
        view.kind,
    )
    rows.append([("« Back", PersonCard(person_id=person_id))])
    names = [loc.name for loc in await locations.some(db, scope) if not loc.archived]
    text = choose_texts.with_status(texts.scope_menu(person, names), found, search, choose.PER_PAGE)
    await choose.present(update, view, text, keyboard(*rows))
