"""Coordinators set up the programme's locations (/locations): the list (a page at a time,
found by typing part of a name), a location's card, its name, address, notes and daily
capacity, and archiving it (after cancelling its sessions to come, telling everyone)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update

from handlers import callbacks, choose, choose_texts, flows, rota_texts, site_texts
from handlers.common import Row, button, command, keyboard, say, show
from handlers.context import BotContext
from storage import drafts, locations, rota
from storage.errors import AlreadyDone, OutOfScope
from storage.locations import Field, LocationInfo
from storage.models import Role
from storage.people import Profile

LOCATION_NAME_FLOW = "location_new"
LOCATION_EDIT_FLOW = "location_edit"
ARCHIVE_FLOW = "location_archive"
LOCATIONS_LIST = "locations"  # /locations (handlers/choose.py)


@callbacks.action("lo")
@dataclass(frozen=True)
class LocationsList:
    pass


@callbacks.action("lq")
@dataclass(frozen=True)
class LocationsPage:
    offset: int


@callbacks.action("lc")
@dataclass(frozen=True)
class LocationCard:
    location_id: int


@callbacks.action("ln")
@dataclass(frozen=True)
class NewLocation:
    pass


@callbacks.action("le")
@dataclass(frozen=True)
class EditLocation:
    location_id: int
    field: Field


@callbacks.action("la")
@dataclass(frozen=True)
class ArchiveLocation:
    location_id: int
    archived: bool


@callbacks.action("lx")
@dataclass(frozen=True)
class ArchiveAndCancel:
    """Archive a location after cancelling its sessions to come (everyone is told)."""

    location_id: int


# --- the list and a card -------------------------------------------------------------------


@command(Role.COORDINATOR)
async def locations_command(update: Update, context: BotContext, profile: Profile) -> None:
    await _locations(update, context, profile, choose.View(kind=LOCATIONS_LIST, fresh=True))


@button(LocationsList, Role.COORDINATOR)
async def locations_list(
    update: Update, context: BotContext, profile: Profile, _opened: LocationsList
) -> None:
    await _locations(update, context, profile, choose.View(kind=LOCATIONS_LIST))


@button(LocationsPage, Role.COORDINATOR)
async def locations_page(
    update: Update, context: BotContext, profile: Profile, page: LocationsPage
) -> None:
    await _locations(update, context, profile, choose.View(kind=LOCATIONS_LIST, offset=page.offset))


@choose.listing(LOCATIONS_LIST, Role.COORDINATOR)
async def _locations(
    update: Update, context: BotContext, profile: Profile, view: choose.View, note: str = ""
) -> None:
    search = await choose.search_for(context, profile.telegram_id, view)
    found = await locations.find(
        context.services.db,
        actor_telegram_id=profile.telegram_id,
        search=search,
        offset=view.offset,
        limit=choose.PER_PAGE,
    )
    items: list[Row] = [
        [(choose_texts.label(loc.name), LocationCard(location_id=loc.location_id))]
        for loc in found.shown
    ]
    rows = choose.rows(found, items, lambda offset: LocationsPage(offset=offset), search, view.kind)
    if not profile.scoped:  # adding venues is the programme's call, not a site lead's
        rows.append([("➕ Add a location", NewLocation())])
    text = choose_texts.with_status(
        rota_texts.locations(found.shown, searched=bool(search)), found, search, choose.PER_PAGE
    )
    await choose.present(update, view, text, keyboard(*rows), note=note)


@button(LocationCard, Role.COORDINATOR)
async def location_card(
    update: Update, context: BotContext, profile: Profile, opened: LocationCard
) -> None:
    location = await locations.managed(
        context.services.db, actor_telegram_id=profile.telegram_id, location_id=opened.location_id
    )
    await choose.leave(context, profile.telegram_id)
    await _card(update, location)


async def _card(update: Update, location: LocationInfo, note: str = "") -> None:
    lid = location.location_id
    rows: list[Row] = [
        [
            ("✏️ Name", EditLocation(location_id=lid, field=Field.NAME)),
            ("✏️ Address", EditLocation(location_id=lid, field=Field.ADDRESS)),
        ],
        [
            ("✏️ Notes", EditLocation(location_id=lid, field=Field.NOTES)),
            ("✏️ Children a day", EditLocation(location_id=lid, field=Field.CAPACITY)),
        ],
        [
            (
                "Restore" if location.archived else "🗄 Archive",
                ArchiveLocation(location_id=lid, archived=not location.archived),
            )
        ],
        [("« All locations", LocationsList())],
    ]
    await show(update, rota_texts.location_card(location), keyboard(*rows), note=note)


@button(NewLocation, Role.COORDINATOR)
async def new_location(
    update: Update, context: BotContext, profile: Profile, _asked: NewLocation
) -> None:
    if profile.scoped:
        raise OutOfScope  # before asking for a name that would then be refused
    await flows.wait_for_text(context, profile.telegram_id, LOCATION_NAME_FLOW, "name")
    await say(
        update,
        rota_texts.ask_location_field(Field.NAME, None),
        flows.cancel_keyboard(LOCATION_NAME_FLOW),
    )


async def on_location_name_text(
    update: Update, context: BotContext, profile: Profile, text: str
) -> None:
    name = locations.clean_field(Field.NAME, text)
    if not isinstance(name, str) or not name:
        await say(update, rota_texts.location_field_invalid(Field.NAME))
        return
    services = context.services
    try:
        location = await locations.create(
            services.db, actor_telegram_id=profile.telegram_id, name=name, now=services.now()
        )
    except locations.NameTaken:
        await say(update, rota_texts.location_name_taken(name))
        return
    await flows.finish(context, profile.telegram_id, LOCATION_NAME_FLOW)
    await _card(update, location, rota_texts.location_created(location))


@button(EditLocation, Role.COORDINATOR)
async def edit_location(
    update: Update, context: BotContext, profile: Profile, chosen: EditLocation
) -> None:
    location = await locations.managed(
        context.services.db, actor_telegram_id=profile.telegram_id, location_id=chosen.location_id
    )
    await flows.wait_for_text(
        context,
        profile.telegram_id,
        LOCATION_EDIT_FLOW,
        chosen.field.value,
        {"location_id": chosen.location_id},
    )
    await say(
        update,
        rota_texts.ask_location_field(chosen.field, location),
        flows.cancel_keyboard(LOCATION_EDIT_FLOW),
    )


async def on_location_edit_text(
    update: Update, context: BotContext, profile: Profile, text: str
) -> None:
    services = context.services
    draft = await drafts.waiting_for_text(services.db, telegram_id=profile.telegram_id)
    if draft is None or draft.awaiting not in {f.value for f in Field}:
        return
    field = Field(draft.awaiting)
    value = locations.clean_field(field, text)
    if value is None:
        await say(update, rota_texts.location_field_invalid(field))
        return
    try:
        location = await locations.update_field(
            services.db,
            actor_telegram_id=profile.telegram_id,
            location_id=int(draft.data["location_id"]),
            field=field,
            value=value,
            now=services.now(),
        )
    except locations.NameTaken:
        await say(update, rota_texts.location_name_taken(str(value)))
        return
    await flows.finish(context, profile.telegram_id, LOCATION_EDIT_FLOW)
    await _card(update, location, rota_texts.location_saved())


@button(ArchiveLocation, Role.COORDINATOR)
async def archive_location(
    update: Update, context: BotContext, profile: Profile, chosen: ArchiveLocation
) -> None:
    services = context.services
    if chosen.archived:
        ahead, told = await rota.sessions_to_come(
            services.db,
            actor_telegram_id=profile.telegram_id,
            location_id=chosen.location_id,
            now=services.now(),
        )
        if ahead:  # who would be told, before anything is cancelled
            location = await locations.managed(
                services.db,
                actor_telegram_id=profile.telegram_id,
                location_id=chosen.location_id,
            )
            # A confirmation form: /cancel or its Cancel ends it, and the button tapped after
            # that cancels nothing.
            about = {"location_id": chosen.location_id}
            await flows.begin(context, profile.telegram_id, ARCHIVE_FLOW, about)
            await show(
                update,
                rota_texts.confirm_archive(location, ahead, site_texts.who_is_told(told)),
                flows.cancel_keyboard(
                    ARCHIVE_FLOW,
                    [
                        (
                            rota_texts.archive_and_cancel_button(ahead),
                            ArchiveAndCancel(location_id=chosen.location_id),
                        )
                    ],
                    [("« Back", LocationCard(location_id=chosen.location_id))],
                ),
            )
            return
    try:
        location = await locations.set_archived(
            services.db,
            actor_telegram_id=profile.telegram_id,
            location_id=chosen.location_id,
            archived=chosen.archived,
            now=services.now(),
        )
    except locations.StillPlanned as planned:
        await say(update, rota_texts.location_still_planned(planned.sessions, planned.families))
        return
    await _card(update, location, rota_texts.location_archived(location))


@button(ArchiveAndCancel, Role.COORDINATOR)
async def archive_and_cancel(
    update: Update, context: BotContext, profile: Profile, chosen: ArchiveAndCancel
) -> None:
    services = context.services
    about = {"location_id": chosen.location_id}
    if await flows.still_open(update, context, profile.telegram_id, ARCHIVE_FLOW, about) is None:
        return
    await flows.finish(context, profile.telegram_id, ARCHIVE_FLOW)
    try:
        told = await rota.archive_location(
            services.db,
            actor_telegram_id=profile.telegram_id,
            location_id=chosen.location_id,
            now=services.now(),
        )
        note = rota_texts.archived_and_cancelled(site_texts.told_line(told))
    except AlreadyDone:  # a double tap: the first one cancelled and told
        note = rota_texts.already_archived()
    location = await locations.managed(
        services.db, actor_telegram_id=profile.telegram_id, location_id=chosen.location_id
    )
    await _card(update, location, note)
