"""Broadcasts: a coordinator's message to many people, each recipient's copy an outbox row.

Composing keeps its state in the coordinator's draft (flow "broadcast"): the audience, the
message (HTML as Telegram gave it, and a photo's file id) and a token that the Send button
names, so that only the preview on screen can be sent. Starting consumes the draft, counts the
audience again and queues one notice per recipient, all in one transaction: a double tap or a
repeated update starts nothing twice.

Progress is counted from the notices (batch "broadcast:<id>"), so a restarted bot carries on
where it was. The coordinator's progress message is edited at most every few seconds (a
conditional UPDATE of `progress_at`, so that of several instances one edits). Once every copy
has ended, the final figures are shown first and the broadcast closed only after that worked
(SENDING -> DONE, conditionally): a failed last edit is tried again, so the coordinator always
sees how it ended. `finished_at` is set by the first try, so "took" stays the same.

Whoever started it (or a coordinator of the whole programme) may stop it: its copies not yet
taken for sending are marked skipped, noted as stopped.
"""

from __future__ import annotations

import dataclasses
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    case,
    delete,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, directory, drafts, locations, outbox
from storage.db import Database, rowcount
from storage.errors import NotFound, NotYours
from storage.models import (
    BROADCAST_CAPTION_MAX,
    BROADCAST_TEXT_MAX,
    FILE_ID_MAX,
    Audience,
    Booking,
    BookingStatus,
    Broadcast,
    BroadcastStatus,
    Draft,
    Location,
    LunchSession,
    Notice,
    NoticeStatus,
    Person,
    Role,
    RoleGrant,
    SessionStatus,
)
from storage.roles import coordinator_scope, require_location, require_programme, require_role

# One session's team, whom a message to it reaches: those holding a place, or who came.
TEAM = (BookingStatus.BOOKED, BookingStatus.ATTENDED)

FLOW = "broadcast"
AWAITING_MESSAGE = "message"
KIND = "broadcast"
# Outbox rows are inserted this many at a time: ten columns each stays far below the bound
# parameters SQLite (32,766) and PostgreSQL (32,767) allow in one statement.
CHUNK = 500
# The Send button names the preview it was shown with: a number that fits a callback's int.
TOKEN_MAX = 2**31 - 1
# A broadcast whose progress message was not shown this long after it started (the bot
# stopped in between) gets its progress reported all the same.
SHOW_GRACE = timedelta(minutes=1)
# "Time left" is worked out from the copies that ended in this last stretch of time, so a
# pause (the bot stopped for a while) does not count as sending time for long.
RATE_WINDOW = timedelta(minutes=1)
# The note on the copies a stop kept from being sent.
STOPPED = "stopped by a coordinator"
SENT_OR_TRIED = (NoticeStatus.SENT, NoticeStatus.BLOCKED, NoticeStatus.GONE, NoticeStatus.FAILED)


class TooLong(Exception):
    """The message has more characters than a broadcast may hold."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"{length} characters, at most {limit}")
        self.length = length
        self.limit = limit


class BadPhoto(Exception):
    """Telegram's id of the photo is not one that can be kept."""


class NobodyToSend(Exception):
    """Nobody the bot can reach is in the audience (any more)."""


@dataclass(frozen=True, kw_only=True)
class Composition:
    """A broadcast being composed: the draft, with the audience counted now."""

    audience: Audience
    location_id: int | None
    location_name: str | None
    people: directory.Selection | None  # whom /people picked out, for Audience.PEOPLE
    session_id: int | None = None  # Audience.SESSION: whose team
    session_starts_at: datetime | None = None
    text: str | None  # HTML; None until the coordinator has sent the message
    photo_file_id: str | None
    recipients: int
    token: int
    # The sender is in this audience, but is not sent a copy (they have seen the preview).
    without_sender: bool


@dataclass(frozen=True, kw_only=True)
class Message:
    """What every recipient is sent."""

    text: str
    photo_file_id: str | None


