"""Wins: /win shares something good that happened (words, or a photo with a caption); the
coordinators of the whole programme decide it on a moderation card (approve, with or without
its photo, edit its words, or reject it with a note), from the notice or from /wins; an
approved win is announced in the celebration chats and its author thanked. The notices'
renderers are here too.

A coordinator's typed answers (new words, a note) are taken only within FORM_TIMEOUT of the
button that asked for them, so a message typed days later is never taken for one; and a
typed note is confirmed with a button before the win is rejected and the note sent.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from handlers import callbacks, flows, win_texts
from handlers.common import Row, button, command, keyboard, pager, say, show
from handlers.context import BotContext, Services
from handlers.rendering import Rendered
from storage import drafts, wins
from storage.models import FILE_ID_MAX, Role, WinStatus
from storage.outbox import Outgoing
from storage.people import Profile
from storage.wins import Cancelled, Decision, Outcome, Shared, TextProblem, WinView

logger = logging.getLogger(__name__)

PER_PAGE = 8
WIN_FLOW = wins.DRAFT_FLOW  # the author's win, until it is shared
EDIT_FLOW = "win_edit"  # a coordinator's new words for a win
REJECT_FLOW = "win_reject"  # a coordinator's note to the author, then its confirmation
FORM_TIMEOUT = timedelta(minutes=15)  # a typed answer later than this is not used


@callbacks.action("vs")
@dataclass(frozen=True)
class ShareWin:
    nonce: int  # the preview's: a tap on an older preview shares nothing
    anonymous: bool


@callbacks.action("vc")
@dataclass(frozen=True)
class CancelWin:
    nonce: int


@callbacks.action("vp")
@dataclass(frozen=True)
class WinsPage:
    offset: int


@callbacks.action("vo")
@dataclass(frozen=True)
class OpenWin:
    win_id: int


@callbacks.action("va")
@dataclass(frozen=True)
class ApproveWin:
    win_id: int
    version: int  # the card's: a decision on words edited since is refused


@callbacks.action("ve")
@dataclass(frozen=True)
class EditWin:
    win_id: int
    version: int


@callbacks.action("vr")
@dataclass(frozen=True)
class RejectWin:
    win_id: int
    version: int


@callbacks.action("vn")
@dataclass(frozen=True)
class RejectWithoutNote:
    win_id: int
    version: int


@callbacks.action("vw")
@dataclass(frozen=True)
class ApproveWithoutPhoto:
    win_id: int
    version: int


# The confirmation of a typed note carries the nonce kept with the note in the draft: a tap on
# an older confirmation (the note changed since, or the form closed) does nothing.
@callbacks.action("vy")
@dataclass(frozen=True)
class ConfirmReject:
    win_id: int
    version: int
    nonce: int


@callbacks.action("vx")
@dataclass(frozen=True)
class ChangeNote:
    win_id: int
    version: int
    nonce: int


@callbacks.action("vk")
@dataclass(frozen=True)
class KeepWin:
    win_id: int
    nonce: int


# --- sharing a win ---------------------------------------------------------------------------


@command()
async def win_command(update: Update, context: BotContext, profile: Profile) -> None:
    await flows.wait_for_text(context, profile.telegram_id, WIN_FLOW, "win")
    await say(update, win_texts.ask_win(), flows.cancel_keyboard(WIN_FLOW))


async def on_win_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    """The win: words, a photo with a caption, or a photo first and the words next."""
    services, message = context.services, update.effective_message
    draft = await drafts.load(services.db, telegram_id=profile.telegram_id, flow=WIN_FLOW)
    if draft is None or message is None:
        return
    kept = draft.data.get("photo")
    photo = kept if isinstance(kept, str) else None
    if message.photo:  # the largest size Telegram made of it
        photo = message.photo[-1].file_id
        if len(photo) > FILE_ID_MAX:
            await say(update, win_texts.photo_unusable())
            return
    words = wins.clean_text(text)
    if isinstance(words, TextProblem):
        if message.photo:  # keep the photo; the words come next
            await flows.wait_for_text(
                context, profile.telegram_id, WIN_FLOW, "words", {"photo": photo}
            )
        if words is TextProblem.TOO_LONG:
            length = len(text.strip())
            await say(
                update,
                win_texts.photo_kept_too_long(length)
                if message.photo
                else win_texts.too_long(length),
            )
        else:
            await say(update, win_texts.photo_needs_words() if photo else win_texts.words_please())
        return
    nonce = await wins.keep_preview(
        services.db,
        telegram_id=profile.telegram_id,
        text=words,
        photo_file_id=photo,
        now=services.now(),
    )
    markup = keyboard(
        [("🙋 Share with my name", ShareWin(nonce=nonce, anonymous=False))],
        [("🕶 Share anonymously", ShareWin(nonce=nonce, anonymous=True))],
        [(flows.CANCEL, CancelWin(nonce=nonce))],
    )
    await _send(update, win_texts.preview(words, photo is not None), markup, photo)


@button(ShareWin)
async def share_win(
    update: Update, context: BotContext, profile: Profile, chosen: ShareWin
) -> None:
    services = context.services
    result = await wins.submit(
        services.db,
        telegram_id=profile.telegram_id,
        nonce=chosen.nonce,
        anonymous=chosen.anonymous,
        now=services.now(),
    )
    if result.status is Shared.GONE:
        await _edit(update, win_texts.preview_gone())
        return
    await _edit(update, win_texts.thanks_for_sharing())


@button(CancelWin)
async def cancel_win(
    update: Update, context: BotContext, profile: Profile, chosen: CancelWin
) -> None:
    cancelled = await wins.cancel_preview(
        context.services.db, telegram_id=profile.telegram_id, nonce=chosen.nonce
    )
    await _edit(
        update,
        {
            Cancelled.CANCELLED: win_texts.sharing_cancelled,
            Cancelled.ALREADY_SHARED: win_texts.thanks_for_sharing,
            Cancelled.GONE: win_texts.preview_gone,
        }[cancelled](),
    )


# --- the coordinators: the list and the card --------------------------------------------------


@command(Role.COORDINATOR)
async def wins_command(update: Update, context: BotContext, profile: Profile) -> None:
    await _list(update, context, profile, 0)


@button(WinsPage, Role.COORDINATOR)
async def wins_page(
    update: Update, context: BotContext, profile: Profile, chosen: WinsPage
) -> None:
    await _list(update, context, profile, chosen.offset)


async def _list(update: Update, context: BotContext, profile: Profile, offset: int) -> None:
    shown, total = await wins.pending(
        context.services.db, telegram_id=profile.telegram_id, offset=offset, limit=PER_PAGE
    )
    rows: list[Row] = [[(win_texts.list_label(v), OpenWin(win_id=v.win_id))] for v in shown]
    rows.append(pager(offset, total, PER_PAGE, lambda offset: WinsPage(offset=offset)))
    await show(update, win_texts.listing(shown, total, offset), keyboard(*rows))


@button(OpenWin, Role.COORDINATOR)
async def open_win(update: Update, context: BotContext, profile: Profile, chosen: OpenWin) -> None:
    view = await wins.card(
        context.services.db, telegram_id=profile.telegram_id, win_id=chosen.win_id
    )
    await _send(update, win_texts.card(view), _card_markup(view), view.photo_file_id)


# --- deciding --------------------------------------------------------------------------------


@button(ApproveWin, Role.COORDINATOR)
async def approve_win(
    update: Update, context: BotContext, profile: Profile, chosen: ApproveWin
) -> None:
    await _approve(update, context, profile, chosen.win_id, chosen.version, without_photo=False)


@button(ApproveWithoutPhoto, Role.COORDINATOR)
async def approve_without_photo(
    update: Update, context: BotContext, profile: Profile, chosen: ApproveWithoutPhoto
) -> None:
    await _approve(update, context, profile, chosen.win_id, chosen.version, without_photo=True)


async def _approve(
    update: Update,
    context: BotContext,
    profile: Profile,
    win_id: int,
    version: int,
    *,
    without_photo: bool,
) -> None:
    services = context.services
    decision = await wins.approve(
        services.db,
        telegram_id=profile.telegram_id,
        win_id=win_id,
        version=version,
        chats=services.settings.celebrations.chats,
        now=services.now(),
        without_photo=without_photo,
    )
    if decision.outcome is Outcome.DONE:
        await _forget_forms(context, profile, win_id)
    done = win_texts.approved(decision.win, decision.chats, decision.without_photo)
    await _card(update, decision.win, _note(decision, profile, done))


@button(EditWin, Role.COORDINATOR)
async def edit_win(update: Update, context: BotContext, profile: Profile, chosen: EditWin) -> None:
    view = await _still_open(update, context, profile, chosen.win_id, chosen.version)
    if view is None:
        return
    await flows.wait_for_text(
        context,
        profile.telegram_id,
        EDIT_FLOW,
        "text",
        {"win_id": view.win_id, "version": view.version, "at": _stamp(context)},
    )
    await say(update, win_texts.ask_edit(view, FORM_TIMEOUT), flows.cancel_keyboard(EDIT_FLOW))


async def on_edit_text(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    services = context.services
    draft = await drafts.load(services.db, telegram_id=profile.telegram_id, flow=EDIT_FLOW)
    if draft is None:
        return
    if _timed_out(draft.data, services.now()):
        await flows.finish(context, profile.telegram_id, EDIT_FLOW)
        await say(update, win_texts.edit_timed_out(int(draft.data["win_id"]), FORM_TIMEOUT))
        return
    words = wins.clean_text(text)
    if words is TextProblem.TOO_LONG:
        await say(update, win_texts.too_long(len(text.strip())))
        return
    if isinstance(words, TextProblem):
        await say(update, win_texts.words_please())
        return
    decision = await wins.edit_text(
        services.db,
        telegram_id=profile.telegram_id,
        win_id=int(draft.data["win_id"]),
        version=int(draft.data["version"]),
        text=words,
        now=services.now(),
    )
    await flows.finish(context, profile.telegram_id, EDIT_FLOW)
    view = decision.win
    note = _note(decision, profile, win_texts.edited())
    await _send(update, win_texts.card(view, note), _card_markup(view), view.photo_file_id)


@button(RejectWin, Role.COORDINATOR)
async def reject_win(
    update: Update, context: BotContext, profile: Profile, chosen: RejectWin
) -> None:
    view = await _still_open(update, context, profile, chosen.win_id, chosen.version)
    if view is None:
        return
    await _ask_note(context, profile, view, _message_id(update))
    await say(
        update,
        win_texts.ask_reject_note(view, FORM_TIMEOUT),
        _without_note(view.win_id, view.version),
    )


async def _ask_note(context: BotContext, profile: Profile, view: WinView, card: int | None) -> None:
    """Wait for the note (`card`: the card on which Reject was tapped, to update it)."""
    await flows.wait_for_text(
        context,
        profile.telegram_id,
        REJECT_FLOW,
        "note",
        {"win_id": view.win_id, "version": view.version, "card": card, "at": _stamp(context)},
    )


def _without_note(win_id: int, version: int) -> InlineKeyboardMarkup:
    return flows.cancel_keyboard(
        REJECT_FLOW, [("Reject without a note", RejectWithoutNote(win_id, version))]
    )


async def on_reject_note(update: Update, context: BotContext, profile: Profile, text: str) -> None:
    """A typed note is only kept: the win is rejected when the coordinator confirms it."""
    services = context.services
    draft = await drafts.load(services.db, telegram_id=profile.telegram_id, flow=REJECT_FLOW)
    if draft is None:
        return
    win_id, version = int(draft.data["win_id"]), int(draft.data["version"])
    now = services.now()
    if _timed_out(draft.data, now):
        await flows.finish(context, profile.telegram_id, REJECT_FLOW)
        await say(update, win_texts.reject_timed_out(win_id, FORM_TIMEOUT))
        return
    note = wins.clean_text(text, wins.NOTE_MAX)
    if note is TextProblem.TOO_LONG:
        await say(update, win_texts.note_too_long(len(text.strip())))
        return
    if isinstance(note, TextProblem):
        await say(update, win_texts.note_please(), _without_note(win_id, version))
        return
    view = await _still_open(update, context, profile, win_id, version)
    if view is None:
        await flows.finish(context, profile.telegram_id, REJECT_FLOW)
        return
    nonce = secrets.randbelow(wins.MAX_NONCE) + 1
    # No longer waiting for text: a later message is not taken for the note.
    await drafts.save(
        services.db,
        telegram_id=profile.telegram_id,
        flow=REJECT_FLOW,
        awaiting=None,
        data={**draft.data, "note": note, "n": nonce},
        now=now,
    )
    await say(
        update,
        win_texts.confirm_reject(view, note),
        keyboard(
            [("Reject and send the note", ConfirmReject(win_id, version, nonce))],
            [("Change the note", ChangeNote(win_id, version, nonce))],
            [("Keep the win", KeepWin(win_id, nonce))],
        ),
    )


@button(ConfirmReject, Role.COORDINATOR)
async def confirm_reject(
    update: Update, context: BotContext, profile: Profile, chosen: ConfirmReject
) -> None:
    form = await _confirmation(context, profile, chosen.win_id, chosen.nonce)
    note = form.get("note") if form is not None else None
    if not isinstance(note, str):
        await _gone(update, context, profile, chosen.win_id)
        return
    await _reject(update, context, profile, chosen.win_id, chosen.version, note)


@button(ChangeNote, Role.COORDINATOR)
async def change_note(
    update: Update, context: BotContext, profile: Profile, chosen: ChangeNote
) -> None:
    form = await _confirmation(context, profile, chosen.win_id, chosen.nonce)
    if form is None:
        await _gone(update, context, profile, chosen.win_id)
        return
    view = await _still_open(update, context, profile, chosen.win_id, chosen.version)
    if view is None:
        await flows.finish(context, profile.telegram_id, REJECT_FLOW)
        return
    card = form.get("card")
    await _ask_note(context, profile, view, card if isinstance(card, int) else None)
    await _edit(
        update,
        win_texts.ask_reject_note(view, FORM_TIMEOUT),
        _without_note(view.win_id, view.version),
    )


@button(KeepWin, Role.COORDINATOR)
async def keep_win(update: Update, context: BotContext, profile: Profile, chosen: KeepWin) -> None:
    form = await _confirmation(context, profile, chosen.win_id, chosen.nonce)
    if form is None:
        await _gone(update, context, profile, chosen.win_id)
        return
    await flows.finish(context, profile.telegram_id, REJECT_FLOW)
    await _edit(update, win_texts.kept(chosen.win_id))


async def _confirmation(
    context: BotContext, profile: Profile, win_id: int, nonce: int
) -> dict[str, Any] | None:
    """The typed note waiting for this confirmation, if it still is."""
    draft = await drafts.load(
        context.services.db, telegram_id=profile.telegram_id, flow=REJECT_FLOW
    )
    if draft is None or draft.data.get("n") != nonce or draft.data.get("win_id") != win_id:
        return None
    return draft.data


async def _gone(update: Update, context: BotContext, profile: Profile, win_id: int) -> None:
    """A confirmation tapped when its note is no longer kept: a repeated tap after the
    rejection gets the same answer again; otherwise nothing is done."""
    view = await wins.card(context.services.db, telegram_id=profile.telegram_id, win_id=win_id)
    if view.status is WinStatus.REJECTED and view.decided_by_id == profile.person_id:
        await _edit(update, win_texts.rejected(view))
    elif view.status is not WinStatus.PENDING:
        await _edit(update, win_texts.already(view, profile.person_id))
    else:
        await _edit(update, win_texts.note_gone())


@button(RejectWithoutNote, Role.COORDINATOR)
async def reject_without_note(
    update: Update, context: BotContext, profile: Profile, chosen: RejectWithoutNote
) -> None:
    # The button is on the question for a note: once that form is closed (cancelled, or the
    # win decided), it does nothing more, and says what became of the win.
    form = await drafts.load(context.services.db, telegram_id=profile.telegram_id, flow=REJECT_FLOW)
    if form is None or form.data.get("win_id") != chosen.win_id:
        await _gone(update, context, profile, chosen.win_id)
        return
    await _reject(update, context, profile, chosen.win_id, chosen.version, None)


async def _reject(
    update: Update,
    context: BotContext,
    profile: Profile,
    win_id: int,
    version: int,
    note: str | None,
) -> None:
    services = context.services
    decision = await wins.reject(
        services.db,
        telegram_id=profile.telegram_id,
        win_id=win_id,
        version=version,
        note=note,
        now=services.now(),
    )
    form = await drafts.load(services.db, telegram_id=profile.telegram_id, flow=REJECT_FLOW)
    await _forget_forms(context, profile, win_id)
    if decision.outcome is Outcome.DONE:
        await _edit(update, win_texts.rejected(decision.win))
        card = form.data.get("card") if form is not None else None
        if isinstance(card, int) and form is not None and form.data.get("win_id") == win_id:
            await _decided_card(context, profile, card, decision.win)
        return
    view = decision.win
    note_text = _note(decision, profile, "")
    await _send(update, win_texts.card(view, note_text), _card_markup(view), view.photo_file_id)


async def _still_open(
    update: Update, context: BotContext, profile: Profile, win_id: int, version: int
) -> WinView | None:
    """The win, if the card tapped is still current; else the card as it is now, and None."""
    view = await wins.card(context.services.db, telegram_id=profile.telegram_id, win_id=win_id)
    if view.status is not WinStatus.PENDING:
        await _card(update, view, win_texts.already(view, profile.person_id))
        return None
    if view.version != version:
        await _card(update, view, win_texts.stale())
        return None
    return view


def _note(decision: Decision, profile: Profile, done: str) -> str:
    match decision.outcome:
        case Outcome.DONE:
            return done
        case Outcome.STALE:
            return win_texts.stale()
        case _:
            return win_texts.already(decision.win, profile.person_id)


async def _forget_forms(context: BotContext, profile: Profile, win_id: int) -> None:
    """A decided win needs no more words or notes: forms left open for it are closed."""
    db = context.services.db
    for flow in (EDIT_FLOW, REJECT_FLOW):
        draft = await drafts.load(db, telegram_id=profile.telegram_id, flow=flow)
        if draft is not None and draft.data.get("win_id") == win_id:
            await drafts.discard(db, telegram_id=profile.telegram_id, flow=flow)


def _card_markup(view: WinView) -> InlineKeyboardMarkup | None:
    if view.status is not WinStatus.PENDING:
        return None
    rows: list[Row] = [
        [
            ("✅ Approve", ApproveWin(win_id=view.win_id, version=view.version)),
            ("✏️ Edit text", EditWin(win_id=view.win_id, version=view.version)),
        ]
    ]
    if view.photo_file_id is not None:
        rows.append(
            [
                (
                    "✅ Approve without the photo",
                    ApproveWithoutPhoto(win_id=view.win_id, version=view.version),
                )
            ]
        )
    rows.append([("Reject", RejectWin(win_id=view.win_id, version=view.version))])
    return keyboard(*rows)


def _stamp(context: BotContext) -> str:
    """When a form was opened, kept in its draft."""
    return context.services.now().isoformat()


def _timed_out(data: Mapping[str, Any], now: datetime) -> bool:
    """Whether the form was opened more than FORM_TIMEOUT ago (or when is unknown)."""
    try:
        opened = datetime.fromisoformat(str(data["at"]))
    except (KeyError, ValueError):
        return True
    return opened.tzinfo is None or now - opened > FORM_TIMEOUT


async def _decided_card(
    context: BotContext, profile: Profile, message_id: int, view: WinView
) -> None:
    """The card on which the coordinator tapped Reject, a note ago: now without buttons."""
    text = win_texts.card(view)
    try:
        if view.photo_file_id is not None:
            await context.bot.edit_message_caption(
                chat_id=profile.telegram_id, message_id=message_id, caption=text
            )
        else:
            await context.bot.edit_message_text(
                text, chat_id=profile.telegram_id, message_id=message_id
            )
    except BadRequest as exc:  # deleted since, say: the decision stands all the same
        logger.info("could not update the card of win %s: %s", view.win_id, exc.message)


def _message_id(update: Update) -> int | None:
    query = update.callback_query
    message = query.message if query is not None else None
    return message.message_id if isinstance(message, Message) else None


# --- showing: a card with a photo is a caption --------------------------------------------------


async def _card(update: Update, view: WinView, note: str) -> None:
    """The card in place of the one tapped (its photo, if any, stays: also when the win was
    approved without it), or as a new message when what was tapped cannot become it (a text
    message cannot gain a photo)."""
    query = update.callback_query
    message = query.message if query is not None else None
    text, markup = win_texts.card(view, note), _card_markup(view)
    if isinstance(message, Message) and (bool(message.photo) or view.photo_file_id is None):
        await _edit(update, text, markup)
        return
    await _send(update, text, markup, view.photo_file_id)


async def _send(
    update: Update, text: str, markup: InlineKeyboardMarkup | None, photo: str | None
) -> None:
    chat = update.effective_chat
    if photo is None or chat is None:
        await say(update, text, markup)
        return
    await chat.send_photo(photo, caption=text, reply_markup=markup)


async def _edit(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the tapped message's words: its caption if it is a photo, else its text."""
    query = update.callback_query
    message = query.message if query is not None else None
    if not isinstance(message, Message):
        await say(update, text, markup)
        return
    try:
        if message.photo:
            await message.edit_caption(text, reply_markup=markup)
        else:
            await message.edit_text(text, reply_markup=markup)
    except BadRequest as exc:
        # A double tap renders the same words twice; Telegram refuses the second edit.
        if "not modified" not in exc.message:
            raise


