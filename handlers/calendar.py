"""An .ics file of a volunteer's bookings (RFC 5545), for their phone's calendar."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.rota import BookingView

PRODUCT = "-//Holiday Lunch Bot//Rota//EN"
_FOLD_AT = 75  # octets per content line, as RFC 5545 asks


def ics(bookings: list[BookingView], *, programme: str, now: datetime) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_text(programme)}",
    ]
    for booking in bookings:
        session = booking.session
        lines += [
            "BEGIN:VEVENT",
            f"UID:booking-{booking.booking_id}@holiday-lunch-bot",
            f"DTSTAMP:{_utc(now)}",
            f"DTSTART:{_utc(session.starts_at)}",
            f"DTEND:{_utc(session.ends_at)}",
            f"SUMMARY:{_text(f'{booking.job.capitalize()} at {session.location_name}')}",
            f"LOCATION:{_text(session.location_name)}",
            f"DESCRIPTION:{_text(f'{programme}: your {booking.job} shift. Thank you!')}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines).encode()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Long lines continue on the next line after a space, never splitting a character."""
    parts: list[str] = []
    current = ""
    for char in line:
        limit = _FOLD_AT if not parts else _FOLD_AT - 1
        if len((current + char).encode()) > limit:
            parts.append(current)
            current = ""
        current += char
    parts.append(current)
    return "\r\n ".join(parts)