@dataclass(frozen=True, kw_only=True)
class Progress:
    broadcast_id: int
    audience: Audience
    location_name: str | None
    total: int
    sent: int
    blocked: int
    failed: int  # chat gone, or refused / failing after retries
    skipped: int  # not sent: no longer true when its turn came (the person was erased)
    stopped: int  # not sent: the broadcast was stopped before their turn
    waiting: int  # pending or being sent
    status: BroadcastStatus
    created_at: datetime
    finished_at: datetime | None
    chat_id: int
    message_id: int | None
    progress_at: datetime | None

    @property
    def done(self) -> int:
        return self.sent + self.blocked + self.failed + self.skipped + self.stopped

    @property
    def complete(self) -> bool:
        """Every copy has ended in a recorded state."""
        return self.waiting == 0

    @property
    def percent(self) -> int:
        if self.complete or self.total <= 0:
            return 100
        return min(99, self.done * 100 // self.total)

    def seconds_left(self, per_second: float) -> int:
        """An estimate: the seconds the copies still waiting take at `per_second`."""
        left = max(0, self.total - self.done)
        return math.ceil(left / per_second) if per_second > 0 else 0


@dataclass(frozen=True, kw_only=True)
class Started:
    broadcast_id: int
    progress: Progress


def batch_of(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}"


def too_long(plain_text: str, *, photo: bool) -> int | None:
    """The limit the message breaks (a caption's with a photo), or None when it fits."""
    limit = BROADCAST_CAPTION_MAX if photo else BROADCAST_TEXT_MAX
    return limit if len(plain_text) > limit else None


# --- composing -------------------------------------------------------------------------------


async def reach(db: Database, *, actor_telegram_id: int) -> frozenset[int] | None:
    """Whom the coordinator may write to: None for anyone (a coordinator of the whole
    programme), else the locations whose volunteers a site lead may write to."""
    async with db.read() as session:
        actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
        return await coordinator_scope(session, actor.id)


async def discard(db: Database, *, actor_telegram_id: int) -> bool:
    """Forget the broadcast being composed; True if there was one."""
    async with db.transaction() as session:
        result = await session.execute(
            delete(Draft).where(Draft.telegram_id == actor_telegram_id, Draft.flow == FLOW)
        )
        return rowcount(result) > 0


async def choose_audience(
    db: Database,
    *,
    actor_telegram_id: int,
    audience: Audience,
    location_id: int | None,
    now: datetime,
    people: directory.Selection | None = None,
    session_id: int | None = None,
) -> Composition:
    """Set (or change) the audience; a message composed already is kept. Without one, the
    draft waits for the coordinator to send it. Audience.PEOPLE is whom `people` picks out
    (a location there names whose people they are); Audience.SESSION is the team of the
    session `session_id`."""
    if audience is Audience.PEOPLE:
        people = people or directory.Selection()
        location_id = people.location_id
    elif audience is not Audience.LOCATION:
        location_id = None  # (a session's team: its location is read below)
    async with db.transaction() as session:
        if audience is Audience.SESSION:
            location_id = await _location_of(session, session_id)
        actor, location_name = await _allowed(session, actor_telegram_id, audience, location_id)
        draft = await _draft(session, actor_telegram_id)
        data: dict[str, Any] = dict(draft.data) if draft is not None else {}
        data.update(audience=audience.value, location_id=location_id, token=_token())
        data.pop("people", None)
        data.pop("session_id", None)
        if audience is Audience.PEOPLE and people is not None:
            data["people"] = people.to_data()
        if audience is Audience.SESSION:
            data["session_id"] = session_id
        text = data.get("text")
        await _save(session, actor_telegram_id, data, now, waiting=text is None)
        return await _composition(session, actor, data, location_name, now)


async def rewrite(db: Database, *, actor_telegram_id: int, now: datetime) -> Composition:
    """The coordinator wants to change the message after the preview: it is forgotten (and the
    preview's Send button with it), the audience kept, and the draft waits for the new one."""
    async with db.transaction() as session:
        draft, actor, location_name = await _composing(session, actor_telegram_id)
        data = {k: v for k, v in draft.data.items() if k not in ("text", "photo")}
        data["token"] = _token()
        await _save(session, actor_telegram_id, data, now, waiting=True)
        return await _composition(session, actor, data, location_name, now)


async def compose(
    db: Database,
    *,
    actor_telegram_id: int,
    text_html: str,
    plain_text: str,
    photo_file_id: str | None,
    now: datetime,
) -> Composition:
    """Keep the message (HTML, with Telegram's id of the photo if there is one) for the
    audience chosen before; it is ready for the preview and the Send button."""
    limit = too_long(plain_text, photo=photo_file_id is not None)
    if limit is not None:
        raise TooLong(len(plain_text), limit)
    if photo_file_id is not None and not 0 < len(photo_file_id) <= FILE_ID_MAX:
        raise BadPhoto
    async with db.transaction() as session:
        draft, actor, location_name = await _composing(session, actor_telegram_id)
        data = dict(draft.data)
        data.update(text=text_html, photo=photo_file_id, token=_token())
        await _save(session, actor_telegram_id, data, now, waiting=False)
        return await _composition(session, actor, data, location_name, now)


async def audience_size(
    db: Database,
    *,
    actor_telegram_id: int,
    audience: Audience,
    location_id: int | None,
    now: datetime,
) -> int:
    """How many people a broadcast to this audience would reach now (the sender excepted)."""
    async with db.read() as session:
        actor, _ = await _allowed(session, actor_telegram_id, audience, location_id)
        return await _count(session, _recipients(audience, location_id, actor.id, now, None))


# --- sending ---------------------------------------------------------------------------------


async def start(
    db: Database,
    *,
    actor_telegram_id: int,
    token: int,
    chat_id: int,
    message_id: int | None,
    now: datetime,
) -> Started | None:
    """Send the composed broadcast: consume the draft, count the audience again, and queue
    one notice per recipient, in one transaction. None when there is nothing (any more) to
    send with this token: sent already (a double tap), cancelled, or changed since.

    `chat_id` and `message_id` name the coordinator's message that shows the progress."""
    async with db.transaction() as session:
        draft = await _draft(session, actor_telegram_id, lock=True)
        if (
            draft is None
            or draft.data.get("token") != token
            or draft.data.get("text") is None
            or "audience" not in draft.data
        ):
            return None
        audience, location_id = _audience_of(draft.data)
        actor, location_name = await _allowed(session, actor_telegram_id, audience, location_id)
        consumed = await session.execute(delete(Draft).where(Draft.id == draft.id))
        if rowcount(consumed) != 1:
            return None  # the other tap got here first
        chosen = await _chosen(session, actor, draft.data, now)
        recipients = (
            await session.execute(_recipients(audience, location_id, actor.id, now, chosen))
        ).all()
        if not recipients:
            raise NobodyToSend
        broadcast = Broadcast(
            created_by=actor.id,
            text=str(draft.data["text"]),
            photo_file_id=draft.data.get("photo"),
            audience=audience,
            location_id=location_id,
            session_id=_session_of(draft.data),
            total=len(recipients),
            status=BroadcastStatus.SENDING,
            created_at=now,
            progress_chat_id=chat_id,
            progress_message_id=message_id,
        )
        session.add(broadcast)
        await session.flush()
        batch = batch_of(broadcast.id)
        queued = 0
        for first in range(0, len(recipients), CHUNK):
            queued += await outbox.queue_rows(
                session,
                [
                    outbox.row(
                        chat_id=telegram_id,
                        person_id=person_id,
                        kind=KIND,
                        payload={"broadcast_id": broadcast.id},
                        dedupe_key=f"{batch}:{person_id}",
                        due_at=now,
                        now=now,
                        batch=batch,
                    )
                    for person_id, telegram_id in recipients[first : first + CHUNK]
                ],
            )
        broadcast.total = queued
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="broadcast.started",
            subject=("broadcast", broadcast.id),
            audience=audience.value,
            location_id=location_id,
            recipients=queued,
            photo=broadcast.photo_file_id is not None,
            # Whom /people picked out: the filter, and whether a name was searched (not what).
            **_people_audit(draft.data),
            **({"session_id": broadcast.session_id} if broadcast.session_id else {}),
        )
        await session.flush()
        return Started(
            broadcast_id=broadcast.id,
            progress=_progress(broadcast, {NoticeStatus.PENDING: queued}, location_name),
        )