# --- notices ---------------------------------------------------------------------------------


async def render_review(services: Services, notice: Outgoing) -> Rendered | None:
    view = await wins.view(services.db, int(notice.payload["win_id"]))
    if view is None or view.status is not WinStatus.PENDING:
        return None  # decided already
    return Rendered(win_texts.card(view), _card_markup(view), view.photo_file_id)


async def render_announce(services: Services, notice: Outgoing) -> Rendered | None:
    view = await wins.view(services.db, int(notice.payload["win_id"]))
    if view is None or view.status is not WinStatus.APPROVED:
        return None
    return Rendered(win_texts.announcement(view), None, view.photo_file_id)


async def render_thanks(services: Services, notice: Outgoing) -> Rendered | None:
    view = await wins.view(services.db, int(notice.payload["win_id"]))
    if view is None or view.status is not WinStatus.APPROVED:
        return None
    payload = notice.payload
    # "announced": how notices queued before the number of chats was kept said it.
    chats = int(payload.get("chats", 1 if payload.get("announced") else 0))
    return Rendered(win_texts.thanks(view, chats, bool(payload.get("without_photo"))))


async def render_rejected(services: Services, notice: Outgoing) -> Rendered | None:
    view = await wins.view(services.db, int(notice.payload["win_id"]))
    if view is None or view.status is not WinStatus.REJECTED:
        return None
    return Rendered(win_texts.not_posted(view))
