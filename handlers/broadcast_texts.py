"""The words of broadcasts: composing, the preview, the message itself and its progress. HTML;
every name a person typed goes through esc(). The message itself is the coordinator's own HTML,
as Telegram gave it (formatting kept, the rest escaped already)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.texts import esc
from storage.broadcasts import Progress
from storage.models import BROADCAST_CAPTION_MAX, BROADCAST_TEXT_MAX, Audience

SECONDS_PER_MINUTE = 60
MINUTES_PER_HOUR = 60
CHANGE_MESSAGE = "✏️ Change the message"
STOP = "⏹ Stop"


def people(count: int) -> str:
    return "1 person" if count == 1 else f"{count:,} people"


def audience_name(audience: Audience, location_name: str | None) -> str:
    match audience:
        case Audience.VOLUNTEERS:
            return "all volunteers"
        case Audience.LOCATION:
            where = esc(location_name) if location_name else "a former location"
            return f"the volunteers of {where}"
        case Audience.SCHOOLS:
            return "school contacts"
        case Audience.PEOPLE:
            where = f" of {esc(location_name)}" if location_name else ""
            return f"the people{where} picked out in /people"
        case Audience.SESSION:
            where = esc(location_name) if location_name else "a former location"
            return f"the team of a lunch at {where}"
        case _:
            return "everyone registered"


def team(location_name: str | None, starts_at: datetime, tz: ZoneInfo) -> str:
    """One session's team: 'the team of St Mark's, Tue 28 Jul at 11:30 (everyone on its
    rota)'."""
    where = esc(location_name) if location_name else "a former location"
    local = starts_at.astimezone(tz)
    return f"the team of {where}, {local:%a %-d %b} at {local:%H:%M} (everyone on its rota)"


def not_you(audience: str) -> str:
    """The audience, saying that the sender (who is in it) is not sent a copy."""
    return f"{audience}, not you"


def message(programme: str, text: str | None) -> str:
    """What each recipient sees: a heading, then the coordinator's words."""
    heading = f"📣 <b>{esc(programme)}</b>"
    return f"{heading}\n\n{text}" if text else heading


# --- composing -------------------------------------------------------------------------------


def ask_audience() -> str:
    return "📣 <b>New broadcast</b>\nWho should get it?"


def ask_location(any_location: bool, site_lead: bool) -> str:
    if not any_location:
        return "There are no open locations yet, so there is nobody to choose."
    if site_lead:
        return (
            "📣 <b>New broadcast</b>\nAs a site lead you can write to the volunteers of your "
            "own locations. Which location?"
        )
    return (
        "Which location's volunteers? (Those who call it one of their home locations, and "
        "those booked for its sessions in the last four weeks or ahead.)"
    )


def ask_message(audience: str) -> str:
    return (
        f"📣 To {audience}.\n\nSend me the message: words, or a photo with a caption. "
        "Bold, italics and links are kept. At most "
        f"{BROADCAST_TEXT_MAX:,} characters, or {BROADCAST_CAPTION_MAX:,} with a photo. "
        "You will see a preview before anything is sent. (/cancel to stop.)"
    )


def too_long(length: int, limit: int, photo: bool) -> str:
    what = "a photo's caption" if photo else "a broadcast"
    return (
        f"That is {length:,} characters, and {what} can hold at most {limit:,}. "
        "Please send a shorter one (or /cancel)."
    )


def bad_photo() -> str:
    return "Sorry, I can't use that photo. Please send another one (or /cancel)."


def refused(reason: str) -> str:
    return (
        f"Telegram would not send that message ({esc(reason)}). Please send it again, "
        "changed (or /cancel)."
    )


def confirm(recipients: int, audience: str) -> str:
    if recipients == 0:
        return (
            f"Nobody is in this audience ({audience}) yet, so there is nobody to send it to. "
            "Choose another audience, or cancel."
        )
    return (
        f"☝️ That is the preview. This goes to <b>{people(recipients)}</b> ({audience}), each once."
    )


def send_button(recipients: int) -> str:
    return f"📣 Send to {people(recipients)}"


def nobody() -> str:
    return "Nobody is in this audience any more, so nothing was sent. Choose another audience."


def already_sent() -> str:
    return (
        "That broadcast was already sent, cancelled or changed, so nothing more was sent. "
        "Send /broadcast to write a new one."
    )


def stopped(count: int) -> str:
    return (
        f"⏹ Stopped: {people(count)} will not be sent it. The copies already on their way "
        "are counted, and the final figures follow in a moment."
    )


def nothing_to_stop() -> str:
    return (
        "There was nothing left to stop: every copy has been sent or is on its way (or it was "
        "stopped already)."
    )


# --- progress --------------------------------------------------------------------------------


def duration(seconds: float) -> str:
    whole = max(0, round(seconds))
    if whole < SECONDS_PER_MINUTE:
        return f"{whole} s"
    minutes, rest = divmod(whole, SECONDS_PER_MINUTE)
    if minutes < MINUTES_PER_HOUR:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, MINUTES_PER_HOUR)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def progress(state: Progress, seconds_left: int | None) -> str:
    """The coordinator's progress message while the broadcast goes."""
    parts = [
        f"📣 Sending… {state.done:,} of {state.total:,} ({state.percent}%)",
        f"sent {state.sent:,}",
        f"blocked {state.blocked:,}",
        f"failed {state.failed:,}",
    ]
    if state.skipped:
        parts.append(f"not sent {state.skipped:,}")
    if state.stopped:
        parts.append(f"stopped {state.stopped:,}")
    if seconds_left is not None and state.done < state.total:
        parts.append(f"about {duration(seconds_left)} left")
    return " · ".join(parts) + _to(state)


def finished(state: Progress) -> str:
    """The progress message's last form: what became of every copy."""
    took = (state.finished_at - state.created_at).total_seconds() if state.finished_at else 0
    heading = "⏹ Broadcast stopped" if state.stopped else "✅ Broadcast finished"
    parts = [
        f"{heading}: {people(state.total)}",
        f"{state.sent:,} sent",
        f"{state.blocked:,} had blocked the bot",
        f"{state.failed:,} failed",
    ]
    if state.skipped:
        parts.append(f"{state.skipped:,} not sent (no longer registered)")
    if state.stopped:
        parts.append(f"{state.stopped:,} not sent (stopped)")
    parts.append(f"took {duration(took)}")
    return " · ".join(parts) + _to(state)


def _to(state: Progress) -> str:
    return f"\nTo {audience_name(state.audience, state.location_name)}."
