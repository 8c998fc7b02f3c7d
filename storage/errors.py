"""Errors that storage operations raise for the caller to turn into a kind reply."""

from __future__ import annotations

from storage.models import Role


class NotRegistered(Exception):
    """The person has not accepted the privacy notice yet."""


class PermissionDenied(Exception):
    """The person does not hold the role the operation needs."""

    def __init__(self, needed: Role) -> None:
        super().__init__(f"needs role {needed.value}")
        self.needed = needed


class NotFound(LookupError):
    """No such thing (or not any more): a stale or forged id."""


class Closed(Exception):
    """The session is not open for this now: it has started, ended or was cancelled."""


class AlreadyDone(Exception):
    """It was done a moment ago (a double tap, or two people at once): a session already
    cancelled, a location already archived. Nothing changed, and whoever was to be told was
    told the first time; not to be mistaken for "there was nobody to tell"."""


class Clash(Exception):
    """A change would collide: with another session at the same place and time, or with other
    bookings of the people booked (`names`)."""

    def __init__(self, names: list[str]) -> None:
        super().__init__("clash")
        self.names = names


class NotYours(Exception):
    """Someone acted on what is not theirs: another's booking, another school's referral."""

    def __init__(self, subject: tuple[str, int] | None = None) -> None:
        super().__init__("not yours")
        self.subject = subject


class OutOfScope(Exception):
    """A site lead acted outside their own locations, or on the programme as a whole."""