async def shown(db: Database, broadcast_id: int, *, now: datetime) -> None:
    """The coordinator has been shown the progress message: from now on it is edited as the
    broadcast goes, at most every few seconds."""
    async with db.transaction() as session:
        await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.progress_at.is_(None))
            .values(progress_at=now)
        )


async def message(db: Database, broadcast_id: int) -> Message | None:
    """What the recipients are sent, or None if the broadcast is gone."""
    async with db.read() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None:
            return None
        return Message(text=broadcast.text, photo_file_id=broadcast.photo_file_id)


# --- progress --------------------------------------------------------------------------------


async def sending(db: Database) -> list[Progress]:
    """The progress of every broadcast still being sent, oldest first."""
    async with db.read() as session:
        rows = (
            (
                await session.execute(
                    select(Broadcast, Location.name)
                    .outerjoin(Location, Location.id == Broadcast.location_id)
                    .where(Broadcast.status == BroadcastStatus.SENDING)
                    .order_by(Broadcast.id)
                )
            )
            .tuples()
            .all()
        )
    return [await _counted(db, broadcast, name) for broadcast, name in rows]


async def progress(db: Database, broadcast_id: int) -> Progress | None:
    async with db.read() as session:
        found = (
            (
                await session.execute(
                    select(Broadcast, Location.name)
                    .outerjoin(Location, Location.id == Broadcast.location_id)
                    .where(Broadcast.id == broadcast_id)
                )
            )
            .tuples()
            .one_or_none()
        )
    return await _counted(db, *found) if found is not None else None


