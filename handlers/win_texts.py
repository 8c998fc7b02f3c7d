"""The words of wins: sharing one, the coordinators' moderation card, the announcement in the
celebration chats, and the notes back to the author. HTML; what people typed goes through esc().

A card or an announcement with a photo is a caption (at most 1024 characters once the HTML is
parsed): `fit` shortens the win's words, never the rest, so that it always fits.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta

from handlers.texts import esc
from storage.models import WIN_TEXT_MAX, WinStatus
from storage.wins import NOTE_MAX, WinView, excerpt

CAPTION_MAX = 1024
QUOTED = 80  # how much of a win a note to its author quotes
_TAG = re.compile(r"<[^>]*>")


def fit(build: Callable[[str], str], words: str, limit: int = CAPTION_MAX) -> str:
    """`build(esc(words))`, with the words shortened if the message would be over `limit`
    characters as the person sees it (tags parsed, entities decoded)."""
    text = build(esc(words))
    over = _shown_length(text) - limit
    if over <= 0:
        return text
    keep = max(0, len(words) - over - 1)
    return build(esc(words[:keep].rstrip() + "…"))


def _shown_length(text: str) -> int:
    return len(html.unescape(_TAG.sub("", text)))


def _who(view: WinView) -> str:
    return esc(view.author_name) if view.author_name else "a former member"


# --- sharing ---------------------------------------------------------------------------------


def ask_win() -> str:
    return (
        "🌟 <b>Share a win</b>\n"
        "What good thing happened? Send it as a message (up to "
        f"{WIN_TEXT_MAX} characters), or send a photo with a caption.\n"
        "🛡 Please no children's names or faces.\n\n"
        "A coordinator looks at it first; then it is celebrated with the programme. "
        "/cancel to stop."
    )


def photo_needs_words() -> str:
    return (
        "📷 Lovely photo, thank you! Now send a few words to go with it: what happened? "
        "(or /cancel)"
    )


def words_please() -> str:
    return "Please send a few words about the win (or /cancel)."


def too_long(length: int) -> str:
    return (
        f"That is {length} characters, and a win can be up to {WIN_TEXT_MAX}. Please "
        "shorten it a little and send it again (or /cancel)."
    )


def photo_kept_too_long(length: int) -> str:
    return (
        f"I've kept your photo. The caption is {length} characters, and a win can be up to "
        f"{WIN_TEXT_MAX}: please send shorter words to go with the photo (or /cancel)."
    )


def photo_unusable() -> str:
    return "Sorry, I can't use that photo. Please send another one, or just words (or /cancel)."


def preview(words: str, has_photo: bool) -> str:
    photo = " (with your photo)" if has_photo else ""
    return fit(
        lambda text: (
            f"<b>Your win</b>{photo}\n\n{text}\n\n"
            "Share it with your name, or anonymously? A coordinator looks at it before it is "
            "celebrated with the programme."
        ),
        words,
    )


def thanks_for_sharing() -> str:
    return "Thank you! A coordinator will look at it soon."


def preview_gone() -> str:
    return (
        "This win was not shared from here: it was cancelled or replaced by a newer one. "
        "Send /win to share a win."
    )


def sharing_cancelled() -> str:
    return "Cancelled: nothing was shared. Send /win whenever something good happens."


# --- moderation ------------------------------------------------------------------------------


def card(view: WinView, note: str = "") -> str:
    """The moderation card: the win, who shared it, whether their name is to be shown, whether
    its words were edited, and what has been decided; a photo still to decide is a reminder
    to look at it for children."""
    head = f"{note}\n\n" if note else ""
    match view.status:
        case WinStatus.PENDING:
            title = f"🌟 <b>A win to approve</b> (#{view.win_id})"
        case WinStatus.APPROVED:
            title = f"✅ <b>Win #{view.win_id}: approved</b>"
        case _:
            title = f"<b>Win #{view.win_id}: not announced</b>"
    if view.author_name is None:
        credit = "Shared by a former member: no name will be shown."
    elif view.anonymous:
        credit = f"Shared by <b>{esc(view.author_name)}</b>, who asked to stay anonymous."
    else:
        credit = f"Shared by <b>{esc(view.author_name)}</b>, with their name shown."
    if view.edited:
        credit += "\n✏️ The words were edited by a coordinator."
    if view.status is WinStatus.PENDING and view.photo_file_id is not None:
        credit += "\n📷 Check that no child can be recognised in the photo."
    decided = ""
    if view.status is not WinStatus.PENDING and view.decided_by_name:
        verb = "Approved" if view.status is WinStatus.APPROVED else "Rejected"
        decided = f"\n{verb} by {esc(view.decided_by_name)}."
        if view.reject_note:
            decided += f" Note: <i>{esc(excerpt(view.reject_note, 120))}</i>"
    return fit(lambda text: f"{head}{title}\n\n{text}\n\n{credit}{decided}", view.text)


def listing(shown: list[WinView], total: int, offset: int) -> str:
    if total == 0:
        return "<b>Wins waiting for approval</b>\nNone right now. 🎉"
    return (
        f"<b>Wins waiting for approval</b> ({offset + 1}-{offset + len(shown)} of {total}). "
        "Tap one to open it."
    )


def list_label(view: WinView) -> str:
    photo = "📷 " if view.photo_file_id else ""
    return f"#{view.win_id} · {view.author_name or 'former member'} · {photo}{excerpt(view.text)}"


def approved(view: WinView, chats: int, without_photo: bool = False) -> str:
    thanked = (
        f"{_who(view)} will be thanked"
        if view.author_name
        else "its author has left, so nobody is thanked"
    )
    done = "✅ Approved without the photo" if without_photo else "✅ Approved"
    if chats == 0:
        return (
            f"{done}, and {thanked}. But no celebration chat is configured, so it was not "
            "posted anywhere. To post wins in a group, add me to it, send /chatid there, put "
            "the id in <code>celebrations.chats</code> in the config file and restart the bot."
        )
    where = "the celebrations group" if chats == 1 else f"{chats} celebration chats"
    how = " anonymously" if view.credit is None else ""
    going = "its words are on their way" if without_photo else "it is on its way"
    return f"{done}: {going} to {where}{how}, and {thanked}."


def already(view: WinView, actor_person_id: int) -> str:
    verb = "approved" if view.status is WinStatus.APPROVED else "rejected"
    if view.decided_by_id == actor_person_id:
        return f"You already {verb} this win, so nothing was changed."
    by = esc(view.decided_by_name) if view.decided_by_name else "another coordinator"
    return f"This win was already {verb} by {by}, so nothing was changed."


def stale() -> str:
    return "This win was changed since; here it is now."


def _minutes(period: timedelta) -> str:
    return f"{int(period.total_seconds() // 60)} minutes"


def ask_edit(view: WinView, timeout: timedelta) -> str:
    return (
        f"✏️ Send the new words for win #{view.win_id} (up to {WIN_TEXT_MAX} characters) "
        f"within {_minutes(timeout)}, or /cancel to keep them as they are. The words now:"
        f"\n\n<i>{esc(view.text)}</i>"
    )


def edited() -> str:
    return (
        "✏️ You changed the words: below is how they will be announced. Approve, edit "
        "them again or reject the win from here."
    )


def edit_timed_out(win_id: int, timeout: timedelta) -> str:
    return (
        f"⌛ The form for new words for win #{win_id} closed after {_minutes(timeout)}, so "
        "I did not use that message and the win's words are unchanged. To edit them, send "
        "/wins, open the win and tap “✏️ Edit text” again."
    )


def ask_reject_note(view: WinView, timeout: timedelta) -> str:
    who = _who(view)
    return (
        f"Write a short note to {who} about why this win won't be posted (they will see "
        f"it; up to {NOTE_MAX} characters), or tap the button to reject it without a note. "
        "You will see the note again before anything is sent; nothing is rejected until you "
        f"confirm. The form closes after {_minutes(timeout)}; /cancel closes it now and "
        "leaves the win waiting."
    )


def note_please() -> str:
    return (
        "Please write a few words for the note, or tap “Reject without a note” "
        "(or /cancel to leave the win waiting)."
    )


def note_too_long(length: int) -> str:
    return (
        f"That note is {length} characters; please keep it to {NOTE_MAX} (or tap "
        "“Reject without a note”, or /cancel to leave the win waiting)."
    )


def confirm_reject(view: WinView, note: str) -> str:
    return (
        f"Reject win #{view.win_id} (“{esc(excerpt(view.text))}”) with this note to "
        f"{_who(view)}?\n\n<i>{esc(note)}</i>"
    )


def reject_timed_out(win_id: int, timeout: timedelta) -> str:
    return (
        f"⌛ The form for a note about win #{win_id} closed after {_minutes(timeout)}, so I "
        "did not use that message and nothing was rejected. To reject the win, send /wins, "
        "open it and tap “Reject” again."
    )


def kept(win_id: int) -> str:
    return (
        f"Kept: nothing was sent, and win #{win_id} is still waiting. Send /wins to open it again."
    )


def note_gone() -> str:
    return (
        "This note is no longer open (it was sent, replaced or closed), so nothing was "
        "done from here. Send /wins to see the wins waiting."
    )


def rejected(view: WinView) -> str:
    if view.author_name is None:
        return "Rejected: it will not be posted."
    note = ", with your note" if view.reject_note else ""
    return f"Rejected: it will not be posted. {_who(view)} has been told kindly{note}."


# --- notices -----------------------------------------------------------------------------------


def announcement(view: WinView) -> str:
    credit = f"— {esc(view.credit)}" if view.credit else "— shared anonymously"
    return fit(lambda text: f"🎉 <b>A win to celebrate</b>\n\n{text}\n\n{credit}", view.text)


def thanks(view: WinView, chats: int, without_photo: bool) -> str:
    """To the author of an approved win. `chats`: how many celebration chats it was sent to
    (none when no chat is configured)."""
    if chats == 0:
        where = "has been approved by a coordinator"
    elif chats == 1:
        where = "is now in the celebrations group"
    else:
        where = f"is now in the programme's {chats} celebration chats"
    lines = []
    if view.edited:
        shown = "posted" if chats else "approved"
        lines.append(
            f"🎉 Your win {where}. A coordinator lightly edited the words; this is how they "
            f"were {shown}:\n\n<i>{esc(view.text)}</i>"
        )
    else:
        lines.append(f"🎉 Your win “{esc(excerpt(view.text, QUOTED))}” {where}.")
    if without_photo:
        lines.append(f"It was {'shared' if chats else 'approved'} without the photo.")
    lines.append("Thank you!")
    return "\n\n".join(lines) if view.edited else " ".join(lines)


def not_posted(view: WinView) -> str:
    lines = [
        f"Thank you for sharing your win “{esc(excerpt(view.text, QUOTED))}”. A coordinator "
        "decided not to share it this time."
    ]
    if view.reject_note:
        lines.append(f"Their note: <i>{esc(view.reject_note)}</i>")
    lines.append("Please keep sharing the good things that happen: /win")
    return "\n\n".join(lines)
