"""A coordinator sends the holiday's rota to the bot as a CSV file, in chat: the rules of
`lunchbot import` (storage/rota_import.py), with a review before anything is written.

The file is fetched through PTB (getFile), read as the command line reads it (a workbook, or a
spreadsheet's Windows-1252, is refused with how to save it as CSV UTF-8) and reviewed: what it
would add, what is in the bot already, every problem by line (the first few on screen, all of
them in a file when there are more). Nothing is written until a button is tapped: "✅ Import",
or, when the file names locations not in the bot yet, "➕ Also create the N new locations"
(a coordinator of the whole programme's call; for a site lead, a location not hers is a
problem like any other). The tap fetches the file again, checks it is the one reviewed, and
imports it in one transaction under the same rules, so a session begun since, or a location
archived since, is caught and named.

The review is a form (flow "upload"): its draft holds the file's id and digest, never its
content; /cancel ends it, a newer file replaces it, and a repeated tap repeats the answer."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from telegram import Document, InputFile, Update

from handlers import callbacks, flows, texts, upload_texts
from handlers.common import Row, acting, button, say, show
from handlers.context import BotContext
from storage import drafts, rota_import
from storage.models import Role
from storage.people import Profile
from storage.rota_import import ImportReview
from storage.text import one_line

logger = logging.getLogger(__name__)

UPLOAD_FLOW = "upload"
# 10,000 rows of the longest names are under 2 MB; Telegram lets a bot fetch 20 MB.
MAX_FILE_BYTES = 5_000_000
FILE_NAME_CHARS = 100
WORKBOOK_NAMES = (".xlsx", ".xlsm", ".xls", ".ods", ".numbers")
NOT_A_ROTA = ("image/", "video/", "audio/")  # a picture sent as a file: not an import


@callbacks.action("iu")
@dataclass(frozen=True)
class ImportFile:
    """Import the file reviewed (adding the locations it names that are not in the bot)."""

    create_locations: bool


async def on_document(update: Update, context: BotContext) -> None:
    """A file in a private chat: a coordinator's rota is reviewed; anything else, or anyone
    else's file, gets the answer any unreadable message gets."""
    message = update.effective_message
    document = message.document if message is not None else None
    if document is None:
        return
    profile = await acting(update, context, None)
    if profile is None:
        return
    if not profile.has(Role.COORDINATOR) or (document.mime_type or "").startswith(NOT_A_ROTA):
        await say(update, texts.unreadable())
        return
    name = one_line(document.file_name or "")[:FILE_NAME_CHARS] or "sessions.csv"
    # A newer file replaces a review still open: its buttons say it is closed.
    await flows.finish(context, profile.telegram_id, UPLOAD_FLOW)
    if name.lower().endswith(WORKBOOK_NAMES):
        await say(update, upload_texts.workbook_by_name(name))
        return
    if (document.file_size or 0) > MAX_FILE_BYTES:
        await say(update, upload_texts.too_big(name, MAX_FILE_BYTES))
        return
    data = await _fetch(context, document.file_id)
    text = await _read(update, name, data)
    if data is None or text is None:
        return
    services = context.services
    seen = await rota_import.review(
        services.db,
        text,
        tz=services.settings.timezone,
        jobs_needing_check=_checked_jobs(context),
        now=services.now(),
        actor_telegram_id=profile.telegram_id,
    )
    logger.info(
        "rota file reviewed for person %s: %s sessions, %s problems",
        profile.person_id,
        seen.sessions,
        len(seen.errors),
    )
    await _answer(update, context, profile, name, seen, document, data)


async def _read(update: Update, name: str, data: bytes | None) -> str | None:
    """The file's text, or None after saying why it can't be read."""
    if data is None or len(data) > MAX_FILE_BYTES:
        await say(update, upload_texts.too_big(name, MAX_FILE_BYTES))
        return None
    try:
        return rota_import.decode(data)
    except rota_import.Unreadable as refused:
        await say(update, upload_texts.unreadable(name, str(refused)))
        return None