async def claim_progress_edit(
    db: Database, broadcast_id: int, *, now: datetime, every: timedelta
) -> bool:
    """True if it is time to edit the progress message again (and nobody else will now):
    the last edit was `every` ago, or it was never shown and the grace has passed."""
    async with db.transaction() as session:
        claimed = await session.execute(
            update(Broadcast)
            .where(
                Broadcast.id == broadcast_id,
                Broadcast.status == BroadcastStatus.SENDING,
                or_(
                    Broadcast.progress_at <= now - every,
                    and_(Broadcast.progress_at.is_(None), Broadcast.created_at <= now - SHOW_GRACE),
                ),
            )
            .values(progress_at=now)
        )
        return rowcount(claimed) == 1


def may_finish(progress: Progress, *, now: datetime) -> bool:
    """Every copy has ended, and the coordinator's progress message is there to say so (or
    has not appeared within the grace: the final word is then sent as a new message)."""
    return progress.complete and (
        progress.progress_at is not None or progress.created_at <= now - SHOW_GRACE
    )


async def claim_final(
    db: Database, broadcast_id: int, *, now: datetime, every: timedelta
) -> Progress | None:
    """The final figures of a broadcast whose copies have all ended, for the caller to show
    now (then `close` it); None if it is not complete, closed, or somebody showed them less
    than `every` ago (a try that failed is tried again after that, or after `put_off`). The
    first try sets `finished_at`. (A copy that has ended stays ended: the figures stay true.)"""
    before = await progress(db, broadcast_id)
    if before is None or not before.complete or before.status is not BroadcastStatus.SENDING:
        return None
    async with db.transaction() as session:
        claimed = await session.execute(
            update(Broadcast)
            .where(
                Broadcast.id == broadcast_id,
                Broadcast.status == BroadcastStatus.SENDING,
                or_(Broadcast.finished_at.is_(None), Broadcast.progress_at <= now - every),
            )
            .values(finished_at=_first(now), progress_at=now)
        )
        if rowcount(claimed) != 1:
            return None
        finished_at = await session.scalar(
            select(Broadcast.finished_at).where(Broadcast.id == broadcast_id)
        )
    return dataclasses.replace(before, finished_at=finished_at, progress_at=now)


async def close(db: Database, broadcast_id: int, *, now: datetime) -> bool:
    """The final figures have been shown: the broadcast is done (once, whoever says so first;
    audited with its figures). False if it was closed already."""
    final = await progress(db, broadcast_id)
    if final is None or not final.complete:
        return False
    async with db.transaction() as session:
        closed = await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.SENDING)
            .values(status=BroadcastStatus.DONE, finished_at=_first(now))
        )
        if rowcount(closed) != 1:
            return False
        audit.record(
            session,
            at=now,
            actor_id=None,
            action="broadcast.finished",
            subject=("broadcast", broadcast_id),
            total=final.total,
            sent=final.sent,
            blocked=final.blocked,
            failed=final.failed,
            skipped=final.skipped,
            stopped=final.stopped,
        )
        return True


