"""The buttons of a session's rota as a coordinator changes it (handlers/act_for.py): here on
their own, so that the session's screen (handlers/siteday.py) can carry them without importing
the handlers, which go back to that screen."""

from __future__ import annotations

from dataclasses import dataclass

from handlers import callbacks

# The session screen's buttons to these screens.
TEAM_BUTTON = "👥 The rota: put on, move, take off"
WRITE_BUTTON = "✉️ Write to the team"


@callbacks.action("jt")
@dataclass(frozen=True)
class RotaTeam:
    session_id: int
    offset: int = 0


@callbacks.action("jm")
@dataclass(frozen=True)
class RotaMember:
    booking_id: int


@callbacks.action("jo")
@dataclass(frozen=True)
class AskTakeOff:
    booking_id: int


@callbacks.action("jx")
@dataclass(frozen=True)
class TakeOff:
    booking_id: int


@callbacks.action("jj")
@dataclass(frozen=True)
class MoveJobs:
    booking_id: int


@callbacks.action("jv")
@dataclass(frozen=True)
class MoveTo:
    booking_id: int
    job_id: int


@callbacks.action("js")
@dataclass(frozen=True)
class MoveSessions:
    booking_id: int
    location_id: int
    offset: int


@callbacks.action("jl")
@dataclass(frozen=True)
class MoveLocations:
    booking_id: int
    offset: int


@callbacks.action("jk")
@dataclass(frozen=True)
class MoveSessionJobs:
    booking_id: int
    session_id: int


@callbacks.action("ja")
@dataclass(frozen=True)
class PutOnJobs:
    session_id: int


@callbacks.action("jp")
@dataclass(frozen=True)
class PutOnPeople:
    job_id: int
    offset: int


@callbacks.action("jq")
@dataclass(frozen=True)
class PutOn:
    job_id: int
    person_id: int
    waitlist: bool


@callbacks.action("jn")
@dataclass(frozen=True)
class PutOnByName:
    job_id: int


@callbacks.action("jw")
@dataclass(frozen=True)
class WriteToTeam:
    session_id: int


@callbacks.action("jf")
@dataclass(frozen=True)
class AskForget:
    """Someone without Telegram: erase their name (a coordinator of the whole programme)."""

    booking_id: int


@callbacks.action("jg")
@dataclass(frozen=True)
class Forget:
    booking_id: int