async def _answer(
    update: Update,
    context: BotContext,
    profile: Profile,
    name: str,
    seen: ImportReview,
    document: Document,
    data: bytes,
) -> None:
    if seen.errors:
        more = len(seen.errors) > upload_texts.PROBLEMS_SHOWN
        await say(update, upload_texts.problems(name, seen, listed_in_file=more))
        chat = update.effective_chat
        if more and chat is not None:
            listed = "\n".join(seen.errors) + "\n"
            await chat.send_document(
                InputFile(listed.encode(), filename=upload_texts.problems_file_name(name)),
                caption=upload_texts.problems_caption(len(seen.errors)),
            )
        return
    if seen.sessions == 0:
        await say(update, upload_texts.empty(name))
        return
    if seen.new == 0:
        await say(update, upload_texts.nothing_new(name, seen))
        return
    step: Row = (
        [(upload_texts.also_create_button(len(seen.new_locations)), ImportFile(True))]
        if seen.new_locations
        else [(upload_texts.import_button(seen.new), ImportFile(False))]
    )
    about = {
        "file_id": document.file_id,
        "digest": hashlib.sha256(data).hexdigest(),
        "name": name,
        "new_locations": len(seen.new_locations),
    }
    await flows.begin(context, profile.telegram_id, UPLOAD_FLOW, about)
    await say(
        update,
        upload_texts.review(name, seen, may_add_locations=not profile.scoped),
        flows.cancel_keyboard(UPLOAD_FLOW, step),
    )


@button(ImportFile, Role.COORDINATOR)
async def import_file(
    update: Update, context: BotContext, profile: Profile, chosen: ImportFile
) -> None:
    services = context.services
    kept = await drafts.load(services.db, telegram_id=profile.telegram_id, flow=UPLOAD_FLOW)
    if kept is not None and "answer" in kept.data:  # a double tap: the same answer again
        await show(update, str(kept.data["answer"]))
        return
    draft = await flows.still_open(update, context, profile.telegram_id, UPLOAD_FLOW)
    if draft is None:
        return
    if chosen.create_locations != bool(draft.data.get("new_locations")):  # a forged button
        await show(update, texts.stale_button())
        return
    name = str(draft.data["name"])
    data = await _fetch(context, str(draft.data["file_id"]))
    if data is None or hashlib.sha256(data).hexdigest() != draft.data["digest"]:
        await flows.finish(context, profile.telegram_id, UPLOAD_FLOW)
        await show(update, upload_texts.changed())
        return
    done = await rota_import.import_sessions(
        services.db,
        rota_import.decode(data),
        tz=services.settings.timezone,
        jobs_needing_check=_checked_jobs(context),
        now=services.now(),
        create_locations=chosen.create_locations,
        actor_telegram_id=profile.telegram_id,
    )
    if done.errors:
        await flows.finish(context, profile.telegram_id, UPLOAD_FLOW)
        await show(update, upload_texts.refused_now(name, done))
        return
    answer = upload_texts.imported(name, done)
    # Kept, finished, so that a second tap repeats the answer and imports nothing twice.
    await drafts.save(
        services.db,
        telegram_id=profile.telegram_id,
        flow=UPLOAD_FLOW,
        awaiting=None,
        data=draft.data | {"answer": answer},
        now=services.now(),
        finished=True,
    )
    await show(update, answer)


async def _fetch(context: BotContext, file_id: str) -> bytes | None:
    """The file's bytes through the Bot API, or None if it is bigger than an import takes."""
    found = await context.bot.get_file(file_id)
    if (found.file_size or 0) > MAX_FILE_BYTES:
        return None
    return bytes(await found.download_as_bytearray())


def _checked_jobs(context: BotContext) -> frozenset[str]:
    return frozenset(job.job for job in context.services.settings.jobs if job.needs_check)