async def put_off(db: Database, broadcast_id: int, *, until: datetime, every: timedelta) -> None:
    """Telegram asked to wait (429) before the progress message is edited again: no edit (nor
    final word) is tried before `until`."""
    async with db.transaction() as session:
        await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.SENDING)
            .values(progress_at=until - every)
        )


async def rate(db: Database, broadcast_id: int, *, now: datetime, per_second: float) -> float:
    """Copies sent (or tried) a second, as seen over the last RATE_WINDOW: from the first of
    them to end in it, so time the bot was stopped counts only while it is in the window.
    Never faster than `per_second`, the pace, which is also the answer until it is known."""
    since = now - RATE_WINDOW
    query = select(func.min(Notice.finished_at), func.count()).where(
        Notice.batch == batch_of(broadcast_id),
        Notice.status.in_(SENT_OR_TRIED),
        Notice.finished_at > since,
    )
    async with db.read() as session:
        first, ended = (await session.execute(query)).tuples().one()
    elapsed = (now - first).total_seconds() if first is not None else 0.0
    if elapsed < 1:  # nothing ended in the window, or only just: not known yet
        return float(per_second)
    return min(float(per_second), ended / elapsed)


async def stop(db: Database, *, actor_telegram_id: int, broadcast_id: int, now: datetime) -> int:
    """Stop a broadcast being sent: its copies not yet taken for sending are not sent (marked
    skipped, noted as stopped; those being sent go). Only its sender or a coordinator of the
    whole programme may. Returns how many were stopped (0: too late, or stopped already)."""
    async with db.transaction() as session:
        actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None:
            raise NotFound("no such broadcast")
        if broadcast.created_by != actor.id and (
            await coordinator_scope(session, actor.id) is not None
        ):
            raise NotYours(("broadcast", broadcast_id))
        if broadcast.status is not BroadcastStatus.SENDING:
            return 0
        stopped = rowcount(
            await session.execute(
                update(Notice)
                .where(
                    Notice.batch == batch_of(broadcast_id),
                    Notice.status == NoticeStatus.PENDING,
                )
                .values(
                    status=NoticeStatus.SKIPPED,
                    finished_at=now,
                    claimed_at=None,
                    last_error=STOPPED,
                )
            )
        )
        if stopped:
            audit.record(
                session,
                at=now,
                actor_id=actor.id,
                action="broadcast.stopped",
                subject=("broadcast", broadcast_id),
                not_sent=stopped,
            )
        return stopped


async def moved(db: Database, broadcast_id: int, *, message_id: int) -> None:
    """The progress message could not be edited (deleted): a new one carries on."""
    async with db.transaction() as session:
        await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id)
            .values(progress_message_id=message_id)
        )


# --- inside ----------------------------------------------------------------------------------


def _token() -> int:
    return secrets.randbelow(TOKEN_MAX) + 1


def _first(now: datetime) -> Any:
    """`finished_at` as it was, or `now` if it was not set yet."""
    return func.coalesce(Broadcast.finished_at, literal(now, Broadcast.finished_at.type))


def _audience_of(data: dict[str, Any]) -> tuple[Audience, int | None]:
    try:
        audience = Audience(data["audience"])
    except (KeyError, ValueError) as exc:
        raise NotFound("no audience chosen") from exc
    location_id = data.get("location_id")
    return audience, int(location_id) if location_id is not None else None


async def _allowed(
    session: AsyncSession, telegram_id: int, audience: Audience, location_id: int | None
) -> tuple[Person, str | None]:
    """The acting coordinator, if they may write to this audience: one location's volunteers
    for its site lead, anyone for a coordinator of the whole programme, the people picked out
    in /people for anyone who sees them (a site lead sees their own locations' people). With
    the location's name."""
    if audience is Audience.PEOPLE:
        actor = await require_role(session, telegram_id, Role.COORDINATOR)
        name = None
        if location_id is not None:
            name = await session.scalar(select(Location.name).where(Location.id == location_id))
        return actor, name
    if audience is Audience.SESSION:  # (the session's location, found by `_location_of`)
        if location_id is None:
            raise NotFound("no session chosen")
        actor = await require_location(session, telegram_id, location_id)
        name = await session.scalar(select(Location.name).where(Location.id == location_id))
        return actor, name
    if audience is not Audience.LOCATION:
        return await require_programme(session, telegram_id), None
    if location_id is None:
        raise NotFound("no location chosen")
    actor = await require_location(session, telegram_id, location_id)
    location = await session.get(Location, location_id)
    if location is None or location.archived_at is not None:
        raise NotFound("no such open location")
    return actor, location.name


async def _composing(session: AsyncSession, telegram_id: int) -> tuple[Draft, Person, str | None]:
    """The broadcast being composed, once its audience is chosen, and who may send it there
    (re-checked: a role or a site lead's locations can change mid-form)."""
    draft = await _draft(session, telegram_id)
    if draft is None or "audience" not in draft.data:
        raise NotFound("no broadcast is being composed")
    audience, location_id = _audience_of(draft.data)
    actor, location_name = await _allowed(session, telegram_id, audience, location_id)
    return draft, actor, location_name


async def _draft(session: AsyncSession, telegram_id: int, *, lock: bool = False) -> Draft | None:
    query = select(Draft).where(Draft.telegram_id == telegram_id, Draft.flow == FLOW)
    if lock:  # PostgreSQL: a second Send waits here for the first (SQLite: one writer anyway)
        query = query.with_for_update()
    draft: Draft | None = (await session.scalars(query)).one_or_none()
    return draft


async def _save(
    session: AsyncSession, telegram_id: int, data: dict[str, Any], now: datetime, *, waiting: bool
) -> None:
    draft = await _draft(session, telegram_id)
    awaiting = AWAITING_MESSAGE if waiting else None
    await drafts.stop_listening(session, telegram_id)  # what is typed next is the message
    if draft is None:
        session.add(
            Draft(telegram_id=telegram_id, flow=FLOW, awaiting=awaiting, data=data, updated_at=now)
        )
    else:
        draft.data = data
        draft.awaiting = awaiting
        draft.updated_at = now
    await session.flush()


async def _composition(
    session: AsyncSession,
    actor: Person,
    data: dict[str, Any],
    location_name: str | None,
    now: datetime,
) -> Composition:
    audience, location_id = _audience_of(data)
    everyone = _recipients(
        audience, location_id, None, now, await _chosen(session, actor, data, now)
    )
    session_id = _session_of(data)
    starts_at = None
    if session_id is not None:
        starts_at = await session.scalar(
            select(LunchSession.starts_at).where(LunchSession.id == session_id)
        )
    return Composition(
        audience=audience,
        location_id=location_id,
        location_name=location_name,
        people=directory.Selection.from_data(data["people"]) if "people" in data else None,
        session_id=session_id,
        session_starts_at=starts_at,
        text=data.get("text"),
        photo_file_id=data.get("photo"),
        recipients=await _count(session, everyone.where(Person.id != actor.id)),
        token=int(data["token"]),
        without_sender=await _count(session, everyone.where(Person.id == actor.id)) > 0,
    )


def _recipients(
    audience: Audience,
    location_id: int | None,
    sender_id: int | None,
    now: datetime,
    chosen: ColumnElement[bool] | None,
) -> Select[tuple[int, int]]:
    """(person id, Telegram id) of everyone in the audience whom the bot can reach: registered
    (not erased), not known to have blocked the bot, and not the sender, who has seen it.

    One location's volunteers are those who call it home, and those with a booking (live, or
    attended) at one of its sessions lately (locations.people_of). The people picked out in
    /people are those `chosen` selects (`_chosen`): none, without it."""
    # (Those without Telegram have no id to compare: never in any audience.)
    query = select(Person.id, type_coerce(Person.telegram_id, BigInteger)).where(
        Person.active.is_(True), Person.telegram_id > 0
    )
    if sender_id is not None:
        query = query.where(Person.id != sender_id)
    if audience is Audience.VOLUNTEERS:
        query = query.where(_holds(Role.VOLUNTEER))
    elif audience is Audience.SCHOOLS:
        query = query.where(_holds(Role.SCHOOL_CONTACT))
    elif audience is Audience.LOCATION:
        places = [] if location_id is None else [location_id]  # none: nobody, never everyone
        query = query.where(_holds(Role.VOLUNTEER), locations.people_of(places, now))
    elif audience in (Audience.PEOPLE, Audience.SESSION):
        query = query.where(chosen if chosen is not None else false())
    return query.order_by(Person.id)


async def _chosen(
    session: AsyncSession, actor: Person, data: dict[str, Any], now: datetime
) -> ColumnElement[bool] | None:
    """For Audience.PEOPLE, the condition that picks them out, as /people lists them (a site
    lead's: among their own locations' people only); for Audience.SESSION, the session's team
    (everyone with a place on it, or who came); None for any other audience."""
    if data.get("audience") == Audience.SESSION.value:
        team = select(Booking.person_id).where(
            Booking.session_id == _session_of(data), Booking.status.in_(TEAM)
        )
        return Person.id.in_(team)
    if data.get("audience") != Audience.PEOPLE.value:
        return None
    chosen = directory.Selection.from_data(data.get("people"))
    scope = await coordinator_scope(session, actor.id)
    return await directory.selection(session, actor.id, chosen, now, scope=scope)


def _session_of(data: dict[str, Any]) -> int | None:
    session_id = data.get("session_id")
    return session_id if isinstance(session_id, int) else None


async def _location_of(session: AsyncSession, session_id: int | None) -> int:
    """The location of a session whose team is written to: one not cancelled."""
    location_id = await session.scalar(
        select(LunchSession.location_id).where(
            LunchSession.id == session_id, LunchSession.status != SessionStatus.CANCELLED
        )
    )
    if location_id is None:
        raise NotFound("no such session")
    return int(location_id)


def _people_audit(data: dict[str, Any]) -> dict[str, Any]:
    if "people" not in data:
        return {}
    chosen = directory.Selection.from_data(data["people"])
    return {"people": chosen.show.value, "searched": bool(chosen.search)}


def _holds(role: Role) -> Any:
    return exists().where(RoleGrant.person_id == Person.id, RoleGrant.role == role)


async def _count(session: AsyncSession, recipients: Select[tuple[int, int]]) -> int:
    found = recipients.order_by(None).subquery()
    return int(await session.scalar(select(func.count()).select_from(found)) or 0)


async def _counted(db: Database, broadcast: Broadcast, location_name: str | None) -> Progress:
    """Counted from the broadcast's notices, those a stop kept back apart."""
    query = (
        select(Notice.status, func.count(), func.count(case((Notice.last_error == STOPPED, 1))))
        .where(Notice.batch == batch_of(broadcast.id))
        .group_by(Notice.status)
    )
    async with db.read() as session:
        rows = (await session.execute(query)).tuples().all()
    counts = {status: count for status, count, _ in rows}
    stopped = sum(n for status, _, n in rows if status is NoticeStatus.SKIPPED)
    counts[NoticeStatus.SKIPPED] = counts.get(NoticeStatus.SKIPPED, 0) - stopped
    return _progress(broadcast, counts, location_name, stopped=stopped)


def _progress(
    broadcast: Broadcast,
    counts: dict[NoticeStatus, int],
    location_name: str | None,
    *,
    stopped: int = 0,
) -> Progress:
    return Progress(
        broadcast_id=broadcast.id,
        audience=broadcast.audience,
        location_name=location_name,
        total=broadcast.total,
        sent=counts.get(NoticeStatus.SENT, 0),
        blocked=counts.get(NoticeStatus.BLOCKED, 0),
        failed=counts.get(NoticeStatus.GONE, 0) + counts.get(NoticeStatus.FAILED, 0),
        skipped=counts.get(NoticeStatus.SKIPPED, 0),
        stopped=stopped,
        waiting=counts.get(NoticeStatus.PENDING, 0) + counts.get(NoticeStatus.SENDING, 0),
        status=broadcast.status,
        created_at=broadcast.created_at,
        finished_at=broadcast.finished_at,
        chat_id=broadcast.progress_chat_id,
        message_id=broadcast.progress_message_id,
        progress_at=broadcast.progress_at,
    )
